//! R20, R34: a group-bound room of the forwarded scope (`RoomScope.rooms_in_groups`, what
//! rbac-svc answers for a partner role narrowed to one room of an in-scope site) is in scope
//! exactly while the room is in one of its groups: rooms, tickets, update ring room counts;
//! it never puts its group in scope.

use mtm_proto::mtm::common::v1::{CallContext, GroupBoundRoom};
use mtm_proto::mtm::rooms::v1::*;

use crate::harness::{Backend, Suite, admin, call, scoped};
use crate::on_both_backends;

on_both_backends!(
    r20_r34_a_group_bound_room_is_listed_only_while_in_one_of_its_groups,
    r20_r34_a_group_bound_room_is_listed_only_while_in_one_of_its_groups_postgres,
    group_bound
);

/// The partner's context: room `b1` while it is in `berlin`.
fn b1_in_berlin() -> CallContext {
    let mut context = scoped("contoso", &[], &[]);
    let scope = context.scope.as_mut().expect("scope");
    scope.rooms_in_groups.push(GroupBoundRoom {
        room: "customers/contoso/rooms/b1".into(),
        room_groups: vec!["customers/contoso/roomGroups/berlin".into()],
    });
    context
}

/// What the context sees: room ids listed, whether `b1` can be read, ticket titles, room
/// groups listed and the sum of the update rings' room counts.
async fn seen(
    suite: &Suite,
    context: &CallContext,
) -> (Vec<String>, bool, Vec<String>, usize, i32) {
    let rooms = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            context,
        ))
        .await
        .expect("rooms")
        .into_inner()
        .rooms
        .into_iter()
        .map(|r| r.name.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    let get = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: "customers/contoso/rooms/b1".into(),
            },
            context,
        ))
        .await;
    if let Err(status) = &get {
        assert_eq!(status.code(), tonic::Code::NotFound);
    }
    let mut tickets: Vec<String> = suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            context,
        ))
        .await
        .expect("tickets")
        .into_inner()
        .tickets
        .into_iter()
        .map(|t| t.title)
        .collect();
    tickets.sort();
    let groups = suite
        .groups()
        .list_room_groups(call(
            ListRoomGroupsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            context,
        ))
        .await
        .expect("groups")
        .into_inner()
        .room_groups
        .len();
    let ring_rooms = suite
        .rings()
        .list_update_rings(call(
            ListUpdateRingsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            context,
        ))
        .await
        .expect("rings")
        .into_inner()
        .update_rings
        .iter()
        .map(|r| r.room_count)
        .sum();
    (rooms, get.is_ok(), tickets, groups, ring_rooms)
}

async fn group_bound(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "berlin").await;
    suite.group("contoso", "paris").await;
    suite.room("contoso", "berlin", "b1").await;
    suite.room("contoso", "berlin", "b2").await;
    suite.room("contoso", "paris", "p1").await;
    for (title, room) in [("At b1", "b1"), ("At b2", "b2")] {
        suite
            .tickets()
            .create_incident(call(
                CreateIncidentRequest {
                    parent: "customers/contoso".into(),
                    rooms: vec![format!("customers/contoso/rooms/{room}")],
                    title: title.into(),
                    severity: TicketSeverity::Warning as i32,
                    ..Default::default()
                },
                &admin("contoso"),
            ))
            .await
            .expect("incident");
    }
    let partner = b1_in_berlin();
    assert_eq!(
        seen(&suite, &partner).await,
        (vec!["b1".to_owned()], true, vec!["At b1".to_owned()], 0, 1),
        "b1 is in berlin: in scope, alone, and berlin is not"
    );
    let current = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: "customers/contoso/rooms/b1".into(),
            },
            &admin("contoso"),
        ))
        .await
        .expect("b1")
        .into_inner()
        .room
        .expect("room");
    suite
        .rooms()
        .move_room(call(
            MoveRoomRequest {
                name: current.name.clone(),
                room_group: "customers/contoso/roomGroups/paris".into(),
                etag: current.etag,
            },
            &admin("contoso"),
        ))
        .await
        .expect("move to paris");
    assert_eq!(
        seen(&suite, &partner).await,
        (Vec::new(), false, Vec::new(), 0, 0),
        "b1 left berlin: out of scope everywhere"
    );
    suite.finish(&["contoso"]).await;
}
