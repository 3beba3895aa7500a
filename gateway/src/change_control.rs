//! Change control (R29): which partner calls each `ChangeControlEventType` covers
//! (`change_control.proto`), whether a relationship holds them for manual approval, and the
//! calls to tenancy-svc that store a held call and record an approved one's execution.

use std::collections::HashMap;

use bytes::Bytes;
use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{Actor, CallContext, Principal};
use mtm_proto::mtm::tenancy::v1::tenancy_internal_service_client::TenancyInternalServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    ApprovalOutcome, ApprovalRequest, ChangeControlEventType, ChangeControlMode,
    GetActiveRelationshipRequest, MarkApprovalExecutedRequest, Relationship,
    SubmitApprovalRequestRequest,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `google.rpc.ErrorInfo` reason of a held call.
pub const REASON: &str = "APPROVAL_REQUIRED";

/// The event type a partner call of `path` on `target` falls under, if any.
pub fn event_type(path: &str, target: &str) -> Option<ChangeControlEventType> {
    use ChangeControlEventType as E;
    let method = path.rsplit('/').next().unwrap_or_default();
    let service = path.trim_start_matches('/').split('/').next()?;
    match (service, method) {
        ("mtm.rooms.v1.RoomService", "UpdateRoom" | "SetRoomSuppressed" | "EnrollRoom") => {
            Some(E::RoomModify)
        }
        ("mtm.rooms.v1.RoomService", "AssignRoomToRing") => Some(E::UpdateRingAssignment),
        ("mtm.rooms.v1.UpdateRingService", "UpdateUpdateRing") => Some(E::UpdateRingChange),
        ("mtm.rooms.v1.TicketService", "CreateIncident") => Some(E::IncidentCreate),
        ("mtm.rooms.v1.TicketService", "UpdateTicket" | "CloseRecordedIssue") => {
            Some(E::TicketUpdate)
        }
        ("mtm.rooms.v1.TicketService", "AddTicketMessage") => Some(E::TicketMessage),
        ("mtm.tenancy.v1.RelationshipService", "AddPrimaryAdmins") => Some(E::PartnerRoleChange),
        (
            "mtm.rbac.v1.RoleService",
            "CreateRole"
            | "UpdateRole"
            | "DeleteRole"
            | "CreateRoleAssignment"
            | "UpdateRoleAssignment"
            | "DeleteRoleAssignment",
        ) if target.contains("/partnerRelationships/") => Some(E::PartnerRoleChange),
        _ => None,
    }
}

/// Whether `relationship` holds calls of `event` for approval.
pub fn is_manual(relationship: &Relationship, event: ChangeControlEventType) -> bool {
    relationship.change_control.as_ref().is_some_and(|policy| {
        policy.settings.iter().any(|s| {
            s.event_type == i32::from(event)
                && s.mode == i32::from(ChangeControlMode::ManualApproval)
        })
    })
}

/// FAILED_PRECONDITION with `ErrorInfo` reason `APPROVAL_REQUIRED` naming the stored request.
pub fn approval_required(request: &ApprovalRequest) -> Status {
    Status::with_error_details(
        Code::FailedPrecondition,
        format!(
            "the customer approves this action first; it is stored as {}",
            request.name
        ),
        ErrorDetails::with_error_info(
            REASON,
            "mtm",
            HashMap::from([("approval_request".to_owned(), request.name.clone())]),
        ),
    )
}

/// The partner tenant of a partner user: `partners/{tenant}`.
pub fn partner_of(principal: &Principal) -> String {
    let tenant = principal
        .home_tenant
        .strip_prefix("tenants/")
        .unwrap_or(&principal.home_tenant);
    format!("partners/{tenant}")
}

/// A call held for approval, as tenancy-svc stores it.
pub struct Held<'a> {
    /// The relationship it was made under.
    pub relationship: &'a str,
    /// Its event type.
    pub event: ChangeControlEventType,
    /// Its full gRPC method.
    pub path: &'a str,
    /// The request message's full name, for the `Any`.
    pub message_type: &'a str,
    /// The encoded request.
    pub body: &'a Bytes,
    /// The resource it targets.
    pub target: &'a str,
    /// The partner user.
    pub principal: &'a Principal,
    /// The call's request id.
    pub request_id: &'a str,
}

/// tenancy-svc's change-control calls.
pub struct ChangeControl {
    tenancy: TenancyInternalServiceClient<ServiceChannel>,
}

impl ChangeControl {
    /// Calls tenancy-svc on `tenancy`.
    pub fn new(tenancy: ServiceChannel) -> Self {
        Self {
            tenancy: TenancyInternalServiceClient::new(tenancy),
        }
    }

    /// The ACTIVE relationship of `principal`'s tenant with `customer` (an id), if any.
    pub async fn relationship(
        &self,
        principal: &Principal,
        customer: &str,
    ) -> Result<Option<Relationship>, Status> {
        let answer = self
            .tenancy
            .clone()
            .get_active_relationship(GetActiveRelationshipRequest {
                customer: format!("customers/{customer}"),
                partner: partner_of(principal),
            })
            .await;
        match answer {
            Ok(found) => Ok(found.into_inner().relationship),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(status),
        }
    }

