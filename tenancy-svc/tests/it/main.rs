//! Integration tests of tenancy-svc: the real service on `127.0.0.1:0` over mTLS, with real
//! identity-svc, rbac-svc and rooms-svc servers beside it.

mod support;

/// Instantiates a test body (an `async fn(Store)`) on SQLite and, with the feature
/// `postgres-tests`, on PostgreSQL.
macro_rules! on_both {
    ($sqlite:ident, $postgres:ident, $body:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            $body(crate::support::Store::Sqlite).await
        }

        #[cfg(feature = "postgres-tests")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $postgres() {
            $body(crate::support::Store::Postgres).await
        }
    };
}

mod actors;
mod approvals;
mod failsafe;
mod invitations;
mod managed;
mod managers;
mod reconcile;
mod relationships;
mod tenants;
mod upstream;

use mtm_plumbing::testing::{RunningServer, TestPki, assert_introspectable};
use tenancy_svc::{Config, DEFAULT_CALLERS, serve};

#[tokio::test]
async fn serves_health_and_reflection_to_its_callers_over_mtls() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::for_test(
        pki.server_args("tenancy-svc"),
        format!("sqlite://{}/tenancy.db", dir.path().display()),
        "https://127.0.0.1:1".into(),
        "https://127.0.0.1:1".into(),
        "https://127.0.0.1:1".into(),
    );
    let server =
        RunningServer::start(|listener, shutdown| serve(config, listener, None, shutdown)).await;
    for caller in DEFAULT_CALLERS {
        assert_introspectable(
            server.addr,
            &pki.material(caller),
            &[
                "mtm.tenancy.v1.TenantService",
                "mtm.tenancy.v1.TenantManagerService",
                "mtm.tenancy.v1.InvitationService",
                "mtm.tenancy.v1.RelationshipService",
                "mtm.tenancy.v1.ApprovalService",
                "mtm.tenancy.v1.TenancyInternalService",
                "mtm.audit.v1.AuditService",
                "mtm.audit.v1.AuditInternalService",
            ],
        )
        .await;
    }
    server.stop().await;
}
