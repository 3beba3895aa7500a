//! Stored rows to API messages, in the caller's view (R6, R9).

use mtm_proto::mtm::common::v1::{Actor, RelationshipState, RoomScope, TenantKind};
use mtm_proto::mtm::tenancy::v1::{
    ApprovalOutcome, ApprovalRequest, ChangeControlPolicy, Invitation, PartnerProfile,
    PrimaryAdmin, Relationship, ScopeSummary, Tenant, TenantManager, invitation, partner_profile,
    tenant,
};
use prost_types::Timestamp;

use crate::names;
use crate::rules;
use crate::store::decode;
use crate::store::entity::{
    invitation as invitation_row, primary_admin, relationship as relationship_row,
    tenant as tenant_row, tenant_manager,
};

/// A time in microseconds since the epoch as a protobuf timestamp.
pub fn timestamp(us: i64) -> Timestamp {
    Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: i32::try_from(us.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    }
}

/// A protobuf timestamp in microseconds since the epoch.
pub fn micros(ts: &Timestamp) -> i64 {
    ts.seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos) / 1000)
}

/// The etag of a row version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an etag of resource `name` names; `None` when absent, ABORTED when not ours.
pub fn version_of(etag: &str, name: &str) -> crate::error::Result<Option<i64>> {
    if etag.is_empty() {
        return Ok(None);
    }
    etag.trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| crate::error::Error::Aborted(name.to_owned()))
}

/// The tenant kind of a stored `PARTNER`/`CUSTOMER`.
pub fn kind(stored: &str) -> TenantKind {
    match stored {
        "PARTNER" => TenantKind::Partner,
        "CUSTOMER" => TenantKind::Customer,
        _ => TenantKind::Unspecified,
    }
}

/// A tenant.
pub fn tenant(row: &tenant_row::Model) -> Tenant {
    let state = match row.state.as_str() {
        "PROVISIONING" => tenant::State::Provisioning,
        "ACTIVE" => tenant::State::Active,
        "DELETING" => tenant::State::Deleting,
        _ => tenant::State::Unspecified,
    };
    Tenant {
        name: format!("tenants/{}", row.id),
        display_name: row.display_name.clone(),
        kind: kind(&row.kind).into(),
        primary_domain: row.primary_domain.clone(),
        state: state.into(),
        elite_partner: row.elite_partner,
        first_admin_user: row.first_admin_user.clone(),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.version),
    }
}

/// A partner profile with its counts.
pub fn partner_profile(row: &tenant_row::Model, managers: u64, active: u64) -> PartnerProfile {
    let status = if row.elite_partner {
        partner_profile::EliteStatus::Enrolled
    } else {
        partner_profile::EliteStatus::NotEnrolled
    };
    PartnerProfile {
        name: format!("partners/{}", row.id),
        tenant: format!("tenants/{}", row.id),
        display_name: row.display_name.clone(),
        primary_domain: row.primary_domain.clone(),
        elite_status: status.into(),
        enroll_time: row.enroll_time.map(timestamp),
        unenroll_time: row.unenroll_time.map(timestamp),
        tenant_manager_count: i32::try_from(managers).unwrap_or(i32::MAX),
        active_relationship_count: i32::try_from(active).unwrap_or(i32::MAX),
    }
}

/// A tenant manager.
pub fn tenant_manager(row: &tenant_manager::Model) -> TenantManager {
    TenantManager {
        name: format!("partners/{}/tenantManagers/{}", row.partner_id, row.id),
        member: row.member.clone(),
        display_name: row.display_name.clone(),
        upn: row.upn.clone(),
        added_by: Some(decode::<Actor>(&row.added_by)),
        create_time: Some(timestamp(row.create_time)),
    }
}

fn invitation_state(stored: &str) -> invitation::State {
    match stored {
        "PENDING" => invitation::State::Pending,
        "ACCEPTED" => invitation::State::Accepted,
        "DECLINED" => invitation::State::Declined,
        "WITHDRAWN" => invitation::State::Withdrawn,
        "EXPIRED" => invitation::State::Expired,
        _ => invitation::State::Unspecified,
    }
}

