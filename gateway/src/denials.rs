//! Audit records of the calls the gateway refuses at a tenant (R28: denied attempts are
//! audited too), appended with `AuditInternalService.AppendAuditRecords` to the backend that
//! owns the call's target. Every refusal of an out-of-reach call is written here, whichever
//! part of the gateway answered it: forwarded routes, the calls a backend refused for a
//! partner user, the public `DecisionService` and the merged audit log.
//!
//! The record is written before the refusal is answered: a denial is rare, and waiting for
//! one append (bounded by [`WRITE_DEADLINE`]) is cheaper than a background queue that a
//! restart could lose. When the write fails the refusal still goes out and the failure is
//! logged at ERROR with the record's facts.

use std::time::Duration;

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
use mtm_proto::mtm::audit::v1::{
    AppendAuditRecordsRequest, AuditCategory, AuditRecord, AuditResult,
};
use mtm_proto::mtm::common::v1::{Actor, Principal};
use tonic::{Code, Status};

use crate::Backends;
use crate::forward::routes::Backend;

/// The longest the gateway waits for a denial's record to be written.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);

/// One refused call.
pub struct Denial<'a> {
    /// The method's full path (`/mtm.rooms.v1.RoomService/GetRoom`).
    pub path: &'a str,
    /// The backend keeping the record.
    pub owner: Backend,
    /// Who called.
    pub principal: &'a Principal,
    /// The tenant whose log records the refusal (an id: a customer's, or a partner's).
    pub tenant: &'a str,
    /// The resource named by the call.
    pub target: &'a str,
    /// The caller's relationship with the tenant, for a partner user known to have one.
    pub relationship: &'a str,
    /// The call's request id.
    pub request_id: &'a str,
    /// The approval request being executed, if any.
    pub approval_request: &'a str,
    /// What the caller is answered.
    pub status: &'a Status,
}

/// Writes denial records.
pub struct DenialAudit {
    backends: Backends,
}

impl DenialAudit {
    /// Records go to these backends.
    pub fn new(backends: Backends) -> Self {
        Self { backends }
    }

    fn owner(&self, backend: Backend) -> ServiceChannel {
        match backend {
            Backend::Identity => self.backends.identity.clone(),
            Backend::Tenancy => self.backends.tenancy.clone(),
            Backend::Rbac => self.backends.rbac.clone(),
            Backend::Rooms => self.backends.rooms.clone(),
        }
    }

    /// Appends the record of `denial`. A backend that keeps no audit log of its own
    /// (UNIMPLEMENTED) is replaced by rooms-svc, which keeps every customer's log.
    pub async fn record(&self, denial: &Denial<'_>) {
        let record = record_of(denial);
        let mut outcome = self.append(denial.owner, record.clone()).await;
        if matches!(&outcome, Err(s) if s.code() == Code::Unimplemented)
            && denial.owner != Backend::Rooms
        {
            outcome = self.append(Backend::Rooms, record.clone()).await;
        }
        if let Err(status) = &outcome
            && status.code() == Code::NotFound
        {
            // A customer that does not exist keeps no log to write to (R37: answered as an
            // existing one out of reach all the same).
            tracing::debug!(tenant = %denial.tenant, "no store to record a denial in");
            return;
        }
        if let Err(status) = outcome {
            tracing::error!(
                code = ?status.code(),
                error = %status.message(),
                target = %record.object_id,
                operation = %record.operation,
                actor = %denial.principal.user,
                "the audit record of a denial could not be written"
            );
        }
    }

    async fn append(&self, backend: Backend, record: AuditRecord) -> Result<(), Status> {
        let mut request = tonic::Request::new(AppendAuditRecordsRequest {
            audit_records: vec![record],
        });
        request.set_timeout(WRITE_DEADLINE);
        AuditInternalServiceClient::new(self.owner(backend))
            .append_audit_records(request)
            .await
            .map(|_| ())
    }
}

fn record_of(denial: &Denial<'_>) -> AuditRecord {
    let principal = denial.principal;
    let target_tenant = format!("tenants/{}", denial.tenant);
    let partner = !principal.operator && principal.home_tenant != target_tenant;
    let method = denial.path.rsplit('/').next().unwrap_or_default();
    AuditRecord {
        create_time: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        target_tenant,
        category: category(denial.path, method).into(),
        operation: operation(method),
        object_id: denial.target.to_owned(),
        object_name: denial.target.to_owned(),
        result: AuditResult::Denied.into(),
        actor: Some(Actor {
            user: principal.user.clone(),
            upn: principal.upn.clone(),
            tenant: principal.home_tenant.clone(),
            partner: if partner {
                crate::change_control::partner_of(principal)
            } else {
                String::new()
            },
            partner_relationship: denial.relationship.to_owned(),
            operator: principal.operator,
            ..Default::default()
        }),
        trace_id: mtm_plumbing::audit::current_trace_id(),
        request_id: denial.request_id.to_owned(),
        status_code: denial.status.code() as i32,
        status_message: denial.status.message().to_owned(),
        approval_request: denial.approval_request.to_owned(),
        details: [("method".to_owned(), denial.path.to_owned())].into(),
        ..Default::default()
    }
}

/// The audit category of a call.
fn category(path: &str, method: &str) -> AuditCategory {
    let service = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match service.rsplit('.').next().unwrap_or_default() {
        "EnrolmentKeyService" => AuditCategory::Key,
        "RoomGroupService" => AuditCategory::Group,
        "UpdateRingService" => AuditCategory::Ring,
        "TicketService" => AuditCategory::Ticket,
        "SettingsService" => AuditCategory::Setting,
        "RoleService" if method.contains("RoleAssignment") => AuditCategory::Assignment,
        "RoleService" => AuditCategory::Role,
        "InvitationService" => AuditCategory::PartnerInvitation,
        "RelationshipService" => AuditCategory::Relationship,
        "ApprovalService" => AuditCategory::ApprovalRequest,
        "AuditService" => AuditCategory::AuditLog,
        // A question about what the caller's role assignments allow.
        "DecisionService" => AuditCategory::Assignment,
        _ => AuditCategory::Room,
    }
}

/// `create`, `update`, `delete`, or the method in snake case (`download_enrolment_key`).
fn operation(method: &str) -> String {
    for (prefix, operation) in [
        ("Create", "create"),
        ("Update", "update"),
        ("Delete", "delete"),
    ] {
        if method.starts_with(prefix) {
            return operation.to_owned();
        }
    }
    let mut snake = String::with_capacity(method.len() + 4);
    for (i, c) in method.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_follow_the_audit_vocabulary() {
        assert_eq!(operation("CreateRoom"), "create");
        assert_eq!(operation("UpdateRoleAssignment"), "update");
        assert_eq!(operation("DeleteRoomGroup"), "delete");
        assert_eq!(operation("DownloadEnrolmentKey"), "download_enrolment_key");
        assert_eq!(operation("GetRoom"), "get_room");
    }

    #[test]
    fn categories_follow_the_service() {
        let c = |path: &str| category(path, path.rsplit('/').next().unwrap_or_default());
        assert_eq!(
            c("/mtm.rooms.v1.RoomService/UpdateRoom"),
            AuditCategory::Room
        );
        assert_eq!(
            c("/mtm.rbac.v1.RoleService/CreateRoleAssignment"),
            AuditCategory::Assignment
        );
        assert_eq!(
            c("/mtm.rbac.v1.RoleService/CreateRole"),
            AuditCategory::Role
        );
        assert_eq!(
            c("/mtm.rooms.v1.SettingsService/UpdateSettings"),
            AuditCategory::Setting
        );
    }
}