    /// Stores `held` as a PENDING approval request.
    pub async fn submit(
        &self,
        held: Held<'_>,
        context: &CallContext,
    ) -> Result<ApprovalRequest, Status> {
        let method = held.path.rsplit('/').next().unwrap_or_default();
        let mut request = tonic::Request::new(SubmitApprovalRequestRequest {
            relationship: held.relationship.to_owned(),
            event_type: held.event.into(),
            method: held.path.to_owned(),
            action: Some(prost_types::Any {
                type_url: format!("type.googleapis.com/{}", held.message_type),
                value: held.body.to_vec(),
            }),
            target: held.target.to_owned(),
            summary: format!("{method} on {}", held.target),
            requester: Some(Actor {
                user: held.principal.user.clone(),
                upn: held.principal.upn.clone(),
                tenant: held.principal.home_tenant.clone(),
                partner: partner_of(held.principal),
                partner_relationship: held.relationship.to_owned(),
                ..Default::default()
            }),
            request_id: idempotency_key(held.request_id),
        });
        mtm_plumbing::context::attach(&mut request, context);
        self.tenancy
            .clone()
            .submit_approval_request(request)
            .await?
            .into_inner()
            .approval_request
            .ok_or_else(|| Status::internal("tenancy-svc stored no approval request"))
    }

    /// Records how executing the approved request `name` went.
    pub async fn mark_executed(
        &self,
        name: &str,
        outcome: ApprovalOutcome,
        context: &CallContext,
    ) -> Result<ApprovalRequest, Status> {
        let mut request = tonic::Request::new(MarkApprovalExecutedRequest {
            name: name.to_owned(),
            outcome: Some(outcome),
        });
        mtm_plumbing::context::attach(&mut request, context);
        self.tenancy
            .clone()
            .mark_approval_executed(request)
            .await?
            .into_inner()
            .approval_request
            .ok_or_else(|| Status::internal("tenancy-svc returned no approval request"))
    }
}

/// The idempotency key of a submission: the request id when it is a UUID (a client retrying
/// with the same `x-request-id` gets the same approval request), none otherwise.
fn idempotency_key(request_id: &str) -> String {
    if uuid::Uuid::parse_str(request_id).is_ok() {
        request_id.to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::tenancy::v1::{ChangeControlPolicy, ChangeControlSetting};

    #[test]
    fn r29_event_types_cover_the_documented_calls() {
        use ChangeControlEventType as E;
        let room = "customers/c/rooms/r";
        assert_eq!(
            event_type("/mtm.rooms.v1.RoomService/UpdateRoom", room),
            Some(E::RoomModify)
        );
        assert_eq!(
            event_type("/mtm.rooms.v1.RoomService/AssignRoomToRing", room),
            Some(E::UpdateRingAssignment)
        );
        assert_eq!(event_type("/mtm.rooms.v1.RoomService/GetRoom", room), None);
        assert_eq!(
            event_type(
                "/mtm.rbac.v1.RoleService/CreateRole",
                "customers/c/partnerRelationships/p"
            ),
            Some(E::PartnerRoleChange)
        );
        assert_eq!(
            event_type("/mtm.rbac.v1.RoleService/CreateRole", "customers/c"),
            None
        );
        assert_eq!(
            event_type(
                "/mtm.rooms.v1.TicketService/AddTicketMessage",
                "customers/c/tickets/t"
            ),
            Some(E::TicketMessage)
        );
    }

    #[test]
    fn r29_only_listed_manual_event_types_are_held() {
        let relationship = Relationship {
            change_control: Some(ChangeControlPolicy {
                settings: vec![
                    ChangeControlSetting {
                        event_type: ChangeControlEventType::RoomModify.into(),
                        mode: ChangeControlMode::ManualApproval.into(),
                    },
                    ChangeControlSetting {
                        event_type: ChangeControlEventType::TicketUpdate.into(),
                        mode: ChangeControlMode::AutoApproval.into(),
                    },
                ],
            }),
            ..Default::default()
        };
        assert!(is_manual(&relationship, ChangeControlEventType::RoomModify));
        assert!(!is_manual(
            &relationship,
            ChangeControlEventType::TicketUpdate
        ));
        assert!(!is_manual(
            &relationship,
            ChangeControlEventType::TicketMessage
        ));
        assert!(!is_manual(
            &Relationship::default(),
            ChangeControlEventType::RoomModify
        ));
    }

    #[test]
    fn r29_held_calls_answer_approval_required_with_the_request() {
        let status = approval_required(&ApprovalRequest {
            name: "customers/c/approvalRequests/a".into(),
            ..Default::default()
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        let info = status
            .get_error_details()
            .error_info()
            .cloned()
            .expect("info");
        assert_eq!(info.reason, REASON);
        assert_eq!(
            info.metadata["approval_request"],
            "customers/c/approvalRequests/a"
        );
    }

    #[test]
    fn only_uuid_request_ids_become_idempotency_keys() {
        let id = uuid::Uuid::new_v4().to_string();
        assert_eq!(idempotency_key(&id), id);
        assert_eq!(idempotency_key("req-1"), "");
    }
}
