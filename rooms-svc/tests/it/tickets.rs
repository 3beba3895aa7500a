//! Tickets: incidents only on rooms in scope, messages, idempotent creates, and the stable
//! list order with cursors that the gateway merges across customers (R25).

use mtm_proto::mtm::rooms::v1::*;

use crate::harness::{Backend, Suite, admin, call, scoped};
use crate::on_both_backends;

on_both_backends!(
    r34_incident_on_a_room_outside_scope_is_not_found_and_changes_nothing,
    r34_incident_on_a_room_outside_scope_is_not_found_and_changes_nothing_postgres,
    incident_scope
);

async fn incident_scope(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "berlin").await;
    suite.group("contoso", "paris").await;
    suite.room("contoso", "berlin", "b1").await;
    suite.room("contoso", "paris", "p1").await;
    let partner = scoped("contoso", &["berlin"], &[]);
    let status = suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec![
                    "customers/contoso/rooms/b1".into(),
                    "customers/contoso/rooms/p1".into(),
                ],
                title: "Both".into(),
                severity: TicketSeverity::Important as i32,
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect_err("p1 is out of scope");
    assert_eq!(status.code(), tonic::Code::NotFound);
    let info = suite
        .internal()
        .get_store_info(GetStoreInfoRequest {
            customer: "customers/contoso".into(),
        })
        .await
        .expect("info")
        .into_inner()
        .store
        .expect("store");
    assert_eq!(info.ticket_count, 0, "nothing was created");
    assert!(info.newest_ticket_update_time.is_none());
    let denied = suite
        .audit()
        .list_audit_records(call(
            mtm_proto::mtm::audit::v1::ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                filter: r#"result = "DENIED" AND operation = "create_incident""#.into(),
                ..Default::default()
            },
            &admin("contoso"),
        ))
        .await
        .expect("audit")
        .into_inner()
        .audit_records;
    assert_eq!(denied.len(), 1, "R28: the denied attempt is audited");
    assert_eq!(denied[0].status_code, tonic::Code::NotFound as i32);
    let invalid = suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec![],
                title: String::new(),
                severity: 0,
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect_err("invalid");
    assert_eq!(
        crate::harness::violated_fields(&invalid),
        ["rooms", "title", "severity"]
    );
    // Idempotent on request_id.
    let request = CreateIncidentRequest {
        parent: "customers/contoso".into(),
        rooms: vec!["customers/contoso/rooms/b1".into()],
        title: "Display flickers".into(),
        severity: TicketSeverity::Warning as i32,
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    };
    let first = suite
        .tickets()
        .create_incident(call(request.clone(), &partner))
        .await
        .expect("create")
        .into_inner()
        .ticket
        .expect("ticket");
    let created_by = first.created_by.clone().expect("actor");
    assert_eq!(created_by.partner, "partners/fabrikam-msp");
    let retry = suite
        .tickets()
        .create_incident(call(request.clone(), &partner))
        .await
        .expect("retry")
        .into_inner()
        .ticket
        .expect("ticket");
    assert_eq!(retry.name, first.name);
    let mut different = request.clone();
    different.title = "Something else".into();
    let reused = suite
        .tickets()
        .create_incident(call(different, &partner))
        .await
        .expect_err("same id, other request");
    assert_eq!(reused.code(), tonic::Code::InvalidArgument);
    let out_of_scope = scoped("contoso", &["paris"], &[]);
    let hidden = suite
        .tickets()
        .add_ticket_message(call(
            AddTicketMessageRequest {
                ticket: first.name.clone(),
                text: "hello".into(),
                request_id: String::new(),
            },
            &out_of_scope,
        ))
        .await
        .expect_err("out of scope");
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let message = suite
        .tickets()
        .add_ticket_message(call(
            AddTicketMessageRequest {
                ticket: first.name.clone(),
                text: "On it".into(),
                request_id: String::new(),
            },
            &partner,
        ))
        .await
        .expect("message")
        .into_inner()
        .message
        .expect("message");
    assert!(message.name.starts_with(&first.name));
    let full = suite
        .tickets()
        .get_ticket(call(
            GetTicketRequest {
                name: first.name.clone(),
                ..Default::default()
            },
            &admin("contoso"),
        ))
        .await
        .expect("get")
        .into_inner()
        .ticket
        .expect("ticket");
    assert_eq!(full.message_count, 1);
    assert_eq!(full.messages[0].text, "On it");
    let actions: Vec<_> = full.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["created", "message_added"]);
    assert_eq!(
        suite
            .internal()
            .get_store_info(GetStoreInfoRequest {
                customer: "customers/contoso".into()
            })
            .await
            .expect("info")
            .into_inner()
            .store
            .expect("store")
            .ticket_count,
        1
    );
    suite.finish(&["contoso"]).await;
}

