//! R37 over the whole surface: for every public method that takes a resource name, the status
//! a caller gets is byte-identical (code, message, details, up to the name itself) for (a) a
//! customer that does not exist, (b) an existing customer out of its reach, (c) an existing
//! resource out of its scope and (d) a missing resource in its reach. Each method's name is
//! placed in a [`Kind`] that says which cases exist for it; a method of no known kind fails.

use std::collections::BTreeSet;

use mtm_proto::mtm::audit::v1::ListAuditRecordsRequest;
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateIncidentRequest, TicketSeverity};
use prost_reflect::{DynamicMessage, MethodDescriptor, ReflectMessage, Value};
use tonic::Status;

use crate::harness::Backend;
use crate::harness::calls::{bearer, req};
use crate::harness::direct::{Org, World};
use crate::harness::raw::{call_identified, public_methods, set_string, with_string};

/// Customer ids of one length, so names differ only in place: related, unrelated, missing.
const RELATED: &str = "contoso";
const UNRELATED: &str = "litware";
const MISSING: &str = "nosuchc";

/// Resource ids at the related customer, as `(existing, missing)` pairs of one length: the
/// existing one is out of the partner's scope (for the kinds that have a scope).
struct Ids {
    room: (String, String),
    group: (String, String),
    ticket: (String, String),
    /// Another partner's relationship, and a missing one.
    relationship: (String, String),
}

