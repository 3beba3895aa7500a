//! Tests of the audit trail on a real store: appending, filtering, paging, export.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalService;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditService;
use mtm_proto::mtm::audit::v1::{
    AppendAuditRecordsRequest, AuditCategory, AuditPosition, AuditRecord, AuditResult,
    ExportAuditRecordsRequest, ListAuditRecordsRequest,
};
use mtm_proto::mtm::common::v1::{Actor, CallContext, Principal};
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_stream::StreamExt;
use tonic::{Request, Status};

use super::service::{AuditLog, AuditStores};
use super::{AuditParent, Entry, append};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(super::migration::CreateAuditRecords)]
    }
}

struct OneStore(DatabaseConnection);

#[tonic::async_trait]
impl AuditStores for OneStore {
    async fn store(&self, _parent: &AuditParent) -> Result<DatabaseConnection, Status> {
        Ok(self.0.clone())
    }
    async fn parent_of(&self, target_tenant: &str) -> Result<AuditParent, Status> {
        let id = target_tenant
            .strip_prefix("tenants/")
            .unwrap_or(target_tenant);
        Ok(AuditParent::Customer(id.to_owned()))
    }
}

fn entry(customer: &str, operation: &str, partner: bool) -> Entry {
    Entry {
        parent: AuditParent::Customer(customer.to_owned()),
        category: AuditCategory::Room,
        operation: operation.to_owned(),
        object_id: format!("customers/{customer}/rooms/r1"),
        object_name: "Room 1".to_owned(),
        result: AuditResult::Success,
        actor: Actor {
            user: "tenants/p/users/ana".to_owned(),
            upn: "ana@partner.example".to_owned(),
            tenant: "tenants/p".to_owned(),
            partner: if partner {
                "partners/p".to_owned()
            } else {
                String::new()
            },
            ..Default::default()
        },
        request_id: format!("req-{operation}"),
        status: None,
        details: vec![("fields".to_owned(), "display_name".to_owned())],
    }
}

fn context() -> CallContext {
    CallContext {
        principal: Some(Principal {
            user: "tenants/c1/users/admin".to_owned(),
            upn: "admin@c1.example".to_owned(),
            home_tenant: "tenants/c1".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn exercise(url: &str) {
    let db = crate::store::open(url, 2).await.expect("open");
    Migrator::up(&db, None).await.expect("migrate");
    for i in 0..5 {
        append(&db, "rooms-svc", entry("c1", &format!("op{i}"), i % 2 == 0))
            .await
            .expect("append");
    }
    append(&db, "rooms-svc", entry("c2", "other", true))
        .await
        .expect("append");
    let log = AuditLog::new(Arc::new(OneStore(db.clone())), "rooms-svc");

    // Newest first, never another customer's record, paged with tokens.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = log
            .list_audit_records(Request::new(ListAuditRecordsRequest {
                parent: "customers/c1".into(),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            }))
            .await
            .expect("list")
            .into_inner();
        seen.extend(page.audit_records.iter().map(|r| r.operation.clone()));
        assert!(
            page.audit_records
                .iter()
                .all(|r| r.name.starts_with("customers/c1/"))
        );
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["op4", "op3", "op2", "op1", "op0"]);

    // Filters.
    let partner_only = log
        .list_audit_records(Request::new(ListAuditRecordsRequest {
            parent: "customers/c1".into(),
            filter: r#"actor.partner = "partners/p" AND category = "ROOM""#.into(),
            ..Default::default()
        }))
        .await
        .expect("filter")
        .into_inner();
    let ops: Vec<_> = partner_only
        .audit_records
        .iter()
        .map(|r| r.operation.as_str())
        .collect();
    assert_eq!(ops, ["op4", "op2", "op0"]);
    let all = log
        .list_audit_records(Request::new(ListAuditRecordsRequest {
            parent: "customers/c1".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .audit_records;
    assert_eq!(
        all[0].details.get("fields").map(String::as_str),
        Some("display_name")
    );

    // Resuming after a position, as the gateway's merge does.
    let after = log
        .list_audit_records(Request::new(ListAuditRecordsRequest {
            parent: "customers/c1".into(),
            start_after: Some(AuditPosition {
                create_time: all[1].create_time,
                record: all[1].name.clone(),
            }),
            ..Default::default()
        }))
        .await
        .expect("resume")
        .into_inner();
    assert_eq!(after.audit_records, all[2..].to_vec());

    // A token from another query, a bad filter and a bad parent are refused.
    for (request, field) in [
        (
            ListAuditRecordsRequest {
                parent: "customers/c1".into(),
                page_token: "zz".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            ListAuditRecordsRequest {
                parent: "customers/c1".into(),
                filter: "colour = \"red\"".into(),
                ..Default::default()
            },
            "filter",
        ),
        (
            ListAuditRecordsRequest {
                parent: "rooms/c1".into(),
                ..Default::default()
            },
            "parent",
        ),
    ] {
        let status = log
            .list_audit_records(Request::new(request))
            .await
            .expect_err(field);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }

    // The gateway's records are appended once per request id, operation and object.
    let denial = AuditRecord {
        create_time: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        target_tenant: "tenants/c1".into(),
        category: AuditCategory::Room as i32,
        operation: "update".into(),
        object_id: "customers/c1/rooms/r9".into(),
        result: AuditResult::Denied as i32,
        request_id: "req-denied".into(),
        ..Default::default()
    };
    for _ in 0..2 {
        log.append_audit_records(Request::new(AppendAuditRecordsRequest {
            audit_records: vec![denial.clone()],
        }))
        .await
        .expect("append");
    }
    let denied = log
        .list_audit_records(Request::new(ListAuditRecordsRequest {
            parent: "customers/c1".into(),
            filter: r#"result = "DENIED""#.into(),
            ..Default::default()
        }))
        .await
        .expect("denied")
        .into_inner()
        .audit_records;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].source, "gateway");

    // The export streams CSV with the header first, and is itself audited.
    let mut request = Request::new(ExportAuditRecordsRequest {
        parent: "customers/c1".into(),
        filter: String::new(),
    });
    crate::context::attach(&mut request, &context());
    request.extensions_mut().insert(crate::peer::Admitted {
        caller: mtm_callgraph::Service::Gateway,
        context: mtm_callgraph::Context::Full,
    });
    let mut stream = log
        .export_audit_records(request)
        .await
        .expect("export")
        .into_inner();
    let mut csv = Vec::new();
    let mut rows = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        rows += chunk.record_count;
        csv.extend(chunk.data);
    }
    let text = String::from_utf8(csv).expect("utf8");
    assert!(text.starts_with("activity.category,activity.objectName,activity.operation,activity.resultStatus,activity.tenantId,creationTime,user.userId,user.userTenantId"));
    assert_eq!(rows, 7, "5 own records, 1 denial and the export itself");
    assert_eq!(text.lines().count(), 8);
    assert!(
        text.lines()
            .nth(1)
            .expect("newest")
            .starts_with("auditLog,")
    );
    db.close().await.expect("close");
}

#[tokio::test]
async fn r28_audit_trail_lists_filters_pages_and_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    exercise(&format!("sqlite://{}/audit.db", dir.path().display())).await;
}

#[cfg(feature = "postgres-tests")]
#[tokio::test]
async fn r28_audit_trail_lists_filters_pages_and_exports_postgres() {
    let url = crate::testing::unique_postgres_url("audit");
    exercise(&url).await;
    crate::testing::drop_postgres_database(&url).await;
}
