//! Request messages for the fuzzer, built from the descriptor set: random values for random
//! fields (resource names of the demo world and of other tenants, NULs and control characters,
//! oversized strings, extreme and negative numbers, unknown enum values, forged page tokens),
//! and byte-level mutations of encoded messages.

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};

/// A small deterministic generator (SplitMix64), so a seed replays a run exactly.
pub struct Rng(u64);

impl Rng {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Names and ids of the demo world the fuzzer aims at, so generated requests reach past the
/// name checks into the services.
const NAMES: &[&str] = &[
    "customers/fabrikam",
    "customers/northwind",
    "customers/adatum",
    "customers/no-such-customer",
    "customers/fabrikam/rooms/fab-ber-1",
    "customers/northwind/rooms/nor-sea-1",
    "customers/fabrikam/roomGroups/berlin",
    "customers/fabrikam/updateRings/ring-1",
    "customers/fabrikam/tickets/t-1",
    "customers/fabrikam/settings",
    "partners/contoso-partner",
    "partners/contoso-partner/relationships/fabrikam",
    "tenants/fabrikam",
    "tenants/northwind",
    "tenants/contoso-partner",
    "tenants/contoso-partner/users/admin",
    "tenants/fabrikam/users/mmr-admin",
    "tenants/fabrikam/groups/helpdesk",
    "tenants/contoso-partner/groups/fleet-admins",
    "tenants/fabrikam/directory",
    "tenants/fabrikam/roles/custom",
    "customers/fabrikam/roles/viewer",
    "customers/fabrikam/roleAssignments/a1",
    "invitations/x",
    "admin@contoso-partner.com",
    "mmr-admin@fabrikam.com",
    "fabrikam.com",
    "rooms.view",
    "tickets.update",
];

/// Strings that break things: empty, NUL and control characters, look-alike Unicode,
/// injection-shaped text, path tricks.
const NASTY: &[&str] = &[
    "",
    "\u{0}",
    "customers/fabrikam\u{0}",
    "a\u{0}b",
    "\u{1b}[2J\r\n",
    "customers/fabrikam/rooms/\u{0}",
    "customers/../northwind",
    "customers/fabrikam/rooms/x/../../northwind",
    "customers//rooms/",
    "customers/FABRIKAM",
    "fabrikаm.com",
    "ｃｏｎｔｏｓｏ.com",
    "' OR 1=1 --",
    "\"; DROP TABLE rooms; --",
    "%00%2e%2e%2f",
    "*",
    "-",
    "customers/-/rooms/-",
    "😀",
    "\u{202e}gnp.exe",
    "status = \"NEEDS_ACTION\"",
    "location.city = \"a\u{0}\"",
    "created_by.user = \"\u{0}\"",
    "actor.upn = \"\u{0}\"",
    "update_time >= \"9999-12-31T23:59:59Z\"",
    "update_time >= \"-999999-01-01T00:00:00Z\"",
    "customer = \"customers/northwind\"",
];

/// Page tokens a client could forge: hex of positions without a signature, huge offsets,
/// junk.
const TOKENS: &[&str] = &[
    "00",
    "zz",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "30303030303030307c3138343436373434303733373039353531363135",
    "3a7c3939393939393939393939393939393939",
    "AAAAAAAAAAAAAAAAAAAAAA",
    "eyJvZmZzZXQiOjk5OTk5OTk5OTk5fQ",
];

/// A random string for `field`.
pub fn string(rng: &mut Rng, field: &FieldDescriptor) -> String {
    if field.name() == "page_token" && rng.chance(70) {
        return (*rng.pick(TOKENS)).to_owned();
    }
    match rng.below(10) {
        0..=3 => (*rng.pick(NAMES)).to_owned(),
        4..=5 => (*rng.pick(NASTY)).to_owned(),
        6 => format!("{}{}", rng.pick(NAMES), rng.pick(NASTY)),
        7 => {
            let unit = *rng.pick(&["x", "é", "\u{0}", "customers/fabrikam/"]);
            unit.repeat(*rng.pick(&[64, 1_000, 20_000, 100_000]))
        }
        8 => format!("{}/{}", rng.pick(NAMES), rng.next()),
        _ => (0..rng.below(12))
            .map(|_| char::from_u32(u32::try_from(rng.below(0x2fff)).unwrap_or(0)).unwrap_or('?'))
            .collect(),
    }
}

fn int(rng: &mut Rng) -> i64 {
    let random = i64::try_from(rng.next() >> 1).unwrap_or(0);
    *rng.pick(&[
        0,
        1,
        -1,
        2,
        50,
        500,
        501,
        i64::from(i32::MAX),
        i64::from(i32::MIN),
        i64::MAX,
        i64::MIN,
        253_402_300_800,
        -62_135_596_801,
        random,
    ])
}

/// A value for `field` (not repeated), nesting messages at most `depth` more levels.
fn single(rng: &mut Rng, field: &FieldDescriptor, depth: usize) -> Option<Value> {
    Some(match field.kind() {
        Kind::String => Value::String(string(rng, field)),
        Kind::Bytes => Value::Bytes(vec![0u8; rng.below(64)].into()),
        Kind::Bool => Value::Bool(rng.chance(50)),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(i32::try_from(int(rng) % (1 << 31)).unwrap_or(i32::MIN))
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(int(rng)),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(u32::try_from(rng.next() >> 32).unwrap_or(0)),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(rng.next()),
        Kind::Float => Value::F32(*rng.pick(&[0.0, -1.0, f32::NAN, f32::INFINITY, 1e30])),
        Kind::Double => Value::F64(*rng.pick(&[0.0, -1.0, f64::NAN, f64::INFINITY, 1e300])),
        Kind::Enum(descriptor) => {
            let values: Vec<i32> = descriptor.values().map(|v| v.number()).collect();
            Value::EnumNumber(if rng.chance(80) && !values.is_empty() {
                *rng.pick(&values)
            } else {
                *rng.pick(&[-1, 99, i32::MAX, i32::MIN])
            })
        }
        Kind::Message(descriptor) => {
            if depth == 0 {
                return None;
            }
            Value::Message(message(rng, &descriptor, depth - 1))
        }
    })
}

/// A message of type `descriptor` with random fields set, nesting at most `depth` levels.
pub fn message(rng: &mut Rng, descriptor: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    for field in descriptor.fields() {
        if !rng.chance(70) {
            continue;
        }
        let value = if field.is_map() {
            continue;
        } else if field.is_list() {
            let items: Vec<Value> = (0..rng.below(4))
                .filter_map(|_| single(rng, &field, depth))
                .collect();
            Value::List(items)
        } else {
            match single(rng, &field, depth) {
                Some(value) => value,
                None => continue,
            }
        };
        if message.try_set_field(&field, value).is_err() {
            continue;
        }
    }
    message
}

/// `bytes` with one of: a flipped byte, a cut, appended junk or an unknown field.
pub fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    match rng.below(4) {
        0 if !bytes.is_empty() => {
            let at = rng.below(bytes.len());
            bytes[at] ^= u8::try_from(1 + rng.below(255)).unwrap_or(1);
        }
        1 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
        2 => {
            bytes.extend((0..1 + rng.below(16)).map(|_| u8::try_from(rng.below(256)).unwrap_or(0)))
        }
        _ => {
            // field 1000, length-delimited, 3 bytes
            bytes.extend_from_slice(&[0xc2, 0x3e, 3, b'a', 0, b'b']);
        }
    }
    bytes
}

/// A short description of `message` for a failure report: its set fields, long values cut.
pub fn describe(message: &DynamicMessage) -> String {
    let fields: Vec<String> = message
        .fields()
        .map(|(field, value)| {
            let text = match value {
                Value::String(text) => format!("{:?}", cut(text)),
                Value::Message(inner) => format!("{{{}}}", describe(inner)),
                other => cut(&format!("{other:?}")),
            };
            format!("{}: {text}", field.name())
        })
        .collect();
    fields.join(", ")
}

fn cut(text: &str) -> String {
    let count = text.chars().count();
    if count <= 80 {
        return text.to_owned();
    }
    let head: String = text.chars().take(40).collect();
    format!("{head}…({count} chars)")
}
