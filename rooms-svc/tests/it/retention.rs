//! The audit retention sweep (R28) reaches every provisioned store, also those no pool holds
//! open, and opens them under the pool cap.

use std::time::Duration;

use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
use mtm_proto::mtm::audit::v1::*;
use mtm_proto::mtm::rooms::v1::GetStoreInfoRequest;
use rooms_svc::activity::TicketActivity;
use rooms_svc::locator::{Locator, LocatorSettings, Templates};
use sea_orm::{ConnectionTrait, Statement};

use crate::harness::{Backend, Suite};
use crate::on_both_backends;

const CUSTOMERS: [&str; 3] = ["contoso", "fabrikam", "northwind"];

fn record(customer: &str, days_ago: i64, operation: &str) -> AuditRecord {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    AuditRecord {
        create_time: Some(prost_types::Timestamp {
            seconds: now - days_ago * 86_400,
            nanos: 0,
        }),
        target_tenant: format!("tenants/{customer}"),
        category: AuditCategory::Room as i32,
        operation: operation.into(),
        object_id: format!("customers/{customer}/rooms/r1"),
        result: AuditResult::Denied as i32,
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

/// The records with `operation` in the customer's store, read without going through the
/// service (whose retention task purges each store it opens).
async fn stored(suite: &Suite, customer: &str, operation: &str) -> i64 {
    let url = suite.template().replace("{customer}", customer);
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                sea_orm::DatabaseBackend::Postgres => {
                    "SELECT COUNT(*) FROM audit_records WHERE operation = $1"
                }
                _ => "SELECT COUNT(*) FROM audit_records WHERE operation = ?",
            },
            [operation.into()],
        ))
        .await
        .expect("count")
        .expect("row");
    let count: i64 = row.try_get_by_index(0).expect("count");
    db.close().await.expect("close");
    count
}

/// Backdates the records with `operation` in the customer's store by `days`, written into the
/// store while the service holds it closed, so its own retention task (which purges stores it
/// opens) cannot race the sweep under test.
async fn backdate(suite: &Suite, customer: &str, operation: &str, days: i64) {
    let url = suite.template().replace("{customer}", customer);
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE audit_records SET create_time_us = create_time_us - $1 WHERE operation = $2"
        }
        _ => "UPDATE audit_records SET create_time_us = create_time_us - ? WHERE operation = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [(days * 86_400_000_000).into(), operation.into()],
    ))
    .await
    .expect("backdate");
    db.close().await.expect("close");
}

on_both_backends!(
    r28_retention_sweep_covers_stores_that_are_not_open,
    r28_retention_sweep_covers_stores_that_are_not_open_postgres,
    sweep_covers_closed_stores
);

async fn sweep_covers_closed_stores(backend: Backend) {
    // The service keeps one store open, so every store but the last one used is closed.
    let suite = Suite::start_with(backend, 1).await;
    for customer in CUSTOMERS {
        suite.provision(customer).await;
    }
    for customer in &CUSTOMERS[..2] {
        AuditInternalServiceClient::new(suite.channel.clone())
            .append_audit_records(AppendAuditRecordsRequest {
                audit_records: vec![
                    record(customer, 10, "old_denial"),
                    record(customer, 10, "recent_denial"),
                ],
            })
            .await
            .expect("append");
    }
    suite
        .internal()
        .get_store_info(GetStoreInfoRequest {
            customer: "customers/northwind".into(),
        })
        .await
        .expect("use the last store");
    for customer in &CUSTOMERS[..2] {
        backdate(&suite, customer, "old_denial", 190).await;
        assert_eq!(stored(&suite, customer, "old_denial").await, 1);
    }
    const CAP: usize = 2;
    let activity_dir = tempfile::tempdir().expect("tempdir");
    let activity = TicketActivity::open(&format!(
        "sqlite://{}/ticket-activity.db",
        activity_dir.path().display()
    ))
    .await
    .expect("activity database");
    let sweeper = Locator::new(
        LocatorSettings {
            templates: Templates::new(suite.template(), None).expect("templates"),
            max_open_stores: CAP,
            idle_timeout: Duration::from_secs(300),
            max_connections: 1,
        },
        std::sync::Arc::new(activity),
    );
    let listed: Vec<String> = sweeper
        .provisioned()
        .await
        .expect("list")
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(listed, CUSTOMERS, "every provisioned store, none open here");
    assert_eq!(sweeper.open_count(), 0);
    assert_eq!(
        rooms_svc::retention::purge_all_stores(&sweeper)
            .await
            .expect("sweep"),
        3
    );
    assert_eq!(
        sweeper.open_count(),
        0,
        "stores opened for the sweep are closed again"
    );
    for customer in &CUSTOMERS[..2] {
        assert_eq!(
            stored(&suite, customer, "old_denial").await,
            0,
            "{customer}: past the 180-day default retention"
        );
        assert_eq!(stored(&suite, customer, "recent_denial").await, 1);
    }
    let open_one = sweeper
        .open(&rooms_svc::names::CustomerId::new("contoso").expect("id"))
        .await
        .expect("open");
    assert_eq!(
        rooms_svc::retention::purge_all_stores(&sweeper)
            .await
            .expect("sweep"),
        3
    );
    assert_eq!(
        sweeper.open_count(),
        1,
        "a store that was open before the sweep stays open"
    );
    drop(open_one);
    sweeper.close_all().await;
    suite.finish(&CUSTOMERS).await;
}
