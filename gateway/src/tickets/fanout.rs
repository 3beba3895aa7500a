//! Building one page of the *all tickets* view: customers are asked for their tickets in the
//! order of their newest ticket, a bounded number at a time, under one deadline; a customer
//! whose newest ticket is older than the page's last ticket so far is never asked, and one
//! is asked for more only while its last ticket returned can still reach the page.

use std::collections::{BinaryHeap, HashMap};

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{CallContext, Principal};
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{ListTicketsRequest, Ticket, TicketPosition, TicketView};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tonic::Status;

use super::customers::{Customer, Failure};
use super::order::Position;

/// Customers asked for tickets at once.
pub const CONCURRENCY: usize = 16;

/// Tickets asked of a customer at first: across many customers each contributes only a few
/// tickets to a page, and one that may contribute more is asked again after its last one.
const FIRST_ASK: usize = 10;

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

/// One request to a customer: where to resume and how many tickets to ask for.
#[derive(Clone, Debug)]
struct Ask {
    candidate: Candidate,
    start_after: Option<TicketPosition>,
    size: usize,
}

impl Ask {
    fn key(&self) -> (i64, &str) {
        (self.candidate.bound_micros, &self.candidate.customer.name)
    }
}

impl PartialEq for Ask {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Ask {}

impl PartialOrd for Ask {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ask {
    /// The newest bound first, then the greatest customer name (the list order).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// A customer's answer to an [`Ask`].
struct Answer {
    ask: Ask,
    tickets: Result<Vec<Ticket>, Status>,
}

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

fn send(
    rooms: &ServiceChannel,
    query: &Query<'_>,
    ask: Ask,
) -> impl Future<Output = Answer> + Send + 'static {
    let customer = &ask.candidate.customer;
    let request = ListTicketsRequest {
        parent: customer.name.clone(),
        page_size: i32::try_from(ask.size).unwrap_or(i32::MAX),
        page_token: String::new(),
        filter: query.filter.to_owned(),
        view: TicketView::Basic.into(),
        start_after: ask.start_after.clone(),
        skip_total_size: true,
    };
    let context = CallContext {
        principal: Some(query.principal.clone()),
        scope: customer.scope.clone(),
        partner_relationship: customer.partner_relationship.clone(),
        request_id: query.request_id.to_owned(),
        ..Default::default()
    };
    let answer = list(rooms.clone(), request, context, query.deadline);
    async move {
        Answer {
            tickets: answer.await,
            ask,
        }
    }
}

/// The update time (microseconds) below which a customer cannot reach the page: the page's
/// last ticket once the page is full.
fn threshold(page: &Page, page_size: usize) -> Option<i64> {
    (page.tickets.len() >= page_size)
        .then(|| page.tickets.last().map(|(p, _)| p.update_micros))
        .flatten()
}

/// Builds the page from `candidates`: customers are asked in the order of their bound, at
/// most [`CONCURRENCY`] at a time, first for a few tickets and again, after their last one,
/// while they can still reach the page.
pub async fn page(rooms: &ServiceChannel, query: &Query<'_>, candidates: Vec<Candidate>) -> Page {
    let first_size = query.page_size.min(FIRST_ASK);
    let mut waiting: BinaryHeap<Ask> = candidates
        .into_iter()
        .map(|candidate| Ask {
            start_after: query
                .after
                .map(|after| after.start_after_for(&candidate.customer.name)),
            candidate,
            size: first_size,
        })
        .collect();
    let mut page = Page::default();
    let mut tasks: JoinSet<Answer> = JoinSet::new();
    let mut asked: HashMap<tokio::task::Id, String> = HashMap::new();
    loop {
        let threshold = threshold(&page, query.page_size);
        while tasks.len() < CONCURRENCY {
            let Some(next) = waiting.peek() else { break };
            if threshold.is_some_and(|t| next.candidate.bound_micros < t) {
                break;
            }
            let Some(ask) = waiting.pop() else { break };
            let name = ask.candidate.customer.name.clone();
            let handle = tasks.spawn(send(rooms, query, ask));
            asked.insert(handle.id(), name);
        }
        if tasks.is_empty() {
            break;
        }
        let joined = match tokio::time::timeout_at(query.deadline, tasks.join_next_with_id()).await
        {
            Ok(Some(joined)) => joined,
            Ok(None) => break,
            Err(_) => {
                late(&mut page, asked.into_values(), waiting, threshold);
                tasks.abort_all();
                return page;
            }
        };
        let answer = match joined {
            Ok((id, answer)) => {
                asked.remove(&id);
                answer
            }
            Err(error) => {
                let name = asked.remove(&error.id()).unwrap_or_default();
                page.failures.push(Failure {
                    customer: name,
                    status: Status::internal("the store query task failed"),
                });
                continue;
            }
        };
        match answer.tickets {
            Ok(tickets) => {
                if let Some(again) = merge(&mut page, answer.ask, tickets, query) {
                    waiting.push(again);
                }
            }
            Err(status) => page.failures.push(Failure {
                customer: answer.ask.candidate.customer.name,
                status,
            }),
        }
    }
    page.more |= !waiting.is_empty();
    page
}

/// Adds one customer's answer to the page, keeping the page in order and at most full.
/// Returns the ask for the customer's next tickets when it answered all it was asked for.
fn merge(page: &mut Page, ask: Ask, tickets: Vec<Ticket>, query: &Query<'_>) -> Option<Ask> {
    let full_answer = tickets.len() >= ask.size;
    let mut last = None;
    for ticket in tickets {
        let Some(position) = Position::of(&ticket) else {
            continue;
        };
        last = Some(position.clone());
        if query.after.is_none_or(|after| position > *after) {
            page.tickets.push((position, ticket));
        }
    }
    page.tickets.sort_by(|a, b| a.0.cmp(&b.0));
    if page.tickets.len() > query.page_size {
        page.more = true;
        page.tickets.truncate(query.page_size);
    }
    let last = last.filter(|_| full_answer)?;
    let customer = ask.candidate.customer;
    Some(Ask {
        start_after: Some(last.start_after_for(&customer.name)),
        candidate: Candidate {
            bound_micros: last.update_micros,
            customer,
        },
        size: query.page_size,
    })
}

/// Names the customers still being asked, and those that could still have contributed, as
/// not answering in time.
fn late(
    page: &mut Page,
    asked: impl Iterator<Item = String>,
    waiting: BinaryHeap<Ask>,
    threshold: Option<i64>,
) {
    let waiting = waiting
        .into_iter()
        .filter(|ask| threshold.is_none_or(|t| ask.candidate.bound_micros >= t))
        .map(|ask| ask.candidate.customer.name);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(customer: &str, id: &str, micros: i64) -> Ticket {
        Ticket {
            name: format!("{customer}/tickets/{id}"),
            update_time: Some(prost_types::Timestamp {
                seconds: micros / 1_000_000,
                nanos: i32::try_from(micros % 1_000_000).expect("micros") * 1000,
            }),
            ..Default::default()
        }
    }

    fn ask(customer: &str, size: usize) -> Ask {
        Ask {
            candidate: Candidate {
                customer: Customer {
                    name: customer.to_owned(),
                    scope: None,
                    partner_relationship: String::new(),
                },
                bound_micros: i64::MAX,
            },
            start_after: None,
            size,
        }
    }

    fn query(principal: &Principal, page_size: usize) -> Query<'_> {
        Query {
            principal,
            request_id: "r",
            filter: "",
            page_size,
            after: None,
            deadline: Instant::now(),
        }
    }

