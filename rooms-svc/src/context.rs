//! Who is calling and on which rooms, from the call context the gateway attaches: the actor
//! recorded on tickets and audit records, and the caller's room scope, applied in SQL.

use mtm_proto::mtm::common::v1::{Actor, CallContext, RoomScope};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::Error;
use crate::names::{CustomerId, split_child};
use crate::store::entity::room;

/// The caller of one request.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// Who acts, as recorded.
    pub actor: Actor,
    /// The caller's effective scope for the call's permission.
    pub scope: Scope,
    /// The request id.
    pub request_id: String,
    /// The approval request executed, if any (R29).
    pub approval_request: String,
    /// The W3C trace id of the request.
    pub trace_id: String,
}

impl Caller {
    /// The caller acting on `customer`, from the request's call context. The scope keeps only
    /// names of that customer; a call without a scope sees no rooms.
    pub fn from_request<T>(
        request: &tonic::Request<T>,
        customer: &CustomerId,
    ) -> Result<Self, Error> {
        let context = mtm_plumbing::context::extract(request)
            .map_err(|status| Error::Unauthenticated(status.message().to_owned()))?;
        Ok(Self::from_context(context, customer))
    }

    /// As [`Caller::from_request`], from a decoded context.
    pub fn from_context(context: CallContext, customer: &CustomerId) -> Self {
        let principal = context.principal.unwrap_or_default();
        let partner = principal
            .home_tenant
            .strip_prefix("tenants/")
            .filter(|home| *home != customer.as_str())
            .map(|home| format!("partners/{home}"))
            .unwrap_or_default();
        let actor = Actor {
            user: principal.user,
            upn: principal.upn,
            display_name: String::new(),
            tenant: principal.home_tenant,
            partner_relationship: if partner.is_empty() {
                String::new()
            } else {
                context.partner_relationship
            },
            partner,
            operator: principal.operator,
        };
        Self {
            actor,
            scope: Scope::from_proto(context.scope.as_ref(), customer),
            request_id: context.request_id,
            approval_request: context.approval_request,
            trace_id: current_trace_id(),
        }
    }

    /// rooms-svc itself (provisioning, telemetry): no user.
    pub fn system() -> Self {
        Self {
            trace_id: current_trace_id(),
            scope: Scope::All,
            ..Self::default()
        }
    }
}

/// The trace id of the current span, or empty without tracing.
fn current_trace_id() -> String {
    use opentelemetry::trace::TraceContextExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span_context.trace_id().to_string()
    } else {
        String::new()
    }
}

/// A set of rooms of one customer, as ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every room.
    All,
    /// The rooms of these groups plus these rooms plus the group-bound rooms.
    Some {
        /// Group ids.
        groups: Vec<String>,
        /// Room ids.
        rooms: Vec<String>,
        /// Rooms in scope only while their group is one of the given ones: (room id,
        /// group ids), each with at least one group.
        bound: Vec<(String, Vec<String>)>,
    },
}

impl Default for Scope {
    fn default() -> Self {
        Self::Some {
            groups: Vec::new(),
            rooms: Vec::new(),
            bound: Vec::new(),
        }
    }
}

impl Scope {
    /// The scope of `customer` in a `RoomScope`; names of other customers are dropped (a
    /// group-bound room of another customer, or bound only to other customers' groups, is
    /// dropped whole).
    pub fn from_proto(scope: Option<&RoomScope>, customer: &CustomerId) -> Self {
        let Some(scope) = scope else {
            return Self::default();
        };
        if scope.all_rooms {
            return Self::All;
        }
        let id = |name: &str, collection: &str| {
            split_child(name, collection)
                .filter(|(owner, _)| owner == customer)
                .map(|(_, id)| id)
        };
        let ids = |names: &[String], collection: &str| {
            names
                .iter()
                .filter_map(|name| id(name, collection))
                .collect()
        };
        let bound = scope
            .rooms_in_groups
            .iter()
            .filter_map(|b| {
                let room = id(&b.room, "rooms")?;
                let groups: Vec<String> = ids(&b.room_groups, "roomGroups");
                (!groups.is_empty()).then_some((room, groups))
            })
            .collect();
        Self::Some {
            groups: ids(&scope.room_groups, "roomGroups"),
            rooms: ids(&scope.rooms, "rooms"),
            bound,
        }
    }

