//! Realistic demo data for the local suite's seed and for benchmarks: customers with sites,
//! rooms, enrolled devices, device signals and recorded incidents, generated deterministically
//! from a seed and loaded through rooms-svc's own gRPC API.

mod load;

pub use load::{LoadSummary, load};
use mtm_proto::mtm::rooms::v1::{DeviceType, RoomSize, TicketCategory, TicketSeverity};

/// How much data to make.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    /// The seed; the same seed and options always give the same data.
    pub seed: u64,
    /// Number of customers (`demo-0000`, `demo-0001`, ...).
    pub customers: usize,
    /// Rooms per customer.
    pub rooms_per_customer: usize,
    /// Recorded incidents per customer.
    pub incidents_per_customer: usize,
}

/// One customer's demo data.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoCustomer {
    /// The customer id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// Sites: id, display name, description.
    pub sites: Vec<(String, String, String)>,
    /// Rooms.
    pub rooms: Vec<DemoRoom>,
    /// Recorded incidents.
    pub incidents: Vec<DemoIncident>,
}

/// A demo room.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoRoom {
    /// Room id.
    pub id: String,
    /// Site (group) id.
    pub site: String,
    /// Display name.
    pub display_name: String,
    /// Resource account UPN.
    pub upn: String,
    /// ISO country code, city, building, floor.
    pub location: (String, String, String, String),
    /// Seats.
    pub capacity: i32,
    /// Size.
    pub size: RoomSize,
    /// Device type.
    pub device_type: DeviceType,
    /// Device model.
    pub model: String,
    /// App and OS versions.
    pub versions: (String, String),
    /// Whether the device is enrolled.
    pub enrolled: bool,
    /// Unhealthy device signals it reports: category, severity, detail.
    pub signals: Vec<(TicketCategory, TicketSeverity, String)>,
}

/// A demo incident on some rooms.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoIncident {
    /// Room ids.
    pub rooms: Vec<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Severity.
    pub severity: TicketSeverity,
    /// High impact.
    pub high_impact: bool,
    /// When set, the incident is closed with this reason.
    pub closed_with: Option<String>,
}