/// An invitation; `full` is the customer-side view, otherwise `room_scope` is left out (R6).
pub fn invitation(
    row: &invitation_row::Model,
    customer: Option<&tenant_row::Model>,
    partner: Option<&tenant_row::Model>,
    full: bool,
    now: i64,
) -> Invitation {
    let state = rules::invitation_state(&row.state, row.expire_time, now);
    let kind = if row.kind == "PRIMARY_ADMIN" {
        invitation::Kind::PrimaryAdmin
    } else {
        invitation::Kind::Relationship
    };
    Invitation {
        name: names::invitation(&row.customer_id, &row.id),
        state: invitation_state(state).into(),
        kind: kind.into(),
        customer: format!("customers/{}", row.customer_id),
        customer_display_name: customer.map(|c| c.display_name.clone()).unwrap_or_default(),
        customer_domain: customer
            .map(|c| c.primary_domain.clone())
            .unwrap_or_default(),
        partner: format!("partners/{}", row.partner_id),
        partner_display_name: partner.map(|p| p.display_name.clone()).unwrap_or_default(),
        partner_domain: row.partner_domain.clone(),
        invitee_upn: row.invitee_upn.clone(),
        room_scope: full.then(|| decode::<RoomScope>(&row.room_scope)),
        scope_summary: Some(decode::<ScopeSummary>(&row.scope_summary)),
        change_control: Some(decode::<ChangeControlPolicy>(&row.change_control)),
        lifetime_days: row.lifetime_days,
        created_by: Some(decode::<Actor>(&row.created_by)),
        terms_accept_time: Some(timestamp(row.terms_accept_time)),
        create_time: Some(timestamp(row.create_time)),
        expire_time: Some(timestamp(row.expire_time)),
        state_time: if state == "EXPIRED" && row.state_time.is_none() {
            Some(timestamp(row.expire_time))
        } else {
            row.state_time.map(timestamp)
        },
        state_changed_by: row.state_changed_by.as_deref().map(decode::<Actor>),
        relationship: row.relationship.clone().unwrap_or_default(),
        etag: etag(row.version),
    }
}

/// The API state of a stored relationship state, as seen at `now` (R30).
pub fn relationship_state(row: &relationship_row::Model, now: i64) -> RelationshipState {
    match rules::relationship_state(&row.state, row.end_time, now) {
        "ACTIVE" => RelationshipState::Active,
        "EXPIRED" => RelationshipState::Expired,
        "TERMINATED" => RelationshipState::Terminated,
        _ => RelationshipState::Unspecified,
    }
}

/// A relationship; `full` includes the room scope (R6).
pub fn relationship(
    row: &relationship_row::Model,
    customer: Option<&tenant_row::Model>,
    partner: Option<&tenant_row::Model>,
    primary_admins: u64,
    full: bool,
    now: i64,
) -> Relationship {
    Relationship {
        name: names::relationship(&row.customer_id, &row.id),
        state: relationship_state(row, now).into(),
        customer: format!("customers/{}", row.customer_id),
        customer_display_name: customer.map(|c| c.display_name.clone()).unwrap_or_default(),
        customer_domain: customer
            .map(|c| c.primary_domain.clone())
            .unwrap_or_default(),
        partner: format!("partners/{}", row.partner_id),
        partner_display_name: partner.map(|p| p.display_name.clone()).unwrap_or_default(),
        partner_domain: partner
            .map(|p| p.primary_domain.clone())
            .unwrap_or_default(),
        room_scope: full.then(|| decode::<RoomScope>(&row.room_scope)),
        scope_summary: Some(decode::<ScopeSummary>(&row.scope_summary)),
        change_control: Some(decode::<ChangeControlPolicy>(&row.change_control)),
        primary_admin_count: i32::try_from(primary_admins).unwrap_or(i32::MAX),
        invitation: row.invitation.clone(),
        end_time: row.end_time.map(timestamp),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        terminate_time: row.terminate_time.map(timestamp),
        terminated_by: row.terminated_by.as_deref().map(decode::<Actor>),
        termination_reason: row.termination_reason,
        etag: etag(row.version),
    }
}

/// A primary-admin entry.
pub fn primary_admin(row: &primary_admin::Model, customer: &str) -> PrimaryAdmin {
    PrimaryAdmin {
        name: format!(
            "{}/primaryAdmins/{}",
            names::relationship(customer, &row.relationship_id),
            row.id
        ),
        member: row.member.clone(),
        display_name: row.display_name.clone(),
        upn: row.upn.clone(),
        source: row.source,
        invitation: row.invitation.clone(),
        added_by: Some(decode::<Actor>(&row.added_by)),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// An approval request.
pub fn approval_request(
    row: &crate::store::entity::approval_request::Model,
    now: i64,
) -> ApprovalRequest {
    use mtm_proto::mtm::tenancy::v1::approval_request::State;
    let stored = if row.state == "PENDING" && row.expire_time <= now {
        "EXPIRED"
    } else {
        row.state.as_str()
    };
    let state = match stored {
        "PENDING" => State::Pending,
        "APPROVED" => State::Approved,
        "REJECTED" => State::Rejected,
        "EXPIRED" => State::Expired,
        "FAILED" => State::Failed,
        _ => State::Unspecified,
    };
    ApprovalRequest {
        name: format!("customers/{}/approvalRequests/{}", row.customer_id, row.id),
        state: state.into(),
        relationship: names::relationship(&row.customer_id, &row.relationship_id),
        partner: format!("partners/{}", row.partner_id),
        event_type: row.event_type,
        method: row.method.clone(),
        action: Some(decode::<prost_types::Any>(&row.action)),
        target: row.target.clone(),
        summary: row.summary.clone(),
        requester: Some(decode::<Actor>(&row.requester)),
        create_time: Some(timestamp(row.create_time)),
        expire_time: Some(timestamp(row.expire_time)),
        decided_by: row.decided_by.as_deref().map(decode::<Actor>),
        decide_time: row.decide_time.map(timestamp),
        decision_reason: row.decision_reason.clone(),
        outcome: row.outcome.as_deref().map(decode::<ApprovalOutcome>),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.version),
    }
}
