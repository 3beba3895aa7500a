//! Isolation: no call for one customer ever returns a row of another (R27), and a caller
//! never sees a room outside its scope, in lists, counts or errors (R21, R37).

use mtm_proto::mtm::rooms::v1::*;

use crate::harness::{Backend, Suite, admin, call, scoped};
use crate::on_both_backends;

on_both_backends!(
    r27_no_query_for_one_customer_returns_a_row_of_another,
    r27_no_query_for_one_customer_returns_a_row_of_another_postgres,
    customers_are_isolated
);

async fn customers_are_isolated(backend: Backend) {
    let suite = Suite::start(backend).await;
    for customer in ["contoso", "northwind"] {
        suite.provision(customer).await;
        suite.group(customer, "hq").await;
        for room in ["r1", "r2"] {
            suite
                .room(customer, "hq", &format!("{customer}-{room}"))
                .await;
        }
        suite
            .tickets()
            .create_incident(call(
                CreateIncidentRequest {
                    parent: format!("customers/{customer}"),
                    rooms: vec![format!("customers/{customer}/rooms/{customer}-r1")],
                    title: format!("{customer} projector"),
                    severity: TicketSeverity::Warning as i32,
                    ..Default::default()
                },
                &admin(customer),
            ))
            .await
            .expect("incident");
    }
    for (customer, other) in [("contoso", "northwind"), ("northwind", "contoso")] {
        let context = admin(customer);
        let rooms = suite
            .rooms()
            .list_rooms(call(
                ListRoomsRequest {
                    parent: format!("customers/{customer}"),
                    ..Default::default()
                },
                &context,
            ))
            .await
            .expect("rooms")
            .into_inner();
        assert_eq!(rooms.total_size, 2);
        assert!(
            rooms
                .rooms
                .iter()
                .all(|r| r.name.starts_with(&format!("customers/{customer}/")))
        );
        let tickets = suite
            .tickets()
            .list_tickets(call(
                ListTicketsRequest {
                    parent: format!("customers/{customer}"),
                    ..Default::default()
                },
                &context,
            ))
            .await
            .expect("tickets")
            .into_inner();
        assert_eq!(tickets.tickets.len(), 1);
        assert!(tickets.tickets[0].title.starts_with(customer));
        let groups = suite
            .groups()
            .list_room_groups(call(
                ListRoomGroupsRequest {
                    parent: format!("customers/{customer}"),
                    ..Default::default()
                },
                &context,
            ))
            .await
            .expect("groups")
            .into_inner();
        assert_eq!(groups.room_groups.len(), 1);
        assert_eq!(groups.room_groups[0].room_count, 2);
        // The other customer's room id under this customer's name does not exist here.
        let missing = suite
            .rooms()
            .get_room(call(
                GetRoomRequest {
                    name: format!("customers/{customer}/rooms/{other}-r1"),
                },
                &context,
            ))
            .await
            .expect_err("not here");
        assert_eq!(missing.code(), tonic::Code::NotFound);
        // A room in another customer cannot be named at all.
        let foreign = suite
            .rooms()
            .create_room(call(
                CreateRoomRequest {
                    parent: format!("customers/{customer}"),
                    room: Some(Room {
                        display_name: "Sneaky".into(),
                        room_group: format!("customers/{other}/roomGroups/hq"),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &context,
            ))
            .await
            .expect_err("foreign group");
        assert_eq!(foreign.code(), tonic::Code::InvalidArgument);
        let incident = suite
            .tickets()
            .create_incident(call(
                CreateIncidentRequest {
                    parent: format!("customers/{customer}"),
                    rooms: vec![format!("customers/{other}/rooms/{other}-r1")],
                    title: "Cross".into(),
                    severity: TicketSeverity::Warning as i32,
                    ..Default::default()
                },
                &context,
            ))
            .await
            .expect_err("foreign room");
        assert_eq!(incident.code(), tonic::Code::InvalidArgument);
        let placements = suite
            .internal()
            .lookup_placements(LookupPlacementsRequest {
                customer: format!("customers/{customer}"),
                names: vec![
                    format!("customers/{other}/rooms/{other}-r1"),
                    format!("customers/{customer}/rooms/{other}-r1"),
                    format!("customers/{customer}/rooms/{customer}-r1"),
                ],
            })
            .await
            .expect("placements")
            .into_inner()
            .placements;
        assert_eq!(
            placements.iter().map(|p| p.found).collect::<Vec<_>>(),
            [false, false, true]
        );
        let info = suite
            .internal()
            .get_store_info(GetStoreInfoRequest {
                customer: format!("customers/{customer}"),
            })
            .await
            .expect("info")
            .into_inner()
            .store
            .expect("store");
        assert_eq!((info.room_count, info.ticket_count), (2, 1));
    }
    suite.finish(&["contoso", "northwind"]).await;
}

on_both_backends!(
    r21_list_never_shows_rooms_outside_scope,
    r21_list_never_shows_rooms_outside_scope_postgres,
    scope_filters_in_sql
);

async fn scope_filters_in_sql(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    for group in ["berlin", "paris"] {
        suite.group("contoso", group).await;
    }
    for (group, room) in [
        ("berlin", "b1"),
        ("berlin", "b2"),
        ("paris", "p1"),
        ("paris", "p2"),
    ] {
        suite.room("contoso", group, room).await;
    }
    let both = suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec![
                    "customers/contoso/rooms/b1".into(),
                    "customers/contoso/rooms/p1".into(),
                ],
                title: "Both sites".into(),
                severity: TicketSeverity::Important as i32,
                ..Default::default()
            },
            &admin("contoso"),
        ))
        .await
        .expect("incident")
        .into_inner()
        .ticket
        .expect("ticket");
    suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec!["customers/contoso/rooms/p2".into()],
                title: "Paris only".into(),
                severity: TicketSeverity::Warning as i32,
                ..Default::default()
            },
            &admin("contoso"),
        ))
        .await
        .expect("incident");
    // Berlin as a group, plus the single room p1.
    let partner = scoped("contoso", &["berlin"], &["p1"]);
    let rooms = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect("rooms")
        .into_inner();
    let names: Vec<_> = rooms
        .rooms
        .iter()
        .map(|r| r.name.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(names, ["b1", "b2", "p1"]);
    assert_eq!(rooms.total_size, 3, "counts only what is in scope");
    let filtered = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                filter: r#"room_group = "customers/contoso/roomGroups/paris""#.into(),
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect("rooms")
        .into_inner();
    assert_eq!(filtered.total_size, 1, "a filter never widens the scope");
    // Out of scope answers exactly like missing (R37).
    let out = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: "customers/contoso/rooms/p2".into(),
            },
            &partner,
        ))
        .await
        .expect_err("out of scope");
    let missing = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: "customers/contoso/rooms/zz".into(),
            },
            &partner,
        ))
        .await
        .expect_err("missing");
    assert_eq!(out.code(), tonic::Code::NotFound);
    assert_eq!(missing.code(), out.code());
    assert_eq!(
        out.message().replace("p2", "ID"),
        missing.message().replace("zz", "ID"),
        "the same answer for both"
    );
    // Tickets: only those with a room in scope, showing only the rooms in scope (R34).
    let tickets = suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect("tickets")
        .into_inner();
    assert_eq!(tickets.total_size, 1);
    assert_eq!(tickets.tickets[0].name, both.name);
    let shown: Vec<_> = tickets.tickets[0]
        .rooms
        .iter()
        .map(|r| r.room.as_str())
        .collect();
    assert_eq!(
        shown,
        ["customers/contoso/rooms/b1", "customers/contoso/rooms/p1"]
    );
    let berlin_only = scoped("contoso", &["berlin"], &[]);
    let ticket = suite
        .tickets()
        .get_ticket(call(
            GetTicketRequest {
                name: both.name.clone(),
                ..Default::default()
            },
            &berlin_only,
        ))
        .await
        .expect("ticket")
        .into_inner()
        .ticket
        .expect("ticket");
    assert_eq!(ticket.rooms.len(), 1, "the other site's room is not shown");
    let by_room = suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                filter: r#"room = "customers/contoso/rooms/p1""#.into(),
                ..Default::default()
            },
            &berlin_only,
        ))
        .await
        .expect("tickets")
        .into_inner();
    assert_eq!(
        by_room.total_size, 0,
        "filtering on an out-of-scope room reveals nothing"
    );
    // Groups: only those named by the scope; counts of rings only rooms in scope.
    let groups = suite
        .groups()
        .list_room_groups(call(
            ListRoomGroupsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect("groups")
        .into_inner();
    assert_eq!(groups.total_size, 1);
    let general = suite
        .rings()
        .get_update_ring(call(
            GetUpdateRingRequest {
                name: "customers/contoso/updateRings/general".into(),
            },
            &partner,
        ))
        .await
        .expect("ring")
        .into_inner()
        .update_ring
        .expect("ring");
    assert_eq!(general.room_count, 3);
    // No scope at all sees nothing.
    let mut unscoped = admin("contoso");
    unscoped.scope = None;
    let none = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                ..Default::default()
            },
            &unscoped,
        ))
        .await
        .expect("rooms")
        .into_inner();
    assert_eq!(none.total_size, 0);
    suite.finish(&["contoso"]).await;
}

