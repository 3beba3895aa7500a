//! Cursor paging of rooms, room groups and update rings: a page token carries the last sort
//! key, so pages neither skip nor repeat items inserted or deleted between pages, and a token
//! only works with the list, filter and parent it was issued for, unaltered.

use mtm_proto::mtm::rooms::v1::*;

use crate::harness::{Backend, Suite, admin, call, violated_fields};
use crate::on_both_backends;

const PARENT: &str = "customers/contoso";

async fn room_page(suite: &Suite, filter: &str, size: i32, token: &str) -> ListRoomsResponse {
    suite
        .rooms()
        .list_rooms(call(
            ListRoomsRequest {
                parent: PARENT.into(),
                page_size: size,
                page_token: token.into(),
                filter: filter.into(),
            },
            &admin("contoso"),
        ))
        .await
        .expect("list rooms")
        .into_inner()
}

fn ids<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    names
        .map(|n| n.rsplit('/').next().unwrap_or_default().to_owned())
        .collect()
}

on_both_backends!(
    room_pages_neither_skip_nor_repeat_rooms_created_between_pages,
    room_pages_neither_skip_nor_repeat_rooms_created_between_pages_postgres,
    room_pages_are_stable
);

async fn room_pages_are_stable(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "berlin").await;
    for id in ["r1", "r2", "r3", "r4", "r5"] {
        suite.room("contoso", "berlin", id).await;
    }
    let first = room_page(&suite, "", 2, "").await;
    assert_eq!(ids(first.rooms.iter().map(|r| &r.name)), ["r1", "r2"]);
    assert_eq!(first.total_size, 5);
    // One room sorts before the cursor, one right after it.
    suite.room("contoso", "berlin", "r0").await;
    suite.room("contoso", "berlin", "r25").await;
    let second = room_page(&suite, "", 2, &first.next_page_token).await;
    assert_eq!(
        ids(second.rooms.iter().map(|r| &r.name)),
        ["r25", "r3"],
        "continues right after r2"
    );
    assert_eq!(second.total_size, 7);
    let third = room_page(&suite, "", 2, &second.next_page_token).await;
    assert_eq!(ids(third.rooms.iter().map(|r| &r.name)), ["r4", "r5"]);
    assert!(
        third.next_page_token.is_empty(),
        "the last page ends the list"
    );
    suite.finish(&["contoso"]).await;
}

on_both_backends!(
    group_pages_neither_skip_nor_repeat_when_groups_are_deleted_between_pages,
    group_pages_neither_skip_nor_repeat_when_groups_are_deleted_between_pages_postgres,
    group_pages_are_stable
);

async fn group_pages_are_stable(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    for id in ["g1", "g2", "g3", "g4", "g5"] {
        suite.group("contoso", id).await;
    }
    let ctx = admin("contoso");
    let page = |token: String| {
        let mut client = suite.groups();
        let ctx = ctx.clone();
        async move {
            client
                .list_room_groups(call(
                    ListRoomGroupsRequest {
                        parent: PARENT.into(),
                        page_size: 2,
                        page_token: token,
                        filter: String::new(),
                    },
                    &ctx,
                ))
                .await
                .expect("list groups")
                .into_inner()
        }
    };
    let first = page(String::new()).await;
    assert_eq!(ids(first.room_groups.iter().map(|g| &g.name)), ["g1", "g2"]);
    for gone in ["g1", "g2"] {
        suite
            .groups()
            .delete_room_group(call(
                DeleteRoomGroupRequest {
                    name: format!("{PARENT}/roomGroups/{gone}"),
                    etag: String::new(),
                },
                &ctx,
            ))
            .await
            .expect("delete group");
    }
    let second = page(first.next_page_token).await;
    assert_eq!(
        ids(second.room_groups.iter().map(|g| &g.name)),
        ["g3", "g4"],
        "deleting the groups already seen skips nothing"
    );
    assert_eq!(second.total_size, 3);
    let third = page(second.next_page_token).await;
    assert_eq!(ids(third.room_groups.iter().map(|g| &g.name)), ["g5"]);
    assert!(third.next_page_token.is_empty());
    suite.finish(&["contoso"]).await;
}

on_both_backends!(
    ring_pages_follow_order_name_and_id_across_changes,
    ring_pages_follow_order_name_and_id_across_changes_postgres,
    ring_pages_are_stable
);

