//! The admission surface (ARCHITECTURE, "Requests" 4): every public method of the descriptor
//! set goes through admission, and for a customer that requires partner MFA (R3) a
//! password-only partner token is refused on every method that can touch that customer, or
//! sees nothing of it in views over many customers. A method without a classification fails.

use mtm_proto::mtm::gateway::v1::ListAllTicketsResponse;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::rbac::v1::{
    BatchCheckItem, BatchCheckRequest, BatchCheckResponse, DecisionKind,
    ListAccessibleCustomersResponse,
};
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateIncidentRequest, TicketSeverity};
use prost::Message;
use prost_reflect::{DynamicMessage, MethodDescriptor, Value};
use tonic::Code;

use crate::harness::Backend;
use crate::harness::calls::{all_tickets_view_on, bearer, error_info, req};
use crate::harness::direct::World;
use crate::harness::raw::{call, public_methods, set_string, with_string};
use crate::mfa::require_mfa;

/// Names at the customer the requests point at.
struct Names {
    customer: String,
    room: String,
    ticket: String,
    relationship: String,
}

impl Names {
    /// A name under the customer fitting `field` of the method at `path`.
    fn for_field(&self, path: &str, field: &str) -> String {
        let c = &self.customer;
        let last = field.rsplit('.').next().unwrap_or(field);
        if last == "parent" || last == "customer" {
            return c.clone();
        }
        if last == "relationship" || path.contains("RelationshipService") {
            return self.relationship.clone();
        }
        if field.starts_with("role_assignment") || path.contains("RoleAssignment") {
            return format!("{c}/roleAssignments/any");
        }
        let service = path.split('/').nth(1).unwrap_or_default();
        match service.rsplit('.').next().unwrap_or_default() {
            "RoomService" => self.room.clone(),
            "TicketService" => self.ticket.clone(),
            "EnrolmentKeyService" => format!("{c}/enrolmentKey"),
            "RoomGroupService" => format!("{c}/roomGroups/default"),
            "UpdateRingService" => format!("{c}/updateRings/general"),
            "SettingsService" => format!("{c}/settings"),
            "RoleService" => format!("{c}/roles/any"),
            "InvitationService" => format!("{c}/invitations/any"),
            "ApprovalService" => format!("{c}/approvalRequests/any"),
            _ => c.clone(),
        }
    }
}

/// The request a surface test sends to `method`: its customer field pointed at the customer,
/// and a permission where the method asks for one.
fn request_at(path: &str, method: &MethodDescriptor, field: &str, names: &Names) -> DynamicMessage {
    let mut message = with_string(method, field, &names.for_field(path, field));
    if method.input().get_field_by_name("permission").is_some() {
        set_string(&mut message, "permission", "rooms.view");
    }
    if let Some(kind) = method.input().get_field_by_name("kind") {
        message.set_field(&kind, Value::EnumNumber(DecisionKind::AnyAssignment.into()));
    }
    message
}

fn refused_for_mfa(status: &tonic::Status) -> bool {
    status.code() == Code::Unauthenticated && error_info(status).reason == "MFA_REQUIRED"
}

on_both_backends!(
    r3_every_public_method_enforces_partner_mfa,
    r3_every_public_method_enforces_partner_mfa_postgres,
    every_public_method_enforces_partner_mfa
);

