//! `mtm.rooms.v1.RoomGroupService`.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::room_group_service_server::RoomGroupService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::{State, mask_paths};
use crate::audit::Act;
use crate::context::Caller;
use crate::cursor::Binding;
use crate::names::{parse_child, parse_customer};
use crate::store::{groups, idempotency};
use mtm_plumbing::{filter, paging};

/// The room group handlers.
pub struct Groups(pub Arc<State>);

#[tonic::async_trait]
impl RoomGroupService for Groups {
    async fn create_room_group(
        &self,
        request: Request<CreateRoomGroupRequest>,
    ) -> Result<Response<CreateRoomGroupResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let key = idempotency::Key::of(&message.request_id, "create_room_group", &message)?;
        let store = self.0.store(&customer).await?;
        let input = message.room_group.unwrap_or_default();
        let group = groups::create(&store, &caller, &input, &message.room_group_id, key).await?;
        Ok(Response::new(CreateRoomGroupResponse {
            room_group: Some(group),
        }))
    }

    async fn get_room_group(
        &self,
        request: Request<GetRoomGroupRequest>,
    ) -> Result<Response<GetRoomGroupResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "roomGroups")?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let group = groups::get(store.db(), &customer, &caller.scope, &id).await?;
        Ok(Response::new(GetRoomGroupResponse {
            room_group: Some(group),
        }))
    }

    async fn list_room_groups(
        &self,
        request: Request<ListRoomGroupsRequest>,
    ) -> Result<Response<ListRoomGroupsResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let size = paging::standard_page_size(message.page_size)?;
        let filter = filter::parse(&message.filter, groups::FILTER_FIELDS)?;
        let binding = Binding {
            order: groups::ORDER,
            fields: &[&message.parent, &message.filter],
        };
        let after = self
            .0
            .cursors()
            .decode(binding, &message.page_token, groups::KEY_PARTS)?;
        let store = self.0.store(&customer).await?;
        let page = groups::list(store.db(), &customer, &caller.scope, &filter, after, size).await?;
        Ok(Response::new(ListRoomGroupsResponse {
            next_page_token: page.next_token(self.0.cursors(), binding),
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            room_groups: page.items,
        }))
    }

    async fn update_room_group(
        &self,
        request: Request<UpdateRoomGroupRequest>,
    ) -> Result<Response<UpdateRoomGroupResponse>, Status> {
        let name = request
            .get_ref()
            .room_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default();
        let (customer, id) = parse_child("room_group.name", &name, "roomGroups")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let paths = mask_paths(message.update_mask.as_ref());
        let input = message.room_group.unwrap_or_default();
        let store = self.0.store(&customer).await?;
        let act = Act::new(&customer, AuditCategory::Group, "update", name);
        let outcome = groups::update(&store, &caller, &act, &id, &input, &paths).await;
        let group = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(UpdateRoomGroupResponse {
            room_group: Some(group),
        }))
    }

    async fn delete_room_group(
        &self,
        request: Request<DeleteRoomGroupRequest>,
    ) -> Result<Response<DeleteRoomGroupResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "roomGroups")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let store = self.0.store(&customer).await?;
        let act = Act::new(
            &customer,
            AuditCategory::Group,
            "delete",
            message.name.clone(),
        );
        let outcome = groups::delete(&store, &caller, &act, &id, &message.etag).await;
        act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(DeleteRoomGroupResponse {}))
    }
}