    /// Whether a room in `group` with id `room` is covered.
    pub fn covers_room(&self, room: &str, group: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some {
                groups,
                rooms,
                bound,
            } => {
                groups.iter().any(|g| g == group)
                    || rooms.iter().any(|r| r == room)
                    || bound
                        .iter()
                        .any(|(r, gs)| r == room && gs.iter().any(|g| g == group))
            }
        }
    }

    /// Whether the group is covered as a group (`groups.*`, R34): all rooms, or named. A
    /// group-bound room does not cover its group.
    pub fn covers_group(&self, group: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some { groups, .. } => groups.iter().any(|g| g == group),
        }
    }

    /// Whether it is every room.
    pub fn is_all(&self) -> bool {
        matches!(self, Self::All)
    }

    /// The SQL condition on the `room` table selecting the rooms in scope: a group-bound
    /// room counts while its `room_group_id` is one of its groups.
    pub fn room_condition(&self) -> Condition {
        match self {
            Self::All => Condition::all(),
            Self::Some {
                groups,
                rooms,
                bound,
            } => {
                let mut any = Condition::any()
                    .add(Expr::val(1).eq(0))
                    .add(room::Column::RoomGroupId.is_in(groups.iter().cloned()))
                    .add(room::Column::Id.is_in(rooms.iter().cloned()));
                for (id, groups) in bound {
                    any = any.add(
                        Condition::all()
                            .add(room::Column::Id.eq(id.clone()))
                            .add(room::Column::RoomGroupId.is_in(groups.iter().cloned())),
                    );
                }
                any
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::common::v1::GroupBoundRoom;

    #[test]
    fn scope_keeps_only_the_customers_names() {
        let contoso = CustomerId::new("contoso").expect("id");
        let scope = Scope::from_proto(
            Some(&RoomScope {
                all_rooms: false,
                room_groups: vec![
                    "customers/contoso/roomGroups/berlin".into(),
                    "customers/fabrikam/roomGroups/paris".into(),
                ],
                rooms: vec!["customers/fabrikam/rooms/r1".into()],
                rooms_in_groups: vec![
                    GroupBoundRoom {
                        room: "customers/contoso/rooms/r2".into(),
                        room_groups: vec![
                            "customers/contoso/roomGroups/munich".into(),
                            "customers/fabrikam/roomGroups/munich".into(),
                        ],
                    },
                    GroupBoundRoom {
                        room: "customers/contoso/rooms/r3".into(),
                        room_groups: vec!["customers/fabrikam/roomGroups/paris".into()],
                    },
                ],
            }),
            &contoso,
        );
        assert!(scope.covers_room("x", "berlin"));
        assert!(!scope.covers_room("r1", "paris"));
        assert!(!scope.covers_group("paris"));
        assert!(scope.covers_room("r2", "munich"));
        assert!(!scope.covers_room("r2", "paris"));
        assert!(!scope.covers_group("munich"));
        assert!(!scope.covers_room("r3", "paris"));
        assert_eq!(Scope::from_proto(None, &contoso), Scope::default());
    }

    #[test]
    fn partner_callers_are_named_as_partners() {
        let contoso = CustomerId::new("contoso").expect("id");
        let context = CallContext {
            principal: Some(mtm_proto::mtm::common::v1::Principal {
                user: "tenants/fabrikam/users/ana".into(),
                home_tenant: "tenants/fabrikam".into(),
                ..Default::default()
            }),
            partner_relationship: "customers/contoso/partnerRelationships/p1".into(),
            ..Default::default()
        };
        let caller = Caller::from_context(context, &contoso);
        assert_eq!(caller.actor.partner, "partners/fabrikam");
        assert_eq!(
            caller.actor.partner_relationship,
            "customers/contoso/partnerRelationships/p1"
        );
    }
}
