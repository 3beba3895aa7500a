//! `DecisionService`: Check, BatchCheck, ResolveScope and ListAccessibleCustomers, answered
//! from the index only.

use mtm_plumbing::paging;
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::decision_service_server::DecisionService;
use tonic::{Request, Response, Status};

use super::{customer_id, who};
use crate::catalogue::{Kind, Perm};
use crate::error::Error;
use crate::index::{self, Index, RoomAt, Target, Who};
use crate::state::{Ready, now};

/// The most items one `BatchCheck` takes.
pub const MAX_BATCH: usize = 10_000;

/// Serves decisions.
#[derive(Clone)]
pub struct Decisions {
    state: Ready,
}

impl Decisions {
    /// Decisions over `state`.
    pub fn new(state: Ready) -> Decisions {
        Decisions { state }
    }
}

fn deny_reason(deny: Option<index::Deny>) -> pb::DenyReason {
    match deny {
        None => pb::DenyReason::Unspecified,
        Some(index::Deny::NoGrant) => pb::DenyReason::NoGrant,
        Some(index::Deny::OutOfScope) => pb::DenyReason::OutOfScope,
        Some(index::Deny::NotCustomerWide) => pb::DenyReason::NotCustomerWide,
        Some(index::Deny::NoRelationship) => pb::DenyReason::NoRelationship,
        Some(index::Deny::Invalid) => pb::DenyReason::Invalid,
    }
}

fn invalid() -> pb::Decision {
    pb::Decision {
        deny_reason: pb::DenyReason::Invalid as i32,
        ..pb::Decision::default()
    }
}

/// Whether every room and group `target` names belongs to `customer`.
fn within(customer: &str, target: &Target<'_>) -> bool {
    let room = |r: &RoomAt<'_>| {
        crate::names::of_customer(r.room, "rooms", customer)
            && crate::names::of_customer(r.group, "roomGroups", customer)
    };
    match target {
        Target::None => true,
        Target::Room(r) => room(r),
        Target::Ticket(rooms) => rooms.iter().all(room),
        Target::Group(group) => crate::names::of_customer(group, "roomGroups", customer),
    }
}

/// Decides one item; an unknown permission, a malformed customer or an unknown kind is a
/// DENY_REASON_INVALID decision.
fn decide(
    index: &Index,
    who: &Who<'_>,
    customer: &str,
    permission: &str,
    target: Option<&pb::DecisionTarget>,
    kind: i32,
    now: i64,
) -> pb::Decision {
    let (Some(customer), Some(perm)) = (crate::names::customer(customer), Perm::parse(permission))
    else {
        return invalid();
    };
    let requested = match kind {
        0 => None,
        k => match Kind::from_proto(k) {
            Some(kind) => Some(kind),
            None => return invalid(),
        },
    };
    let foreign_ticket = target
        .and_then(|t| t.target.as_ref())
        .is_some_and(|t| match t {
            pb::decision_target::Target::Ticket(ticket) => {
                !ticket.ticket.is_empty()
                    && !crate::names::of_customer(&ticket.ticket, "tickets", customer)
            }
            _ => false,
        });
    let rooms: Vec<RoomAt<'_>>;
    let target = match target.and_then(|t| t.target.as_ref()) {
        None => Target::None,
        Some(pb::decision_target::Target::Room(room)) => Target::Room(RoomAt {
            room: &room.room,
            group: &room.room_group,
        }),
        Some(pb::decision_target::Target::RoomGroup(group)) => Target::Group(group),
        Some(pb::decision_target::Target::Ticket(ticket)) => {
            rooms = ticket
                .rooms
                .iter()
                .map(|r| RoomAt {
                    room: &r.room,
                    group: &r.room_group,
                })
                .collect();
            Target::Ticket(&rooms)
        }
    };
    let mut decision = index.check(who, customer, perm, &target, requested, now);
    if foreign_ticket || !within(customer, &target) {
        // A room or group of another customer is never in scope, whatever the caller's
        // scope here (R21, R37): denied, and not visible.
        decision.allowed = false;
        decision.granting = None;
        decision.visible_rooms.clear();
        decision.target_visible = false;
        if decision.deny.is_none() {
            decision.deny = Some(index::Deny::OutOfScope);
        }
    }
    let visible_rooms = match &target {
        Target::Ticket(rooms) => decision
            .visible_rooms
            .iter()
            .map(|&i| rooms[i].room.to_owned())
            .collect(),
        _ => Vec::new(),
    };
    pb::Decision {
        allowed: decision.allowed,
        granting_assignment: decision.granting.unwrap_or_default().to_owned(),
        partner_relationship: decision.relationship.unwrap_or_default().to_owned(),
        visible_rooms,
        target_visible: decision.target_visible,
        deny_reason: deny_reason(decision.deny) as i32,
    }
}

