//! The list order of the *all tickets* view: `update_time` descending, then ticket name
//! descending, across customers. A position in it (the last ticket returned) tells every
//! customer where to resume, so a page token needs nothing else.

use std::cmp::Ordering;

use mtm_proto::mtm::rooms::v1::{Ticket, TicketPosition};

/// A ticket's place in the merged order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The ticket's update time in microseconds since the epoch.
    pub update_micros: i64,
    /// The ticket: `customers/{customer}/tickets/{ticket}`.
    pub ticket: String,
    /// Length of the `customers/{customer}` prefix of `ticket`.
    customer_len: usize,
}

/// An id below every ticket id rooms-svc issues (UUIDs), for resuming "before all tickets of
/// this time".
const LOWEST_TICKET_ID: &str = "-";

/// Microseconds since the epoch of a protobuf time (unset is the epoch).
pub fn micros(time: Option<&prost_types::Timestamp>) -> i64 {
    time.map_or(0, |t| {
        t.seconds
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(t.nanos / 1000))
    })
}

fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or_default(),
    }
}

/// The customer id of a name under `customers/{customer}/`.
fn customer_prefix_len(name: &str) -> Option<usize> {
    let rest = name.strip_prefix("customers/")?;
    let (customer, ticket) = rest.split_once('/')?;
    let id = ticket.strip_prefix("tickets/")?;
    (!customer.is_empty() && !id.is_empty() && !id.contains('/'))
        .then_some("customers/".len() + customer.len())
}

impl Position {
    /// A position from its parts, when `ticket` is a ticket name.
    pub fn parse(update_micros: i64, ticket: &str) -> Option<Self> {
        Some(Self {
            update_micros,
            customer_len: customer_prefix_len(ticket)?,
            ticket: ticket.to_owned(),
        })
    }

    /// The position of `ticket`, when it carries a well-formed name.
    pub fn of(ticket: &Ticket) -> Option<Self> {
        Self::parse(micros(ticket.update_time.as_ref()), &ticket.name)
    }

    /// `customers/{customer}` of the ticket.
    pub fn customer(&self) -> &str {
        &self.ticket[..self.customer_len]
    }

    /// Where `customer` (`customers/{customer}`) resumes so that it lists exactly its tickets
    /// after this position in the merged order. Tickets with the same update time are
    /// ordered by name, and two customers' names differ before the ticket id, so a customer
    /// sorting below this one lists its tickets of that time and one sorting above does not.
    pub fn start_after_for(&self, customer: &str) -> TicketPosition {
        let (micros, id) = match format!("{customer}/").cmp(&format!("{}/", self.customer())) {
            Ordering::Equal => {
                return TicketPosition {
                    update_time: Some(timestamp(self.update_micros)),
                    ticket: self.ticket.clone(),
                };
            }
            Ordering::Less => (self.update_micros.saturating_add(1), LOWEST_TICKET_ID),
            Ordering::Greater => (self.update_micros, LOWEST_TICKET_ID),
        };
        TicketPosition {
            update_time: Some(timestamp(micros)),
            ticket: format!("{customer}/tickets/{id}"),
        }
    }
}

impl Ord for Position {
    /// List order: the newest first, then the greatest name first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .update_micros
            .cmp(&self.update_micros)
            .then_with(|| other.ticket.cmp(&self.ticket))
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: i64, name: &str) -> Position {
        Position::parse(micros, name).expect("ticket name")
    }

    /// Whether a ticket at `candidate` is listed by its customer after `start`, as rooms-svc
    /// does: strictly older, or as old with a smaller id.
    fn listed_after(start: &TicketPosition, candidate: &Position) -> bool {
        let start_micros = micros(start.update_time.as_ref());
        let start_id = start.ticket.rsplit('/').next().unwrap_or_default();
        let id = candidate.ticket.rsplit('/').next().unwrap_or_default();
        candidate.update_micros < start_micros
            || (candidate.update_micros == start_micros && id < start_id)
    }

    #[test]
    fn newest_first_then_name_descending() {
        let mut list = [
            at(5, "customers/aaa/tickets/01"),
            at(7, "customers/bbb/tickets/01"),
            at(5, "customers/bbb/tickets/00"),
            at(5, "customers/aaa/tickets/02"),
        ];
        list.sort();
        let names: Vec<_> = list.iter().map(|p| p.ticket.as_str()).collect();
        assert_eq!(
            names,
            [
                "customers/bbb/tickets/01",
                "customers/bbb/tickets/00",
                "customers/aaa/tickets/02",
                "customers/aaa/tickets/01",
            ]
        );
    }

    #[test]
    fn every_customer_resumes_exactly_after_the_last_position() {
        let tickets = [
            at(9, "customers/abc/tickets/0190aaaa-0000"),
            at(9, "customers/ab/tickets/0190ffff-0000"),
            at(9, "customers/abd/tickets/0190aaaa-0000"),
            at(9, "customers/abc/tickets/0190bbbb-0000"),
            at(8, "customers/ab/tickets/0190aaaa-0000"),
            at(10, "customers/abd/tickets/0190aaaa-0001"),
        ];
        for last in &tickets {
            for ticket in &tickets {
                let start = last.start_after_for(ticket.customer());
                assert_eq!(
                    listed_after(&start, ticket),
                    ticket > last,
                    "{ticket:?} after {last:?}"
                );
            }
        }
    }

    #[test]
    fn times_convert_both_ways() {
        for value in [0, 1, 999_999, 1_790_000_000_123_456, -1] {
            assert_eq!(micros(Some(&timestamp(value))), value);
        }
    }
}
