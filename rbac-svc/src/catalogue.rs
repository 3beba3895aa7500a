//! The permission catalogue (SPEC §7, table 1, plus `update_rings.create`): every permission,
//! how it is decided (§7a) and which built-in roles hold it, as data.

use mtm_proto::mtm::rbac::v1 as pb;

/// How a permission is decided (SPEC §7a); mirrors `mtm.rbac.v1.DecisionKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Per room (or ticket: one of its rooms), R34.
    RoomScoped,
    /// Per room group, R34.
    GroupScoped,
    /// Needs an all-rooms effective scope, R35.
    CustomerWide,
    /// Needs the permission in any assignment, R34/R35.
    AnyAssignment,
}

impl Kind {
    /// The protobuf value.
    pub fn to_proto(self) -> pb::DecisionKind {
        match self {
            Kind::RoomScoped => pb::DecisionKind::RoomScoped,
            Kind::GroupScoped => pb::DecisionKind::GroupScoped,
            Kind::CustomerWide => pb::DecisionKind::CustomerWide,
            Kind::AnyAssignment => pb::DecisionKind::AnyAssignment,
        }
    }

    /// From the protobuf value; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Kind> {
        match pb::DecisionKind::try_from(value).ok()? {
            pb::DecisionKind::RoomScoped => Some(Kind::RoomScoped),
            pb::DecisionKind::GroupScoped => Some(Kind::GroupScoped),
            pb::DecisionKind::CustomerWide => Some(Kind::CustomerWide),
            pb::DecisionKind::AnyAssignment => Some(Kind::AnyAssignment),
            pb::DecisionKind::Unspecified => None,
        }
    }
}

/// A built-in role: its id and the bit of [`Spec::roles`] that marks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltIn {
    /// `mmr-admin` (customer).
    MmrAdmin,
    /// `site-lead` (customer).
    SiteLead,
    /// `site-tech` (customer).
    SiteTech,
    /// `primary-admins` (partner, one per relationship, R19).
    PrimaryAdmins,
}

impl BuiltIn {
    /// Every built-in role, customer roles first.
    pub const ALL: [BuiltIn; 4] = [
        BuiltIn::MmrAdmin,
        BuiltIn::SiteLead,
        BuiltIn::SiteTech,
        BuiltIn::PrimaryAdmins,
    ];

    /// The role's fixed id.
    pub fn id(self) -> &'static str {
        match self {
            BuiltIn::MmrAdmin => "mmr-admin",
            BuiltIn::SiteLead => "site-lead",
            BuiltIn::SiteTech => "site-tech",
            BuiltIn::PrimaryAdmins => "primary-admins",
        }
    }

    /// The role's display name.
    pub fn display_name(self) -> &'static str {
        match self {
            BuiltIn::MmrAdmin => "MMR admin",
            BuiltIn::SiteLead => "Site lead",
            BuiltIn::SiteTech => "Site tech",
            BuiltIn::PrimaryAdmins => "Primary admins",
        }
    }

    /// What the role is for.
    pub fn description(self) -> &'static str {
        match self {
            BuiltIn::MmrAdmin => "Full control of the customer's rooms, settings and roles.",
            BuiltIn::SiteLead => "Runs sites: rooms, groups, update rings, reports and tickets.",
            BuiltIn::SiteTech => "Looks after rooms and tickets on site.",
            BuiltIn::PrimaryAdmins => {
                "The partner's primary admins for this customer; may manage partner roles."
            }
        }
    }

    /// The built-in role with this id.
    pub fn from_id(id: &str) -> Option<BuiltIn> {
        BuiltIn::ALL.into_iter().find(|b| b.id() == id)
    }

    fn bit(self) -> u8 {
        match self {
            BuiltIn::MmrAdmin => 1,
            BuiltIn::SiteLead => 2,
            BuiltIn::SiteTech => 4,
            BuiltIn::PrimaryAdmins => 8,
        }
    }

    /// The permissions the role holds (table 1).
    pub fn permissions(self) -> PermSet {
        let mut set = PermSet::EMPTY;
        for (i, spec) in CATALOGUE.iter().enumerate() {
            if spec.roles & self.bit() != 0 {
                set = set.with(Perm(i as u8));
            }
        }
        set
    }
}

