//! R28 and R37 at the gateway: a call refused at a customer answers NOT_FOUND when the target
//! is out of the caller's reach (exactly as a missing one) and PERMISSION_DENIED when the
//! caller may see it; either way the refusal is in the customer's audit log.

use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{AuditRecord, AuditResult, ListAuditRecordsRequest};
use mtm_proto::mtm::rooms::v1::enrolment_key_service_client::EnrolmentKeyServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::{ResetEnrolmentKeyRequest, UnenrollRoomRequest};
use tonic::Code;

use crate::harness::calls::{bearer, error_info, req};
use crate::harness::direct::{Org, World};

fn with_request_id<T>(message: T, token: &str, id: &str) -> tonic::Request<T> {
    let mut request = bearer(message, token);
    request
        .metadata_mut()
        .insert("x-request-id", id.parse().expect("header"));
    request
}

/// The DENIED records in `customer`'s audit log at rooms-svc.
async fn denials(world: &World, customer: &Org) -> Vec<AuditRecord> {
    AuditServiceClient::new(world.stack.rooms.clone())
        .list_audit_records(req(
            ListAuditRecordsRequest {
                parent: format!("customers/{}", customer.id),
                page_size: 1000,
                filter: "result = \"DENIED\"".into(),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("list audit records")
        .into_inner()
        .audit_records
}

fn unenroll(room: &str) -> UnenrollRoomRequest {
    UnenrollRoomRequest {
        name: room.to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn r37_r28_refusals_answer_as_the_caller_may_see_and_are_audited() {
    let world = World::start().await;
    let customer = world.customer("contoso").await;
    let partner = world.partner("fabrikam").await;
    world.relate(&customer, &partner, None).await;
    let room = world.room(&customer, "r1").await;
    let stranger = world.user(&customer, "bob").await;
    let partner_token = world.sign_in(&partner.admin).await;
    let stranger_token = world.sign_in(&stranger).await;
    let channel = world.stack.public();
    let mut rooms = RoomServiceClient::new(channel.clone());

    // Primary admins see the room but may not unenroll it (table 1): PERMISSION_DENIED.
    let denied = rooms
        .unenroll_room(with_request_id(unenroll(&room), &partner_token, "deny-1"))
        .await
        .expect_err("primary admins cannot unenroll");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert_eq!(error_info(&denied).metadata["permission"], "rooms.unenroll");

    // A missing room and a room out of reach answer the same NOT_FOUND.
    let missing = rooms
        .unenroll_room(bearer(
            unenroll("customers/contoso/rooms/nope"),
            &partner_token,
        ))
        .await
        .expect_err("missing room");
    assert_eq!(missing.code(), Code::NotFound);
    let unreachable = rooms
        .unenroll_room(with_request_id(unenroll(&room), &stranger_token, "deny-2"))
        .await
        .expect_err("a user without roles");
    assert_eq!(unreachable.code(), Code::NotFound);
    assert_eq!(
        unreachable.message().replace("rooms/r1", "rooms/nope"),
        missing.message()
    );

    // Customer-wide: the partner holds a role at the customer, so it learns the key exists.
    let key = EnrolmentKeyServiceClient::new(channel)
        .reset_enrolment_key(with_request_id(
            ResetEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
                ..Default::default()
            },
            &partner_token,
            "deny-3",
        ))
        .await
        .expect_err("primary admins cannot reset the key");
    assert_eq!(key.code(), Code::PermissionDenied);

    let records = denials(&world, &customer).await;
    let record = |id: &str| {
        records
            .iter()
            .find(|r| r.request_id == id)
            .unwrap_or_else(|| panic!("no denial record for {id} in {records:#?}"))
    };
    let partner_denial = record("deny-1");
    assert_eq!(partner_denial.result(), AuditResult::Denied);
    assert_eq!(partner_denial.object_id, room);
    assert_eq!(partner_denial.operation, "unenroll_room");
    assert_eq!(partner_denial.target_tenant, "tenants/contoso");
    assert_eq!(partner_denial.status_code, Code::PermissionDenied as i32);
    let actor = partner_denial.actor.as_ref().expect("actor");
    assert_eq!(actor.user, partner.admin.principal.user);
    assert_eq!(actor.partner, "partners/fabrikam");
    let stranger_denial = record("deny-2");
    assert_eq!(stranger_denial.status_code, Code::NotFound as i32);
    assert_eq!(
        stranger_denial.actor.as_ref().expect("actor").user,
        stranger.principal.user
    );
    assert_eq!(record("deny-3").operation, "reset_enrolment_key");
    world.stop().await;
}
