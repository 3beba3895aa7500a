//! `mtm.gateway.v1.AggregatedTicketService`: the handler that ties the view together.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mtm_plumbing::client::ServiceChannel;
use mtm_plumbing::paging;
use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_server::AggregatedTicketService;
use mtm_proto::mtm::gateway::v1::{
    AggregatedTicket, FailedCustomer, ListAllTicketsRequest, ListAllTicketsResponse,
};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tokio::time::Instant;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::cursor::Cursor;
use super::customers::{self, Activity, Customer, Failure};
use super::fanout::{self, Candidate, Query};
use super::filter;
use crate::Backends;
use crate::admission::{self, Admission};

/// The longest the view waits for the stores when the client sets no shorter deadline.
const VIEW_DEADLINE: Duration = Duration::from_secs(5);
/// Time kept back from the client's deadline to assemble the answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(50);
/// Default and largest page size.
const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 200;

/// The *all tickets* view over the backends.
pub struct AggregatedTickets {
    admission: Admission,
    rbac: DecisionServiceClient<ServiceChannel>,
    backends: Backends,
}

impl AggregatedTickets {
    /// The view, admitting with `admission`.
    pub fn new(admission: Admission, backends: Backends) -> Self {
        Self {
            admission,
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
            backends,
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// When the stores' answers stop being waited for: the caller's deadline less the margin for
/// answering, or [`VIEW_DEADLINE`] if that comes first.
fn deadline() -> Instant {
    let asked = mtm_plumbing::deadline::remaining()
        .map_or(VIEW_DEADLINE, |t| t.saturating_sub(ANSWER_MARGIN));
    Instant::now() + asked.min(VIEW_DEADLINE)
}

fn view_disabled() -> Status {
    Status::with_error_details(
        Code::FailedPrecondition,
        "the all tickets view is turned off in your preferences",
        ErrorDetails::with_error_info("ALL_TICKETS_VIEW_DISABLED", "mtm", []),
    )
}

fn failed(failure: Failure, names: &std::collections::HashMap<String, String>) -> FailedCustomer {
    FailedCustomer {
        display_name: names.get(&failure.customer).cloned().unwrap_or_default(),
        customer: failure.customer,
        code: failure.status.code() as i32,
        message: failure.status.message().to_owned(),
    }
}

impl AggregatedTickets {
    /// Applies partner MFA to the customers of the view (R3): each customer in `allowed`
    /// whose requirement the caller's token does not meet is taken out and returned as a
    /// failed customer with that status; when the filter names that one customer, the call
    /// is refused with it instead.
    async fn mfa_refusals(
        &self,
        principal: &mtm_proto::mtm::common::v1::Principal,
        named: Option<&str>,
        allowed: &mut Vec<Customer>,
    ) -> Result<Vec<Failure>, Status> {
        let ids: Vec<String> = allowed
            .iter()
            .filter_map(|c| crate::forward::routes::customer_of(&c.name))
            .map(str::to_owned)
            .collect();
        let mut refused = self.admission.mfa_refusals(principal, &ids).await;
        if refused.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(id) = named.and_then(crate::forward::routes::customer_of)
            && let Some(status) = refused.remove(id)
        {
            return Err(status);
        }
        let mut failures = Vec::new();
        allowed.retain(|customer| {
            let Some(status) = crate::forward::routes::customer_of(&customer.name)
                .and_then(|id| refused.remove(id))
            else {
                return true;
            };
            failures.push(Failure {
                customer: customer.name.clone(),
                status,
            });
            false
        });
        Ok(failures)
    }
}

#[tonic::async_trait]
impl AggregatedTicketService for AggregatedTickets {
    async fn list_all_tickets(
        &self,
        request: Request<ListAllTicketsRequest>,
    ) -> Result<Response<ListAllTicketsResponse>, Status> {
        let deadline = deadline();
        let request_id = request
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let caller = admission::caller(request.extensions()).await?;
        if !caller.all_tickets_view_enabled {
            return Err(view_disabled());
        }
        let message = request.into_inner();
        let page_size = usize::try_from(paging::page_size(
            message.page_size,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )?)
        .unwrap_or(usize::MAX);
        let view_filter = filter::parse(&message.filter)?;
        let now = now_secs();
        let cursor = Cursor::decode(
            &message.page_token,
            &message.filter,
            &caller.principal.user,
            now,
        )?;
        let principal = caller.principal;

        let mut rbac = self.rbac.clone();
        let mut allowed =
            customers::with_ticket_scope(&mut rbac, &principal, view_filter.customer.as_deref())
                .await?;
        if view_filter.contradictory {
            allowed.clear();
        }
        let mfa_failures = self
            .mfa_refusals(&principal, view_filter.customer.as_deref(), &mut allowed)
            .await?;
        let names = allowed.iter().map(|c| c.name.clone()).collect();
        let (activity, store_failures) =
            customers::ticket_activity(self.backends.rooms.clone(), names, deadline).await;
        let allowed_names: HashSet<&str> = allowed.iter().map(|c| c.name.as_str()).collect();
        let mut failures: Vec<Failure> = store_failures
            .into_iter()
            .filter(|f| allowed_names.contains(f.customer.as_str()))
            .collect();
        let customer_count = i32::try_from(allowed.len() + mfa_failures.len()).unwrap_or(i32::MAX);
        failures.extend(mfa_failures);
        let after = cursor.as_ref().map(|c| &c.last);
        let unreachable: HashSet<&str> = failures.iter().map(|f| f.customer.as_str()).collect();
        let candidates: Vec<Candidate> = allowed
            .iter()
            .filter(|customer| !unreachable.contains(customer.name.as_str()))
            .filter_map(|customer: &Customer| {
                let newest = match activity.get(&customer.name) {
                    Some(Activity::Empty) => return None,
                    Some(Activity::Bound(bound)) => *bound,
                    None => i64::MAX,
                };
                let bound = after.map_or(newest, |a| newest.min(a.update_micros));
                Some(Candidate {
                    customer: customer.clone(),
                    bound_micros: bound,
                })
            })
            .collect();

        let query = Query {
            principal: &principal,
            request_id: &request_id,
            filter: &view_filter.rooms,
            page_size,
            after,
            deadline,
        };
        let page = fanout::page(&self.backends.rooms, &query, candidates).await;
        failures.extend(page.failures);
        crate::metrics::fanout(allowed.len(), failures.iter().map(|f| f.status.code()));
        for failure in &failures {
            tracing::warn!(
                customer = %failure.customer,
                code = ?failure.status.code(),
                message = failure.status.message(),
                "customer left out of the all tickets view"
            );
        }

        let mut wanted: Vec<String> = page
            .tickets
            .iter()
            .map(|(position, _)| position.customer().to_owned())
            .chain(failures.iter().map(|f| f.customer.clone()))
            .collect();
        wanted.sort();
        wanted.dedup();
        let display_names = customers::display_names(self.backends.tenancy.clone(), wanted).await?;
        let next_page_token = match (page.more, page.tickets.last()) {
            (true, Some((last, _))) => Cursor {
                last: last.clone(),
                issued_at: now,
            }
            .encode(&message.filter, &principal.user),
            _ => String::new(),
        };
        let tickets = page
            .tickets
            .into_iter()
            .map(|(position, ticket)| {
                let customer = position.customer().to_owned();
                AggregatedTicket {
                    customer_display_name: display_names
                        .get(&customer)
                        .cloned()
                        .unwrap_or_default(),
                    customer,
                    ticket: Some(ticket),
                }
            })
            .collect();
        Ok(Response::new(ListAllTicketsResponse {
            tickets,
            next_page_token,
            failed_customers: failures
                .into_iter()
                .map(|f| failed(f, &display_names))
                .collect(),
            customer_count,
        }))
    }
}
