//! Integration tests of rooms-svc: the real service on `127.0.0.1:0` over mTLS, on SQLite and
//! (feature `postgres-tests`) on PostgreSQL with a database per customer.

mod activity;
mod audit;
mod demo;
mod enrolment;
mod group_bound;
mod harness;
mod isolation;
mod migrate;
mod paging;
mod reports;
mod retention;
mod rings;
mod rooms;
mod stores;
mod tickets;

use mtm_plumbing::testing::{RunningServer, TestPki, assert_introspectable};
use rooms_svc::{Config, DEFAULT_CALLERS, serve};

/// Runs a test body once on SQLite (`$sqlite`) and, with feature `postgres-tests`, once on
/// PostgreSQL (`$postgres`).
#[macro_export]
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $body:path) => {
        #[tokio::test]
        async fn $sqlite() {
            $body($crate::harness::Backend::Sqlite).await;
        }

        #[cfg(feature = "postgres-tests")]
        #[tokio::test]
        async fn $postgres() {
            $body($crate::harness::Backend::Postgres).await;
        }
    };
}

#[tokio::test]
async fn serves_health_and_reflection_to_its_callers_over_mtls() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let template = format!("sqlite://{}/{{customer}}.db", dir.path().display());
    let config = Config::for_test(
        mtm_plumbing::config::BackendArgs {
            server: pki.server_args("rooms-svc"),
            allowed_peers: Vec::new(),
        },
        &template,
        dir.path(),
    );
    let server =
        RunningServer::start(|listener, shutdown| serve(config, listener, None, shutdown)).await;
    for caller in DEFAULT_CALLERS {
        assert_introspectable(
            server.addr,
            &pki.material(caller),
            &[
                "mtm.audit.v1.AuditInternalService",
                "mtm.audit.v1.AuditService",
                "mtm.rooms.v1.EnrolmentKeyService",
                "mtm.rooms.v1.ReportService",
                "mtm.rooms.v1.RoomGroupService",
                "mtm.rooms.v1.RoomService",
                "mtm.rooms.v1.SettingsService",
                "mtm.rooms.v1.StoreInternalService",
                "mtm.rooms.v1.TicketService",
                "mtm.rooms.v1.UpdateRingService",
            ],
        )
        .await;
    }
    server.stop().await;
}
