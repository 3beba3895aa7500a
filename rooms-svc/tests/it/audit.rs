//! The audit log of a customer store (R28): every change in the same transaction, failures
//! and denials too, key downloads, and the CSV export.

use mtm_proto::mtm::audit::v1::*;
use mtm_proto::mtm::rooms::v1::*;
use prost_types::FieldMask;
use tokio_stream::StreamExt;

use crate::harness::{Backend, Suite, admin, call, scoped};
use crate::on_both_backends;

on_both_backends!(
    r28_changes_failures_and_key_reads_are_audited_in_the_customer_store,
    r28_changes_failures_and_key_reads_are_audited_in_the_customer_store_postgres,
    audited
);

async fn audited(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    let room = suite.room("contoso", "hq", "r1").await;
    let ctx = admin("contoso");
    suite
        .keys()
        .download_enrolment_key(call(
            DownloadEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
            },
            &ctx,
        ))
        .await
        .expect("download");
    let partner = scoped("contoso", &["hq"], &[]);
    suite
        .rooms()
        .update_room(call(
            UpdateRoomRequest {
                room: Some(Room {
                    name: room.name.clone(),
                    etag: "\"999\"".into(),
                    display_name: "X".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["display_name".into()],
                }),
            },
            &partner,
        ))
        .await
        .expect_err("stale");
    suite
        .rooms()
        .set_room_suppressed(call(
            SetRoomSuppressedRequest {
                name: room.name.clone(),
                suppressed: true,
                etag: String::new(),
            },
            &partner,
        ))
        .await
        .expect("suppress");
    suite
        .settings()
        .update_settings(call(
            UpdateSettingsRequest {
                settings: Some(Settings {
                    name: "customers/contoso/settings".into(),
                    partner_mfa_required: true,
                    audit_retention_days: 365,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["partner_mfa_required".into(), "audit_retention_days".into()],
                }),
            },
            &ctx,
        ))
        .await
        .expect("settings");
    let records = suite
        .audit()
        .list_audit_records(call(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 100,
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("list")
        .into_inner()
        .audit_records;
    let find = |operation: &str, category: AuditCategory| {
        records
            .iter()
            .find(|r| r.operation == operation && r.category == category as i32)
            .unwrap_or_else(|| panic!("no {operation} record in {records:#?}"))
    };
    let created = find("create", AuditCategory::Room);
    assert_eq!(created.result, AuditResult::Success as i32);
    assert_eq!(created.object_id, room.name);
    assert_eq!(created.target_tenant, "tenants/contoso");
    assert_eq!(created.source, "rooms-svc");
    let download = find("download_enrolment_key", AuditCategory::Key);
    assert_eq!(
        download.actor.as_ref().map(|a| a.user.as_str()),
        Some("tenants/contoso/users/admin")
    );
    let failed = find("update", AuditCategory::Room);
    assert_eq!(failed.result, AuditResult::Failure as i32);
    assert_eq!(failed.status_code, tonic::Code::Aborted as i32);
    let suppressed = find("set_suppressed", AuditCategory::Room);
    let actor = suppressed.actor.clone().expect("actor");
    assert_eq!(
        actor.partner, "partners/fabrikam-msp",
        "a partner action names the partner"
    );
    assert_eq!(
        actor.partner_relationship,
        "customers/contoso/partnerRelationships/rel-1"
    );
    assert_eq!(
        find("update", AuditCategory::Setting).result,
        AuditResult::Success as i32
    );
    find("provision_store", AuditCategory::Tenant);
    let by_partner = suite
        .audit()
        .list_audit_records(call(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                filter: r#"actor.partner = "partners/fabrikam-msp""#.into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("filtered")
        .into_inner()
        .audit_records;
    assert_eq!(by_partner.len(), 2, "the failed update and the suppression");
    let mut export = suite
        .audit()
        .export_audit_records(call(
            ExportAuditRecordsRequest {
                parent: "customers/contoso".into(),
                filter: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("export")
        .into_inner();
    let mut csv = Vec::new();
    while let Some(chunk) = export.next().await {
        csv.extend(chunk.expect("chunk").data);
    }
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.starts_with(
        "activity.category,activity.objectName,activity.operation,activity.resultStatus,activity.tenantId,creationTime,user.userId,user.userTenantId"
    ));
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
    assert_eq!(info.audit_retention_days, 365);
    assert!(info.partner_mfa_required);
    let other = suite
        .audit()
        .list_audit_records(call(
            ListAuditRecordsRequest {
                parent: "partners/contoso".into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect_err("rooms-svc keeps no partner logs");
    assert_eq!(other.code(), tonic::Code::NotFound);
    let bad = suite
        .settings()
        .update_settings(call(
            UpdateSettingsRequest {
                settings: Some(Settings {
                    name: "customers/contoso/settings".into(),
                    audit_retention_days: 7,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["audit_retention_days".into()],
                }),
            },
            &ctx,
        ))
        .await
        .expect_err("too short");
    assert_eq!(
        crate::harness::violated_fields(&bad),
        ["settings.audit_retention_days"]
    );
    suite.finish(&["contoso"]).await;
}

#[tokio::test]
async fn r28_audit_records_past_retention_are_deleted() {
    use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
    // One open store at a time, so opening another customer closes contoso's pool and the
    // next use of contoso opens it again, which the retention task hears of.
    let suite = Suite::start_with(Backend::Sqlite, 1).await;
    suite.provision("contoso").await;
    suite.provision("northwind").await;
    let ctx = admin("contoso");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let record = |days_ago: i64, operation: &str| AuditRecord {
        create_time: Some(prost_types::Timestamp {
            seconds: now - days_ago * 86_400,
            nanos: 0,
        }),
        target_tenant: "tenants/contoso".into(),
        category: AuditCategory::Room as i32,
        operation: operation.into(),
        object_id: "customers/contoso/rooms/r1".into(),
        result: AuditResult::Denied as i32,
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    };
    AuditInternalServiceClient::new(suite.channel.clone())
        .append_audit_records(AppendAuditRecordsRequest {
            audit_records: vec![record(200, "old_denial"), record(10, "recent_denial")],
        })
        .await
        .expect("append");
    suite
        .internal()
        .get_store_info(GetStoreInfoRequest {
            customer: "customers/northwind".into(),
        })
        .await
        .expect("open another store");
    // Using contoso's store again opens it; the retention task then purges it.
    let mut operations = Vec::new();
    for _ in 0..200 {
        operations = suite
            .audit()
            .list_audit_records(call(
                ListAuditRecordsRequest {
                    parent: "customers/contoso".into(),
                    filter: r#"result = "DENIED""#.into(),
                    ..Default::default()
                },
                &ctx,
            ))
            .await
            .expect("list")
            .into_inner()
            .audit_records
            .into_iter()
            .map(|r| r.operation)
            .collect::<Vec<String>>();
        if operations.len() < 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        operations,
        ["recent_denial"],
        "past the 180-day default retention"
    );
    suite.finish(&[]).await;
}
