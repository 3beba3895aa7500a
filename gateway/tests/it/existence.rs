//! R37 over the whole surface: for every public method that takes a resource name, the status
//! a caller gets is byte-identical (code, message, details, up to the name itself) for (a) a
//! customer that does not exist, (b) an existing customer out of its reach, (c) an existing
//! resource out of its scope and (d) a missing resource in its reach.

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateIncidentRequest, TicketSeverity};
use prost_reflect::{DynamicMessage, MethodDescriptor, ReflectMessage, Value};
use tonic::Status;

use crate::harness::calls::req;
use crate::harness::direct::World;
use crate::harness::raw::{call, public_methods, set_string, with_string};

/// Customer ids of one length, so names differ only in place: related, unrelated, missing.
const RELATED: &str = "contoso";
const UNRELATED: &str = "litware";
const MISSING: &str = "nosuchc";

/// Resource ids at the related customer: out of the partner's scope, and missing.
struct Ids {
    room: (String, String),
    group: (String, String),
    ticket: (String, String),
    relationship: String,
}

/// The collection a method's routing name points into, for the services whose resources are
/// scoped (R34); `None` for the others.
fn scoped_collection(path: &str) -> Option<&'static str> {
    let service = path.split('/').nth(1)?.rsplit('.').next()?;
    match service {
        "RoomService" => Some("rooms"),
        "TicketService" => Some("tickets"),
        "RoomGroupService" => Some("roomGroups"),
        _ => None,
    }
}

/// The name the request of `path` carries in `field`, at `customer`, naming resource `id`
/// of the method's scoped collection when it has one.
fn name_at(path: &str, field: &str, customer: &str, id: &str, ids: &Ids) -> String {
    let c = format!("customers/{customer}");
    let last = field.rsplit('.').next().unwrap_or(field);
    if last == "parent" || last == "customer" {
        return c;
    }
    if let Some(collection) = scoped_collection(path) {
        return format!("{c}/{collection}/{id}");
    }
    if last == "relationship" || path.contains("RelationshipService") {
        return format!("{c}/partnerRelationships/{}", ids.relationship);
    }
    if field.starts_with("role_assignment") || path.contains("RoleAssignment") {
        return format!("{c}/roleAssignments/{id}");
    }
    let service = path.split('/').nth(1).unwrap_or_default();
    match service.rsplit('.').next().unwrap_or_default() {
        "EnrolmentKeyService" => format!("{c}/enrolmentKey"),
        "UpdateRingService" => format!("{c}/updateRings/{id}"),
        "SettingsService" => format!("{c}/settings"),
        "RoleService" => format!("{c}/roles/{id}"),
        "InvitationService" => format!("{c}/invitations/{id}"),
        "ApprovalService" => format!("{c}/approvalRequests/{id}"),
        _ => c,
    }
}

/// Fills what the method's validation needs besides the name, so only the name decides.
fn complete(path: &str, message: &mut DynamicMessage, name: &str) {
    let customer = name.split('/').take(2).collect::<Vec<_>>().join("/");
    let method = path.rsplit('/').next().unwrap_or_default();
    let mask = |message: &mut DynamicMessage, field: &str| {
        let descriptor = message
            .descriptor()
            .get_field_by_name("update_mask")
            .expect("update_mask");
        let kind = descriptor.kind();
        let mut inner = DynamicMessage::new(kind.as_message().cloned().expect("mask"));
        inner.set_field_by_name("paths", Value::List(vec![Value::String(field.to_owned())]));
        message.set_field(&descriptor, Value::Message(inner));
    };
    match method {
        "UpdateRoom" => {
            set_string(message, "room.display_name", "renamed");
            mask(message, "display_name");
        }
        "UpdateTicket" => {
            set_string(message, "ticket.title", "renamed");
            mask(message, "title");
        }
        "EnrollRoom" => set_string(message, "enrolment_key", "not-the-key"),
        "AssignRoomToRing" => {
            set_string(
                message,
                "update_ring",
                &format!("{customer}/updateRings/general"),
            );
        }
        "AddTicketMessage" => set_string(message, "text", "hello"),
        "CloseRecordedIssue" => set_string(message, "reason", "fixed"),
        _ => {}
    }
}

