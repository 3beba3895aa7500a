//! Reads the story checks its expectations with, and the check that a call was refused.

use std::collections::BTreeSet;

use mtm_e2e::api::Session;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{GetRoomRequest, ListRoomsRequest, ListTicketsRequest, Room};
use tonic::Code;

/// The names of the rooms `session` sees at `customer` (one page of up to 100).
pub async fn rooms_seen(
    session: &Session,
    customer: &str,
) -> Result<BTreeSet<String>, tonic::Status> {
    let rooms = RoomServiceClient::new(session.channel())
        .list_rooms(session.call(ListRoomsRequest {
            parent: customer.to_owned(),
            page_size: 100,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .rooms;
    Ok(rooms.into_iter().map(|r| r.name).collect())
}

/// The names of the tickets `session` sees at `customer` (one page of up to 100).
pub async fn tickets_seen(
    session: &Session,
    customer: &str,
) -> Result<BTreeSet<String>, tonic::Status> {
    let tickets = TicketServiceClient::new(session.channel())
        .list_tickets(session.call(ListTicketsRequest {
            parent: customer.to_owned(),
            page_size: 100,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .tickets;
    Ok(tickets.into_iter().map(|t| t.name).collect())
}

/// A room as `session` reads it.
pub async fn room(session: &Session, name: &str) -> Result<Room, tonic::Status> {
    Ok(RoomServiceClient::new(session.channel())
        .get_room(session.call(GetRoomRequest {
            name: name.to_owned(),
        }))
        .await?
        .into_inner()
        .room
        .unwrap_or_default())
}

/// A set of names from string literals.
pub fn names<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

/// Asserts the call was refused as out of reach: NOT_FOUND, exactly as if the target did not
/// exist (R21, R37).
pub fn assert_out_of_reach<T: std::fmt::Debug>(result: Result<T, tonic::Status>, what: &str) {
    match result {
        Ok(answer) => panic!("{what}: expected NOT_FOUND, got an answer: {answer:?}"),
        Err(status) => assert_eq!(status.code(), Code::NotFound, "{what}: {status:?}"),
    }
}

/// Asserts the call was refused, as out of reach or as not permitted.
pub fn assert_refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>, what: &str) {
    match result {
        Ok(answer) => panic!("{what}: expected a refusal, got an answer: {answer:?}"),
        Err(status) => assert!(
            matches!(status.code(), Code::NotFound | Code::PermissionDenied),
            "{what}: expected NOT_FOUND or PERMISSION_DENIED, got {status:?}"
        ),
    }
}
