//! R29: under manual approval a partner's change is stored as an approval request instead of
//! taking effect, and takes effect when the customer approves it; customer users are never
//! held.

use mtm_proto::mtm::audit::v1::ListAuditRecordsRequest;
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient;
use mtm_proto::mtm::rbac::v1::{
    CreateRoleAssignmentRequest, CreateRoleRequest, Role, RoleAssignment,
};
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::{GetRoomRequest, Room, UpdateRoomRequest};
use mtm_proto::mtm::tenancy::v1::approval_request::State;
use mtm_proto::mtm::tenancy::v1::approval_service_client::ApprovalServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    ApproveRequest, ChangeControlEventType, ChangeControlMode, ChangeControlPolicy,
    ChangeControlSetting, GetApprovalRequestRequest,
};
use tonic::Code;

use crate::harness::calls::{bearer, error_info, req};
use crate::harness::direct::World;

fn rename(room: &str, display_name: &str) -> UpdateRoomRequest {
    UpdateRoomRequest {
        room: Some(Room {
            name: room.to_owned(),
            display_name: display_name.to_owned(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["display_name".into()],
        }),
    }
}

#[tokio::test]
async fn r29_partner_change_is_held_until_the_customer_approves_it() {
    let world = World::start().await;
    let customer = world.customer("contoso").await;
    let partner = world.partner("fabrikam").await;
    let manual_room_changes = ChangeControlPolicy {
        settings: vec![ChangeControlSetting {
            event_type: ChangeControlEventType::RoomModify.into(),
            mode: ChangeControlMode::ManualApproval.into(),
        }],
    };
    let relationship = world
        .relate(&customer, &partner, Some(manual_room_changes))
        .await;
    let room = world.room(&customer, "r1").await;
    let customer_token = world.sign_in(&customer.admin).await;
    let partner_token = world.sign_in(&partner.admin).await;
    let channel = world.stack.public();
    let mut rooms = RoomServiceClient::new(channel.clone());
    let reader = rooms.clone();
    let display_name = |token: String| {
        let mut rooms = reader.clone();
        let room = room.clone();
        async move {
            rooms
                .get_room(bearer(GetRoomRequest { name: room }, &token))
                .await
                .expect("get room")
                .into_inner()
                .room
                .expect("room")
                .display_name
        }
    };

    let held = rooms
        .update_room(bearer(rename(&room, "Boardroom"), &partner_token))
        .await
        .expect_err("the partner's change waits for approval");
    assert_eq!(held.code(), Code::FailedPrecondition);
    let info = error_info(&held);
    assert_eq!(info.reason, "APPROVAL_REQUIRED");
    let approval = info.metadata["approval_request"].clone();
    assert!(approval.starts_with("customers/contoso/approvalRequests/"));
    assert_eq!(display_name(customer_token.clone()).await, "Room r1");

    let mut approvals = ApprovalServiceClient::new(channel);
    let stored = approvals
        .get_approval_request(bearer(
            GetApprovalRequestRequest {
                name: approval.clone(),
            },
            &customer_token,
        ))
        .await
        .expect("the customer sees the request")
        .into_inner()
        .approval_request
        .expect("request");
    assert_eq!(stored.state(), State::Pending);
    assert_eq!(stored.relationship, relationship.name);
    assert_eq!(stored.method, "/mtm.rooms.v1.RoomService/UpdateRoom");
    assert_eq!(stored.target, room);
    assert_eq!(
        stored.requester.as_ref().expect("requester").user,
        partner.admin.principal.user
    );

    let approved = approvals
        .approve(bearer(
            ApproveRequest {
                name: approval.clone(),
                ..Default::default()
            },
            &customer_token,
        ))
        .await
        .expect("the customer approves")
        .into_inner()
        .approval_request
        .expect("request");
    assert_eq!(approved.state(), State::Approved);
    let outcome = approved.outcome.expect("the execution is recorded");
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.result, room);
    assert_eq!(display_name(customer_token.clone()).await, "Boardroom");

    // Customer users are never held; the client's request id reaches the backend's audit.
    let mut own = bearer(rename(&room, "Main hall"), &customer_token);
    own.metadata_mut()
        .insert("x-request-id", "own-change-1".parse().expect("header"));
    rooms
        .update_room(own)
        .await
        .expect("the customer's own change takes effect at once");
    assert_eq!(display_name(customer_token).await, "Main hall");
    let records = AuditServiceClient::new(world.stack.rooms.clone())
        .list_audit_records(req(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1000,
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("audit log")
        .into_inner()
        .audit_records;
    let executed = records
        .iter()
        .find(|r| r.approval_request == approval)
        .unwrap_or_else(|| panic!("the approved execution is audited: {records:#?}"));
    assert_eq!(
        executed.actor.as_ref().expect("actor").user,
        partner.admin.principal.user
    );
    assert!(
        records.iter().any(|r| r.request_id == "own-change-1"),
        "the request id is passed to rooms-svc"
    );
    world.stop().await;
}

#[tokio::test]
async fn r29_an_approver_must_be_able_to_do_the_action_itself() {
    let world = World::start().await;
    let customer = world.customer("contoso").await;
    let partner = world.partner("fabrikam").await;
    let policy = ChangeControlPolicy {
        settings: vec![ChangeControlSetting {
            event_type: ChangeControlEventType::RoomModify.into(),
            mode: ChangeControlMode::ManualApproval.into(),
        }],
    };
    world.relate(&customer, &partner, Some(policy)).await;
    let room = world.room(&customer, "r1").await;
    let carol = world.user(&customer, "carol").await;
    let customer_token = world.sign_in(&customer.admin).await;
    let channel = world.stack.public();

    // Carol manages roles for all rooms but may not change rooms.
    let mut roles = RoleServiceClient::new(channel.clone());
    let role = roles
        .create_role(bearer(
            CreateRoleRequest {
                parent: "customers/contoso".into(),
                role: Some(Role {
                    display_name: "Approvers".into(),
                    permissions: vec!["roles.view".into(), "roles.modify".into()],
                    ..Default::default()
                }),
                role_id: "approvers".into(),
                request_id: String::new(),
            },
            &customer_token,
        ))
        .await
        .expect("create role")
        .into_inner()
        .role
        .expect("role");
    roles
        .create_role_assignment(bearer(
            CreateRoleAssignmentRequest {
                parent: "customers/contoso".into(),
                role_assignment: Some(RoleAssignment {
                    display_name: "Carol approves".into(),
                    role: role.name,
                    members: vec![carol.principal.user.clone()],
                    scope: Some(RoomScope {
                        all_rooms: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                role_assignment_id: "carol".into(),
                request_id: String::new(),
            },
            &customer_token,
        ))
        .await
        .expect("assign the role to carol");

    let partner_token = world.sign_in(&partner.admin).await;
    let held = RoomServiceClient::new(channel.clone())
        .update_room(bearer(rename(&room, "Boardroom"), &partner_token))
        .await
        .expect_err("held");
    let approval = error_info(&held).metadata["approval_request"].clone();

    let carol_token = world.sign_in(&carol).await;
    let mut approvals = ApprovalServiceClient::new(channel);
    let refused = approvals
        .approve(bearer(
            ApproveRequest {
                name: approval.clone(),
                ..Default::default()
            },
            &carol_token,
        ))
        .await
        .expect_err("carol could not rename the room herself");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(error_info(&refused).metadata["permission"], "rooms.modify");
    let still = approvals
        .get_approval_request(bearer(
            GetApprovalRequestRequest { name: approval },
            &customer_token,
        ))
        .await
        .expect("get")
        .into_inner()
        .approval_request
        .expect("request");
    assert_eq!(still.state(), State::Pending);
    world.stop().await;
}