/// SplitMix64: small, fast and reproducible everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const COMPANIES: &[&str] = &[
    "Contoso",
    "Northwind",
    "Fabrikam",
    "Tailspin",
    "Woodgrove",
    "Litware",
    "Adatum",
    "Proseware",
    "Wingtip",
    "Alpine Ski House",
    "Coho Winery",
    "Lamna Healthcare",
];
const CITIES: &[(&str, &str, &[&str])] = &[
    (
        "DE",
        "Berlin",
        &["Spree", "Tiergarten", "Mitte", "Kreuzberg"],
    ),
    (
        "FR",
        "Paris",
        &["Seine", "Montmartre", "Marais", "Bastille"],
    ),
    ("GB", "London", &["Thames", "Camden", "Soho", "Greenwich"]),
    ("NL", "Amsterdam", &["Amstel", "Jordaan", "Zuidas", "Noord"]),
    ("US", "Seattle", &["Rainier", "Puget", "Cascade", "Olympic"]),
    ("JP", "Tokyo", &["Sakura", "Ginza", "Shibuya", "Ueno"]),
    ("AU", "Sydney", &["Harbour", "Bondi", "Manly", "Opera"]),
    (
        "CH",
        "Zurich",
        &["Limmat", "Uetliberg", "Seefeld", "Oerlikon"],
    ),
];
/// A device type with its models, app versions and OS versions.
type Device = (
    DeviceType,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const DEVICES: &[Device] = &[
    (
        DeviceType::TeamsRoomsWindows,
        &[
            "Logitech Rally Bar",
            "Lenovo ThinkSmart Core",
            "Crestron Flex UC-B160",
        ],
        &["5.1.53.0", "5.2.15.0", "5.2.20.0"],
        &["10.0.22631", "10.0.26100"],
    ),
    (
        DeviceType::TeamsRoomsAndroid,
        &["Poly Studio X50", "Yealink MeetingBar A30", "Neat Bar Pro"],
        &["1449/1.0.96.2024", "1449/1.0.96.2025"],
        &["12", "13"],
    ),
    (
        DeviceType::SurfaceHub,
        &["Surface Hub 3 50\"", "Surface Hub 2S 85\""],
        &["5.2.15.0"],
        &["10.0.22631"],
    ),
    (
        DeviceType::TeamsPanel,
        &["Yealink RoomPanel", "Crestron TSS-770"],
        &["1449/1.0.97.2024"],
        &["11", "12"],
    ),
];
const INCIDENTS: &[(&str, &str)] = &[
    (
        "Front-of-room display shows no signal",
        "The display stays black when a meeting starts.",
    ),
    (
        "Remote attendees hear an echo",
        "Echo reported in every call since the ceiling mics were moved.",
    ),
    (
        "Console touch screen frozen",
        "The touch console does not react; a restart helps for an hour.",
    ),
    (
        "Room account cannot sign in",
        "The device shows a sign-in error after the password rotation.",
    ),
    (
        "Camera framing is wrong",
        "Intelligent framing crops people at the end of the table.",
    ),
    (
        "Content sharing via HDMI fails",
        "Laptops connected by cable are not detected.",
    ),
];
const SIGNALS: &[(TicketCategory, &str)] = &[
    (
        TicketCategory::Display,
        "front-of-room display disconnected",
    ),
    (TicketCategory::Camera, "camera not detected"),
    (
        TicketCategory::Microphone,
        "no microphone input for 10 minutes",
    ),
    (TicketCategory::Speaker, "speaker test tone not heard"),
    (
        TicketCategory::Network,
        "packet loss above 5% on the room network",
    ),
];

/// Generates `options.customers` customers' data from the seed.
pub fn generate(options: DemoOptions) -> Vec<DemoCustomer> {
    (0..options.customers)
        .map(|index| customer(options, index))
        .collect()
}

fn customer(options: DemoOptions, index: usize) -> DemoCustomer {
    let mut rng = Rng(options.seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let company = rng.pick(COMPANIES);
    let id = format!("demo-{index:04}");
    let domain = format!("{}{index}.example", company.to_lowercase().replace(' ', ""));
    let site_count = 1 + rng.below(3);
    let first_city = rng.below(CITIES.len());
    let sites: Vec<_> = (0..site_count)
        .map(|s| {
            let (_, city, _) = CITIES[(first_city + s) % CITIES.len()];
            (
                city.to_lowercase(),
                format!("{company} {city}"),
                format!("{company} offices in {city}"),
            )
        })
        .collect();
    let mut rooms = Vec::with_capacity(options.rooms_per_customer);
    for r in 0..options.rooms_per_customer {
        let site = r % site_count;
        let (country, city, names) = CITIES[(first_city + site) % CITIES.len()];
        let (device_type, models, apps, oses) = rng.pick(DEVICES);
        let floor = 1 + rng.below(12);
        let capacity = [4, 6, 8, 10, 12, 16, 20][rng.below(7)];
        let size = match capacity {
            0..=6 => RoomSize::Small,
            7..=12 => RoomSize::Medium,
            _ => RoomSize::Large,
        };
        let name = rng.pick(names);
        let enrolled = rng.chance(85);
        let mut signals = Vec::new();
        if enrolled && rng.chance(15) {
            let (category, detail) = rng.pick(SIGNALS);
            let severity = if rng.chance(30) {
                TicketSeverity::Important
            } else {
                TicketSeverity::Warning
            };
            signals.push((*category, severity, (*detail).to_owned()));
        }
        rooms.push(DemoRoom {
            id: format!("room-{r:04}"),
            site: sites[site].0.clone(),
            display_name: format!("{city} {floor}.{:02} {name}", r % 100),
            upn: format!("room-{r:04}@{domain}"),
            location: (
                country.into(),
                city.into(),
                format!("{company} House"),
                floor.to_string(),
            ),
            capacity,
            size,
            device_type: *device_type,
            model: (*rng.pick(models)).to_owned(),
            versions: ((*rng.pick(apps)).to_owned(), (*rng.pick(oses)).to_owned()),
            enrolled,
            signals,
        });
    }
    let incidents = (0..options.incidents_per_customer)
        .filter(|_| !rooms.is_empty())
        .map(|_| {
            let (title, description) = rng.pick(INCIDENTS);
            let first = rng.below(rooms.len());
            let mut on = vec![rooms[first].id.clone()];
            if rng.chance(20) && rooms.len() > 1 {
                let second = (first + 1 + rng.below(rooms.len() - 1)) % rooms.len();
                on.push(rooms[second].id.clone());
            }
            DemoIncident {
                rooms: on,
                title: (*title).to_owned(),
                description: (*description).to_owned(),
                severity: if rng.chance(40) {
                    TicketSeverity::Important
                } else {
                    TicketSeverity::Warning
                },
                high_impact: rng.chance(10),
                closed_with: rng
                    .chance(50)
                    .then(|| "Resolved on site by the facilities team".to_owned()),
            }
        })
        .collect();
    DemoCustomer {
        id,
        display_name: format!("{company} ({index})"),
        sites,
        rooms,
        incidents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let options = DemoOptions {
            seed: 7,
            customers: 3,
            rooms_per_customer: 20,
            incidents_per_customer: 5,
        };
        assert_eq!(generate(options), generate(options));
        let other = generate(DemoOptions { seed: 8, ..options });
        assert_ne!(generate(options), other);
        let data = generate(options);
        assert_eq!(data.len(), 3);
        assert!(
            data.iter()
                .all(|c| c.rooms.len() == 20 && c.incidents.len() == 5)
        );
        assert!(data.iter().all(|c| crate::names::valid_customer_id(&c.id)));
        assert!(
            data.iter()
                .flat_map(|c| &c.rooms)
                .all(|r| crate::names::valid_resource_id(&r.id)
                    && crate::names::valid_resource_id(&r.site))
        );
    }
}
