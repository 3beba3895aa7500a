//! Which backend owns each public RPC and what the gateway must establish before forwarding
//! it. The table is the gateway's whole authorization surface for forwarded calls; a test
//! checks it covers every public method of the API exactly once.

/// The service that owns a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// identity-svc.
    Identity,
    /// tenancy-svc.
    Tenancy,
    /// rbac-svc.
    Rbac,
    /// rooms-svc.
    Rooms,
}

/// How a customer permission is decided before the call is forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decide {
    /// Granted by any assignment at the customer (R35: `update_rings.view`, reading roles, ...).
    AnyAssignment,
    /// Granted only by an assignment whose effective scope is all rooms (R35).
    CustomerWide,
    /// Room-, ticket- or group-scoped (R34): the caller's scope for the permission travels in
    /// the call context and the backend answers NOT_FOUND for anything outside it, atomically
    /// with the change.
    Scoped,
}

/// What the gateway establishes before forwarding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// No credentials: signing in and fetching the public keys.
    Anonymous,
    /// A verified caller; the backend applies its own rules (a tenant's own directory, the
    /// operator's actions, partner-side rules of tenancy R4–R6, R9, R16).
    SignedIn,
    /// `permission` at the customer named by the request field `field`, decided by rbac-svc.
    Customer {
        /// The permission.
        permission: &'static str,
        /// The request field holding a name under `customers/{customer}`.
        field: &'static str,
        /// How it is decided.
        decide: Decide,
    },
    /// Callers of the customer's own tenant need `permission` there (any assignment or
    /// customer-wide, as `decide` says); callers from other tenants are partner users, whom
    /// tenancy-svc checks itself (tenant managers, primary admins).
    CustomerOrPartner {
        /// The permission customer users need.
        permission: &'static str,
        /// The request field holding a name under `customers/{customer}`.
        field: &'static str,
        /// How it is decided for customer users.
        decide: Decide,
    },
}

/// One forwarded RPC.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// `/package.Service/Method`.
    pub path: &'static str,
    /// Who serves it.
    pub backend: Backend,
    /// What must hold first.
    pub guard: Guard,
    /// A second permission on another target the call also needs, as `(permission, field)`,
    /// decided group-scoped (moving a room needs `groups.modify` on the target group).
    pub also: Option<(&'static str, &'static str)>,
}

const fn route(path: &'static str, backend: Backend, guard: Guard) -> Route {
    Route {
        path,
        backend,
        guard,
        also: None,
    }
}

const fn customer(permission: &'static str, field: &'static str, decide: Decide) -> Guard {
    Guard::Customer {
        permission,
        field,
        decide,
    }
}

const fn either(permission: &'static str, field: &'static str, decide: Decide) -> Guard {
    Guard::CustomerOrPartner {
        permission,
        field,
        decide,
    }
}

use Backend::{Identity, Rbac, Rooms, Tenancy};
use Decide::{AnyAssignment, CustomerWide, Scoped};
use Guard::{Anonymous, SignedIn};