    #[test]
    fn r25_a_customer_that_answers_in_full_is_asked_again_after_its_last_ticket() {
        let principal = Principal::default();
        let query = query(&principal, 5);
        let mut page = Page::default();
        let again = merge(
            &mut page,
            ask("customers/alder", 2),
            vec![
                ticket("customers/alder", "b", 9_000_000),
                ticket("customers/alder", "a", 8_000_000),
            ],
            &query,
        )
        .expect("asked again");
        assert_eq!(again.size, 5, "for a whole page");
        assert_eq!(again.candidate.bound_micros, 8_000_000);
        let start = again.start_after.expect("resumes");
        assert_eq!(start.ticket, "customers/alder/tickets/a");
        assert_eq!(start.update_time.map(|t| t.seconds), Some(8));

        let done = merge(
            &mut page,
            ask("customers/birch", 2),
            vec![ticket("customers/birch", "c", 8_500_000)],
            &query,
        );
        assert!(done.is_none(), "it answered fewer than asked: nothing more");
        let order: Vec<&str> = page
            .tickets
            .iter()
            .map(|(p, _)| p.ticket.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "customers/alder/tickets/b",
                "customers/birch/tickets/c",
                "customers/alder/tickets/a"
            ]
        );
        assert!(!page.more);
    }

    #[test]
    fn r25_asks_go_newest_bound_first_then_by_customer_name() {
        let mut heap = BinaryHeap::new();
        for (name, bound) in [("customers/a", 5), ("customers/c", 7), ("customers/b", 7)] {
            let mut next = ask(name, 1);
            next.candidate.bound_micros = bound;
            heap.push(next);
        }
        let order: Vec<String> = std::iter::from_fn(|| heap.pop())
            .map(|a| a.candidate.customer.name)
            .collect();
        assert_eq!(order, ["customers/c", "customers/b", "customers/a"]);
    }
}
