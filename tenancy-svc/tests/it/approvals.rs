//! Change control (R29): the gateway submits partner actions under MANUAL_APPROVAL; the
//! customer approves (then the execution is recorded) or rejects; everything is audited.

use mtm_proto::mtm::audit::v1::ListAuditRecordsRequest;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::Code;

use crate::support::{Store, Suite, assert_status, req};

async fn case_r29_manual_approval_requests_are_approved_or_rejected_by_the_customer(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await;
    suite
        .relationships()
        .update_change_control(req(
            UpdateChangeControlRequest {
                name: relationship.name.clone(),
                change_control: Some(ChangeControlPolicy {
                    settings: vec![ChangeControlSetting {
                        event_type: ChangeControlEventType::RoomModify.into(),
                        mode: ChangeControlMode::ManualApproval.into(),
                    }],
                }),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("manual approval for room changes");
    let submit = |event: ChangeControlEventType| {
        let mut client = suite.internal();
        let request = req(
            SubmitApprovalRequestRequest {
                relationship: relationship.name.clone(),
                event_type: event.into(),
                method: "/mtm.rooms.v1.RoomService/UpdateRoom".into(),
                action: Some(prost_types::Any {
                    type_url: "type.googleapis.com/mtm.rooms.v1.UpdateRoomRequest".into(),
                    value: Vec::new(),
                }),
                target: "customers/contoso/rooms/r1".into(),
                summary: "rename room r1".into(),
                requester: None,
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            &ana.context(),
        );
        async move {
            client
                .submit_approval_request(request)
                .await
                .map(|r| r.into_inner().approval_request.expect("request"))
        }
    };
    assert_status(
        submit(ChangeControlEventType::TicketUpdate).await,
        Code::FailedPrecondition,
        "AUTO_APPROVAL",
    );
    let first = submit(ChangeControlEventType::RoomModify)
        .await
        .expect("submitted");
    assert_eq!(first.state(), approval_request::State::Pending);
    assert_eq!(
        first.requester.as_ref().expect("requester").user,
        ana.principal.user
    );
    let second = submit(ChangeControlEventType::RoomModify)
        .await
        .expect("submitted");
    let listed = suite
        .approvals()
        .list_approval_requests(req(
            ListApprovalRequestsRequest {
                parent: "customers/contoso".into(),
                filter: "state = \"PENDING\" AND event_type = \"ROOM_MODIFY\"".into(),
                ..Default::default()
            },
            &ana.context(),
        ))
        .await
        .expect("the partner reads its own requests")
        .into_inner();
    assert_eq!(listed.total_size, 2);
    let by_partner = suite
        .approvals()
        .approve(req(
            ApproveRequest {
                name: first.name.clone(),
                ..Default::default()
            },
            &ana.context(),
        ))
        .await;
    assert_status(by_partner, Code::PermissionDenied, "R29");
    let no_reason = suite
        .approvals()
        .reject(req(
            RejectRequest {
                name: second.name.clone(),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(no_reason, Code::InvalidArgument, "reason");
    let approved = suite
        .approvals()
        .approve(req(
            ApproveRequest {
                name: first.name.clone(),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("approve")
        .into_inner()
        .approval_request
        .expect("request");
    assert_eq!(approved.state(), approval_request::State::Approved);
    assert_eq!(
        approved.decided_by.expect("who").user,
        customer.admin.principal.user
    );
    let outcome = ApprovalOutcome {
        code: 0,
        result: "customers/contoso/rooms/r1".into(),
        ..Default::default()
    };
    let executed = suite
        .internal()
        .mark_approval_executed(req(
            MarkApprovalExecutedRequest {
                name: first.name.clone(),
                outcome: Some(outcome.clone()),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("mark executed")
        .into_inner()
        .approval_request
        .expect("request");
    assert_eq!(executed.outcome.expect("outcome").result, outcome.result);
    let rejected = suite
        .approvals()
        .reject(req(
            RejectRequest {
                name: second.name.clone(),
                reason: "not during the board meeting".into(),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("reject")
        .into_inner()
        .approval_request
        .expect("request");
    assert_eq!(rejected.state(), approval_request::State::Rejected);
    let late = suite
        .approvals()
        .approve(req(
            ApproveRequest {
                name: second.name.clone(),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(late, Code::FailedPrecondition, "REJECTED");
    let mark_rejected = suite
        .internal()
        .mark_approval_executed(req(
            MarkApprovalExecutedRequest {
                name: second.name.clone(),
                outcome: Some(outcome),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(mark_rejected, Code::FailedPrecondition, "APPROVED");
    let records = suite
        .audit()
        .list_audit_records(req(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1000,
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("audit")
        .into_inner()
        .audit_records;
    for operation in [
        "submit_approval_request",
        "approve",
        "reject",
        "execute_approved_action",
    ] {
        assert!(
            records.iter().any(|r| r.operation == operation),
            "R29: {operation} is audited"
        );
    }
    suite.stop().await;
}
on_both!(
    r29_manual_approval_requests_are_approved_or_rejected_by_the_customer,
    r29_manual_approval_requests_are_approved_or_rejected_by_the_customer_postgres,
    case_r29_manual_approval_requests_are_approved_or_rejected_by_the_customer
);
