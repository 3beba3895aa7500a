//! The acts that build an MTM world through the public API, each one call or a few: the
//! operator registers tenants and enrols the partner, partner admins appoint tenant managers
//! and groups, customer admins lay out sites, rooms and tickets and invite the partner, the
//! partner accepts and delegates, customers tighten their settings. Shared by the end-to-end story and the local demo.

use mtm_proto::mtm::common::v1::{RoomScope, TenantKind};
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{
    AddGroupMemberRequest, CreateGroupRequest, Group, UpdateUserPreferencesRequest, UserPreferences,
};
use mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient;
use mtm_proto::mtm::rbac::v1::{
    CreateRoleAssignmentRequest, CreateRoleRequest, Role, RoleAssignment,
};
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::settings_service_client::SettingsServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{
    CreateIncidentRequest, CreateRoomGroupRequest, CreateRoomRequest, Room, RoomGroup, Settings,
    Ticket, TicketSeverity, UpdateSettingsRequest,
};
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_manager_service_client::TenantManagerServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    AcceptInvitationRequest, AddTenantManagerRequest, ChangeControlEventType, ChangeControlMode,
    ChangeControlPolicy, ChangeControlSetting, CreateInvitationRequest, CreateTenantRequest,
    EnrollElitePartnerRequest, Invitation, PartnerProfile, Relationship, Tenant, TenantManager,
};
use prost_types::FieldMask;

use crate::api::{DEMO_PASSWORD, Described, Session, Step, StepError};

/// A tenant whose directory identity-svc's demo seed holds; registering it with tenancy-svc
/// (as the operator) provisions it in rbac-svc and, for customers, its rooms store.
#[derive(Clone, Copy, Debug)]
pub struct TenantSpec {
    /// The tenant id.
    pub id: &'static str,
    /// Its display name, as in its directory.
    pub display_name: &'static str,
    /// Partner or customer.
    pub kind: TenantKind,
    /// Its verified domain.
    pub domain: &'static str,
    /// The local part of the first admin's UPN: for a customer, its first MMR admin (R33).
    pub first_admin: &'static str,
    /// The first admin's display name, as in the directory.
    pub first_admin_display_name: &'static str,
}

impl TenantSpec {
    /// `local@domain`.
    pub fn upn(&self, local: &str) -> String {
        format!("{local}@{}", self.domain)
    }

    /// `customers/{id}`.
    pub fn customer(&self) -> String {
        format!("customers/{}", self.id)
    }

    /// `partners/{id}`.
    pub fn partner(&self) -> String {
        format!("partners/{}", self.id)
    }

    /// `tenants/{id}/groups/{group}`.
    pub fn group(&self, group: &str) -> String {
        format!("tenants/{}/groups/{group}", self.id)
    }
}

/// The elite partner of the demo directories.
pub const PARTNER: TenantSpec = TenantSpec {
    id: "contoso-partner",
    display_name: "Contoso Partner",
    kind: TenantKind::Partner,
    domain: "contoso-partner.com",
    first_admin: "admin",
    first_admin_display_name: "Ana Admin",
};

const fn customer(
    id: &'static str,
    display_name: &'static str,
    domain: &'static str,
) -> TenantSpec {
    TenantSpec {
        id,
        display_name,
        kind: TenantKind::Customer,
        domain,
        first_admin: "mmr-admin",
        first_admin_display_name: "MMR Admin",
    }
}

/// The customers of the demo directories.
pub const CUSTOMERS: [TenantSpec; 3] = [
    customer("fabrikam", "Fabrikam", "fabrikam.com"),
    customer("northwind", "Northwind Traders", "northwind.com"),
    customer("adatum", "Adatum", "adatum.com"),
];

/// The permissions of the *Helpdesk* partner role: tickets only (R20).
pub const HELPDESK_PERMISSIONS: [&str; 2] = ["tickets.view", "tickets.update"];

/// Signs in as the operator with the password the suite generated.
pub async fn operator(
    channel: tonic::transport::Channel,
    password_file: &std::path::Path,
) -> Step<Session> {
    let password = std::fs::read_to_string(password_file).map_err(|error| StepError {
        step: format!("reading {}", password_file.display()),
        status: tonic::Status::internal(error.to_string()),
    })?;
    Session::sign_in(channel, "operator", password.trim()).await
}

