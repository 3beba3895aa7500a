//! `mtm.rooms.v1.UpdateRingService`.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::update_ring_service_server::UpdateRingService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::{State, mask_paths};
use crate::audit::Act;
use crate::context::Caller;
use crate::cursor::Binding;
use crate::names::{parse_child, parse_customer};
use crate::store::{idempotency, rings};
use mtm_plumbing::{filter, paging};

/// The update ring handlers.
pub struct Rings(pub Arc<State>);

#[tonic::async_trait]
impl UpdateRingService for Rings {
    async fn create_update_ring(
        &self,
        request: Request<CreateUpdateRingRequest>,
    ) -> Result<Response<CreateUpdateRingResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let key = idempotency::Key::of(&message.request_id, "create_update_ring", &message)?;
        let store = self.0.store(&customer).await?;
        let input = message.update_ring.unwrap_or_default();
        let ring = rings::create(&store, &caller, &input, &message.update_ring_id, key).await?;
        Ok(Response::new(CreateUpdateRingResponse {
            update_ring: Some(ring),
        }))
    }

    async fn get_update_ring(
        &self,
        request: Request<GetUpdateRingRequest>,
    ) -> Result<Response<GetUpdateRingResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "updateRings")?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let ring = rings::get(store.db(), &customer, &caller.scope, &id).await?;
        Ok(Response::new(GetUpdateRingResponse {
            update_ring: Some(ring),
        }))
    }

    async fn list_update_rings(
        &self,
        request: Request<ListUpdateRingsRequest>,
    ) -> Result<Response<ListUpdateRingsResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let size = paging::standard_page_size(message.page_size)?;
        let filter = filter::parse(&message.filter, rings::FILTER_FIELDS)?;
        let binding = Binding {
            order: rings::ORDER,
            fields: &[&message.parent, &message.filter],
        };
        let after = self
            .0
            .cursors()
            .decode(binding, &message.page_token, rings::KEY_PARTS)?;
        let store = self.0.store(&customer).await?;
        let (page, days) =
            rings::list(store.db(), &customer, &caller.scope, &filter, after, size).await?;
        Ok(Response::new(ListUpdateRingsResponse {
            next_page_token: page.next_token(self.0.cursors(), binding),
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            update_rings: page.items,
            total_rollout_and_test_days: days,
        }))
    }

    async fn update_update_ring(
        &self,
        request: Request<UpdateUpdateRingRequest>,
    ) -> Result<Response<UpdateUpdateRingResponse>, Status> {
        let name = request
            .get_ref()
            .update_ring
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let (customer, id) = parse_child("update_ring.name", &name, "updateRings")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let paths = mask_paths(message.update_mask.as_ref());
        let input = message.update_ring.unwrap_or_default();
        let store = self.0.store(&customer).await?;
        let act = Act::new(&customer, AuditCategory::Ring, "update", name);
        let outcome = rings::update(&store, &caller, &act, &id, &input, &paths).await;
        let ring = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(UpdateUpdateRingResponse {
            update_ring: Some(ring),
        }))
    }

    async fn delete_update_ring(
        &self,
        request: Request<DeleteUpdateRingRequest>,
    ) -> Result<Response<DeleteUpdateRingResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "updateRings")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let store = self.0.store(&customer).await?;
        let act = Act::new(
            &customer,
            AuditCategory::Ring,
            "delete",
            message.name.clone(),
        );
        let outcome = rings::delete(&store, &caller, &act, &id, &message.etag).await;
        let moved = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(DeleteUpdateRingResponse {
            moved_room_count: i32::try_from(moved).unwrap_or(i32::MAX),
        }))
    }
}
