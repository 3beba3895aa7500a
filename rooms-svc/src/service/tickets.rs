//! `mtm.rooms.v1.TicketService`.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::ticket_service_server::TicketService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::{State, mask_paths};
use crate::audit::Act;
use crate::context::Caller;
use crate::cursor::Binding;
use crate::names::{parse_child, parse_customer};
use crate::store::{idempotency, tickets};
use mtm_plumbing::{filter, paging};

/// The ticket handlers.
pub struct Tickets(pub Arc<State>);

fn view(value: i32, default: TicketView) -> TicketView {
    match TicketView::try_from(value) {
        Ok(TicketView::Unspecified) | Err(_) => default,
        Ok(view) => view,
    }
}

#[tonic::async_trait]
impl TicketService for Tickets {
    async fn create_incident(
        &self,
        request: Request<CreateIncidentRequest>,
    ) -> Result<Response<CreateIncidentResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let key = idempotency::Key::of(&message.request_id, "create_incident", &message)?;
        let store = self.0.store(&customer).await?;
        let ticket = tickets::create_incident(&store, &caller, &message, key).await?;
        Ok(Response::new(CreateIncidentResponse {
            ticket: Some(ticket),
        }))
    }

    async fn get_ticket(
        &self,
        request: Request<GetTicketRequest>,
    ) -> Result<Response<GetTicketResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "tickets")?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let (model, rooms) = tickets::find(store.db(), &customer, &caller.scope, &id).await?;
        let view = view(request.get_ref().view, TicketView::Full);
        let ticket = tickets::to_proto(store.db(), &customer, &model, rooms, view).await?;
        Ok(Response::new(GetTicketResponse {
            ticket: Some(ticket),
        }))
    }

    async fn list_tickets(
        &self,
        request: Request<ListTicketsRequest>,
    ) -> Result<Response<ListTicketsResponse>, Status> {
        let customer = parse_customer("parent", &request.get_ref().parent)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let size = paging::standard_page_size(message.page_size)?;
        let filter = filter::parse(&message.filter, tickets::FILTER_FIELDS)?;
        let binding = Binding {
            order: tickets::ORDER,
            fields: &[&message.parent, &message.filter],
        };
        let after = match (
            self.0
                .cursors()
                .decode(binding, &message.page_token, tickets::KEY_PARTS)?,
            &message.start_after,
        ) {
            (Some(key), _) => Some(tickets::position_from_key(&key)?),
            (None, Some(position)) => Some(tickets::position_of(&customer, position)?),
            (None, None) => None,
        };
        let store = self.0.store(&customer).await?;
        let page = tickets::list(
            store.db(),
            &customer,
            &caller.scope,
            &tickets::ListQuery {
                filter: &filter,
                after,
                limit: size,
                view: view(message.view, TicketView::Basic),
                count: !message.skip_total_size,
            },
        )
        .await?;
        Ok(Response::new(ListTicketsResponse {
            next_page_token: page.next_token(self.0.cursors(), binding),
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            tickets: page.items,
        }))
    }

    async fn update_ticket(
        &self,
        request: Request<UpdateTicketRequest>,
    ) -> Result<Response<UpdateTicketResponse>, Status> {
        let name = request
            .get_ref()
            .ticket
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let (customer, id) = parse_child("ticket.name", &name, "tickets")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let paths = mask_paths(message.update_mask.as_ref());
        let input = message.ticket.unwrap_or_default();
        let store = self.0.store(&customer).await?;
        let act = Act::new(&customer, AuditCategory::Ticket, "update", name);
        let outcome = tickets::update(&store, &caller, &act, &id, &input, &paths).await;
        let ticket = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(UpdateTicketResponse {
            ticket: Some(ticket),
        }))
    }

    async fn add_ticket_message(
        &self,
        request: Request<AddTicketMessageRequest>,
    ) -> Result<Response<AddTicketMessageResponse>, Status> {
        let (customer, id) = parse_child("ticket", &request.get_ref().ticket, "tickets")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let key = idempotency::Key::of(&message.request_id, "add_ticket_message", &message)?;
        let store = self.0.store(&customer).await?;
        let act = Act::new(
            &customer,
            AuditCategory::Ticket,
            "add_ticket_message",
            message.ticket.clone(),
        );
        let outcome = tickets::add_message(&store, &caller, &act, &id, &message.text, key).await;
        let added = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(AddTicketMessageResponse {
            message: Some(added),
        }))
    }

    async fn close_recorded_issue(
        &self,
        request: Request<CloseRecordedIssueRequest>,
    ) -> Result<Response<CloseRecordedIssueResponse>, Status> {
        let (customer, id) = parse_child("name", &request.get_ref().name, "tickets")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let store = self.0.store(&customer).await?;
        let act = Act::new(
            &customer,
            AuditCategory::Ticket,
            "close_recorded_issue",
            message.name.clone(),
        );
        let outcome = tickets::close_recorded_issue(
            &store,
            &caller,
            &act,
            &id,
            &message.reason,
            &message.etag,
        )
        .await;
        let ticket = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(CloseRecordedIssueResponse {
            ticket: Some(ticket),
        }))
    }
}