on_both_backends!(
    r25_tickets_list_in_a_stable_order_with_cursors,
    r25_tickets_list_in_a_stable_order_with_cursors_postgres,
    ticket_order
);

async fn ticket_order(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    suite.room("contoso", "hq", "r1").await;
    let ctx = admin("contoso");
    let mut names = Vec::new();
    for i in 0..5 {
        let ticket = suite
            .tickets()
            .create_incident(call(
                CreateIncidentRequest {
                    parent: "customers/contoso".into(),
                    rooms: vec!["customers/contoso/rooms/r1".into()],
                    title: format!("Issue {i}"),
                    severity: TicketSeverity::Warning as i32,
                    ..Default::default()
                },
                &ctx,
            ))
            .await
            .expect("incident")
            .into_inner()
            .ticket
            .expect("ticket");
        names.push(ticket.name);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = suite
            .tickets()
            .list_tickets(call(
                ListTicketsRequest {
                    parent: "customers/contoso".into(),
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &ctx,
            ))
            .await
            .expect("page")
            .into_inner();
        assert_eq!(page.total_size, 5);
        seen.extend(page.tickets.iter().map(|t| (t.update_time, t.name.clone())));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 5);
    let mut expected = seen.clone();
    expected.sort_by(|a, b| {
        let key = |x: &(Option<prost_types::Timestamp>, String)| {
            x.0.map(|t| (t.seconds, t.nanos)).unwrap_or_default()
        };
        key(b).cmp(&key(a)).then(b.1.cmp(&a.1))
    });
    assert_eq!(seen, expected, "update_time descending, then id descending");
    let info = suite
        .internal()
        .get_store_info(GetStoreInfoRequest {
            customer: "customers/contoso".into(),
        })
        .await
        .expect("info")
        .into_inner()
        .store
        .expect("store");
    assert_eq!(info.newest_ticket_update_time, seen[0].0);
    let resumed = suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                start_after: Some(TicketPosition {
                    update_time: seen[1].0,
                    ticket: seen[1].1.clone(),
                }),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("resume")
        .into_inner();
    let rest: Vec<_> = resumed.tickets.iter().map(|t| t.name.clone()).collect();
    assert_eq!(
        rest,
        seen[2..].iter().map(|s| s.1.clone()).collect::<Vec<_>>()
    );
    let foreign = suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                filter: r#"status = "NEEDS_ACTION""#.into(),
                page_token: suite_token(&suite, &ctx).await,
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect_err("token of another filter");
    assert_eq!(foreign.code(), tonic::Code::InvalidArgument);
    for bad in [
        "status = \"OPEN\"",
        "colour = \"red\"",
        "status = \"NEEDS_ACTION\" OR x = \"y\"",
    ] {
        let status = suite
            .tickets()
            .list_tickets(call(
                ListTicketsRequest {
                    parent: "customers/contoso".into(),
                    filter: bad.into(),
                    ..Default::default()
                },
                &ctx,
            ))
            .await
            .expect_err("bad filter");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad}");
    }
    let filtered = suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                filter: r#"status = "NEEDS_ACTION" AND severity = "WARNING" AND category = "RECORDED_ISSUE" AND update_time >= "2000-01-01T00:00:00Z""#.into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("filtered")
        .into_inner();
    assert_eq!(filtered.total_size, 5);
    assert_eq!(names.len(), 5);
    suite.finish(&["contoso"]).await;
}

async fn suite_token(suite: &Suite, ctx: &mtm_proto::mtm::common::v1::CallContext) -> String {
    suite
        .tickets()
        .list_tickets(call(
            ListTicketsRequest {
                parent: "customers/contoso".into(),
                page_size: 1,
                ..Default::default()
            },
            ctx,
        ))
        .await
        .expect("page")
        .into_inner()
        .next_page_token
}
