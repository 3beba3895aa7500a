//! The public `mtm.rbac.v1.DecisionService`: clients ask what they may do. Every request is
//! answered by rbac-svc about the verified caller, whatever principal the request names, so
//! nobody learns what someone else may do. Decisions pass through unchanged, `target_visible`
//! included, so clients see the same NOT_FOUND / PERMISSION_DENIED split as the gateway (R37).
//!
//! Only rbac-svc's message is passed on, none of its response metadata. The operator holds no
//! role at any customer: its answers are denials, made here.

use std::sync::Arc;

use mtm_plumbing::client::ServiceChannel;
use mtm_plumbing::status::invalid_field;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::decision_service_server::DecisionService;
use mtm_proto::mtm::rbac::v1::{
    BatchCheckRequest, BatchCheckResponse, CheckRequest, CheckResponse, Decision, DenyReason,
    ListAccessibleCustomersRequest, ListAccessibleCustomersResponse, ResolveScopeRequest,
    ResolveScopeResponse,
};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use crate::Backends;
use crate::forward::service::Authenticate;

/// The most items one `BatchCheck` takes (as rbac-svc).
const MAX_BATCH_ITEMS: usize = 10_000;

/// Serves `DecisionService` to clients, about themselves only.
pub struct PublicDecisions {
    auth: Arc<dyn Authenticate>,
    rbac: DecisionServiceClient<ServiceChannel>,
}

impl PublicDecisions {
    /// The service, authenticating with `auth` and deciding with rbac-svc in `backends`.
    pub fn new(auth: Arc<dyn Authenticate>, backends: &Backends) -> Self {
        Self {
            auth,
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
        }
    }

    /// The verified caller, or `None` for the operator, who is decided here.
    async fn caller(&self, metadata: &MetadataMap) -> Result<Option<Principal>, Status> {
        let principal = self.auth.principal(metadata).await?;
        Ok((!principal.operator).then_some(principal))
    }
}

/// A decision for a caller without any role at the customer.
fn no_grant() -> Decision {
    Decision {
        deny_reason: DenyReason::NoGrant.into(),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl DecisionService for PublicDecisions {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let Some(caller) = self.caller(request.metadata()).await? else {
            return Ok(Response::new(CheckResponse {
                decision: Some(no_grant()),
                revision: 0,
            }));
        };
        let mut message = request.into_inner();
        message.principal = Some(caller);
        let answer = self.rbac.clone().check(message).await?;
        Ok(Response::new(answer.into_inner()))
    }

    async fn batch_check(
        &self,
        request: Request<BatchCheckRequest>,
    ) -> Result<Response<BatchCheckResponse>, Status> {
        let caller = self.caller(request.metadata()).await?;
        if request.get_ref().items.len() > MAX_BATCH_ITEMS {
            return Err(invalid_field("items", "at most 10,000 items"));
        }
        let Some(caller) = caller else {
            let decisions = request.get_ref().items.iter().map(|_| no_grant()).collect();
            return Ok(Response::new(BatchCheckResponse {
                decisions,
                revision: 0,
            }));
        };
        let mut message = request.into_inner();
        message.principal = Some(caller);
        let answer = self.rbac.clone().batch_check(message).await?;
        Ok(Response::new(answer.into_inner()))
    }

    async fn resolve_scope(
        &self,
        request: Request<ResolveScopeRequest>,
    ) -> Result<Response<ResolveScopeResponse>, Status> {
        let Some(caller) = self.caller(request.metadata()).await? else {
            return Ok(Response::new(ResolveScopeResponse {
                allowed: false,
                scope: Some(RoomScope::default()),
                ..Default::default()
            }));
        };
        let mut message = request.into_inner();
        message.principal = Some(caller);
        let answer = self.rbac.clone().resolve_scope(message).await?;
        Ok(Response::new(answer.into_inner()))
    }

    async fn list_accessible_customers(
        &self,
        request: Request<ListAccessibleCustomersRequest>,
    ) -> Result<Response<ListAccessibleCustomersResponse>, Status> {
        let Some(caller) = self.caller(request.metadata()).await? else {
            return Ok(Response::new(ListAccessibleCustomersResponse::default()));
        };
        let mut message = request.into_inner();
        message.principal = Some(caller);
        let answer = self.rbac.clone().list_accessible_customers(message).await?;
        Ok(Response::new(answer.into_inner()))
    }
}
