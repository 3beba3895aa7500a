//! `mtm.rooms.v1.StoreInternalService`: store lifecycle (R27) and the lookups the gateway,
//! tenancy-svc and rbac-svc need. The client certificate is the authorization.

use std::sync::Arc;

use mtm_proto::mtm::rooms::v1::store_internal_service_server::StoreInternalService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::State;
use crate::error::Error;
use crate::names::{CustomerId, parse_child, parse_customer};
use crate::store::{lookup, provision, tickets};
use crate::time::timestamp;

/// Stores asked about concurrently by `BatchGetStoreInfo`, at most; never more than half the
/// pool cap, so a batch does not close pools that are still in use.
const BATCH_CONCURRENCY: usize = 16;

/// Most customers in one batch request.
const MAX_BATCH: usize = 10_000;

/// The store lifecycle and lookup handlers.
pub struct Internal(pub Arc<State>);

async fn store_info(state: &State, customer: &CustomerId) -> Result<StoreInfo, Error> {
    let store = state.store(customer).await?;
    provision::info(&store).await
}

/// The customers of a batch request: at most [`MAX_BATCH`], each a customer name.
fn parse_customers(names: &[String]) -> Result<Vec<CustomerId>, Error> {
    if names.len() > MAX_BATCH {
        return Err(Error::invalid("customers", format!("at most {MAX_BATCH}")));
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| parse_customer(&format!("customers[{i}]"), name))
        .collect()
}

#[tonic::async_trait]
impl StoreInternalService for Internal {
    async fn provision_store(
        &self,
        request: Request<ProvisionStoreRequest>,
    ) -> Result<Response<ProvisionStoreResponse>, Status> {
        let message = request.into_inner();
        let customer = parse_customer("customer", &message.customer)?;
        let store = self.0.locator().provision(&customer).await?;
        provision::seed(&store, self.0.sealer(), &message.display_name).await?;
        tracing::info!(customer = %customer, "customer store provisioned");
        Ok(Response::new(ProvisionStoreResponse {
            store: Some(provision::info(&store).await?),
        }))
    }

    async fn deprovision_store(
        &self,
        request: Request<DeprovisionStoreRequest>,
    ) -> Result<Response<DeprovisionStoreResponse>, Status> {
        let message = request.into_inner();
        let customer = parse_customer("customer", &message.customer)?;
        if !message.confirm {
            return Err(Error::invalid(
                "confirm",
                "must be true: this deletes every room, ticket and audit record of the customer",
            )
            .into());
        }
        self.0.locator().deprovision(&customer).await?;
        tracing::warn!(customer = %customer, "customer store deleted");
        Ok(Response::new(DeprovisionStoreResponse {}))
    }

    async fn get_store_info(
        &self,
        request: Request<GetStoreInfoRequest>,
    ) -> Result<Response<GetStoreInfoResponse>, Status> {
        let customer = parse_customer("customer", &request.get_ref().customer)?;
        Ok(Response::new(GetStoreInfoResponse {
            store: Some(store_info(&self.0, &customer).await?),
        }))
    }

    async fn batch_get_store_info(
        &self,
        request: Request<BatchGetStoreInfoRequest>,
    ) -> Result<Response<BatchGetStoreInfoResponse>, Status> {
        let customers = parse_customers(&request.into_inner().customers)?;
        let concurrency = BATCH_CONCURRENCY
            .min(self.0.locator().max_open() / 2)
            .max(1);
        let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, customer) in customers.into_iter().enumerate() {
            let state = self.0.clone();
            let limit = limit.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (index, customer.name(), store_info(&state, &customer).await)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                Err(error) => return Err(Status::internal(format!("store lookup task: {error}"))),
            }
        }
        results.sort_by_key(|(index, _, _)| *index);
        let mut response = BatchGetStoreInfoResponse::default();
        for (_, customer, result) in results {
            match result {
                Ok(info) => response.stores.push(info),
                Err(error) => {
                    let status = Status::from(error);
                    response.failures.push(StoreFailure {
                        customer,
                        code: status.code() as i32,
                        message: status.message().to_owned(),
                    });
                }
            }
        }
        Ok(Response::new(response))
    }

    async fn batch_get_ticket_activity(
        &self,
        request: Request<BatchGetTicketActivityRequest>,
    ) -> Result<Response<BatchGetTicketActivityResponse>, Status> {
        let names = request.into_inner().customers;
        let customers = parse_customers(&names)?;
        let bounds = self.0.locator().ticket_activity(&customers).await?;
        let activities = customers
            .iter()
            .filter_map(|customer| {
                let bound = *bounds.get(customer)?;
                Some(TicketActivity {
                    customer: customer.name(),
                    newest_ticket_update_time_bound: (bound > 0).then(|| timestamp(bound)),
                })
            })
            .collect();
        Ok(Response::new(BatchGetTicketActivityResponse { activities }))
    }

    async fn lookup_placements(
        &self,
        request: Request<LookupPlacementsRequest>,
    ) -> Result<Response<LookupPlacementsResponse>, Status> {
        let message = request.into_inner();
        let customer = parse_customer("customer", &message.customer)?;
        if message.names.len() > 1000 {
            return Err(Error::invalid("names", "at most 1000").into());
        }
        let store = self.0.store(&customer).await?;
        let placements = lookup::placements(store.db(), &customer, &message.names).await?;
        Ok(Response::new(LookupPlacementsResponse { placements }))
    }

    async fn describe_room_scope(
        &self,
        request: Request<DescribeRoomScopeRequest>,
    ) -> Result<Response<DescribeRoomScopeResponse>, Status> {
        let message = request.into_inner();
        let customer = parse_customer("customer", &message.customer)?;
        let scope = message.scope.unwrap_or_default();
        let store = self.0.store(&customer).await?;
        let response = lookup::describe_scope(store.db(), &customer, scope).await?;
        Ok(Response::new(response))
    }

    async fn record_telemetry(
        &self,
        request: Request<RecordTelemetryRequest>,
    ) -> Result<Response<RecordTelemetryResponse>, Status> {
        let message = request.into_inner();
        let (customer, id) = parse_child("room", &message.room, "rooms")?;
        let store = self.0.store(&customer).await?;
        let affected_tickets = tickets::record_telemetry(&store, &id, &message).await?;
        Ok(Response::new(RecordTelemetryResponse { affected_tickets }))
    }
}
