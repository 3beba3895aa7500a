//! Requests both kinds of set-up send, and how a request says who sends it: a bearer token
//! through the gateway, or a call context straight to a backend.

use mtm_proto::mtm::common::v1::{CallContext, Principal, RoomScope, TenantKind};
use mtm_proto::mtm::identity::v1::{
    CreateUserRequest, UpdateUserPreferencesRequest, User, UserPreferences,
};
use mtm_proto::mtm::tenancy::v1::{
    AcceptInvitationRequest, ChangeControlPolicy, CreateInvitationRequest, CreateTenantRequest,
    EnrollElitePartnerRequest, Tenant,
};

use super::PASSWORD;

/// `message` with a bearer token, for calls through the gateway.
pub fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// `message` with `context` attached, for calls on the backends.
pub fn req<T>(message: T, context: &CallContext) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(&mut request, context);
    request
}

/// The operator, as the gateway names it to the backends.
pub fn operator() -> CallContext {
    CallContext {
        principal: Some(Principal {
            operator: true,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Every room.
pub fn all_rooms() -> RoomScope {
    RoomScope {
        all_rooms: true,
        ..Default::default()
    }
}

/// The `google.rpc.ErrorInfo` of a status.
pub fn error_info(status: &tonic::Status) -> tonic_types::ErrorInfo {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .error_info()
        .cloned()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
}

/// Tenant `id`: display name `{id} Ltd`, domain `{id}.example`, first admin
/// `admin@{id}.example` called `Admin of {id}`.
pub fn create_tenant(id: &str, kind: TenantKind) -> CreateTenantRequest {
    CreateTenantRequest {
        tenant: Some(Tenant {
            display_name: format!("{id} Ltd"),
            kind: kind.into(),
            ..Default::default()
        }),
        tenant_id: id.to_owned(),
        domains: vec![format!("{id}.example")],
        first_admin_upn: format!("admin@{id}.example"),
        first_admin_display_name: format!("Admin of {id}"),
        first_admin_password: PASSWORD.into(),
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}

/// Enrols partner `id` as an elite partner (R1).
pub fn enrol(id: &str) -> EnrollElitePartnerRequest {
    EnrollElitePartnerRequest {
        name: format!("partners/{id}"),
    }
}

/// An enabled user `upn` of tenant `tenant_id` with the common password.
pub fn create_user(tenant_id: &str, upn: &str, display_name: &str) -> CreateUserRequest {
    CreateUserRequest {
        parent: format!("tenants/{tenant_id}"),
        user: Some(User {
            upn: upn.to_owned(),
            display_name: display_name.to_owned(),
            enabled: true,
            ..Default::default()
        }),
        initial_password: PASSWORD.into(),
        ..Default::default()
    }
}

/// `customer` invites `upns` of the partner at `partner_domain` to `scope`, terms accepted.
pub fn invite(
    customer: String,
    partner_domain: &str,
    upns: Vec<String>,
    scope: RoomScope,
    change_control: Option<ChangeControlPolicy>,
) -> CreateInvitationRequest {
    CreateInvitationRequest {
        parent: customer,
        partner_domain: partner_domain.to_owned(),
        invited_upns: upns,
        room_scope: Some(scope),
        change_control,
        lifetime_days: None,
        accept_terms: true,
        request_id: String::new(),
    }
}

/// Accepts invitation `name`.
pub fn accept(name: &str) -> AcceptInvitationRequest {
    AcceptInvitationRequest {
        name: name.to_owned(),
        ..Default::default()
    }
}

/// Turns the *all tickets* view (R25) on for `user` (its resource name).
pub fn all_tickets_view_on(user: &str) -> UpdateUserPreferencesRequest {
    UpdateUserPreferencesRequest {
        preferences: Some(UserPreferences {
            name: format!("{user}/preferences"),
            all_tickets_view_enabled: true,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["all_tickets_view_enabled".into()],
        }),
    }
}
