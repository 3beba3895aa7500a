//! The gateway's merged `mtm.audit.v1.AuditService` (R28) in front of the real identity-svc,
//! tenancy-svc, rbac-svc and rooms-svc, all on 127.0.0.1:0 over mTLS: records written by the
//! backends for actions taken through the public API come back as one time-ordered stream per
//! customer, filtered, paged and exported, to the callers allowed to read it and nobody else.

mod world;

use mtm_plumbing::audit::csv::{CsvWriter, HEADER};
use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
use mtm_proto::mtm::audit::v1::{
    AppendAuditRecordsRequest, AuditCategory, AuditPosition, AuditRecord, AuditResult,
    ListAuditRecordsRequest,
};
use tonic::Code;
use world::World;

use crate::harness::calls::bearer;

fn key(record: &AuditRecord) -> (i64, i32, String) {
    let time = record.create_time.expect("create time");
    (time.seconds, time.nanos, record.name.clone())
}

fn names(records: &[AuditRecord]) -> Vec<&str> {
    records.iter().map(|r| r.name.as_str()).collect()
}

#[tokio::test]
async fn r28_one_time_ordered_stream_merges_every_backends_records() {
    let world = World::build().await;
    let records = world.all("").await;

    for pair in records.windows(2) {
        assert!(
            key(&pair[0]) > key(&pair[1]),
            "newest first, then by id: {:?} before {:?}",
            pair[0].name,
            pair[1].name
        );
    }
    let sources: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.source.as_str()).collect();
    for backend in ["identity-svc", "tenancy-svc", "rooms-svc"] {
        assert!(sources.contains(backend), "{backend} in {sources:?}");
    }
    let operations: Vec<(AuditCategory, &str)> = records
        .iter()
        .map(|r| (r.category(), r.operation.as_str()))
        .collect();
    assert!(operations.contains(&(AuditCategory::Group, "create")));
    assert!(operations.contains(&(AuditCategory::User, "create")));
    assert!(
        operations
            .iter()
            .any(|(c, _)| *c == AuditCategory::PartnerInvitation)
    );
    assert!(
        records
            .iter()
            .all(|r| r.name.starts_with("customers/contoso/auditRecords/")
                && r.target_tenant == "tenants/contoso")
    );
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_filters_apply_to_every_backend() {
    let world = World::build().await;
    let all = world.all("").await;

    let groups = world.all("category = \"GROUP\"").await;
    assert!(!groups.is_empty());
    assert!(groups.iter().all(|r| r.category() == AuditCategory::Group));
    assert_eq!(
        groups.len(),
        all.iter()
            .filter(|r| r.category() == AuditCategory::Group)
            .count()
    );

    let by_partner = world.all("actor.partner = \"partners/fabrikam\"").await;
    let partner_acts: Vec<(AuditCategory, &str)> = by_partner
        .iter()
        .map(|r| (r.category(), r.operation.as_str()))
        .collect();
    // Newest first: the ring edit, then the acceptance with the primary admins' role and
    // assignments it made in rbac-svc, all under the accepting partner person.
    assert_eq!(
        partner_acts,
        [
            (AuditCategory::Ring, "update"),
            (AuditCategory::Assignment, "update"),
            (AuditCategory::Assignment, "create"),
            (AuditCategory::Role, "create"),
            (AuditCategory::PartnerInvitation, "accept"),
        ]
    );
    assert!(by_partner.iter().all(|r| {
        r.actor
            .as_ref()
            .is_some_and(|a| a.partner == "partners/fabrikam" && !a.partner_relationship.is_empty())
    }));

    // The acceptance is tenancy-svc's, its role changes rbac-svc's and the ring edit
    // rooms-svc's: one filter reaches all three.
    let by_tenant = world.all("actor.tenant = \"tenants/fabrikam\"").await;
    let sources: std::collections::BTreeSet<&str> =
        by_tenant.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(
        sources,
        ["rbac-svc", "rooms-svc", "tenancy-svc"]
            .into_iter()
            .collect(),
        "{by_tenant:?}"
    );
    assert!(by_tenant.iter().all(|r| {
        r.actor
            .as_ref()
            .is_some_and(|a| a.tenant == "tenants/fabrikam")
    }));

    // A time range cuts the merged stream at the same place in every backend.
    let middle = all[all.len() / 2].create_time.expect("time");
    let since = format!(
        "create_time >= \"{}\"",
        prost_types::Timestamp {
            seconds: middle.seconds,
            nanos: (middle.nanos / 1000) * 1000,
        }
    );
    let recent = world.all(&since).await;
    let expected: Vec<&str> = all
        .iter()
        .filter(|r| key(r) >= (middle.seconds, middle.nanos, String::new()))
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names(&recent), expected);

    let bad = world
        .list_error(
            &world.contoso.admin,
            "customers/contoso",
            "colour = \"red\"",
        )
        .await;
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("filter"), "{bad:?}");
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_paging_with_the_token_yields_every_record_once() {
    let world = World::build().await;
    let all = world.all("").await;
    assert!(all.len() > 5, "enough records to page: {}", all.len());

    for page_size in [1, 2, 3] {
        let paged = world
            .walk(&world.contoso.admin, "customers/contoso", "", page_size)
            .await;
        assert_eq!(names(&paged), names(&all), "page size {page_size}");
    }

    // `start_after` resumes every backend after one place in the merged order.
    let resumed = world
        .audit()
        .list_audit_records(bearer(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1000,
                start_after: Some(AuditPosition {
                    create_time: all[2].create_time,
                    record: all[2].name.clone(),
                }),
                ..Default::default()
            },
            &world.contoso.admin.token,
        ))
        .await
        .expect("resume after a position")
        .into_inner();
    assert_eq!(names(&resumed.audit_records), names(&all[3..]));

    // A token is valid only with the filter it was issued for.
    let first = world
        .audit()
        .list_audit_records(bearer(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1,
                ..Default::default()
            },
            &world.contoso.admin.token,
        ))
        .await
        .expect("first page")
        .into_inner();
    let foreign = world
        .audit()
        .list_audit_records(bearer(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1,
                page_token: first.next_page_token,
                filter: "category = \"GROUP\"".into(),
                start_after: None,
            },
            &world.contoso.admin.token,
        ))
        .await
        .expect_err("token of another filter");
    assert_eq!(foreign.code(), Code::InvalidArgument);
    assert!(foreign.message().contains("page_token"), "{foreign:?}");
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_export_is_csv_with_the_reference_columns_first_and_the_listed_records() {
    let world = World::build().await;
    let (data, count) = world
        .export(&world.contoso.admin, "customers/contoso")
        .await
        .expect("export");
    let text = String::from_utf8(data.clone()).expect("utf-8");
    assert_eq!(text.split("\r\n").next(), Some(HEADER.join(",").as_str()));

    // The export is itself audited, before it is read, so the log listed now is exactly what
    // was exported.
    let listed = world.all("").await;
    assert_eq!(usize::try_from(count).expect("count"), listed.len());
    assert!(
        listed
            .iter()
            .any(|r| r.category() == AuditCategory::AuditLog
                && r.operation == "export_audit_records"
                && r.source == "gateway")
    );
    let mut expected = CsvWriter::new(true);
    for record in &listed {
        expected.push(record);
    }
    assert_eq!(
        String::from_utf8(expected.into_bytes()).expect("utf-8"),
        text
    );
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_reading_a_customers_log_takes_settings_view_and_partners_never_do() {
    let world = World::build().await;
    let customer = "customers/contoso";

    let lead = world.list_error(&world.site_lead, customer, "").await;
    assert_eq!(lead.code(), Code::PermissionDenied, "{lead:?}");
    let lead_export = world
        .export(&world.site_lead, customer)
        .await
        .expect_err("no export without settings.view");
    assert_eq!(lead_export.code(), Code::PermissionDenied);

    // fabrikam is contoso's primary admin, yet partner users never read the customer's log.
    let partner = world.list_error(&world.fabrikam.admin, customer, "").await;
    assert_eq!(partner.code(), Code::PermissionDenied, "{partner:?}");

    // The refused reads and export are audited as denied, the successful list reads are not.
    let refused = world.all("category = \"AUDIT_LOG\"").await;
    let mut seen: Vec<(&str, &str)> = refused
        .iter()
        .map(|r| {
            assert_eq!(r.result(), AuditResult::Denied, "{r:?}");
            assert_eq!(r.status_code, Code::PermissionDenied as i32, "{r:?}");
            let upn = r.actor.as_ref().map_or("", |a| a.upn.as_str());
            (r.operation.as_str(), upn)
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("export_audit_records", "lead@contoso.example"),
            ("list_audit_records", "admin@fabrikam.example"),
            ("list_audit_records", "lead@contoso.example"),
        ]
    );

    let anonymous = world
        .audit()
        .list_audit_records(ListAuditRecordsRequest {
            parent: customer.into(),
            ..Default::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_a_partners_admins_read_the_partners_own_log() {
    let world = World::build().await;
    let records = world
        .walk(&world.fabrikam.admin, "partners/fabrikam", "", 100)
        .await;
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| r.name.starts_with("partners/fabrikam/auditRecords/"))
    );
    assert!(
        records
            .iter()
            .any(|r| r.category() == AuditCategory::PartnerInvitation),
        "the acceptance is recorded for the partner too"
    );
    world.suite.stop().await;
}

#[tokio::test]
async fn r23_r37_another_tenants_log_is_never_visible() {
    let world = World::build().await;

    for parent in [
        "customers/northwind",
        "partners/fabrikam",
        "customers/nobody",
    ] {
        let listed = world.list_error(&world.contoso.admin, parent, "").await;
        assert_eq!(listed.code(), Code::NotFound, "{parent}: {listed:?}");
        let exported = world
            .export(&world.contoso.admin, parent)
            .await
            .expect_err("no export of another tenant's log");
        assert_eq!(exported.code(), Code::NotFound, "{parent}: {exported:?}");
    }
    let partner = world
        .list_error(&world.fabrikam.admin, "customers/northwind", "")
        .await;
    assert_eq!(partner.code(), Code::NotFound, "{partner:?}");

    let contoso = world.all("").await;
    assert!(contoso.iter().all(
        |r| !r.name.contains("northwind") && r.object_id.rsplit('/').next() != Some("nw-site")
    ));
    let northwind = world
        .walk(&world.northwind.admin, "customers/northwind", "", 1000)
        .await;
    assert!(
        northwind
            .iter()
            .any(|r| r.object_id == "customers/northwind/roomGroups/nw-site")
    );
    assert!(
        northwind
            .iter()
            .all(|r| r.name.starts_with("customers/northwind/auditRecords/"))
    );
    // contoso's attempt to export northwind's log is northwind's to know, not contoso's.
    assert!(northwind.iter().any(|r| {
        r.category() == AuditCategory::AuditLog
            && r.result() == AuditResult::Denied
            && r.actor
                .as_ref()
                .is_some_and(|a| a.upn == "admin@contoso.example")
    }));
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_large_logs_merge_in_order_and_export_in_bounded_chunks() {
    let world = World::build().await;
    // 2,400 records alternating between rooms-svc and tenancy-svc, a millisecond apart, an
    // hour ago: more than one page of the largest size and many export chunks.
    let base_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("millis")
        - 3_600_000;
    let bulk = |parity: i64| -> Vec<AuditRecord> {
        (0..2_400)
            .filter(|i| i % 2 == parity)
            .map(|i| {
                let ms = base_ms + i;
                AuditRecord {
                    create_time: Some(prost_types::Timestamp {
                        seconds: ms.div_euclid(1000),
                        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).expect("nanos"),
                    }),
                    target_tenant: "tenants/contoso".into(),
                    category: AuditCategory::Room.into(),
                    operation: "update".into(),
                    object_id: format!("customers/contoso/rooms/bulk-{i}"),
                    object_name: format!("Bulk room {i}, \"quoted\""),
                    result: AuditResult::Success.into(),
                    ..Default::default()
                }
            })
            .collect()
    };
    for (channel, parity) in [
        (world.suite.stack.rooms.clone(), 0),
        (world.suite.stack.tenancy.clone(), 1),
    ] {
        for part in bulk(parity).chunks(600) {
            AuditInternalServiceClient::new(channel.clone())
                .append_audit_records(AppendAuditRecordsRequest {
                    audit_records: part.to_vec(),
                })
                .await
                .expect("append bulk records");
        }
    }

    let listed = world.all("").await;
    let bulk_objects: Vec<&str> = listed
        .iter()
        .filter(|r| r.object_id.contains("/rooms/bulk-"))
        .map(|r| r.object_id.as_str())
        .collect();
    let expected: Vec<String> = (0..2_400)
        .rev()
        .map(|i| format!("customers/contoso/rooms/bulk-{i}"))
        .collect();
    assert_eq!(bulk_objects, expected, "alternating backends, newest first");
    let paged = world
        .walk(&world.contoso.admin, "customers/contoso", "", 700)
        .await;
    assert_eq!(names(&paged), names(&listed));

    let chunks = world
        .export_chunks(&world.contoso.admin, "customers/contoso")
        .await
        .expect("export");
    assert!(chunks.len() > 2, "{} chunks", chunks.len());
    for chunk in &chunks {
        assert!(chunk.data.ends_with(b"\r\n"), "whole lines only");
    }
    let exported: i32 = chunks.iter().map(|c| c.record_count).sum();
    let after_export = world.all("").await;
    assert_eq!(
        usize::try_from(exported).expect("count"),
        after_export.len()
    );
    let mut expected_csv = CsvWriter::new(true);
    for record in &after_export {
        expected_csv.push(record);
    }
    let data: Vec<u8> = chunks.into_iter().flat_map(|c| c.data).collect();
    assert_eq!(data, expected_csv.into_bytes());
    world.suite.stop().await;
}

#[tokio::test]
async fn r28_a_backend_that_cannot_answer_fails_the_read_and_is_named() {
    let mut world = World::build().await;
    world.suite.stack.stop_one("rooms-svc").await;

    let listed = world
        .list_error(&world.contoso.admin, "customers/contoso", "")
        .await;
    assert_eq!(listed.code(), Code::Unavailable, "{listed:?}");
    assert!(listed.message().contains("rooms-svc"), "{listed:?}");
    // The export is recorded in the customer's own store, which is out of reach: no export.
    let exported = world
        .export(&world.contoso.admin, "customers/contoso")
        .await
        .expect_err("an export that cannot be audited does not run");
    assert_eq!(exported.code(), Code::Unavailable, "{exported:?}");
    world.suite.stop().await;
}
