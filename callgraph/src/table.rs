//! The table itself: every method each backend serves, with its callers. Found by reading the
//! clients each service builds: the gateway forwards the public services and calls the internal
//! lookups named below; tenancy-svc drives identity-svc, rbac-svc and rooms-svc; rbac-svc,
//! identity-svc and rooms-svc call nobody.

use crate::Context::{Attribution, Full, Refused};
use crate::Service::{Gateway, Identity, Rbac, Rooms, Tenancy};
use crate::{Grant, Rule};

/// The gateway, with everything it establishes.
const GATEWAY: &[Grant] = &[Grant {
    caller: Gateway,
    context: Full,
}];

/// tenancy-svc, attaching no call context.
const TENANCY: &[Grant] = &[Grant {
    caller: Tenancy,
    context: Refused,
}];

/// tenancy-svc, relaying the person it acts for, for audit records only.
const TENANCY_ATTRIBUTING: &[Grant] = &[Grant {
    caller: Tenancy,
    context: Attribution,
}];

const AUDIT: &[&str] = &["ListAuditRecords", "ExportAuditRecords"];
const AUDIT_INTERNAL: &[&str] = &["AppendAuditRecords"];
const AUDIT_WHY: &str = "the gateway merges every backend's log (gateway/src/audit) and \
    appends denial and export records to it (forward/denials.rs, audit/export.rs)";

const fn rule(
    backend: crate::Service,
    service: &'static str,
    methods: &'static [&'static str],
    grants: &'static [Grant],
    why: &'static str,
) -> Rule {
    Rule {
        backend,
        service,
        methods,
        grants,
        why,
    }
}

