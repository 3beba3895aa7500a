//! Request ids: the client's `x-request-id` is kept, or one is minted, and echoed on success
//! and on refusal alike.

use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;
use mtm_proto::mtm::rooms::v1::GetRoomRequest;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use tonic::Code;

use crate::harness::direct::World;

fn with_id<T>(message: T, id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-request-id", id.parse().expect("header"));
    request
}

#[tokio::test]
async fn request_ids_are_kept_or_minted_and_echoed_on_answers_and_refusals() {
    let world = World::start().await;
    let channel = world.stack.public();
    let mut status = StatusServiceClient::new(channel.clone());

    let answered = status
        .get_status(with_id(GetStatusRequest {}, "client-chosen-42"))
        .await
        .expect("status");
    assert_eq!(
        answered.metadata().get("x-request-id").expect("echoed"),
        "client-chosen-42"
    );

    let minted = status
        .get_status(GetStatusRequest {})
        .await
        .expect("status");
    let id = minted
        .metadata()
        .get("x-request-id")
        .expect("minted")
        .to_str()
        .expect("ascii");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id} is a UUID");

    let unusable = status
        .get_status(with_id(GetStatusRequest {}, &"x".repeat(200)))
        .await
        .expect("status");
    let replaced = unusable.metadata().get("x-request-id").expect("replaced");
    assert!(uuid::Uuid::parse_str(replaced.to_str().expect("ascii")).is_ok());

    let refused = RoomServiceClient::new(channel)
        .get_room(with_id(
            GetRoomRequest {
                name: "customers/nobody/rooms/r1".into(),
            },
            "refused-7",
        ))
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.metadata().get("x-request-id").expect("echoed"),
        "refused-7"
    );
    world.stop().await;
}
