//! The public `mtm.rbac.v1.DecisionService`: clients ask what they may do. Every request is
//! answered by rbac-svc about the verified caller, whatever principal the request names, so
//! nobody learns what someone else may do. Decisions pass through unchanged, `target_visible`
//! included, so clients see the same NOT_FOUND / PERMISSION_DENIED split as the gateway (R37).
//!
//! Only rbac-svc's message is passed on, none of its response metadata. The operator holds no
//! role at any customer: its answers are denials, made here. A `Check` or `ResolveScope` about
//! a customer out of the caller's reach (R37), or refused for its MFA requirement (R3), is
//! denial-audited at that customer (R28).

use mtm_plumbing::client::ServiceChannel;
use mtm_plumbing::status::invalid_field;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::decision_service_server::DecisionService;
use mtm_proto::mtm::rbac::v1::decision_target::Target;
use mtm_proto::mtm::rbac::v1::{
    BatchCheckRequest, BatchCheckResponse, CheckRequest, CheckResponse, Decision, DenyReason,
    ListAccessibleCustomersRequest, ListAccessibleCustomersResponse, ResolveScopeRequest,
    ResolveScopeResponse,
};
use tonic::{Code, Request, Response, Status};

use crate::Backends;
use crate::admission::{self, Admission, Verdict};
use crate::denials::{Denial, DenialAudit};
use crate::forward::routes::{Backend, customer_of};

const CHECK: &str = "/mtm.rbac.v1.DecisionService/Check";
const RESOLVE_SCOPE: &str = "/mtm.rbac.v1.DecisionService/ResolveScope";

/// The most items one `BatchCheck` takes (as rbac-svc).
const MAX_BATCH_ITEMS: usize = 10_000;

/// Serves `DecisionService` to clients, about themselves only.
pub struct PublicDecisions {
    admission: Admission,
    rbac: DecisionServiceClient<ServiceChannel>,
    denials: DenialAudit,
}

/// One question about a customer, as asked.
struct Question<'a> {
    /// The method's path.
    path: &'a str,
    /// The verified caller.
    caller: &'a Principal,
    /// The customer's name.
    customer: &'a str,
    /// What the question names: its target, or the customer.
    target: &'a str,
    /// The permission asked about.
    permission: &'a str,
    /// The call's request id.
    request_id: &'a str,
}

impl PublicDecisions {
    /// The service, admitting with `admission` and deciding with rbac-svc in `backends`.
    pub fn new(admission: Admission, backends: &Backends) -> Self {
        Self {
            admission,
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
            denials: DenialAudit::new(backends.clone()),
        }
    }

    /// The verified caller, or `None` for the operator, who is decided here.
    async fn caller(&self, extensions: &tonic::Extensions) -> Result<Option<Principal>, Status> {
        let principal = admission::caller(extensions).await?.principal;
        Ok((!principal.operator).then_some(principal))
    }

    /// Lets an answer to `question` through: when the answer shows the caller reaches the
    /// customer (`reaches`), a partner user whose token does not meet the customer's MFA
    /// requirement is refused instead (R3). An answer that shows nothing passes, as for any
    /// customer out of reach. Either refusal, and an answer about a customer out of the
    /// caller's reach, is recorded in that customer's audit log.
    async fn admit_answer(&self, question: &Question<'_>, reaches: bool) -> Result<(), Status> {
        let Some(id) = customer_of(question.customer) else {
            return Ok(());
        };
        let verdict = if reaches {
            Verdict::Granted
        } else {
            Verdict::Invisible
        };
        let refusal = self
            .admission
            .mfa_at(question.caller, id, verdict)
            .await
            .err();
        let own = !admission::partner_at(question.caller, id);
        if (reaches && refusal.is_none()) || own {
            return refusal.map_or(Ok(()), Err);
        }
        let answered = Status::new(
            Code::Ok,
            format!(
                "{} is not allowed on {}",
                question.permission, question.target
            ),
        );
        self.denials
            .record(&Denial {
                path: question.path,
                owner: Backend::Rooms,
                principal: question.caller,
                tenant: id,
                target: question.target,
                relationship: "",
                request_id: question.request_id,
                approval_request: "",
                status: refusal.as_ref().unwrap_or(&answered),
            })
            .await;
        refusal.map_or(Ok(()), Err)
    }
}

/// The resource a `Check` names: its target, or its customer when it names none.
fn named_target(request: &CheckRequest) -> &str {
    match request.target.as_ref().and_then(|t| t.target.as_ref()) {
        Some(Target::Room(room)) => &room.room,
        Some(Target::RoomGroup(group)) => group,
        Some(Target::Ticket(ticket)) => &ticket.ticket,
        None => &request.customer,
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
        let request_id = crate::request_id::of(request.metadata());
        let mut message = request.into_inner();
        message.principal = Some(caller.clone());
        let (customer, target, permission) = (
            message.customer.clone(),
            named_target(&message).to_owned(),
            message.permission.clone(),
        );
        let answer = self.rbac.clone().check(message).await?.into_inner();
        let reaches = answer.decision.as_ref().is_some_and(reaches);
        let question = Question {
            path: CHECK,
            caller: &caller,
            customer: &customer,
            target: &target,
            permission: &permission,
            request_id: &request_id,
        };
        self.admit_answer(&question, reaches).await?;
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
            .filter_map(|(c, _)| customer_of(c))
            .map(str::to_owned)
            .collect();
        reached.sort_unstable();
        reached.dedup();
        let refused = self.admission.mfa_refusals(&caller, &reached).await;
        for (customer, decision) in customers.iter().zip(answer.decisions.iter_mut()) {
            if customer_of(customer).is_some_and(|id| refused.contains_key(id)) {
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
        let request_id = crate::request_id::of(request.metadata());
        let mut message = request.into_inner();
        message.principal = Some(caller.clone());
        let (customer, permission) = (message.customer.clone(), message.permission.clone());
        let answer = self.rbac.clone().resolve_scope(message).await?.into_inner();
        let reaches = answer.allowed || !answer.partner_relationship.is_empty();
        let question = Question {
            path: RESOLVE_SCOPE,
            caller: &caller,
            customer: &customer,
            target: &customer,
            permission: &permission,
            request_id: &request_id,
        };
        self.admit_answer(&question, reaches).await?;
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
            .filter_map(|c| customer_of(&c.customer))
            .map(str::to_owned)
            .collect();
        let refused = self.admission.mfa_refusals(&caller, &ids).await;
        answer
            .customers
            .retain(|c| customer_of(&c.customer).is_none_or(|id| !refused.contains_key(id)));
        Ok(Response::new(answer))
    }
}