fn request(path: &str, method: &MethodDescriptor, field: &str, name: &str) -> DynamicMessage {
    let mut message = with_string(method, field, name);
    complete(path, &mut message, name);
    if method.input().get_field_by_name("permission").is_some() {
        set_string(&mut message, "permission", "rooms.view");
    }
    if let Some(kind) = method.input().get_field_by_name("kind") {
        message.set_field(&kind, Value::EnumNumber(1));
    }
    message
}

/// A status with `name` masked (same length, so encoded details stay well-formed).
fn masked(status: &Status, name: &str) -> (i32, String, Vec<u8>) {
    let mask = "#".repeat(name.len());
    let message = status.message().replace(name, &mask);
    let mut details = status.details().to_vec();
    let needle = name.as_bytes();
    let mut i = 0;
    while i + needle.len() <= details.len() {
        if &details[i..i + needle.len()] == needle {
            details[i..i + needle.len()].copy_from_slice(mask.as_bytes());
            i += needle.len();
        } else {
            i += 1;
        }
    }
    (status.code() as i32, message, details)
}

#[tokio::test]
async fn r37_every_name_taking_method_answers_missing_and_out_of_reach_alike() {
    let world = World::start().await;
    let customer = world.customer(RELATED).await;
    world.customer(UNRELATED).await;
    let partner = world.partner("fabrikam").await;
    let front = world.room_group(&customer, "grpfrnt", "front").await;
    let back = world.room_group(&customer, "grpback", "back").await;
    world
        .room_in(&customer, front.clone(), "rooma01", "A")
        .await;
    let back_room = world.room_in(&customer, back, "roomb01", "B").await;
    let ticket = TicketServiceClient::new(world.stack.rooms.clone())
        .create_incident(req(
            CreateIncidentRequest {
                parent: customer.customer(),
                rooms: vec![back_room],
                title: "out of scope".into(),
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
    let ticket_id = ticket.rsplit('/').next().expect("id").to_owned();
    let missing_ticket: String = ticket_id
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let relationship = world
        .relate_people(
            &customer,
            &partner,
            &[&partner.admin],
            RoomScope {
                room_groups: vec![front],
                ..Default::default()
            },
            None,
        )
        .await;
    let ids = Ids {
        room: ("roomb01".into(), "roomz99".into()),
        group: ("grpback".into(), "grpzzzz".into()),
        ticket: (ticket_id, missing_ticket),
        relationship: relationship.name.rsplit('/').next().expect("id").to_owned(),
    };
    let token = world.sign_in(&partner.admin).await;
    let channel = world.stack.public();

    let mut differing = Vec::new();
    let mut checked = 0;
    for (path, method) in public_methods() {
        let Some(gateway::Touches::Customer(field)) = gateway::touches(&path) else {
            continue;
        };
        let (existing, missing) = match scoped_collection(&path) {
            Some("rooms") => ids.room.clone(),
            Some("tickets") => ids.ticket.clone(),
            Some(_) => ids.group.clone(),
            None => ("zzzzzzz".to_owned(), "zzzzzzz".to_owned()),
        };
        let mut cases = vec![
            ("a", name_at(&path, field, MISSING, &missing, &ids)),
            ("b", name_at(&path, field, UNRELATED, &missing, &ids)),
        ];
        let last = field.rsplit('.').next().unwrap_or(field);
        if scoped_collection(&path).is_some() && last != "parent" && last != "customer" {
            cases.push(("c", name_at(&path, field, RELATED, &existing, &ids)));
            cases.push(("d", name_at(&path, field, RELATED, &missing, &ids)));
        }
        let mut answers = Vec::new();
        for (case, name) in &cases {
            let message = request(&path, &method, field, name);
            let status = match call(&channel, &path, &method, &message, &token).await {
                Ok(_) => Status::ok("answered"),
                Err(status) => status,
            };
            answers.push((*case, masked(&status, name), status));
        }
        let first = &answers[0].1;
        if answers.iter().any(|(_, m, _)| m != first) {
            differing.push(format!(
                "{path}: {:#?}",
                answers
                    .iter()
                    .map(|(case, _, status)| (case, status.code(), status.message().to_owned()))
                    .collect::<Vec<_>>()
            ));
        }
        checked += 1;
    }
    assert!(differing.is_empty(), "differing: {differing:#?}");
    assert!(checked > 40, "only {checked} methods walked");
    world.stop().await;
}
