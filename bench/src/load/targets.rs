//! The targets of a load run: each one RPC on one server with a short rotation of requests
//! whose right answers are known from the world (an allow for a room in the partner's scope, a
//! deny for one outside it, the room asked for, non-empty lists), so every answer is checked.

use std::collections::{BTreeSet, HashMap};

use mtm_proto::mtm::gateway::v1::ListAllTicketsRequest;
use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_client::AggregatedTicketServiceClient;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::{
    BatchCheckItem, BatchCheckRequest, CheckRequest, DecisionTarget, RoomTarget, decision_target,
};
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{GetRoomRequest, ListRoomsRequest, ListTicketsRequest};
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::cerbos::api::{self as cerbos, Effect};
use super::fixture::{RoomAt, World, covers};

/// The room-scoped permissions asked about, in the order of a multi-permission item.
pub const PERMISSIONS: [&str; 3] = ["rooms.view", "rooms.modify", "incidents.create"];

/// Rooms in a ten-room batch.
const BATCH_ROOMS: usize = 10;

/// The server a target runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Server {
    /// The gateway's public endpoint.
    Gateway,
    /// rbac-svc, called as the gateway calls it.
    Rbac,
    /// Cerbos, deciding the same questions.
    Cerbos,
}

impl Server {
    /// The target measuring this server's no-op RPC, the reference of its ratios.
    pub fn noop(self) -> &'static str {
        match self {
            Self::Gateway => "gateway-noop",
            Self::Rbac => "rbac-noop",
            Self::Cerbos => "cerbos-noop",
        }
    }
}

/// What went wrong with one call.
#[derive(Debug)]
pub enum Problem {
    /// The server answered with an error status.
    Error(tonic::Status),
    /// The server answered, but not with the verified answer.
    Wrong(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Error(status) => write!(f, "{:?}: {}", status.code(), status.message()),
            Self::Wrong(what) => f.write_str(what),
        }
    }
}

/// One measured RPC.
pub struct Target {
    /// Its name (`gateway-noop`, `check`, `batch-10`, ...).
    pub name: &'static str,
    /// The server it runs on.
    pub server: Server,
    calls: Calls,
}

enum Calls {
    Health,
    Check(Vec<(CheckRequest, bool)>),
    Batch(Vec<(BatchCheckRequest, Vec<bool>)>),
    Cerbos(Vec<(cerbos::CheckResourcesRequest, Vec<bool>)>),
    GetRoom(Vec<RoomAt>, AsciiMetadataValue),
    ListRooms(String, BTreeSet<String>, AsciiMetadataValue),
    ListTickets(String, AsciiMetadataValue),
    ListAllTickets(AsciiMetadataValue),
}

impl Target {
    /// How many different requests it rotates through.
    pub fn variants(&self) -> usize {
        match &self.calls {
            Calls::Check(v) => v.len(),
            Calls::Batch(v) => v.len(),
            Calls::Cerbos(v) => v.len(),
            Calls::GetRoom(v, _) => v.len(),
            _ => 1,
        }
    }

    /// Sends request number `seq` (modulo the rotation) and checks the answer.
    pub async fn call(&self, channel: Channel, seq: usize) -> Result<(), Problem> {
        let pick = seq % self.variants();
        match &self.calls {
            Calls::Health => {
                let answer = HealthClient::new(channel)
                    .check(HealthCheckRequest::default())
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                expect(answer.status() == ServingStatus::Serving, || {
                    format!("health is {:?}", answer.status())
                })
            }
            Calls::Check(requests) => {
                let (request, allowed) = &requests[pick];
                let answer = DecisionServiceClient::new(channel)
                    .check(request.clone())
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                let got = answer.decision.is_some_and(|d| d.allowed);
                expect(got == *allowed, || {
                    decision_text(&request.permission, *allowed)
                })
            }
            Calls::Batch(requests) => {
                let (request, allowed) = &requests[pick];
                let answer = DecisionServiceClient::new(channel)
                    .batch_check(request.clone())
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                let got: Vec<bool> = answer.decisions.iter().map(|d| d.allowed).collect();
                expect(got == *allowed, || {
                    format!("BatchCheck answered {got:?}, expected {allowed:?}")
                })
            }
            Calls::Cerbos(requests) => {
                let (request, allowed) = &requests[pick];
                let answer = cerbos::check_resources(channel, request.clone())
                    .await
                    .map_err(Problem::Error)?;
                let got = cerbos_effects(request, &answer);
                expect(got == *allowed, || {
                    format!("CheckResources answered {got:?}, expected {allowed:?}")
                })
            }
            Calls::GetRoom(rooms, authorization) => {
                let room = &rooms[pick];
                let answer = RoomServiceClient::new(channel)
                    .get_room(authorized(
                        GetRoomRequest {
                            name: room.room.clone(),
                        },
                        authorization,
                    ))
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                let got = answer.room.map(|r| (r.name, r.room_group));
                expect(got == Some((room.room.clone(), room.group.clone())), || {
                    format!("GetRoom {} answered {got:?}", room.room)
                })
            }
            Calls::ListRooms(parent, expected, authorization) => {
                let answer = RoomServiceClient::new(channel)
                    .list_rooms(authorized(
                        ListRoomsRequest {
                            parent: parent.clone(),
                            page_size: 100,
                            ..Default::default()
                        },
                        authorization,
                    ))
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                let got: BTreeSet<String> = answer.rooms.into_iter().map(|r| r.name).collect();
                expect(got == *expected, || {
                    format!("ListRooms answered {got:?}, expected {expected:?}")
                })
            }
            Calls::ListTickets(parent, authorization) => {
                let answer = TicketServiceClient::new(channel)
                    .list_tickets(authorized(
                        ListTicketsRequest {
                            parent: parent.clone(),
                            page_size: 20,
                            ..Default::default()
                        },
                        authorization,
                    ))
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                expect(!answer.tickets.is_empty(), || {
                    format!("ListTickets of {parent} answered no tickets")
                })
            }
            Calls::ListAllTickets(authorization) => {
                let answer = AggregatedTicketServiceClient::new(channel)
                    .list_all_tickets(authorized(
                        ListAllTicketsRequest {
                            page_size: 20,
                            ..Default::default()
                        },
                        authorization,
                    ))
                    .await
                    .map_err(Problem::Error)?
                    .into_inner();
                expect(!answer.tickets.is_empty(), || {
                    "ListAllTickets answered no tickets".to_owned()
                })
            }
        }
    }
}

