//! Asking rbac-svc whether a caller may make a routed call, and what scope it carries.

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::decision_target::Target;
use mtm_proto::mtm::rbac::v1::{CheckRequest, DecisionKind, DecisionTarget, ResolveScopeRequest};
use tonic::Status;

use super::routes::Decide;

/// What a granted decision hands on to the backend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grant {
    /// The caller's scope for the permission (scoped decisions only).
    pub scope: Option<RoomScope>,
    /// The caller's relationship with the customer, when it is a partner user.
    pub partner_relationship: String,
}

/// Why a call was refused: the caller either cannot see the target at all (answered exactly
/// as if it did not exist, R37) or can see it but lacks the permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Answer NOT_FOUND.
    Invisible,
    /// Answer PERMISSION_DENIED.
    Forbidden,
}

/// Decides `permission` for `principal` at `customer` the way `decide` says.
pub async fn decide(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    customer: &str,
    permission: &str,
    decide: Decide,
) -> Result<Result<Grant, Refusal>, Status> {
    let customer_name = format!("customers/{customer}");
    match decide {
        Decide::Scoped => {
            let answer = rbac
                .resolve_scope(ResolveScopeRequest {
                    principal: Some(principal.clone()),
                    customer: customer_name,
                    permission: permission.to_owned(),
                    at_least_revision: 0,
                })
                .await?
                .into_inner();
            if !answer.allowed {
                return Ok(Err(Refusal::Invisible));
            }
            Ok(Ok(Grant {
                scope: answer.scope,
                partner_relationship: answer.partner_relationship,
            }))
        }
        Decide::AnyAssignment | Decide::CustomerWide => {
            let kind = if decide == Decide::CustomerWide {
                DecisionKind::CustomerWide
            } else {
                DecisionKind::AnyAssignment
            };
            let decision = rbac
                .check(CheckRequest {
                    principal: Some(principal.clone()),
                    customer: customer_name,
                    permission: permission.to_owned(),
                    target: None,
                    at_least_revision: 0,
                    kind: kind.into(),
                })
                .await?
                .into_inner()
                .decision
                .unwrap_or_default();
            if decision.allowed {
                Ok(Ok(Grant {
                    scope: None,
                    partner_relationship: decision.partner_relationship,
                }))
            } else if decision.target_visible {
                Ok(Err(Refusal::Forbidden))
            } else {
                Ok(Err(Refusal::Invisible))
            }
        }
    }
}

/// Decides a group-scoped `permission` on `room_group` (a second target some calls need).
pub async fn decide_group(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    customer: &str,
    permission: &str,
    room_group: &str,
) -> Result<Result<(), Refusal>, Status> {
    let decision = rbac
        .check(CheckRequest {
            principal: Some(principal.clone()),
            customer: format!("customers/{customer}"),
            permission: permission.to_owned(),
            target: Some(DecisionTarget {
                target: Some(Target::RoomGroup(room_group.to_owned())),
            }),
            at_least_revision: 0,
            kind: DecisionKind::GroupScoped.into(),
        })
        .await?
        .into_inner()
        .decision
        .unwrap_or_default();
    Ok(match (decision.allowed, decision.target_visible) {
        (true, _) => Ok(()),
        (false, true) => Err(Refusal::Forbidden),
        (false, false) => Err(Refusal::Invisible),
    })
}
