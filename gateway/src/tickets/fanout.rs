//! Building one page of the *all tickets* view: customers are asked for their tickets in the
//! order of their newest ticket, a bounded number at a time, under one deadline; a customer
//! whose newest ticket is older than the page's last ticket so far is never asked.

use std::collections::HashMap;

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{CallContext, Principal};
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{ListTicketsRequest, Ticket, TicketView};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tonic::Status;

use super::customers::{Customer, Failure};
use super::order::Position;

/// Customers asked for tickets at once.
pub const CONCURRENCY: usize = 16;

/// A customer that may contribute, with the newest time any of its tickets on this page can
/// have.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The customer.
    pub customer: Customer,
    /// The newest possible update time, in microseconds.
    pub bound_micros: i64,
}

/// What every customer is asked with.
pub struct Query<'a> {
    /// The caller.
    pub principal: &'a Principal,
    /// The request id forwarded to rooms-svc.
    pub request_id: &'a str,
    /// The filter rooms-svc applies.
    pub filter: &'a str,
    /// Tickets wanted.
    pub page_size: usize,
    /// The last ticket of the previous page.
    pub after: Option<&'a Position>,
    /// When the whole page must be ready.
    pub deadline: Instant,
}

/// One page, before display names are added.
#[derive(Debug, Default)]
pub struct Page {
    /// The tickets in list order, each with its customer.
    pub tickets: Vec<(Position, Ticket)>,
    /// Whether tickets may follow.
    pub more: bool,
    /// Customers that failed or did not answer in time.
    pub failures: Vec<Failure>,
}

type Answer = (String, Result<Vec<Ticket>, Status>);

async fn list(
    rooms: ServiceChannel,
    query: ListTicketsRequest,
    context: CallContext,
    deadline: Instant,
) -> Result<Vec<Ticket>, Status> {
    let mut request = tonic::Request::new(query);
    request.set_timeout(deadline.saturating_duration_since(Instant::now()));
    mtm_plumbing::context::attach(&mut request, &context);
    let mut client = TicketServiceClient::new(rooms);
    let answer = client.list_tickets(request);
    match tokio::time::timeout_at(deadline, answer).await {
        Ok(answer) => Ok(answer?.into_inner().tickets),
        Err(_) => Err(Status::deadline_exceeded(
            "the store did not answer in time",
        )),
    }
}

fn ask(
    rooms: &ServiceChannel,
    query: &Query<'_>,
    customer: &Customer,
) -> impl Future<Output = Answer> + Send + 'static {
    let request = ListTicketsRequest {
        parent: customer.name.clone(),
        page_size: i32::try_from(query.page_size).unwrap_or(i32::MAX),
        page_token: String::new(),
        filter: query.filter.to_owned(),
        view: TicketView::Basic.into(),
        start_after: query
            .after
            .map(|after| after.start_after_for(&customer.name)),
    };
    let context = CallContext {
        principal: Some(query.principal.clone()),
        scope: customer.scope.clone(),
        partner_relationship: customer.partner_relationship.clone(),
        request_id: query.request_id.to_owned(),
        ..Default::default()
    };
    let name = customer.name.clone();
    let answer = list(rooms.clone(), request, context, query.deadline);
    async move { (name, answer.await) }
}

/// Builds the page from `candidates` (newest bound first).
pub async fn page(rooms: &ServiceChannel, query: &Query<'_>, candidates: Vec<Candidate>) -> Page {
    let mut page = Page::default();
    let mut pending = candidates.into_iter().peekable();
    let mut tasks: JoinSet<Answer> = JoinSet::new();
    let mut asked: HashMap<tokio::task::Id, String> = HashMap::new();
    loop {
        let threshold = (page.tickets.len() >= query.page_size)
            .then(|| page.tickets.last().map(|(p, _)| p.update_micros))
            .flatten();
        while tasks.len() < CONCURRENCY {
            let Some(next) = pending.peek() else { break };
            if threshold.is_some_and(|t| next.bound_micros < t) {
                break;
            }
            let handle = tasks.spawn(ask(rooms, query, &next.customer));
            asked.insert(handle.id(), next.customer.name.clone());
            pending.next();
        }
        if tasks.is_empty() {
            break;
        }
        let joined = match tokio::time::timeout_at(query.deadline, tasks.join_next_with_id()).await
        {
            Ok(Some(joined)) => joined,
            Ok(None) => break,
            Err(_) => {
                late(&mut page, asked.into_values(), pending, threshold);
                tasks.abort_all();
                return page;
            }
        };
        let (name, answer) = match joined {
            Ok((id, answer)) => {
                asked.remove(&id);
                answer
            }
            Err(error) => {
                let name = asked.remove(&error.id()).unwrap_or_default();
                (name, Err(Status::internal("the store query task failed")))
            }
        };
        match answer {
            Ok(tickets) => merge(&mut page, tickets, query),
            Err(status) => page.failures.push(Failure {
                customer: name,
                status,
            }),
        }
    }
    page.more |= pending.next().is_some();
    page
}

/// Adds one customer's answer to the page, keeping the page in order and at most full.
fn merge(page: &mut Page, tickets: Vec<Ticket>, query: &Query<'_>) {
    page.more |= tickets.len() >= query.page_size;
    page.tickets.extend(
        tickets
            .into_iter()
            .filter_map(|ticket| Some((Position::of(&ticket)?, ticket)))
            .filter(|(position, _)| query.after.is_none_or(|after| position > after)),
    );
    page.tickets.sort_by(|a, b| a.0.cmp(&b.0));
    if page.tickets.len() > query.page_size {
        page.more = true;
        page.tickets.truncate(query.page_size);
    }
}

/// Names the customers still being asked, and those that could still have contributed, as
/// not answering in time.
fn late(
    page: &mut Page,
    asked: impl Iterator<Item = String>,
    pending: impl Iterator<Item = Candidate>,
    threshold: Option<i64>,
) {
    let waiting = pending
        .filter(|c| threshold.is_none_or(|t| c.bound_micros >= t))
        .map(|c| c.customer.name);
    for customer in asked.chain(waiting) {
        page.failures.push(Failure {
            customer,
            status: Status::deadline_exceeded(
                "the store did not answer before the view's deadline",
            ),
        });
    }
    page.more = true;
}
