//! The public `mtm.rbac.v1.DecisionService`: clients ask what they may do. Every request is
//! answered by rbac-svc about the verified caller, whatever principal the request names, so
//! nobody learns what someone else may do. Decisions pass through unchanged, `target_visible`
//! included, so clients see the same NOT_FOUND / PERMISSION_DENIED split as the gateway (R37).
//!
//! Only rbac-svc's message is passed on, none of its response metadata. The operator holds no
//! role at any customer: its answers are denials, made here.

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
use tonic::{Request, Response, Status};

use crate::Backends;
use crate::admission::{self, Admission, Verdict};

/// The most items one `BatchCheck` takes (as rbac-svc).
const MAX_BATCH_ITEMS: usize = 10_000;

/// Serves `DecisionService` to clients, about themselves only.
pub struct PublicDecisions {
    admission: Admission,
    rbac: DecisionServiceClient<ServiceChannel>,
}

impl PublicDecisions {
    /// The service, admitting with `admission` and deciding with rbac-svc in `backends`.
    pub fn new(admission: Admission, backends: &Backends) -> Self {
        Self {
            admission,
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
        }
    }

    /// The verified caller, or `None` for the operator, who is decided here.
    async fn caller(&self, extensions: &tonic::Extensions) -> Result<Option<Principal>, Status> {
        let principal = admission::caller(extensions).await?.principal;
        Ok((!principal.operator).then_some(principal))
    }

    /// Lets an answer about `customer` (a name) through to `principal`: when the answer shows
    /// the caller reaches the customer (`reaches`), a partner user whose token does not meet
    /// the customer's MFA requirement is refused instead (R3). An answer that shows nothing
    /// passes, as for any customer out of reach.
    async fn admit_answer(
        &self,
        principal: &Principal,
        customer: &str,
        reaches: bool,
    ) -> Result<(), Status> {
        if let Some(id) = crate::forward::routes::customer_of(customer) {
            let verdict = if reaches {
                Verdict::Granted
            } else {
                Verdict::Invisible
            };
            self.admission.mfa_at(principal, id, verdict).await?;
        }
        Ok(())
    }
}

/// Whether a decision shows the caller reaches its customer: allowed, the target visible, or
/// the caller's relationship with the customer named.
fn reaches(decision: &Decision) -> bool {
    decision.allowed || decision.target_visible || !decision.partner_relationship.is_empty()
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
        let Some(caller) = self.caller(request.extensions()).await? else {
            return Ok(Response::new(CheckResponse {
                decision: Some(no_grant()),
                revision: 0,
            }));
        };
        let mut message = request.into_inner();
        let customer = message.customer.clone();
        message.principal = Some(caller.clone());
        let answer = self.rbac.clone().check(message).await?.into_inner();
        let reaches = answer.decision.as_ref().is_some_and(reaches);
        self.admit_answer(&caller, &customer, reaches).await?;
        Ok(Response::new(answer))
    }

    async fn batch_check(
        &self,
        request: Request<BatchCheckRequest>,
    ) -> Result<Response<BatchCheckResponse>, Status> {
        let caller = self.caller(request.extensions()).await?;
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
        let customers: Vec<String> = message.items.iter().map(|i| i.customer.clone()).collect();
        message.principal = Some(caller.clone());
        let mut answer = self.rbac.clone().batch_check(message).await?.into_inner();
        // Items at a customer whose MFA requirement the token does not meet are answered
        // as if the caller held nothing there (R3).
        let mut reached: Vec<String> = customers
            .iter()
            .zip(&answer.decisions)
            .filter(|(_, d)| reaches(d))
            .filter_map(|(c, _)| crate::forward::routes::customer_of(c))
            .map(str::to_owned)
            .collect();
        reached.sort_unstable();
        reached.dedup();
        let refused = self.admission.mfa_refusals(&caller, &reached).await;
        for (customer, decision) in customers.iter().zip(answer.decisions.iter_mut()) {
            if crate::forward::routes::customer_of(customer)
                .is_some_and(|id| refused.contains_key(id))
            {
                *decision = no_grant();
            }
        }
        Ok(Response::new(answer))
    }

    async fn resolve_scope(
        &self,
        request: Request<ResolveScopeRequest>,
    ) -> Result<Response<ResolveScopeResponse>, Status> {
        let Some(caller) = self.caller(request.extensions()).await? else {
            return Ok(Response::new(ResolveScopeResponse {
                allowed: false,
                scope: Some(RoomScope::default()),
                ..Default::default()
            }));
        };
        let mut message = request.into_inner();
        let customer = message.customer.clone();
        message.principal = Some(caller.clone());
        let answer = self.rbac.clone().resolve_scope(message).await?.into_inner();
        let reaches = answer.allowed || !answer.partner_relationship.is_empty();
        self.admit_answer(&caller, &customer, reaches).await?;
        Ok(Response::new(answer))
    }

    async fn list_accessible_customers(
        &self,
        request: Request<ListAccessibleCustomersRequest>,
    ) -> Result<Response<ListAccessibleCustomersResponse>, Status> {
        let Some(caller) = self.caller(request.extensions()).await? else {
            return Ok(Response::new(ListAccessibleCustomersResponse::default()));
        };
        let mut message = request.into_inner();
        message.principal = Some(caller.clone());
        let mut answer = self
            .rbac
            .clone()
            .list_accessible_customers(message)
            .await?
            .into_inner();
        // Customers whose MFA requirement the token does not meet are left out (R3).
        let ids: Vec<String> = answer
            .customers
            .iter()
            .filter_map(|c| crate::forward::routes::customer_of(&c.customer))
            .map(str::to_owned)
            .collect();
        let refused = self.admission.mfa_refusals(&caller, &ids).await;
        answer.customers.retain(|c| {
            crate::forward::routes::customer_of(&c.customer)
                .is_none_or(|id| !refused.contains_key(id))
        });
        Ok(Response::new(answer))
    }
}