/// Every forwarded public RPC.
pub const ROUTES: &[Route] = &[
    // identity-svc: sign-in is open; directories are the caller's own tenant's business.
    route("/mtm.identity.v1.AuthService/SignIn", Identity, Anonymous),
    route(
        "/mtm.identity.v1.AuthService/ExchangeExternalToken",
        Identity,
        Anonymous,
    ),
    route("/mtm.identity.v1.AuthService/GetJwks", Identity, Anonymous),
    route(
        "/mtm.identity.v1.AuthService/RotateSigningKey",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.AuthService/DeleteSigningKey",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/GetDirectory",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/CreateDomain",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ListDomains",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/VerifyDomain",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/DeleteDomain",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/CreateUser",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/GetUser",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ListUsers",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/UpdateUser",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/DeleteUser",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/SetUserPassword",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ResetUserPassword",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/CreateGroup",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/GetGroup",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ListGroups",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/UpdateGroup",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/DeleteGroup",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/AddGroupMember",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/RemoveGroupMember",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ListGroupMembers",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/GrantDirectoryRole",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/RevokeDirectoryRole",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ListDirectoryRoleHolders",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/CreateIdentityProvider",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/GetIdentityProvider",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/ListIdentityProviders",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/UpdateIdentityProvider",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/DeleteIdentityProvider",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/GetUserPreferences",
        Identity,
        SignedIn,
    ),
    route(
        "/mtm.identity.v1.DirectoryService/UpdateUserPreferences",
        Identity,
        SignedIn,
    ),
    // tenancy-svc: the operator's tenant actions and the partner side are tenancy's own rules;
    // managing a customer's partners needs `roles.modify` over all rooms there.
    route(
        "/mtm.tenancy.v1.TenantService/CreateTenant",
        Tenancy,
        SignedIn,
    ),
    route("/mtm.tenancy.v1.TenantService/GetTenant", Tenancy, SignedIn),
    route(
        "/mtm.tenancy.v1.TenantService/ListTenants",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantService/DeleteTenant",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantService/EnrollElitePartner",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantService/UnenrollElitePartner",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantService/GetPartnerProfile",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantManagerService/AddTenantManager",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantManagerService/RemoveTenantManager",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.TenantManagerService/ListTenantManagers",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/CreateInvitation",
        Tenancy,
        customer("roles.modify", "parent", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/GetInvitation",
        Tenancy,
        either("roles.view", "name", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/ListInvitations",
        Tenancy,
        customer("roles.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/WithdrawInvitation",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/InvitePrimaryAdmins",
        Tenancy,
        customer("roles.modify", "relationship", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/ListReceivedInvitations",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/AcceptInvitation",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.InvitationService/DeclineInvitation",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/GetRelationship",
        Tenancy,
        either("roles.view", "name", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/ListRelationships",
        Tenancy,
        customer("roles.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/ListManagedCustomers",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/UpdateRelationshipScope",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/UpdateChangeControl",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/SetRelationshipEndTime",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/RenewRelationship",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/RemovePartner",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/RemoveCustomer",
        Tenancy,
        SignedIn,
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/AddPrimaryAdmins",
        Tenancy,
        either("roles.modify", "parent", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/RemovePrimaryAdmin",
        Tenancy,
        either("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.RelationshipService/ListPrimaryAdmins",
        Tenancy,
        either("roles.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.ApprovalService/ListApprovalRequests",
        Tenancy,
        either("roles.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.ApprovalService/GetApprovalRequest",
        Tenancy,
        either("roles.view", "name", AnyAssignment),
    ),
    route(
        "/mtm.tenancy.v1.ApprovalService/Approve",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    route(
        "/mtm.tenancy.v1.ApprovalService/Reject",
        Tenancy,
        customer("roles.modify", "name", CustomerWide),
    ),
    // rbac-svc: roles are read with `roles.view` and changed with `roles.modify`; rbac-svc
    // itself refuses escalation (R36) and keeps partner users to their relationship's roles.
    route(
        "/mtm.rbac.v1.PermissionService/ListPermissions",
        Rbac,
        SignedIn,
    ),
    route(
        "/mtm.rbac.v1.RoleService/CreateRole",
        Rbac,
        customer("roles.modify", "parent", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/GetRole",
        Rbac,
        customer("roles.view", "name", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/ListRoles",
        Rbac,
        customer("roles.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/UpdateRole",
        Rbac,
        customer("roles.modify", "role.name", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/DeleteRole",
        Rbac,
        customer("roles.modify", "name", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/CreateRoleAssignment",
        Rbac,
        customer("roles.modify", "parent", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/GetRoleAssignment",
        Rbac,
        customer("roles.view", "name", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/ListRoleAssignments",
        Rbac,
        customer("roles.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/UpdateRoleAssignment",
        Rbac,
        customer("roles.modify", "role_assignment.name", AnyAssignment),
    ),
    route(
        "/mtm.rbac.v1.RoleService/DeleteRoleAssignment",
        Rbac,
        customer("roles.modify", "name", AnyAssignment),
    ),
    // rooms-svc: the customer's own data, per SPEC §7a.
    route(
        "/mtm.rooms.v1.RoomService/CreateRoom",
        Rooms,
        customer("rooms.create", "parent", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomService/GetRoom",
        Rooms,
        customer("rooms.view", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomService/ListRooms",
        Rooms,
        customer("rooms.view", "parent", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomService/UpdateRoom",
        Rooms,
        customer("rooms.modify", "room.name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomService/EnrollRoom",
        Rooms,
        customer("rooms.modify", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomService/UnenrollRoom",
        Rooms,
        customer("rooms.unenroll", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomService/SetRoomSuppressed",
        Rooms,
        customer("rooms.modify", "name", Scoped),
    ),
    Route {
        path: "/mtm.rooms.v1.RoomService/MoveRoom",
        backend: Rooms,
        guard: customer("rooms.modify", "name", Scoped),
        also: Some(("groups.modify", "room_group")),
    },
    route(
        "/mtm.rooms.v1.RoomService/AssignRoomToRing",
        Rooms,
        customer("update_rings.modify", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.EnrolmentKeyService/DownloadEnrolmentKey",
        Rooms,
        customer("rooms.download_key", "name", AnyAssignment),
    ),
    route(
        "/mtm.rooms.v1.EnrolmentKeyService/ResetEnrolmentKey",
        Rooms,
        customer("rooms.reset_key", "name", CustomerWide),
    ),
    route(
        "/mtm.rooms.v1.RoomGroupService/CreateRoomGroup",
        Rooms,
        customer("groups.create", "parent", CustomerWide),
    ),
    route(
        "/mtm.rooms.v1.RoomGroupService/GetRoomGroup",
        Rooms,
        customer("groups.view", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomGroupService/ListRoomGroups",
        Rooms,
        customer("groups.view", "parent", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomGroupService/UpdateRoomGroup",
        Rooms,
        customer("groups.modify", "room_group.name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.RoomGroupService/DeleteRoomGroup",
        Rooms,
        customer("groups.modify", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.UpdateRingService/CreateUpdateRing",
        Rooms,
        customer("update_rings.create", "parent", CustomerWide),
    ),
    route(
        "/mtm.rooms.v1.UpdateRingService/GetUpdateRing",
        Rooms,
        customer("update_rings.view", "name", AnyAssignment),
    ),
    route(
        "/mtm.rooms.v1.UpdateRingService/ListUpdateRings",
        Rooms,
        customer("update_rings.view", "parent", AnyAssignment),
    ),
    route(
        "/mtm.rooms.v1.UpdateRingService/UpdateUpdateRing",
        Rooms,
        customer("update_rings.modify", "update_ring.name", CustomerWide),
    ),
    route(
        "/mtm.rooms.v1.UpdateRingService/DeleteUpdateRing",
        Rooms,
        customer("update_rings.create", "name", CustomerWide),
    ),
    route(
        "/mtm.rooms.v1.TicketService/CreateIncident",
        Rooms,
        customer("incidents.create", "parent", Scoped),
    ),
    route(
        "/mtm.rooms.v1.TicketService/GetTicket",
        Rooms,
        customer("tickets.view", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.TicketService/ListTickets",
        Rooms,
        customer("tickets.view", "parent", Scoped),
    ),
    route(
        "/mtm.rooms.v1.TicketService/UpdateTicket",
        Rooms,
        customer("tickets.update", "ticket.name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.TicketService/AddTicketMessage",
        Rooms,
        customer("tickets.update", "ticket", Scoped),
    ),
    route(
        "/mtm.rooms.v1.TicketService/CloseRecordedIssue",
        Rooms,
        customer("tickets.update", "name", Scoped),
    ),
    route(
        "/mtm.rooms.v1.ReportService/GetHealthReport",
        Rooms,
        customer("reports.view", "customer", Scoped),
    ),
    route(
        "/mtm.rooms.v1.ReportService/GetTicketReport",
        Rooms,
        customer("reports.view", "customer", Scoped),
    ),
    route(
        "/mtm.rooms.v1.ReportService/GetUpdateComplianceReport",
        Rooms,
        customer("reports.view", "customer", Scoped),
    ),
    route(
        "/mtm.rooms.v1.SettingsService/GetSettings",
        Rooms,
        customer("settings.view", "name", CustomerWide),
    ),
    route(
        "/mtm.rooms.v1.SettingsService/UpdateSettings",
        Rooms,
        customer("settings.modify", "settings.name", CustomerWide),
    ),
];

/// The route of a gRPC path, if the gateway forwards it.
pub fn find(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.path == path)
}

/// The customer id in a resource name under `customers/{customer}`.
pub fn customer_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("customers/")?;
    let id = rest.split('/').next().unwrap_or_default();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::forward::schema;

    /// Public services the gateway serves with handlers of its own instead of forwarding.
    const OWN: &[&str] = &[
        "mtm.gateway.v1.StatusService",
        "mtm.gateway.v1.WorkspaceService",
        "mtm.gateway.v1.AggregatedTicketService",
        "mtm.audit.v1.AuditService",
        "mtm.rbac.v1.DecisionService",
    ];

    #[test]
    fn every_public_method_is_routed_exactly_once() {
        let mut expected = BTreeSet::new();
        for service in schema::pool().services() {
            let name = service.full_name();
            if name.ends_with("InternalService") || OWN.contains(&name) {
                continue;
            }
            for method in service.methods() {
                expected.insert(format!("/{name}/{}", method.name()));
            }
        }
        let routed: Vec<_> = ROUTES.iter().map(|r| r.path.to_owned()).collect();
        let unique: BTreeSet<_> = routed.iter().cloned().collect();
        assert_eq!(unique.len(), routed.len(), "a path is routed twice");
        assert_eq!(unique, expected);
    }

    #[test]
    fn every_routing_field_exists_and_holds_a_string() {
        for route in ROUTES {
            let (Guard::Customer { field, .. } | Guard::CustomerOrPartner { field, .. }) =
                route.guard
            else {
                continue;
            };
            let method = schema::method(route.path).expect("method");
            let mut message = method.input();
            let mut parts = field.split('.').peekable();
            while let Some(part) = parts.next() {
                let descriptor = message
                    .get_field_by_name(part)
                    .unwrap_or_else(|| panic!("{}: no field {field}", route.path));
                match (descriptor.kind(), parts.peek()) {
                    (prost_reflect::Kind::String, None) if !descriptor.is_list() => {}
                    (prost_reflect::Kind::Message(inner), Some(_)) => message = inner,
                    _ => panic!("{}: {field} is not a string field", route.path),
                }
            }
        }
    }

    #[test]
    fn customer_ids_come_from_resource_names() {
        assert_eq!(customer_of("customers/c1/rooms/r1"), Some("c1"));
        assert_eq!(customer_of("customers/c1"), Some("c1"));
        assert_eq!(customer_of("customers/"), None);
        assert_eq!(customer_of("partners/p1"), None);
    }
}