/// The operator registers a tenant with tenancy-svc over its existing demo directory.
pub async fn register_tenant(operator: &Session, spec: &TenantSpec) -> Step<Tenant> {
    TenantServiceClient::new(operator.channel())
        .create_tenant(operator.call(CreateTenantRequest {
            tenant: Some(Tenant {
                display_name: spec.display_name.to_owned(),
                kind: spec.kind.into(),
                ..Default::default()
            }),
            tenant_id: spec.id.to_owned(),
            domains: vec![spec.domain.to_owned()],
            first_admin_upn: spec.upn(spec.first_admin),
            first_admin_display_name: spec.first_admin_display_name.to_owned(),
            first_admin_password: DEMO_PASSWORD.to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("registering tenant {}", spec.id))?
        .tenant
        .ok_or_else(|| missing("CreateTenant", "tenant"))
}

/// The operator enrols a partner tenant as an elite partner (R1).
pub async fn enrol_partner(operator: &Session, partner: &TenantSpec) -> Step<PartnerProfile> {
    TenantServiceClient::new(operator.channel())
        .enroll_elite_partner(operator.call(EnrollElitePartnerRequest {
            name: partner.partner(),
        }))
        .await
        .step(format!("enrolling {} as an elite partner", partner.id))?
        .partner_profile
        .ok_or_else(|| missing("EnrollElitePartner", "partner_profile"))
}

/// A partner Global or Managed Service admin appoints a user or group as tenant manager (R4).
pub async fn add_tenant_manager(admin: &Session, member: &str) -> Step<TenantManager> {
    TenantManagerServiceClient::new(admin.channel())
        .add_tenant_manager(admin.call(AddTenantManagerRequest {
            parent: format!("partners/{}", admin.tenant_id()),
            member: member.to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("adding tenant manager {member}"))?
        .tenant_manager
        .ok_or_else(|| missing("AddTenantManager", "tenant_manager"))
}

/// A Global admin creates a security group in its own directory with `members` in it.
pub async fn create_group(
    admin: &Session,
    id: &str,
    display_name: &str,
    members: &[String],
) -> Step<Group> {
    let mut directory = DirectoryServiceClient::new(admin.channel());
    let group = directory
        .create_group(admin.call(CreateGroupRequest {
            parent: admin.tenant.clone(),
            group: Some(Group {
                display_name: display_name.to_owned(),
                ..Default::default()
            }),
            group_id: id.to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("creating group {id}"))?
        .group
        .ok_or_else(|| missing("CreateGroup", "group"))?;
    for member in members {
        directory
            .add_group_member(admin.call(AddGroupMemberRequest {
                group: group.name.clone(),
                member: member.clone(),
            }))
            .await
            .step(format!("adding {member} to group {id}"))?;
    }
    Ok(group)
}

/// A customer admin creates a site (room group).
pub async fn create_site(
    admin: &Session,
    customer: &str,
    id: &str,
    display_name: &str,
) -> Step<RoomGroup> {
    RoomGroupServiceClient::new(admin.channel())
        .create_room_group(admin.call(CreateRoomGroupRequest {
            parent: customer.to_owned(),
            room_group: Some(RoomGroup {
                display_name: display_name.to_owned(),
                ..Default::default()
            }),
            room_group_id: id.to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("creating site {id} at {customer}"))?
        .room_group
        .ok_or_else(|| missing("CreateRoomGroup", "room_group"))
}

/// A customer admin creates a room; `room.room_group` names its site.
pub async fn create_room(admin: &Session, customer: &str, id: &str, room: Room) -> Step<Room> {
    RoomServiceClient::new(admin.channel())
        .create_room(admin.call(CreateRoomRequest {
            parent: customer.to_owned(),
            room: Some(room),
            room_id: id.to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("creating room {id} at {customer}"))?
        .room
        .ok_or_else(|| missing("CreateRoom", "room"))
}

/// Someone holding `incidents.create` records an incident on some rooms.
pub async fn open_incident(
    session: &Session,
    customer: &str,
    rooms: &[String],
    title: &str,
    severity: TicketSeverity,
) -> Step<Ticket> {
    TicketServiceClient::new(session.channel())
        .create_incident(session.call(CreateIncidentRequest {
            parent: customer.to_owned(),
            rooms: rooms.to_vec(),
            title: title.to_owned(),
            description: format!("{title} (reported by {})", session.upn),
            severity: severity.into(),
            high_impact: false,
            request_id: String::new(),
        }))
        .await
        .step(format!("opening incident {title:?} at {customer}"))?
        .ticket
        .ok_or_else(|| missing("CreateIncident", "ticket"))
}

/// What a customer offers a partner.
#[derive(Clone, Debug)]
pub struct Offer {
    /// The partner's domain.
    pub partner_domain: String,
    /// The partner users invited to become primary admins.
    pub invited_upns: Vec<String>,
    /// The rooms the partner may manage.
    pub room_scope: RoomScope,
    /// How long the invitation stays open (1–30 days).
    pub lifetime_days: i32,
    /// The event types whose partner actions wait for a customer admin's approval (R29).
    pub manual_approval: Vec<ChangeControlEventType>,
}

/// A customer admin invites a partner; one invitation per invited UPN (R11).
pub async fn invite_partner(
    admin: &Session,
    customer: &str,
    offer: &Offer,
) -> Step<Vec<Invitation>> {
    Ok(InvitationServiceClient::new(admin.channel())
        .create_invitation(admin.call(CreateInvitationRequest {
            parent: customer.to_owned(),
            partner_domain: offer.partner_domain.clone(),
            invited_upns: offer.invited_upns.clone(),
            room_scope: Some(offer.room_scope.clone()),
            change_control: (!offer.manual_approval.is_empty()).then(|| {
                ChangeControlPolicy {
                    settings: offer
                        .manual_approval
                        .iter()
                        .map(|event_type| ChangeControlSetting {
                            event_type: (*event_type).into(),
                            mode: ChangeControlMode::ManualApproval.into(),
                        })
                        .collect(),
                }
            }),
            lifetime_days: Some(offer.lifetime_days),
            accept_terms: true,
            request_id: String::new(),
        }))
        .await
        .step(format!("inviting {} to {customer}", offer.partner_domain))?
        .invitations)
}

/// A partner admin or tenant manager accepts an invitation, naming more primary admins.
pub async fn accept_invitation(
    session: &Session,
    invitation: &str,
    primary_admins: &[String],
) -> Step<Relationship> {
    InvitationServiceClient::new(session.channel())
        .accept_invitation(session.call(AcceptInvitationRequest {
            name: invitation.to_owned(),
            additional_primary_admins: primary_admins.to_vec(),
            request_id: String::new(),
        }))
        .await
        .step(format!("accepting {invitation}"))?
        .relationship
        .ok_or_else(|| missing("AcceptInvitation", "relationship"))
}

/// A primary admin creates the *Helpdesk* role (tickets only) under a relationship and
/// assigns it to `members` of the partner over all rooms, which the relationship's scope
/// clips (R20, R32).
pub async fn create_helpdesk_role(
    primary_admin: &Session,
    relationship: &str,
    members: &[String],
) -> Step<(Role, RoleAssignment)> {
    let mut roles = RoleServiceClient::new(primary_admin.channel());
    let role = roles
        .create_role(primary_admin.call(CreateRoleRequest {
            parent: relationship.to_owned(),
            role: Some(Role {
                display_name: "Helpdesk".to_owned(),
                description: "Works on tickets; nothing else.".to_owned(),
                permissions: HELPDESK_PERMISSIONS.map(str::to_owned).to_vec(),
                ..Default::default()
            }),
            role_id: "helpdesk".to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("creating the Helpdesk role under {relationship}"))?
        .role
        .ok_or_else(|| missing("CreateRole", "role"))?;
    let assignment = roles
        .create_role_assignment(primary_admin.call(CreateRoleAssignmentRequest {
            parent: relationship.to_owned(),
            role_assignment: Some(RoleAssignment {
                display_name: "Helpdesk team".to_owned(),
                role: role.name.clone(),
                members: members.to_vec(),
                scope: Some(RoomScope {
                    all_rooms: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            role_assignment_id: "helpdesk-team".to_owned(),
            request_id: String::new(),
        }))
        .await
        .step(format!("assigning the Helpdesk role under {relationship}"))?
        .role_assignment
        .ok_or_else(|| missing("CreateRoleAssignment", "role_assignment"))?;
    Ok((role, assignment))
}

/// A user turns on its *all tickets* view (R25).
pub async fn enable_all_tickets_view(session: &Session) -> Step<UserPreferences> {
    DirectoryServiceClient::new(session.channel())
        .update_user_preferences(session.call(UpdateUserPreferencesRequest {
            preferences: Some(UserPreferences {
                name: format!("{}/preferences", session.user),
                all_tickets_view_enabled: true,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["all_tickets_view_enabled".to_owned()],
            }),
        }))
        .await
        .step(format!(
            "turning on the all-tickets view of {}",
            session.upn
        ))?
        .preferences
        .ok_or_else(|| missing("UpdateUserPreferences", "preferences"))
}

/// A customer admin requires partner users to present an MFA-asserted token (R3).
pub async fn require_partner_mfa(admin: &Session, customer: &str) -> Step<Settings> {
    SettingsServiceClient::new(admin.channel())
        .update_settings(admin.call(UpdateSettingsRequest {
            settings: Some(Settings {
                name: format!("{customer}/settings"),
                partner_mfa_required: true,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["partner_mfa_required".to_owned()],
            }),
        }))
        .await
        .step(format!("requiring partner MFA at {customer}"))?
        .settings
        .ok_or_else(|| missing("UpdateSettings", "settings"))
}

fn missing(rpc: &str, field: &str) -> StepError {
    StepError {
        step: format!("{rpc} answered without `{field}`"),
        status: tonic::Status::internal("incomplete response"),
    }
}