fn expect(ok: bool, what: impl FnOnce() -> String) -> Result<(), Problem> {
    if ok {
        Ok(())
    } else {
        Err(Problem::Wrong(what()))
    }
}

fn decision_text(permission: &str, expected: bool) -> String {
    let (got, want) = if expected {
        ("deny", "allow")
    } else {
        ("allow", "deny")
    };
    format!("Check of {permission} answered {got}, expected {want}")
}

fn authorized<T>(message: T, authorization: &AsciiMetadataValue) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", authorization.clone());
    request
}

/// Allowed or not per resource and action, in the request's order.
fn cerbos_effects(
    request: &cerbos::CheckResourcesRequest,
    answer: &cerbos::CheckResourcesResponse,
) -> Vec<bool> {
    request
        .resources
        .iter()
        .enumerate()
        .flat_map(|(i, entry)| {
            let result = answer.results.get(i);
            entry.actions.iter().map(move |action| {
                result
                    .and_then(|r| r.actions.get(action))
                    .is_some_and(|effect| *effect == Effect::Allow as i32)
            })
        })
        .collect()
}

/// Every target, in table order; the Cerbos ones only when `with_cerbos`.
pub fn all(world: &World, with_cerbos: bool) -> Vec<Target> {
    let rooms = sample(world);
    let scope_of = |room: &RoomAt| world.in_scope.contains(room);
    let singles: Vec<RoomAt> = rooms.clone();
    let mut targets = vec![
        target("gateway-noop", Server::Gateway, Calls::Health),
        target(
            "get-room",
            Server::Gateway,
            Calls::GetRoom(world.in_scope.clone(), world.authorization.clone()),
        ),
        target(
            "list-rooms",
            Server::Gateway,
            Calls::ListRooms(
                world.customer.clone(),
                world.in_scope.iter().map(|r| r.room.clone()).collect(),
                world.authorization.clone(),
            ),
        ),
        target(
            "list-tickets",
            Server::Gateway,
            Calls::ListTickets(world.customer.clone(), world.authorization.clone()),
        ),
        target(
            "list-all-tickets",
            Server::Gateway,
            Calls::ListAllTickets(world.authorization.clone()),
        ),
        target("rbac-noop", Server::Rbac, Calls::Health),
        target(
            "check",
            Server::Rbac,
            Calls::Check(
                singles
                    .iter()
                    .map(|room| (check(world, room, PERMISSIONS[0]), scope_of(room)))
                    .collect(),
            ),
        ),
    ];
    let shapes: [Shape; 3] = [
        (
            "batch-1x3",
            "cerbos-1x3",
            singles.iter().map(|r| vec![r.clone()]).collect(),
            &PERMISSIONS,
        ),
        (
            "batch-10",
            "cerbos-10",
            vec![rooms.clone()],
            &PERMISSIONS[..1],
        ),
        (
            "batch-10x3",
            "cerbos-10x3",
            vec![rooms.clone()],
            &PERMISSIONS,
        ),
    ];
    for (name, _, batches, permissions) in &shapes {
        let requests = batches
            .iter()
            .map(|batch| batch_check(world, batch, permissions))
            .collect();
        targets.push(target(name, Server::Rbac, Calls::Batch(requests)));
    }
    if with_cerbos {
        targets.push(target("cerbos-noop", Server::Cerbos, Calls::Health));
        let requests = singles
            .iter()
            .map(|room| cerbos_check(world, std::slice::from_ref(room), &PERMISSIONS[..1]))
            .collect();
        targets.push(target("cerbos-1", Server::Cerbos, Calls::Cerbos(requests)));
        for (_, name, batches, permissions) in &shapes {
            let requests = batches
                .iter()
                .map(|batch| cerbos_check(world, batch, permissions))
                .collect();
            targets.push(target(name, Server::Cerbos, Calls::Cerbos(requests)));
        }
    }
    targets
}