#[tonic::async_trait]
impl DecisionService for Decisions {
    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let request = request.into_inner();
        let who = who(request.principal.as_ref(), "principal")?;
        self.state
            .get()?
            .at_least(request.at_least_revision)
            .await?;
        let (seconds, _) = now();
        let index = self.state.get()?.index()?;
        let decision = crate::metrics::decided(|| {
            decide(
                &index,
                &who,
                &request.customer,
                &request.permission,
                request.target.as_ref(),
                request.kind,
                seconds,
            )
        });
        Ok(Response::new(pb::CheckResponse {
            decision: Some(decision),
            revision: index.revision(),
        }))
    }

    async fn batch_check(
        &self,
        request: Request<pb::BatchCheckRequest>,
    ) -> Result<Response<pb::BatchCheckResponse>, Status> {
        let request = request.into_inner();
        let who = who(request.principal.as_ref(), "principal")?;
        if request.items.len() > MAX_BATCH {
            return Err(Error::invalid("items", "at most 10,000 items").into());
        }
        self.state
            .get()?
            .at_least(request.at_least_revision)
            .await?;
        let (seconds, _) = now();
        let index = self.state.get()?.index()?;
        let decisions = request
            .items
            .iter()
            .map(|item| {
                crate::metrics::decided(|| {
                    decide(
                        &index,
                        &who,
                        &item.customer,
                        &item.permission,
                        item.target.as_ref(),
                        item.kind,
                        seconds,
                    )
                })
            })
            .collect();
        Ok(Response::new(pb::BatchCheckResponse {
            decisions,
            revision: index.revision(),
        }))
    }

    async fn resolve_scope(
        &self,
        request: Request<pb::ResolveScopeRequest>,
    ) -> Result<Response<pb::ResolveScopeResponse>, Status> {
        let request = request.into_inner();
        let who = who(request.principal.as_ref(), "principal")?;
        let customer = customer_id(&request.customer, "customer")?;
        let perm = Perm::parse(&request.permission)
            .ok_or_else(|| Error::invalid("permission", "not in the catalogue"))?;
        self.state
            .get()?
            .at_least(request.at_least_revision)
            .await?;
        let (seconds, _) = now();
        let index = self.state.get()?.index()?;
        let resolved = index.resolve_scope(&who, customer, perm, seconds);
        Ok(Response::new(pb::ResolveScopeResponse {
            allowed: resolved.allowed,
            scope: Some(resolved.scope.to_proto()),
            partner_relationship: resolved.relationship.unwrap_or_default().to_owned(),
            revision: index.revision(),
        }))
    }

    async fn list_accessible_customers(
        &self,
        request: Request<pb::ListAccessibleCustomersRequest>,
    ) -> Result<Response<pb::ListAccessibleCustomersResponse>, Status> {
        let request = request.into_inner();
        let who = who(request.principal.as_ref(), "principal")?;
        let size =
            usize::try_from(paging::page_size(request.page_size, 500, 5000)?).unwrap_or(usize::MAX);
        let after = paging::decode(&[], &request.page_token)?;
        let perm = match request.permission.as_str() {
            "" => None,
            permission => Some(
                Perm::parse(permission)
                    .ok_or_else(|| Error::invalid("permission", "not in the catalogue"))?,
            ),
        };
        self.state
            .get()?
            .at_least(request.at_least_revision)
            .await?;
        let (seconds, _) = now();
        let index = self.state.get()?.index()?;
        let revision = index.revision();
        let mut rest = index
            .accessible(&who, seconds)
            .into_iter()
            .filter(|a| after.as_deref().is_none_or(|after| a.customer > after))
            .filter_map(|a| match perm {
                None => Some((a, None)),
                Some(perm) => {
                    let resolved = index.resolve_scope(&who, a.customer, perm, seconds);
                    resolved
                        .allowed
                        .then(|| (a, Some(resolved.scope.to_proto())))
                }
            })
            .peekable();
        let mut customers = Vec::new();
        while customers.len() < size {
            let Some((a, scope)) = rest.next() else { break };
            customers.push(pb::AccessibleCustomer {
                customer: format!("customers/{}", a.customer),
                partner_relationship: a.relationship.unwrap_or_default().to_owned(),
                roles: a.roles.iter().map(|(n, _)| n.to_string()).collect(),
                role_display_names: a.roles.iter().map(|(_, d)| d.to_string()).collect(),
                scope,
            });
        }
        let next_page_token = match (rest.peek(), customers.last()) {
            (Some(_), Some(last)) => {
                paging::encode(&[], last.customer.trim_start_matches("customers/"))
            }
            _ => String::new(),
        };
        Ok(Response::new(pb::ListAccessibleCustomersResponse {
            customers,
            next_page_token,
            revision,
        }))
    }
}