/// One permission of the catalogue.
#[derive(Debug)]
pub struct Spec {
    /// API name, e.g. `rooms.view`.
    pub name: &'static str,
    /// Feature as in table 1.
    pub feature: &'static str,
    /// Action within the feature, as in table 1.
    pub display_name: &'static str,
    /// What it allows.
    pub description: &'static str,
    /// How it is decided; the first kind is the one used with a target (or the stricter one
    /// without), see [`Perm::kind_for`].
    pub kinds: &'static [Kind],
    /// Built-in roles holding it, as bits (1 MMR admin, 2 Site lead, 4 Site tech, 8 Primary admins).
    pub roles: u8,
}

const R: &[Kind] = &[Kind::RoomScoped];
const G: &[Kind] = &[Kind::GroupScoped];
const C: &[Kind] = &[Kind::CustomerWide];
const A: &[Kind] = &[Kind::AnyAssignment];

macro_rules! perm {
    ($name:literal, $feature:literal, $display:literal, $kinds:expr, $roles:literal, $desc:literal) => {
        Spec {
            name: $name,
            feature: $feature,
            display_name: $display,
            description: $desc,
            kinds: $kinds,
            roles: $roles,
        }
    };
}

/// The catalogue, in table 1's order (`update_rings.create` with the other ring permissions).
pub static CATALOGUE: [Spec; 20] = [
    perm!(
        "rooms.view",
        "Rooms",
        "View",
        R,
        0b1111,
        "See rooms in scope (RoomService.GetRoom, ListRooms)."
    ),
    perm!(
        "rooms.modify",
        "Rooms",
        "Modify",
        R,
        0b1111,
        "Change rooms in scope (RoomService.UpdateRoom, suppression)."
    ),
    perm!(
        "rooms.reset_key",
        "Rooms",
        "Reset key",
        C,
        0b0001,
        "Reset the customer's enrolment key (EnrolmentKeyService.ResetEnrolmentKey)."
    ),
    perm!(
        "rooms.download_key",
        "Rooms",
        "Download key",
        A,
        0b0111,
        "Download the customer's enrolment key (EnrolmentKeyService.DownloadEnrolmentKey)."
    ),
    perm!(
        "rooms.unenroll",
        "Rooms",
        "Unenroll",
        R,
        0b0111,
        "Unenroll rooms in scope (RoomService.UnenrollRoom)."
    ),
    perm!(
        "rooms.create",
        "Rooms",
        "Create",
        G,
        0b0011,
        "Create rooms in a room group in scope (RoomService.CreateRoom)."
    ),
    perm!(
        "groups.view",
        "Group management",
        "View",
        G,
        0b1011,
        "See room groups in scope (RoomGroupService.GetRoomGroup, ListRoomGroups)."
    ),
    perm!(
        "groups.modify",
        "Group management",
        "Modify",
        G,
        0b0011,
        "Change or delete room groups in scope (RoomGroupService.UpdateRoomGroup, DeleteRoomGroup)."
    ),
    perm!(
        "groups.create",
        "Group management",
        "Create",
        C,
        0b0011,
        "Create room groups (RoomGroupService.CreateRoomGroup)."
    ),
    perm!(
        "update_rings.create",
        "Update ring management",
        "Create",
        C,
        0b0001,
        "Create update rings (UpdateRingService.CreateUpdateRing)."
    ),
    perm!(
        "update_rings.view",
        "Update ring management",
        "View",
        A,
        0b1011,
        "See update rings (UpdateRingService.GetUpdateRing, ListUpdateRings)."
    ),
    perm!(
        "update_rings.modify",
        "Update ring management",
        "Modify",
        &[Kind::RoomScoped, Kind::CustomerWide],
        0b1011,
        "Move a room in scope to a ring (room-scoped); change a ring's definition (customer-wide)."
    ),
    perm!(
        "reports.view",
        "Reports",
        "View",
        A,
        0b1011,
        "Read reports over the rooms in scope (ReportService)."
    ),
    perm!(
        "incidents.create",
        "Reports",
        "Create customer incident",
        R,
        0b1111,
        "Record an issue on rooms in scope (TicketService.CreateIncident)."
    ),
    perm!(
        "tickets.view",
        "Ticket management",
        "View",
        R,
        0b1111,
        "See tickets with a room in scope (TicketService.GetTicket, ListTickets)."
    ),
    perm!(
        "tickets.update",
        "Ticket management",
        "Update",
        R,
        0b1111,
        "Update, message and resolve tickets with a room in scope (TicketService.UpdateTicket)."
    ),
    perm!(
        "settings.view",
        "MMR settings",
        "View",
        C,
        0b0001,
        "Read the customer's settings and audit log (SettingsService.GetSettings, AuditService)."
    ),
    perm!(
        "settings.modify",
        "MMR settings",
        "Modify",
        C,
        0b0001,
        "Change the customer's settings (SettingsService.UpdateSettings)."
    ),
    perm!(
        "roles.view",
        "Role management",
        "View",
        A,
        0b1001,
        "Read roles and assignments (RoleService.Get*, List*)."
    ),
    perm!(
        "roles.modify",
        "Role management",
        "Modify",
        &[Kind::AnyAssignment, Kind::CustomerWide],
        0b1001,
        "Manage roles and assignments within one's own permissions and scope (RoleService, R36; any assignment); manage partner relationships, invitations and approvals (customer-wide)."
    ),
];

