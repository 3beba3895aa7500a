//! Rooms: updates with field masks and etags (also under concurrency), moves, and health
//! following tickets and telemetry.

use mtm_proto::mtm::rooms::v1::*;
use prost_types::FieldMask;

use crate::harness::{Backend, Suite, admin, call, violated_fields};
use crate::on_both_backends;

on_both_backends!(
    stale_etag_is_aborted_and_unknown_mask_field_is_invalid,
    stale_etag_is_aborted_and_unknown_mask_field_is_invalid_postgres,
    updates
);

async fn updates(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    let room = suite.room("contoso", "hq", "r1").await;
    let ctx = admin("contoso");
    let mask = |paths: &[&str]| {
        Some(FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        })
    };
    let updated = suite
        .rooms()
        .update_room(call(
            UpdateRoomRequest {
                room: Some(Room {
                    name: room.name.clone(),
                    etag: room.etag.clone(),
                    display_name: "Boardroom".into(),
                    capacity: 99,
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
            },
            &ctx,
        ))
        .await
        .expect("update")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(updated.display_name, "Boardroom");
    assert_eq!(updated.capacity, 8, "fields outside the mask are untouched");
    assert_ne!(updated.etag, room.etag);
    let stale = suite
        .rooms()
        .update_room(call(
            UpdateRoomRequest {
                room: Some(Room {
                    name: room.name.clone(),
                    etag: room.etag.clone(),
                    display_name: "Lost update".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
            },
            &ctx,
        ))
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), tonic::Code::Aborted);
    for bad in [&["room_group"][..], &["enrolment_state"], &["colour"], &[]] {
        let status = suite
            .rooms()
            .update_room(call(
                UpdateRoomRequest {
                    room: Some(Room {
                        name: room.name.clone(),
                        display_name: "Nope".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(bad),
                },
                &ctx,
            ))
            .await
            .expect_err("bad mask");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad:?}");
        assert!(violated_fields(&status).contains(&"update_mask".to_owned()));
    }
    let now = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: room.name.clone(),
            },
            &ctx,
        ))
        .await
        .expect("get")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(now, updated, "refused updates changed nothing");
    // Move between groups and rings.
    suite.group("contoso", "annex").await;
    let moved = suite
        .rooms()
        .move_room(call(
            MoveRoomRequest {
                name: room.name.clone(),
                room_group: "customers/contoso/roomGroups/annex".into(),
                etag: now.etag.clone(),
            },
            &ctx,
        ))
        .await
        .expect("move")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(moved.room_group, "customers/contoso/roomGroups/annex");
    let ringed = suite
        .rooms()
        .assign_room_to_ring(call(
            AssignRoomToRingRequest {
                name: room.name.clone(),
                update_ring: "customers/contoso/updateRings/executive".into(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("ring")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(
        ringed.update_ring,
        "customers/contoso/updateRings/executive"
    );
    let missing_ring = suite
        .rooms()
        .assign_room_to_ring(call(
            AssignRoomToRingRequest {
                name: room.name.clone(),
                update_ring: "customers/contoso/updateRings/nope".into(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect_err("no ring");
    assert_eq!(missing_ring.code(), tonic::Code::NotFound);
    suite.finish(&["contoso"]).await;
}

on_both_backends!(
    room_health_follows_important_tickets_and_recorded_issues,
    room_health_follows_important_tickets_and_recorded_issues_postgres,
    health
);

async fn health(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    let ctx = admin("contoso");
    let key = suite
        .keys()
        .download_enrolment_key(call(
            DownloadEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
            },
            &ctx,
        ))
        .await
        .expect("key")
        .into_inner()
        .enrolment_key
        .expect("key")
        .key;
    for id in ["r1", "r2"] {
        let room = suite.room("contoso", "hq", id).await;
        suite
            .rooms()
            .enroll_room(call(
                EnrollRoomRequest {
                    name: room.name,
                    enrolment_key: key.clone(),
                    ..Default::default()
                },
                &ctx,
            ))
            .await
            .expect("enroll");
    }
    let get = |name: &'static str| {
        let mut client = suite.rooms();
        let ctx = ctx.clone();
        async move {
            client
                .get_room(call(GetRoomRequest { name: name.into() }, &ctx))
                .await
                .expect("get")
                .into_inner()
                .room
                .expect("room")
        }
    };
    // A device signal of WARNING severity opens a ticket but leaves the room healthy.
    let affected = suite
        .internal()
        .record_telemetry(RecordTelemetryRequest {
            room: "customers/contoso/rooms/r2".into(),
            app_version: "5.2.0".into(),
            signals: vec![DeviceSignal {
                category: TicketCategory::Camera as i32,
                healthy: false,
                severity: TicketSeverity::Warning as i32,
                detail: "camera not detected".into(),
            }],
            ..Default::default()
        })
        .await
        .expect("telemetry")
        .into_inner()
        .affected_tickets;
    assert_eq!(affected.len(), 1);
    let r2 = get("customers/contoso/rooms/r2").await;
    assert_eq!(
        (r2.health, r2.open_ticket_count),
        (RoomHealth::Healthy as i32, 1)
    );
    assert_eq!(r2.app_version, "5.2.0");
    // A recorded issue makes its room unhealthy until it is closed with a reason.
    let incident = suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec!["customers/contoso/rooms/r1".into()],
                title: "No sound".into(),
                severity: TicketSeverity::Warning as i32,
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("incident")
        .into_inner()
        .ticket
        .expect("ticket");
    assert_eq!(
        get("customers/contoso/rooms/r1").await.health,
        RoomHealth::Unhealthy as i32
    );
    let unhealthy = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                filter: r#"health = "UNHEALTHY""#.into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(unhealthy.rooms.len(), 1);
    assert_eq!(unhealthy.rooms[0].name, "customers/contoso/rooms/r1");
    let not_here = suite
        .tickets()
        .update_ticket(call(
            UpdateTicketRequest {
                ticket: Some(Ticket {
                    name: incident.name.clone(),
                    status: TicketStatus::Resolved as i32,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["status".into()],
                }),
            },
            &ctx,
        ))
        .await
        .expect_err("recorded issues close with a reason");
    assert_eq!(not_here.code(), tonic::Code::FailedPrecondition);
    let closed = suite
        .tickets()
        .close_recorded_issue(call(
            CloseRecordedIssueRequest {
                name: incident.name.clone(),
                reason: "Cable replaced".into(),
                etag: incident.etag.clone(),
            },
            &ctx,
        ))
        .await
        .expect("close")
        .into_inner()
        .ticket
        .expect("ticket");
    assert_eq!(closed.status, TicketStatus::Resolved as i32);
    assert_eq!(closed.close_reason, "Cable replaced");
    assert_eq!(
        get("customers/contoso/rooms/r1").await.health,
        RoomHealth::Healthy as i32
    );
    // The camera signal clears: its ticket is resolved by rooms-svc.
    suite
        .internal()
        .record_telemetry(RecordTelemetryRequest {
            room: "customers/contoso/rooms/r2".into(),
            signals: vec![DeviceSignal {
                category: TicketCategory::Camera as i32,
                healthy: true,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("telemetry");
    assert_eq!(get("customers/contoso/rooms/r2").await.open_ticket_count, 0);
    // A device last heard of two hours ago is DISCONNECTED (threshold 30 minutes).
    let two_hours_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        - 7200;
    suite
        .internal()
        .record_telemetry(RecordTelemetryRequest {
            room: "customers/contoso/rooms/r1".into(),
            observe_time: Some(prost_types::Timestamp {
                seconds: two_hours_ago,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .expect("telemetry");
    assert_eq!(
        get("customers/contoso/rooms/r1").await.health,
        RoomHealth::Disconnected as i32
    );
    let disconnected = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                filter: r#"health = "DISCONNECTED""#.into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(disconnected.total_size, 1);
    assert_eq!(disconnected.rooms[0].name, "customers/contoso/rooms/r1");
    let healthy = suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: "customers/contoso".into(),
                filter: r#"health = "HEALTHY""#.into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(healthy.total_size, 1);
    assert_eq!(healthy.rooms[0].name, "customers/contoso/rooms/r2");
    let info = suite
        .internal()
        .get_store_info(GetStoreInfoRequest {
            customer: "customers/contoso".into(),
        })
        .await
        .expect("info")
        .into_inner()
        .store
        .expect("store");
    assert_eq!((info.ticket_count, info.open_ticket_count), (2, 0));
    suite.finish(&["contoso"]).await;
}

on_both_backends!(
    concurrent_updates_with_one_etag_let_exactly_one_through,
    concurrent_updates_with_one_etag_let_exactly_one_through_postgres,
    etag_race
);

async fn etag_race(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    let room = suite.room("contoso", "hq", "r1").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let mut client = suite.rooms();
        let room = room.clone();
        tasks.spawn(async move {
            client
                .update_room(call(
                    UpdateRoomRequest {
                        room: Some(Room {
                            name: room.name.clone(),
                            etag: room.etag.clone(),
                            display_name: format!("Writer {i}"),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["display_name".into()],
                        }),
                    },
                    &admin("contoso"),
                ))
                .await
                .map(|_| ())
                .map_err(|status| status.code())
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done.expect("task"));
    }
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(()) | Err(tonic::Code::Aborted))),
        "{outcomes:?}"
    );
    suite.finish(&["contoso"]).await;
}