/// Where the name a method takes points below a customer, and so which of the cases (c)
/// existing resource out of scope and (d) missing resource in scope apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The name is the customer itself (`parent`, `customer`): only (a) and (b) apply.
    Customer,
    /// A resource of a collection narrowed by a relationship's room scope (R34): a partner
    /// reaches some of them, so (c) and (d) both apply to the partner.
    Scoped(&'static str),
    /// A resource that belongs to one partner's side of the customer: another partner's is
    /// out of the caller's reach (c); a missing one is compared as the customer's admin (d).
    /// The collection, and what the name holds below the resource's id.
    PerPartner(&'static str, &'static str),
    /// A resource of the whole customer: whoever reaches the customer reaches all of them or
    /// none, so there is no "out of scope" (no (c)); (d) as the customer's admin.
    CustomerWide(&'static str),
    /// The customer's one resource of its kind (`settings`, `enrolmentKey`): it exists exactly
    /// when the customer does, so neither (c) nor (d) can be built.
    Singleton(&'static str),
}

/// The kind of the name `path` takes in `field`, or `None` for a method this test cannot place
/// (which fails the test: a new route must be placed here).
fn kind(path: &str, field: &str) -> Option<Kind> {
    let last = field.rsplit('.').next().unwrap_or(field);
    let method = path.rsplit('/').next()?;
    // A relationship's primary admins are named below the relationship.
    if path.contains(".RelationshipService/") && method.contains("PrimaryAdmin") {
        let below = if last == "parent" {
            ""
        } else {
            "/primaryAdmins/zzzzzzz"
        };
        return Some(Kind::PerPartner("partnerRelationships", below));
    }
    if last == "parent" || last == "customer" {
        return Some(Kind::Customer);
    }
    if last == "relationship" {
        return Some(Kind::PerPartner("partnerRelationships", ""));
    }
    let service = path.split('/').nth(1)?.rsplit('.').next()?;
    Some(match service {
        "RoomService" => Kind::Scoped("rooms"),
        "TicketService" => Kind::Scoped("tickets"),
        "RoomGroupService" => Kind::Scoped("roomGroups"),
        "RelationshipService" => Kind::PerPartner("partnerRelationships", ""),
        "UpdateRingService" => Kind::CustomerWide("updateRings"),
        "RoleService" if method.contains("RoleAssignment") => Kind::CustomerWide("roleAssignments"),
        "RoleService" => Kind::CustomerWide("roles"),
        "InvitationService" => Kind::CustomerWide("invitations"),
        "ApprovalService" => Kind::CustomerWide("approvalRequests"),
        "SettingsService" => Kind::Singleton("settings"),
        "EnrolmentKeyService" => Kind::Singleton("enrolmentKey"),
        _ => return None,
    })
}

/// The name of resource `id` of `kind` at `customer`.
fn name_at(kind: Kind, customer: &str, id: &str) -> String {
    let c = format!("customers/{customer}");
    match kind {
        Kind::Customer => c,
        Kind::Singleton(resource) => format!("{c}/{resource}"),
        Kind::Scoped(collection) | Kind::CustomerWide(collection) => {
            format!("{c}/{collection}/{id}")
        }
        Kind::PerPartner(collection, below) => format!("{c}/{collection}/{id}{below}"),
    }
}

/// The `(existing out of scope, missing)` ids of `kind`'s collection at the related customer.
fn ids_of(kind: Kind, ids: &Ids) -> (String, String) {
    match kind {
        Kind::Scoped("rooms") => ids.room.clone(),
        Kind::Scoped("tickets") => ids.ticket.clone(),
        Kind::Scoped(_) => ids.group.clone(),
        Kind::PerPartner(..) => ids.relationship.clone(),
        _ => ("zzzzzzz".to_owned(), "zzzzzzz".to_owned()),
    }
}

/// An id of the same length as `id` that names nothing.
fn missing_like(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            '0' => '1',
            c if c.is_ascii_alphanumeric() => '0',
            c => c,
        })
        .collect()
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
        "UpdateRole" => {
            set_string(message, "role.display_name", "renamed");
            let role = message
                .descriptor()
                .get_field_by_name("role")
                .expect("role");
            let mut inner = message
                .get_field(&role)
                .as_message()
                .cloned()
                .expect("role");
            inner.set_field_by_name(
                "permissions",
                Value::List(vec![Value::String("rooms.view".to_owned())]),
            );
            message.set_field(&role, Value::Message(inner));
            mask(message, "display_name");
        }
        "UpdateRoleAssignment" => {
            set_string(message, "role_assignment.display_name", "renamed");
            mask(message, "display_name");
        }
        "UpdateUpdateRing" => {
            set_string(message, "update_ring.display_name", "renamed");
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
        "InvitePrimaryAdmins" => message.set_field_by_name(
            "invited_upns",
            Value::List(vec![Value::String("someone@fabrikam.example".to_owned())]),
        ),
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

/// A status's code, message and encoded details.
type Masked = (i32, String, Vec<u8>);

/// A status with `name` and its ancestors (a missing primary admin reports its missing
/// relationship) masked, each by a mask of its own length, so encoded details stay well-formed.
fn masked(status: &Status, name: &str) -> Masked {
    let mut message = status.message().to_owned();
    let mut details = status.details().to_vec();
    let mut name = name;
    loop {
        mask(&mut message, &mut details, name);
        let Some((parent, _)) = name.rsplit_once('/').and_then(|(p, _)| p.rsplit_once('/')) else {
            break;
        };
        if !parent.contains('/') {
            break;
        }
        name = parent;
    }
    (status.code() as i32, message, details)
}

fn mask(message: &mut String, details: &mut [u8], name: &str) {
    let mask = "#".repeat(name.len());
    *message = message.replace(name, &mask);
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
}

on_both_backends!(
    r37_every_name_taking_method_answers_missing_and_out_of_reach_alike,
    r37_every_name_taking_method_answers_missing_and_out_of_reach_alike_postgres,
    every_name_taking_method_answers_missing_and_out_of_reach_alike
);

/// One request of a method: which case, as whom, naming what, and the case whose answer it
/// must equal byte for byte.
struct Case {
    case: &'static str,
    token: String,
    name: String,
    equals: &'static str,
}

async fn every_name_taking_method_answers_missing_and_out_of_reach_alike(backend: Backend) {
    let world = World::start_on(backend).await;
    let customer = world.customer(RELATED).await;
    let unrelated = world.customer(UNRELATED).await;
    let partner = world.partner("fabrikam").await;
    let other = world.partner("northwd").await;
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
    world
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
    let others = world
        .relate_people(
            &customer,
            &other,
            &[&other.admin],
            RoomScope {
                all_rooms: true,
                ..Default::default()
            },
            None,
        )
        .await;
    let others_id = others.name.rsplit('/').next().expect("id").to_owned();
    let ids = Ids {
        room: ("roomb01".into(), "roomz99".into()),
        group: ("grpback".into(), "grpzzzz".into()),
        ticket: (ticket_id.clone(), missing_like(&ticket_id)),
        relationship: (others_id.clone(), missing_like(&others_id)),
    };
    let token = world.sign_in(&partner.admin).await;
    let admin = world.sign_in(&customer.admin).await;
    let channel = world.stack.public();
    let stores = world.stack.stores().await;
    assert!(
        stores.iter().any(|s| s == UNRELATED) && !stores.iter().any(|s| s == MISSING),
        "{stores:?}"
    );

    let mut differing = Vec::new();
    let mut out_of_reach = Vec::new();
    let mut unplaced = Vec::new();
    let mut walked = std::collections::BTreeMap::<&str, usize>::new();
    for (path, method) in public_methods() {
        let Some(gateway::Touches::Customer(field)) = gateway::touches(&path) else {
            continue;
        };
        let Some(kind) = kind(&path, field) else {
            unplaced.push(path);
            continue;
        };
        let (existing, missing) = ids_of(kind, &ids);
        let case = |case, token: &str, customer, id: &str, equals| Case {
            case,
            token: token.to_owned(),
            name: name_at(kind, customer, id),
            equals,
        };
        let mut cases = vec![
            case("a", &token, MISSING, &missing, "a"),
            case("b", &token, UNRELATED, &missing, "a"),
        ];
        match kind {
            Kind::Customer | Kind::Singleton(_) => {}
            // The partner reaches missing rooms of its scope: all four answer alike.
            Kind::Scoped(_) => {
                cases.push(case("c", &token, RELATED, &existing, "a"));
                cases.push(case("d", &token, RELATED, &missing, "a"));
            }
            // Another partner's relationship answers as a missing one to this partner; a
            // missing one answers the customer's admin as a missing customer.
            Kind::PerPartner(..) => {
                cases.push(case("d-partner", &token, RELATED, &missing, "d-partner"));
                cases.push(case("c", &token, RELATED, &existing, "d-partner"));
                cases.push(case("d", &admin, RELATED, &missing, "a"));
            }
            Kind::CustomerWide(_) => cases.push(case("d", &admin, RELATED, &missing, "a")),
        }
        let mut answers: Vec<(&str, Masked, Status)> = Vec::new();
        for Case {
            case, token, name, ..
        } in &cases
        {
            let message = request(&path, &method, field, name);
            // Requests at the unrelated customer are looked up in its audit log afterwards.
            let request_id = (*case == "b").then(|| format!("r37-b-{}", uuid::Uuid::new_v4()));
            if let Some(id) = &request_id {
                out_of_reach.push((path.clone(), id.clone()));
            }
            let answer = call_identified(
                &channel,
                &path,
                &method,
                &message,
                token,
                request_id.as_deref(),
            );
            let status = match answer.await {
                Ok(_) => Status::ok("answered"),
                Err(status) => status,
            };
            answers.push((case, masked(&status, name), status));
        }
        let answer = |case: &str| {
            &answers
                .iter()
                .find(|(c, _, _)| *c == case)
                .expect("a case")
                .1
        };
        if cases.iter().any(|c| answer(c.case) != answer(c.equals)) {
            differing.push(format!(
                "{path} ({kind:?}): {:#?}",
                answers
                    .iter()
                    .map(|(case, _, status)| (case, status.code(), status.message().to_owned()))
                    .collect::<Vec<_>>()
            ));
        }
        *walked.entry(kind_label(kind)).or_default() += 1;
    }
    assert!(
        unplaced.is_empty(),
        "methods of no known kind: {unplaced:#?}"
    );
    assert!(differing.is_empty(), "differing: {differing:#?}");
    let total: usize = walked.values().sum();
    assert!(total > 40, "only {total} methods walked: {walked:?}");

    // A missing customer gets no store, whatever was asked of it.
    assert_eq!(world.stack.stores().await, stores, "a store was opened");
    // Out of reach is denial-audited at the existing customer.
    let denied = denied_request_ids(&world, &unrelated).await;
    let unaudited: Vec<&str> = out_of_reach
        .iter()
        .filter(|(_, id)| !denied.contains(id))
        .map(|(path, _)| path.as_str())
        .collect();
    assert!(
        unaudited.is_empty(),
        "out-of-reach requests not denial-audited at {UNRELATED}: {unaudited:#?}"
    );
    world.stop().await;
}

/// The request ids of the DENIED records in `customer`'s audit log, read through the gateway
/// as the customer's admin.
async fn denied_request_ids(world: &World, customer: &Org) -> BTreeSet<String> {
    let token = world.sign_in(&customer.admin).await;
    let mut audit = AuditServiceClient::new(world.stack.public());
    let mut ids = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = audit
            .list_audit_records(bearer(
                ListAuditRecordsRequest {
                    parent: customer.customer(),
                    page_size: 500,
                    filter: "result = \"DENIED\"".into(),
                    page_token,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .expect("the customer's audit log")
            .into_inner();
        ids.extend(page.audit_records.into_iter().map(|r| r.request_id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}

/// The kind without its collection, for counting.
fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Customer => "customer",
        Kind::Scoped(_) => "scoped",
        Kind::PerPartner(..) => "per-partner",
        Kind::CustomerWide(_) => "customer-wide",
        Kind::Singleton(_) => "singleton",
    }
}
