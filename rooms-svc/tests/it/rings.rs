//! Update rings: order 1–9, the 60-day rule, built-ins that cannot be deleted, and groups
//! that cannot be deleted while they hold rooms.

use mtm_proto::mtm::rooms::v1::*;
use prost_types::FieldMask;

use crate::harness::{Backend, Suite, admin, call, violated_fields};
use crate::on_both_backends;

on_both_backends!(
    ring_order_and_the_60_day_rule_are_enforced_and_change_nothing,
    ring_order_and_the_60_day_rule_are_enforced_and_change_nothing_postgres,
    ring_rules
);

async fn ring_rules(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    let ctx = admin("contoso");
    let list = || {
        let mut client = suite.rings();
        let ctx = ctx.clone();
        async move {
            client
                .list_update_rings(call(
                    ListUpdateRingsRequest {
                        parent: "customers/contoso".into(),
                        ..Default::default()
                    },
                    &ctx,
                ))
                .await
                .expect("list")
                .into_inner()
        }
    };
    let before = list().await;
    let create = |order: i32, rollout: i32, test: i32| CreateUpdateRingRequest {
        parent: "customers/contoso".into(),
        update_ring: Some(UpdateRing {
            display_name: format!("Pilot {order}-{rollout}-{test}"),
            order,
            rollout_days: rollout,
            test_days: test,
            ..Default::default()
        }),
        update_ring_id: String::new(),
        request_id: String::new(),
    };
    for order in [0, 10, -1] {
        let status = suite
            .rings()
            .create_update_ring(call(create(order, 1, 1), &ctx))
            .await
            .expect_err("order");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["update_ring.order"]);
    }
    let room_left = 60 - before.total_rollout_and_test_days;
    let past = suite
        .rings()
        .create_update_ring(call(create(4, room_left, 1), &ctx))
        .await
        .expect_err("past 60 days");
    assert_eq!(past.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_fields(&past), ["update_ring.rollout_days"]);
    assert!(past.message().contains("61"), "{}", past.message());
    let after = list().await;
    assert_eq!(after, before, "refused creates changed nothing");
    let pilot = suite
        .rings()
        .create_update_ring(call(create(4, room_left, 0), &ctx))
        .await
        .expect("exactly 60 days is fine")
        .into_inner()
        .update_ring
        .expect("ring");
    let general = after
        .update_rings
        .iter()
        .find(|r| r.name.ends_with("/general"))
        .expect("general")
        .clone();
    let grow = suite
        .rings()
        .update_update_ring(call(
            UpdateUpdateRingRequest {
                update_ring: Some(UpdateRing {
                    name: general.name.clone(),
                    etag: general.etag.clone(),
                    test_days: general.test_days + 1,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["test_days".into()],
                }),
            },
            &ctx,
        ))
        .await
        .expect_err("past 60 days");
    assert_eq!(grow.code(), tonic::Code::InvalidArgument);
    let reorder = suite
        .rings()
        .update_update_ring(call(
            UpdateUpdateRingRequest {
                update_ring: Some(UpdateRing {
                    name: general.name.clone(),
                    order: 12,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["order".into()],
                }),
            },
            &ctx,
        ))
        .await
        .expect_err("order");
    assert_eq!(violated_fields(&reorder), ["update_ring.order"]);
    let built_in = suite
        .rings()
        .delete_update_ring(call(
            DeleteUpdateRingRequest {
                name: general.name.clone(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect_err("built-in");
    assert_eq!(built_in.code(), tonic::Code::FailedPrecondition);
    // Deleting a custom ring moves its rooms to general.
    suite.group("contoso", "hq").await;
    let room = suite.room("contoso", "hq", "r1").await;
    suite
        .rooms()
        .assign_room_to_ring(call(
            AssignRoomToRingRequest {
                name: room.name.clone(),
                update_ring: pilot.name.clone(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("assign");
    let deleted = suite
        .rings()
        .delete_update_ring(call(
            DeleteUpdateRingRequest {
                name: pilot.name.clone(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("delete")
        .into_inner();
    assert_eq!(deleted.moved_room_count, 1);
    let room = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: room.name.clone(),
            },
            &ctx,
        ))
        .await
        .expect("room")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(room.update_ring, general.name);
    // A group holding rooms cannot be deleted; an empty one can, and its id is never reused.
    let full = suite
        .groups()
        .delete_room_group(call(
            DeleteRoomGroupRequest {
                name: "customers/contoso/roomGroups/hq".into(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect_err("not empty");
    assert_eq!(full.code(), tonic::Code::FailedPrecondition);
    suite.group("contoso", "empty").await;
    suite
        .groups()
        .delete_room_group(call(
            DeleteRoomGroupRequest {
                name: "customers/contoso/roomGroups/empty".into(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("delete empty");
    let reuse = suite
        .groups()
        .create_room_group(call(
            CreateRoomGroupRequest {
                parent: "customers/contoso".into(),
                room_group: Some(RoomGroup {
                    display_name: "Again".into(),
                    ..Default::default()
                }),
                room_group_id: "empty".into(),
                request_id: String::new(),
            },
            &ctx,
        ))
        .await
        .expect_err("never reused");
    assert_eq!(reuse.code(), tonic::Code::AlreadyExists);
    suite.finish(&["contoso"]).await;
}
