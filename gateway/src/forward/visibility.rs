//! Whether a caller refused a room-, ticket- or group-scoped act may still see its target
//! (R37): then the answer is PERMISSION_DENIED; otherwise NOT_FOUND, exactly as for a missing
//! resource. rbac-svc decides it (`Decision.target_visible`) on the target's placement, which
//! rooms-svc looks up.

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::decision_target::Target;
use mtm_proto::mtm::rbac::v1::{
    CheckRequest, Decision, DecisionKind, DecisionTarget, RoomTarget, TicketTarget,
};
use mtm_proto::mtm::rooms::v1::LookupPlacementsRequest;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use tonic::Status;

/// The kind of resource a name under `customers/{customer}` is, when it is one.
fn kind_of(name: &str) -> Option<&str> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [
            "customers",
            _,
            kind @ ("rooms" | "tickets" | "roomGroups"),
            id,
        ] if !id.is_empty() => Some(kind),
        _ => None,
    }
}

/// rbac-svc's decision of `permission` on `name` for `principal`, with the target's current
/// placement; `None` when `name` does not exist.
async fn decision_on(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    rooms: ServiceChannel,
    principal: &Principal,
    customer: &str,
    permission: &str,
    name: &str,
) -> Result<Option<Decision>, Status> {
    let customer_name = format!("customers/{customer}");
    if !reaches(rbac, principal, &customer_name).await? {
        // Nothing at the customer is visible: rooms-svc is not asked about it (R37).
        return Ok(None);
    }
    let target = match kind_of(name) {
        None => None,
        Some("roomGroups") => Some(Target::RoomGroup(name.to_owned())),
        Some(kind) => {
            let placement = StoreInternalServiceClient::new(rooms)
                .lookup_placements(LookupPlacementsRequest {
                    customer: customer_name.clone(),
                    names: vec![name.to_owned()],
                })
                .await?
                .into_inner()
                .placements
                .into_iter()
                .next()
                .filter(|p| p.found);
            let Some(placement) = placement else {
                return Ok(None);
            };
            Some(if kind == "rooms" {
                Target::Room(RoomTarget {
                    room: name.to_owned(),
                    room_group: placement.room_group,
                })
            } else {
                Target::Ticket(TicketTarget {
                    ticket: name.to_owned(),
                    rooms: placement
                        .ticket_rooms
                        .into_iter()
                        .map(|r| RoomTarget {
                            room: r.room,
                            room_group: r.room_group,
                        })
                        .collect(),
                })
            })
        }
    };
    let decision = rbac
        .check(CheckRequest {
            principal: Some(principal.clone()),
            customer: customer_name,
            permission: permission.to_owned(),
            target: target.map(|target| DecisionTarget {
                target: Some(target),
            }),
            at_least_revision: 0,
            kind: 0,
        })
        .await?
        .into_inner()
        .decision
        .unwrap_or_default();
    Ok(Some(decision))
}

/// A permission decided on any assignment: a denied decision of it without a target says
/// whether the caller holds any role at the customer (`Decision.target_visible`).
const REACH_PERMISSION: &str = "update_rings.view";

/// Whether `principal` holds anything at `customer` (a name): a role there or, for a partner
/// user, a relationship with it.
async fn reaches(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    customer: &str,
) -> Result<bool, Status> {
    let decision = rbac
        .check(CheckRequest {
            principal: Some(principal.clone()),
            customer: customer.to_owned(),
            permission: REACH_PERMISSION.to_owned(),
            target: None,
            at_least_revision: 0,
            kind: DecisionKind::AnyAssignment.into(),
        })
        .await?
        .into_inner()
        .decision
        .unwrap_or_default();
    Ok(decision.allowed || decision.target_visible || !decision.partner_relationship.is_empty())
}

/// Whether `principal`, refused `permission` on `name` at `customer`, may see `name`.
pub async fn target_visible(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    rooms: ServiceChannel,
    principal: &Principal,
    customer: &str,
    permission: &str,
    name: &str,
) -> Result<bool, Status> {
    let decision = decision_on(rbac, rooms, principal, customer, permission, name).await?;
    Ok(decision.is_some_and(|d| !d.allowed && d.target_visible))
}

/// Whether `principal` holds `permission` on `name` itself (not only somewhere at the
/// customer): for a scoped permission, whether its scope covers the target now.
pub async fn allowed_on(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    rooms: ServiceChannel,
    principal: &Principal,
    customer: &str,
    permission: &str,
    name: &str,
) -> Result<bool, Status> {
    let decision = decision_on(rbac, rooms, principal, customer, permission, name).await?;
    Ok(decision.is_some_and(|d| d.allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_single_resources_have_a_kind() {
        assert_eq!(kind_of("customers/c/rooms/r"), Some("rooms"));
        assert_eq!(kind_of("customers/c/tickets/t"), Some("tickets"));
        assert_eq!(kind_of("customers/c/roomGroups/g"), Some("roomGroups"));
        assert_eq!(kind_of("customers/c"), None);
        assert_eq!(kind_of("customers/c/tickets/t/messages/m"), None);
        assert_eq!(kind_of("customers/c/updateRings/r"), None);
    }
}
