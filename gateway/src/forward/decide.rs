//! Asking rbac-svc whether a caller may make a routed call, and what scope it carries.

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::decision_target::Target;
use mtm_proto::mtm::rbac::v1::{
    CheckRequest, Decision, DecisionKind, DecisionTarget, ResolveScopeRequest,
};
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
        Decide::Scoped | Decide::AnyAssignment => {
            // An "any assignment" permission still carries the rooms its assignments cover,
            // so what the backend counts or reports stays inside the caller's scope (R34).
            let answer = rbac
                .resolve_scope(ResolveScopeRequest {
                    principal: Some(principal.clone()),
                    customer: customer_name.clone(),
                    permission: permission.to_owned(),
                    at_least_revision: 0,
                })
                .await?
                .into_inner();
            if answer.allowed {
                return Ok(Ok(Grant {
                    scope: answer.scope,
                    partner_relationship: answer.partner_relationship,
                }));
            }
            if decide == Decide::Scoped {
                return Ok(Err(Refusal::Invisible));
            }
            refusal(
                rbac,
                principal,
                customer_name,
                permission,
                DecisionKind::AnyAssignment,
            )
            .await
        }
        Decide::CustomerWide => {
            let decision = check(
                rbac,
                principal,
                customer_name,
                permission,
                DecisionKind::CustomerWide,
            )
            .await?;
            if decision.allowed {
                Ok(Ok(Grant {
                    scope: Some(RoomScope {
                        all_rooms: true,
                        ..Default::default()
                    }),
                    partner_relationship: decision.partner_relationship,
                }))
            } else {
                Ok(Err(refused(&decision)))
            }
        }
    }
}

/// Asks rbac-svc for a decision of `kind` without a target.
async fn check(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    customer_name: String,
    permission: &str,
    kind: DecisionKind,
) -> Result<Decision, Status> {
    Ok(rbac
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
        .unwrap_or_default())
}

/// Why a denied decision is refused: Forbidden where the caller may see the customer.
fn refused(decision: &Decision) -> Refusal {
    if decision.target_visible {
        Refusal::Forbidden
    } else {
        Refusal::Invisible
    }
}

/// The refusal of a call `ResolveScope` did not allow: a check tells Forbidden from Invisible.
async fn refusal(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    customer_name: String,
    permission: &str,
    kind: DecisionKind,
) -> Result<Result<Grant, Refusal>, Status> {
    let decision = check(rbac, principal, customer_name, permission, kind).await?;
    if decision.allowed {
        // The index changed between the two answers; refuse rather than grant without a scope.
        return Ok(Err(Refusal::Forbidden));
    }
    Ok(Err(refused(&decision)))
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
