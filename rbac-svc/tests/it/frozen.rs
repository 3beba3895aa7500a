//! Fencing (README, "Revocation on every replica"): a replica run as a child process (the real
//! binary) is frozen with SIGSTOP while two in-process replicas keep serving. Revocations
//! still return (the frozen replica's lease runs out and the writer stops waiting for it);
//! once resumed, the frozen replica answers nothing from its old state (UNAVAILABLE until it
//! has caught up and renewed, then the revoked answer); killed with SIGKILL and started
//! again, it rejoins, and the next revocation waits for it.

use std::net::SocketAddr;
use std::time::Duration;

use mtm_plumbing::testing::{TestPki, mtls_channel};
use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tonic::transport::Channel;

use crate::support::*;

/// The child replica's lease.
const CHILD_LEASE_MS: &str = "1000";

/// The binary as a child process, with the address it bound.
struct Replica {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Replica {
    async fn spawn(pki: &TestPki, url: &str) -> Replica {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr_file = dir.path().join("addr");
        let paths = pki.paths("rbac-svc");
        let child = Command::new(env!("CARGO_BIN_EXE_rbac-svc"))
            .env("MTM_LISTEN", "127.0.0.1:0")
            .env("MTM_TLS_CERT", &paths.cert)
            .env("MTM_TLS_KEY", &paths.key)
            .env("MTM_TLS_CA", &paths.ca)
            .env("MTM_DATABASE_URL", url)
            .env("MTM_LEASE_MS", CHILD_LEASE_MS)
            .env("MTM_BOUND_ADDR_FILE", &addr_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start rbac-svc");
        let addr = loop {
            if let Some(addr) = std::fs::read_to_string(&addr_file)
                .ok()
                .and_then(|text| text.trim().parse().ok())
            {
                break addr;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        wait_ready(addr, pki).await;
        Replica {
            child,
            addr,
            _dir: dir,
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = self.child.id().expect("running") as i32;
        kill(Pid::from_raw(pid), signal).expect("signal");
    }

    async fn decisions(&self, pki: &TestPki) -> DecisionServiceClient<Channel> {
        DecisionServiceClient::new(
            mtls_channel(self.addr, &pki.material("gateway"))
                .await
                .expect("connect"),
        )
    }
}

fn check(principal: &Principal, at_least_revision: i64) -> pb::CheckRequest {
    pb::CheckRequest {
        principal: Some(principal.clone()),
        customer: "customers/a".into(),
        permission: "rooms.view".into(),
        target: Some(room("a", "r1", "g1")),
        at_least_revision,
        kind: 0,
    }
}

/// The answer, or `None` for UNAVAILABLE.
async fn answer(
    client: &mut DecisionServiceClient<Channel>,
    request: pb::CheckRequest,
) -> Option<bool> {
    match client.check(request).await {
        Ok(response) => Some(response.into_inner().decision.expect("decision").allowed),
        Err(status) if status.code() == tonic::Code::Unavailable => None,
        Err(status) => panic!("check: {status}"),
    }
}

const REL: &str = "customers/a/partnerRelationships/p";

async fn grant(running: &mut Running, user: &str) -> i64 {
    running
        .internal
        .add_primary_admins(pb::AddPrimaryAdminsRequest {
            relationship: REL.into(),
            members: vec![format!("tenants/p/users/{user}")],
        })
        .await
        .expect("grant")
        .into_inner()
        .revision
}

async fn revoke(running: &mut Running, user: &str) -> i64 {
    running
        .internal
        .remove_primary_admins(pb::RemovePrimaryAdminsRequest {
            relationship: REL.into(),
            members: vec![format!("tenants/p/users/{user}")],
        })
        .await
        .expect("a revocation returns while a replica is frozen")
        .into_inner()
        .revision
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r17_a_frozen_replica_is_fenced_and_a_killed_one_rejoins_postgres() {
    let db = Db::postgres();
    let pki = TestPki::new();
    let mut a = Running::start(&pki, &db).await;
    let b = Running::start(&pki, &db).await;
    let child = Replica::spawn(&pki, &db.url).await;
    let mut on_child = child.decisions(&pki).await;
    provision(&mut a, "a", "root").await;
    relate(&mut a, "a", "p", all_rooms(), &["zed"]).await;
    let users = ["u0", "u1", "u2", "u3"];
    let mut granted = 0;
    for user in users {
        granted = grant(&mut a, user).await;
    }
    for user in users {
        let who = principal("p", user, &[]);
        assert_eq!(
            answer(&mut on_child, check(&who, granted)).await,
            Some(true)
        );
    }

    child.signal(Signal::SIGSTOP);
    let started = std::time::Instant::now();
    for user in users {
        revoke(&mut a, user).await;
    }
    eprintln!(
        "{} revocations with a frozen replica returned in {:?} (child lease {CHILD_LEASE_MS} ms)",
        users.len(),
        started.elapsed()
    );
    let mut on_b = b.decisions.clone();
    for user in users {
        let who = principal("p", user, &[]);
        assert_eq!(answer(&mut on_b, check(&who, 0)).await, Some(false));
    }

    child.signal(Signal::SIGCONT);
    let mut unavailable = 0;
    let mut answered = 0;
    while answered < users.len() {
        let who = principal("p", users[answered], &[]);
        match answer(&mut on_child, check(&who, 0)).await {
            None => unavailable += 1,
            Some(allowed) => {
                assert!(!allowed, "the resumed replica answered from its old state");
                answered += 1;
            }
        }
    }
    eprintln!("the resumed replica answered UNAVAILABLE {unavailable} times before catching up");

    let mut child = child;
    child.signal(Signal::SIGKILL);
    child.child.wait().await.expect("killed");
    let again = Replica::spawn(&pki, &db.url).await;
    let mut on_again = again.decisions(&pki).await;
    let granted = grant(&mut a, "u0").await;
    let who = principal("p", "u0", &[]);
    assert_eq!(
        answer(&mut on_again, check(&who, granted)).await,
        Some(true)
    );
    revoke(&mut a, "u0").await;
    assert_eq!(
        answer(&mut on_again, check(&who, 0)).await,
        Some(false),
        "the restarted replica is waited for by the next revocation"
    );
    drop(again);
    a.stop().await;
    b.stop().await;
    db.finish().await;
}
