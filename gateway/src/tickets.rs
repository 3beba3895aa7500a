//! The *all tickets* view (R25, `mtm.gateway.v1.AggregatedTicketService`): the tickets of
//! every customer where the caller may view tickets, fanned out to the customers' stores and
//! merged newest first, without keeping any copy of them (R27).

mod cursor;
mod customers;
mod fanout;
mod filter;
mod order;
mod service;

use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_server::AggregatedTicketServiceServer;
pub use service::AggregatedTickets;

use crate::Backends;
use crate::admission::Admission;

/// The mountable service, admitting with `admission`, with the server's message size limit.
pub fn server(
    admission: Admission,
    backends: Backends,
    max_message_bytes: usize,
) -> AggregatedTicketServiceServer<AggregatedTickets> {
    AggregatedTicketServiceServer::new(AggregatedTickets::new(admission, backends))
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes)
}