async fn every_public_method_enforces_partner_mfa(backend: Backend) {
    let world = World::start_on(backend).await;
    let customer = world.customer("contoso").await;
    let partner = world.partner("fabrikam").await;
    let relationship = world.relate(&customer, &partner, None).await;
    let room = world.room(&customer, "r1").await;
    let ticket = TicketServiceClient::new(world.stack.rooms.clone())
        .create_incident(req(
            CreateIncidentRequest {
                parent: customer.customer(),
                rooms: vec![room.clone()],
                title: "no picture".into(),
                severity: TicketSeverity::Warning.into(),
                request_id: uuid::Uuid::new_v4().to_string(),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("an incident")
        .into_inner()
        .ticket
        .expect("ticket")
        .name;
    let names = Names {
        customer: customer.customer(),
        room,
        ticket,
        relationship: relationship.name,
    };
    let token = world.sign_in(&partner.admin).await;
    DirectoryServiceClient::new(world.stack.public())
        .update_user_preferences(bearer(
            all_tickets_view_on(&partner.admin.principal.user),
            &token,
        ))
        .await
        .expect("turn the all tickets view on");
    require_mfa(&world, "contoso", &world.sign_in(&customer.admin).await).await;

    let channel = world.stack.public();
    let mut unclassified = Vec::new();
    let mut let_through = Vec::new();
    let mut checked = 0;
    for (path, method) in public_methods() {
        let Some(touches) = gateway::touches(&path) else {
            unclassified.push(path);
            continue;
        };
        match touches {
            gateway::Touches::Nothing(why) => assert!(!why.is_empty(), "{path}"),
            gateway::Touches::Customer(field) => {
                let message = request_at(&path, &method, field, &names);
                match call(&channel, &path, &method, &message, &token).await {
                    Err(status) if refused_for_mfa(&status) => {}
                    // Out of the caller's reach: nothing of the customer is shown.
                    Err(status) if status.code() == Code::NotFound => {}
                    answer => let_through.push(format!("{path}: {answer:?}")),
                }
            }
            gateway::Touches::EveryCustomer => {
                every_customer(&channel, &path, &method, &names, &token).await;
            }
        }
        checked += 1;
    }
    assert!(unclassified.is_empty(), "not classified: {unclassified:?}");
    assert!(let_through.is_empty(), "let through: {let_through:#?}");
    assert!(checked > 100, "only {checked} methods walked");
    world.stop().await;
}

/// A view over many customers shows nothing of the customer requiring MFA.
async fn every_customer(
    channel: &tonic::transport::Channel,
    path: &str,
    method: &MethodDescriptor,
    names: &Names,
    token: &str,
) {
    let customer = names.customer.as_str();
    match path {
        "/mtm.gateway.v1.AggregatedTicketService/ListAllTickets" => {
            let message = DynamicMessage::new(method.input());
            let answer = call(channel, path, method, &message, token)
                .await
                .expect("the view answers");
            let page = ListAllTicketsResponse::decode(answer).expect("decode");
            assert!(
                page.tickets.iter().all(|t| t.customer != customer),
                "{path}"
            );
            assert!(
                page.failed_customers
                    .iter()
                    .any(|f| f.customer == customer && f.code == Code::Unauthenticated as i32),
                "{path}: {page:?}"
            );
        }
        "/mtm.rbac.v1.DecisionService/ListAccessibleCustomers" => {
            let message = DynamicMessage::new(method.input());
            let answer = call(channel, path, method, &message, token)
                .await
                .expect("answers");
            let page = ListAccessibleCustomersResponse::decode(answer).expect("decode");
            assert!(
                page.customers.iter().all(|c| c.customer != customer),
                "{path}"
            );
        }
        "/mtm.rbac.v1.DecisionService/BatchCheck" => {
            let request = BatchCheckRequest {
                items: vec![BatchCheckItem {
                    customer: customer.to_owned(),
                    permission: "rooms.view".into(),
                    target: None,
                    kind: DecisionKind::AnyAssignment.into(),
                }],
                ..Default::default()
            };
            let message =
                DynamicMessage::decode(method.input(), request.encode_to_vec().as_slice())
                    .expect("dynamic");
            let answer = call(channel, path, method, &message, token)
                .await
                .expect("answers");
            let decisions = BatchCheckResponse::decode(answer)
                .expect("decode")
                .decisions;
            assert!(
                decisions.iter().all(|d| !d.allowed),
                "{path}: {decisions:?}"
            );
        }
        other => panic!("{other}: a view over many customers this test does not know"),
    }
}
