//! Integration tests of rbac-svc: the real service on `127.0.0.1:0` over mTLS, on SQLite and
//! (with feature `postgres-tests`) PostgreSQL.

mod accessible;
mod audit;
#[cfg(feature = "postgres-tests")]
mod barrier;
mod decisions;
mod escalation;
#[cfg(feature = "postgres-tests")]
mod frozen;
mod health;
mod internal;
mod race;
mod replicas;
mod roles;
mod support;

use mtm_plumbing::testing::{TestPki, assert_introspectable};
use rbac_svc::DEFAULT_CALLERS;

#[tokio::test]
async fn serves_health_and_reflection_to_its_callers_over_mtls() {
    let pki = TestPki::new();
    let db = support::Db::sqlite();
    let server = support::start(&pki, &db.url).await;
    for caller in DEFAULT_CALLERS {
        assert_introspectable(
            server.addr,
            &pki.material(caller),
            &[
                "mtm.audit.v1.AuditInternalService",
                "mtm.audit.v1.AuditService",
                "mtm.rbac.v1.DecisionService",
                "mtm.rbac.v1.PermissionService",
                "mtm.rbac.v1.RbacInternalService",
                "mtm.rbac.v1.RoleService",
            ],
        )
        .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_store_that_cannot_be_opened_stops_the_server_with_an_error() {
    let pki = TestPki::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = rbac_svc::Config {
        backend: mtm_plumbing::config::BackendArgs {
            server: pki.server_args("rbac-svc"),
            allowed_peers: Vec::new(),
        },
        database_url: "mysql://nowhere/rbac".into(),
        lease_ms: rbac_svc::DEFAULT_LEASE_MS,
    };
    let outcome = rbac_svc::serve(
        config,
        listener,
        None,
        mtm_plumbing::CancellationToken::new(),
    )
    .await;
    assert!(
        matches!(outcome, Err(rbac_svc::StartError::Store(_))),
        "{outcome:?}"
    );
}