/// Every backend method and who may call it.
pub const RULES: &[Rule] = &[
    // identity-svc
    rule(
        Identity,
        "mtm.identity.v1.AuthService",
        &[
            "SignIn",
            "ExchangeExternalToken",
            "GetJwks",
            "RotateSigningKey",
            "DeleteSigningKey",
        ],
        GATEWAY,
        "forwarded public API (gateway forward/routes.rs); GetJwks also by gateway/src/auth.rs",
    ),
    rule(
        Identity,
        "mtm.identity.v1.DirectoryService",
        &[
            "GetDirectory",
            "CreateDomain",
            "ListDomains",
            "VerifyDomain",
            "DeleteDomain",
            "CreateUser",
            "GetUser",
            "ListUsers",
            "UpdateUser",
            "DeleteUser",
            "SetUserPassword",
            "ResetUserPassword",
            "CreateGroup",
            "GetGroup",
            "ListGroups",
            "UpdateGroup",
            "DeleteGroup",
            "AddGroupMember",
            "RemoveGroupMember",
            "ListGroupMembers",
            "GrantDirectoryRole",
            "RevokeDirectoryRole",
            "ListDirectoryRoleHolders",
            "CreateIdentityProvider",
            "GetIdentityProvider",
            "ListIdentityProviders",
            "UpdateIdentityProvider",
            "DeleteIdentityProvider",
            "GetUserPreferences",
            "UpdateUserPreferences",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Identity,
        "mtm.identity.v1.PrincipalInternalService",
        &["ResolvePrincipal"],
        GATEWAY,
        "gateway/src/auth.rs and forward/approval.rs resolve the caller of every request",
    ),
    rule(
        Identity,
        "mtm.identity.v1.PrincipalInternalService",
        &[
            "LookupUsers",
            "LookupMembers",
            "ResolveDomain",
            "CreateTenantDirectory",
            "DeleteTenantDirectory",
        ],
        TENANCY,
        "tenancy-svc service/lookup.rs, invitations/accept.rs and sync.rs",
    ),
    rule(
        Identity,
        "mtm.audit.v1.AuditService",
        AUDIT,
        GATEWAY,
        AUDIT_WHY,
    ),
    rule(
        Identity,
        "mtm.audit.v1.AuditInternalService",
        AUDIT_INTERNAL,
        GATEWAY,
        AUDIT_WHY,
    ),
    // tenancy-svc
    rule(
        Tenancy,
        "mtm.tenancy.v1.TenantService",
        &[
            "CreateTenant",
            "GetTenant",
            "ListTenants",
            "DeleteTenant",
            "EnrollElitePartner",
            "UnenrollElitePartner",
            "GetPartnerProfile",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Tenancy,
        "mtm.tenancy.v1.InvitationService",
        &[
            "CreateInvitation",
            "GetInvitation",
            "ListInvitations",
            "WithdrawInvitation",
            "InvitePrimaryAdmins",
            "ListReceivedInvitations",
            "AcceptInvitation",
            "DeclineInvitation",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Tenancy,
        "mtm.tenancy.v1.RelationshipService",
        &[
            "GetRelationship",
            "ListRelationships",
            "ListManagedCustomers",
            "UpdateRelationshipScope",
            "UpdateChangeControl",
            "SetRelationshipEndTime",
            "RenewRelationship",
            "RemovePartner",
            "RemoveCustomer",
            "AddPrimaryAdmins",
            "RemovePrimaryAdmin",
            "ListPrimaryAdmins",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Tenancy,
        "mtm.tenancy.v1.TenantManagerService",
        &[
            "AddTenantManager",
            "RemoveTenantManager",
            "ListTenantManagers",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Tenancy,
        "mtm.tenancy.v1.ApprovalService",
        &[
            "ListApprovalRequests",
            "GetApprovalRequest",
            "Approve",
            "Reject",
        ],
        GATEWAY,
        "forwarded public API; GetApprovalRequest also by gateway forward/approval.rs",
    ),
    rule(
        Tenancy,
        "mtm.tenancy.v1.TenancyInternalService",
        &[
            "GetActiveRelationship",
            "ListRelationshipsForPartner",
            "BatchGetTenants",
            "SubmitApprovalRequest",
            "MarkApprovalExecuted",
            "Reconcile",
        ],
        GATEWAY,
        "gateway change_control.rs, workspace.rs, tickets/customers.rs (the proto names the \
         gateway as the one caller, also for operational tooling holding its certificate)",
    ),
    rule(
        Tenancy,
        "mtm.audit.v1.AuditService",
        AUDIT,
        GATEWAY,
        AUDIT_WHY,
    ),
    rule(
        Tenancy,
        "mtm.audit.v1.AuditInternalService",
        AUDIT_INTERNAL,
        GATEWAY,
        AUDIT_WHY,
    ),
    // rbac-svc
    rule(
        Rbac,
        "mtm.rbac.v1.PermissionService",
        &["ListPermissions"],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rbac,
        "mtm.rbac.v1.RoleService",
        &[
            "CreateRole",
            "GetRole",
            "ListRoles",
            "UpdateRole",
            "DeleteRole",
            "CreateRoleAssignment",
            "GetRoleAssignment",
            "ListRoleAssignments",
            "UpdateRoleAssignment",
            "DeleteRoleAssignment",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rbac,
        "mtm.rbac.v1.DecisionService",
        &[
            "Check",
            "BatchCheck",
            "ResolveScope",
            "ListAccessibleCustomers",
        ],
        GATEWAY,
        "every gateway decision (forward/decide.rs, decisions.rs, workspace.rs, tickets/)",
    ),
    rule(
        Rbac,
        "mtm.rbac.v1.RbacInternalService",
        &[
            "ProvisionCustomer",
            "DeprovisionCustomer",
            "PutRelationship",
            "RemoveRelationship",
            "SetPrimaryAdmins",
            "AddPrimaryAdmins",
            "RemovePrimaryAdmins",
            "GetRevision",
        ],
        TENANCY_ATTRIBUTING,
        "tenancy-svc sync.rs and relationships/admins.rs, passing the person it acts for so \
         rbac-svc's audit records name them (service.rs Caller::request)",
    ),
    rule(Rbac, "mtm.audit.v1.AuditService", AUDIT, GATEWAY, AUDIT_WHY),
    rule(
        Rbac,
        "mtm.audit.v1.AuditInternalService",
        AUDIT_INTERNAL,
        GATEWAY,
        AUDIT_WHY,
    ),
    // rooms-svc
    rule(
        Rooms,
        "mtm.rooms.v1.RoomService",
        &[
            "CreateRoom",
            "GetRoom",
            "ListRooms",
            "UpdateRoom",
            "EnrollRoom",
            "UnenrollRoom",
            "SetRoomSuppressed",
            "MoveRoom",
            "AssignRoomToRing",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.TicketService",
        &[
            "CreateIncident",
            "GetTicket",
            "ListTickets",
            "UpdateTicket",
            "AddTicketMessage",
            "CloseRecordedIssue",
        ],
        GATEWAY,
        "forwarded public API; ListTickets also by the all tickets view (tickets/fanout.rs)",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.ReportService",
        &[
            "GetHealthReport",
            "GetTicketReport",
            "GetUpdateComplianceReport",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.RoomGroupService",
        &[
            "CreateRoomGroup",
            "GetRoomGroup",
            "ListRoomGroups",
            "UpdateRoomGroup",
            "DeleteRoomGroup",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.UpdateRingService",
        &[
            "CreateUpdateRing",
            "GetUpdateRing",
            "ListUpdateRings",
            "UpdateUpdateRing",
            "DeleteUpdateRing",
        ],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.SettingsService",
        &["GetSettings", "UpdateSettings"],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.EnrolmentKeyService",
        &["DownloadEnrolmentKey", "ResetEnrolmentKey"],
        GATEWAY,
        "forwarded public API",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.StoreInternalService",
        &[
            "GetStoreInfo",
            "BatchGetStoreInfo",
            "BatchGetTicketActivity",
            "LookupPlacements",
        ],
        GATEWAY,
        "gateway mfa.rs, tickets/customers.rs, forward/visibility.rs",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.StoreInternalService",
        &["RecordTelemetry"],
        GATEWAY,
        "the telemetry ingest, which in v1 is the demo data loader speaking as the gateway \
         (rooms-svc demo/load.rs); it can only do what the gateway's incident calls can",
    ),
    rule(
        Rooms,
        "mtm.rooms.v1.StoreInternalService",
        &["ProvisionStore", "DeprovisionStore", "DescribeRoomScope"],
        TENANCY,
        "tenancy-svc sync.rs and service/lookup.rs",
    ),
    rule(
        Rooms,
        "mtm.audit.v1.AuditService",
        AUDIT,
        GATEWAY,
        AUDIT_WHY,
    ),
    rule(
        Rooms,
        "mtm.audit.v1.AuditInternalService",
        AUDIT_INTERNAL,
        GATEWAY,
        AUDIT_WHY,
    ),
];