on_both_backends!(
    r37_only_callers_over_every_room_choose_room_ids,
    r37_only_callers_over_every_room_choose_room_ids_postgres,
    chosen_room_ids
);

/// A caller scoped to some rooms cannot probe for ids taken outside its scope: any chosen id is
/// refused alike, taken or not, and a server-assigned id works.
async fn chosen_room_ids(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "berlin").await;
    suite.group("contoso", "paris").await;
    suite.room("contoso", "paris", "hidden").await;
    let berlin_only = scoped("contoso", &["berlin"], &[]);
    let create = |room_id: &str| CreateRoomRequest {
        parent: "customers/contoso".to_owned(),
        room: Some(Room {
            display_name: "New".to_owned(),
            room_group: "customers/contoso/roomGroups/berlin".to_owned(),
            capacity: 4,
            ..Default::default()
        }),
        room_id: room_id.to_owned(),
        request_id: String::new(),
    };
    let taken = suite
        .rooms()
        .create_room(call(create("hidden"), &berlin_only))
        .await
        .expect_err("a chosen id");
    let free = suite
        .rooms()
        .create_room(call(create("fresh"), &berlin_only))
        .await
        .expect_err("a chosen id");
    assert_eq!(taken.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        (taken.code(), taken.message(), taken.details()),
        (free.code(), free.message(), free.details()),
        "a taken id and a free one are refused alike"
    );
    let assigned = suite
        .rooms()
        .create_room(call(create(""), &berlin_only))
        .await
        .expect("a server-assigned id")
        .into_inner()
        .room
        .expect("room");
    assert!(assigned.name.starts_with("customers/contoso/rooms/"));
    suite
        .rooms()
        .create_room(call(create("fresh"), &admin("contoso")))
        .await
        .expect("an admin over every room chooses ids");
    suite.finish(&["contoso"]).await;
}
