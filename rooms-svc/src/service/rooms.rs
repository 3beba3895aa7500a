//! `mtm.rooms.v1.RoomService`.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::room_service_server::RoomService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::{State, mask_paths};
use crate::audit::Act;
use crate::context::Caller;
use crate::cursor::Binding;
use crate::error::Error;
use crate::names::{CustomerId, parse_child, parse_child_of, parse_customer};
use crate::store::Store;
use crate::store::{idempotency, rooms};
use mtm_plumbing::{filter, paging};

/// The room handlers.
pub struct Rooms(pub Arc<State>);

impl Rooms {
    async fn open<T>(
        &self,
        request: &Request<T>,
        name: &str,
        operation: &'static str,
    ) -> Result<(Store, Caller, String, Act), Error> {
        let (customer, id) = parse_child("name", name, "rooms")?;
        let caller = Caller::from_request(request, &customer)?;
        let store = self.0.store(&customer).await?;
        let act = Act::new(&customer, AuditCategory::Room, operation, name.to_owned());
        Ok((store, caller, id, act))
    }
}

fn reply(room: Room) -> Option<Room> {
    Some(room)
}

fn target(
    customer: &CustomerId,
    field: &str,
    name: &str,
    collection: &str,
) -> Result<String, Error> {
    parse_child_of(customer, field, name, collection)
}

#[tonic::async_trait]
impl RoomService for Rooms {
    async fn create_room(
        &self,
        request: Request<CreateRoomRequest>,
    ) -> Result<Response<CreateRoomResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let key = idempotency::Key::of(&message.request_id, "create_room", &message)?;
        let store = self.0.store(&customer).await?;
        let input = message.room.unwrap_or_default();
        let room = rooms::create(&store, &caller, &input, &message.room_id, key).await?;
        Ok(Response::new(CreateRoomResponse { room: reply(room) }))
    }

    async fn get_room(
        &self,
        request: Request<GetRoomRequest>,
    ) -> Result<Response<GetRoomResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "rooms")?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let clock = rooms::Clock::of(store.db()).await?;
        let model = rooms::find(store.db(), &customer, &caller.scope, &id).await?;
        Ok(Response::new(GetRoomResponse {
            room: reply(rooms::to_proto(&customer, &model, &clock)),
        }))
    }

    async fn list_rooms(
        &self,
        request: Request<ListRoomsRequest>,
    ) -> Result<Response<ListRoomsResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let size = paging::standard_page_size(message.page_size)?;
        let filter = filter::parse(&message.filter, rooms::FILTER_FIELDS)?;
        let binding = Binding {
            order: rooms::ORDER,
            fields: &[&message.parent, &message.filter],
        };
        let after = self
            .0
            .cursors()
            .decode(binding, &message.page_token, rooms::KEY_PARTS)?;
        let store = self.0.store(&customer).await?;
        let clock = rooms::Clock::of(store.db()).await?;
        let page = rooms::list(
            store.db(),
            &customer,
            &caller.scope,
            &filter,
            after,
            size,
            &clock,
        )
        .await?;
        Ok(Response::new(ListRoomsResponse {
            next_page_token: page.next_token(self.0.cursors(), binding),
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            rooms: page.items,
        }))
    }

    async fn update_room(
        &self,
        request: Request<UpdateRoomRequest>,
    ) -> Result<Response<UpdateRoomResponse>, Status> {
        let name = request
            .get_ref()
            .room
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let (store, caller, id, act) =
            self.open(&request, &name, "update")
                .await
                .map_err(|e| match e {
                    Error::Invalid(_) => {
                        Error::invalid("room.name", "must be customers/{customer}/rooms/{room}")
                    }
                    other => other,
                })?;
        let message = request.into_inner();
        let paths = mask_paths(message.update_mask.as_ref());
        let input = message.room.unwrap_or_default();
        let outcome = rooms::update(&store, &caller, &act, &id, &input, &paths).await;
        let room = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(UpdateRoomResponse { room: reply(room) }))
    }

    async fn enroll_room(
        &self,
        request: Request<EnrollRoomRequest>,
    ) -> Result<Response<EnrollRoomResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (store, caller, id, act) = self.open(&request, &name, "enroll").await?;
        let message = request.into_inner();
        let outcome = rooms::enroll(&store, &caller, &act, &id, &message).await;
        let room = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(EnrollRoomResponse { room: reply(room) }))
    }

    async fn unenroll_room(
        &self,
        request: Request<UnenrollRoomRequest>,
    ) -> Result<Response<UnenrollRoomResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (store, caller, id, act) = self.open(&request, &name, "unenroll").await?;
        let etag = request.into_inner().etag;
        let outcome = rooms::unenroll(&store, &caller, &act, &id, &etag).await;
        let room = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(UnenrollRoomResponse { room: reply(room) }))
    }

    async fn set_room_suppressed(
        &self,
        request: Request<SetRoomSuppressedRequest>,
    ) -> Result<Response<SetRoomSuppressedResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (store, caller, id, act) = self.open(&request, &name, "set_suppressed").await?;
        let message = request.into_inner();
        let outcome = rooms::set_suppressed(
            &store,
            &caller,
            &act,
            &id,
            message.suppressed,
            &message.etag,
        )
        .await;
        let room = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(SetRoomSuppressedResponse {
            room: reply(room),
        }))
    }

    async fn move_room(
        &self,
        request: Request<MoveRoomRequest>,
    ) -> Result<Response<MoveRoomResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (store, caller, id, act) = self.open(&request, &name, "move").await?;
        let message = request.into_inner();
        let outcome = async {
            let group = target(
                store.customer(),
                "room_group",
                &message.room_group,
                "roomGroups",
            )?;
            rooms::move_to_group(&store, &caller, &act, &id, &group, &message.etag).await
        }
        .await;
        let room = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(MoveRoomResponse { room: reply(room) }))
    }

    async fn assign_room_to_ring(
        &self,
        request: Request<AssignRoomToRingRequest>,
    ) -> Result<Response<AssignRoomToRingResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (store, caller, id, act) = self.open(&request, &name, "assign_ring").await?;
        let message = request.into_inner();
        let outcome = async {
            let ring = target(
                store.customer(),
                "update_ring",
                &message.update_ring,
                "updateRings",
            )?;
            rooms::assign_ring(&store, &caller, &act, &id, &ring, &message.etag).await
        }
        .await;
        let room = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(AssignRoomToRingResponse {
            room: reply(room),
        }))
    }
}