/// A batch target: its rbac-svc name, its Cerbos name, its batches of rooms, and the
/// permissions asked for each room.
type Shape = (
    &'static str,
    &'static str,
    Vec<Vec<RoomAt>>,
    &'static [&'static str],
);

fn target(name: &'static str, server: Server, calls: Calls) -> Target {
    Target {
        name,
        server,
        calls,
    }
}

/// Ten different rooms of the customer (fewer if it has fewer), alternating between rooms in
/// and out of the partner's scope, starting in scope, while both last.
fn sample(world: &World) -> Vec<RoomAt> {
    let mut inside = world.in_scope.iter();
    let mut outside = world.out_of_scope.iter();
    let mut rooms = Vec::new();
    while rooms.len() < BATCH_ROOMS {
        match (inside.next(), outside.next()) {
            (None, None) => break,
            (a, b) => rooms.extend(a.into_iter().chain(b).cloned()),
        }
    }
    rooms.truncate(BATCH_ROOMS);
    rooms
}

fn room_target(room: &RoomAt) -> DecisionTarget {
    DecisionTarget {
        target: Some(decision_target::Target::Room(RoomTarget {
            room: room.room.clone(),
            room_group: room.group.clone(),
        })),
    }
}

fn check(world: &World, room: &RoomAt, permission: &str) -> CheckRequest {
    CheckRequest {
        principal: Some(world.principal.clone()),
        customer: world.customer.clone(),
        permission: permission.to_owned(),
        target: Some(room_target(room)),
        ..Default::default()
    }
}

/// Each room with each permission, rooms outermost; the expected answers in the same order.
fn batch_check(
    world: &World,
    rooms: &[RoomAt],
    permissions: &[&str],
) -> (BatchCheckRequest, Vec<bool>) {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for room in rooms {
        for permission in permissions {
            items.push(BatchCheckItem {
                customer: world.customer.clone(),
                permission: (*permission).to_owned(),
                target: Some(room_target(room)),
                ..Default::default()
            });
            expected.push(world.in_scope.contains(room));
        }
    }
    let request = BatchCheckRequest {
        principal: Some(world.principal.clone()),
        items,
        at_least_revision: 0,
    };
    (request, expected)
}

/// The same question for Cerbos: the principal with one grant per delegated scope (the
/// Primary admins role holds every permission asked about), one resource per room.
fn cerbos_check(
    world: &World,
    rooms: &[RoomAt],
    permissions: &[&str],
) -> (cerbos::CheckResourcesRequest, Vec<bool>) {
    use prost_types::value::Kind;
    use prost_types::{ListValue, Struct, Value};
    let text = |s: &str| Value {
        kind: Some(Kind::StringValue(s.to_owned())),
    };
    let list = |items: Vec<Value>| Value {
        kind: Some(Kind::ListValue(ListValue { values: items })),
    };
    let grants = world
        .scopes
        .iter()
        .map(|(customer, scope)| {
            let fields: std::collections::BTreeMap<String, Value> = [
                ("customer", text(customer)),
                (
                    "permissions",
                    list(PERMISSIONS.iter().map(|p| text(p)).collect()),
                ),
                (
                    "all_rooms",
                    Value {
                        kind: Some(Kind::BoolValue(scope.all_rooms)),
                    },
                ),
                (
                    "room_groups",
                    list(scope.room_groups.iter().map(|g| text(g)).collect()),
                ),
                ("rooms", list(scope.rooms.iter().map(|r| text(r)).collect())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            Value {
                kind: Some(Kind::StructValue(Struct { fields })),
            }
        })
        .collect();
    let principal = cerbos::Principal {
        id: world.principal.user.clone(),
        roles: vec!["user".to_owned()],
        attr: HashMap::from([("grants".to_owned(), list(grants))]),
    };
    let mut expected = Vec::new();
    let resources = rooms
        .iter()
        .map(|room| {
            let covered = world
                .scopes
                .iter()
                .any(|(c, s)| *c == world.customer && covers(s, room));
            expected.extend(permissions.iter().map(|_| covered));
            cerbos::ResourceEntry {
                actions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                resource: Some(cerbos::Resource {
                    kind: "room".to_owned(),
                    id: room.room.clone(),
                    attr: HashMap::from([
                        ("customer".to_owned(), text(&world.customer)),
                        ("room_group".to_owned(), text(&room.group)),
                    ]),
                }),
            }
        })
        .collect();
    let request = cerbos::CheckResourcesRequest {
        request_id: String::new(),
        principal: Some(principal),
        resources,
    };
    (request, expected)
}