async fn ring_pages_are_stable(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    let ctx = admin("contoso");
    let create = |id: &str, order: i32| {
        let mut client = suite.rings();
        let request = call(
            CreateUpdateRingRequest {
                parent: PARENT.into(),
                update_ring: Some(UpdateRing {
                    display_name: format!("Ring {id}"),
                    order,
                    ..Default::default()
                }),
                update_ring_id: id.to_owned(),
                request_id: String::new(),
            },
            &ctx,
        );
        async move { client.create_update_ring(request).await.expect("ring") }
    };
    create("late", 5).await;
    let page = |token: String| {
        let mut client = suite.rings();
        let ctx = ctx.clone();
        async move {
            client
                .list_update_rings(call(
                    ListUpdateRingsRequest {
                        parent: PARENT.into(),
                        page_size: 2,
                        page_token: token,
                        filter: String::new(),
                    },
                    &ctx,
                ))
                .await
                .expect("list rings")
                .into_inner()
        }
    };
    let first = page(String::new()).await;
    assert_eq!(
        ids(first.update_rings.iter().map(|r| &r.name)),
        ["staging", "general"]
    );
    // Order 1 like staging but a name sorting before it: before the cursor.
    create("early", 1).await;
    let second = page(first.next_page_token).await;
    assert_eq!(
        ids(second.update_rings.iter().map(|r| &r.name)),
        ["executive", "late"]
    );
    assert!(second.next_page_token.is_empty());
    assert_eq!(second.total_size, 5);
    suite.finish(&["contoso"]).await;
}

#[tokio::test]
async fn page_tokens_work_only_with_their_list_filter_and_parent_unaltered() {
    let suite = Suite::start(Backend::Sqlite).await;
    suite.provision("contoso").await;
    suite.provision("northwind").await;
    suite.group("contoso", "berlin").await;
    suite.group("contoso", "paris").await;
    suite.group("contoso", "rome").await;
    for id in ["r1", "r2", "r3"] {
        suite.room("contoso", "berlin", id).await;
    }
    let filter = format!(r#"room_group = "{PARENT}/roomGroups/berlin""#);
    let first = room_page(&suite, &filter, 1, "").await;
    let token = first.next_page_token.clone();
    assert!(!token.is_empty());
    assert_eq!(
        ids(room_page(&suite, &filter, 1, &token)
            .await
            .rooms
            .iter()
            .map(|r| &r.name)),
        ["r2"]
    );
    let refused = |status: tonic::Status, why: &str| {
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{why}");
        assert_eq!(violated_fields(&status), ["page_token"], "{why}");
    };
    let rooms_with = |parent: &str, filter: &str, token: &str| {
        let mut client = suite.rooms();
        let customer = parent.trim_start_matches("customers/").to_owned();
        let request = call(
            ListRoomsRequest {
                parent: parent.into(),
                page_size: 1,
                page_token: token.into(),
                filter: filter.into(),
            },
            &admin(&customer),
        );
        async move { client.list_rooms(request).await }
    };
    let other_filter = rooms_with(PARENT, "", &token).await.expect_err("filter");
    refused(other_filter, "another filter");
    let other_parent = rooms_with("customers/northwind", &filter, &token)
        .await
        .expect_err("parent");
    refused(other_parent, "another customer");
    let groups = suite
        .groups()
        .list_room_groups(call(
            ListRoomGroupsRequest {
                parent: PARENT.into(),
                page_size: 1,
                page_token: token.clone(),
                filter: String::new(),
            },
            &admin("contoso"),
        ))
        .await
        .expect_err("another list");
    refused(groups, "a rooms token on the groups list");
    let mut flipped = token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).expect("text");
    refused(
        rooms_with(PARENT, &filter, &flipped)
            .await
            .expect_err("flipped"),
        "a changed byte",
    );
    let text = String::from_utf8_lossy(&hex::decode(&token).expect("hex")).into_owned();
    assert!(text.contains("r1"), "the token carries the last sort key");
    let forged = token.replace(&hex::encode("r1"), &hex::encode("r2"));
    assert_ne!(forged, token);
    refused(
        rooms_with(PARENT, &filter, &forged)
            .await
            .expect_err("forged"),
        "a re-encoded position",
    );
    refused(
        rooms_with(PARENT, &filter, "not-hex")
            .await
            .expect_err("junk"),
        "junk",
    );
    suite.finish(&[]).await;
}