/// A permission: its position in [`CATALOGUE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Perm(pub u8);

impl Perm {
    /// The permission called `name`.
    pub fn parse(name: &str) -> Option<Perm> {
        CATALOGUE
            .iter()
            .position(|s| s.name == name)
            .map(|i| Perm(i as u8))
    }

    /// Its catalogue entry.
    pub fn spec(self) -> &'static Spec {
        &CATALOGUE[usize::from(self.0)]
    }

    /// Its API name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Every permission, in catalogue order.
    pub fn all() -> impl Iterator<Item = Perm> {
        (0..CATALOGUE.len() as u8).map(Perm)
    }

    /// The kind to decide with: `requested` when given (and the permission has it), else the
    /// kind the target calls for: room-scoped for a room or ticket, group-scoped for a group,
    /// and without a target the permission's customer-level kind, the stricter first.
    pub fn kind_for(self, target: TargetShape, requested: Option<Kind>) -> Option<Kind> {
        let kinds = self.spec().kinds;
        if let Some(kind) = requested {
            return kinds.contains(&kind).then_some(kind);
        }
        let wanted: &[Kind] = match target {
            TargetShape::Room => &[Kind::RoomScoped],
            TargetShape::Group => &[Kind::GroupScoped],
            TargetShape::None => &[Kind::CustomerWide, Kind::AnyAssignment],
        };
        wanted.iter().copied().find(|k| kinds.contains(k))
    }
}

/// The shape of a decision's target, which selects the decision kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetShape {
    /// No target (customer-level).
    None,
    /// A room, or a ticket's rooms.
    Room,
    /// A room group.
    Group,
}

/// The catalogue as the API returns it.
pub fn to_proto() -> Vec<pb::Permission> {
    let primary = BuiltIn::PrimaryAdmins.permissions();
    Perm::all()
        .map(|perm| {
            let spec = perm.spec();
            pb::Permission {
                permission: spec.name.to_owned(),
                feature: spec.feature.to_owned(),
                display_name: spec.display_name.to_owned(),
                description: spec.description.to_owned(),
                decision_kinds: spec.kinds.iter().map(|k| k.to_proto() as i32).collect(),
                built_in_roles: BuiltIn::ALL
                    .into_iter()
                    .filter(|b| spec.roles & b.bit() != 0)
                    .map(|b| b.id().to_owned())
                    .collect(),
                partner_assignable: primary.contains(perm),
            }
        })
        .collect()
}

mod set;
#[cfg(test)]
mod tests;

pub use set::PermSet;
