//! Test support: stores on both backends, a started server, clients and principals.

use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::common::v1::{CallContext, Principal, RoomScope};
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient;
use rbac_svc::{Config, StartError, serve};
use tonic::transport::Channel;

/// A fresh store for one test.
pub struct Db {
    /// Its URL.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: bool,
}

impl Db {
    /// A temp-file SQLite database.
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("rbac.db").display());
        Db {
            url,
            _dir: Some(dir),
            postgres: false,
        }
    }

    /// A fresh PostgreSQL database on the test server.
    #[cfg(feature = "postgres-tests")]
    pub fn postgres() -> Db {
        Db {
            url: mtm_plumbing::testing::unique_postgres_url("rbac"),
            _dir: None,
            postgres: true,
        }
    }

    /// Drops the PostgreSQL database.
    pub async fn finish(self) {
        if self.postgres {
            mtm_plumbing::testing::drop_postgres_database(&self.url).await;
        }
    }
}

/// Instantiates an async test body `fn(Db)` for SQLite and, with `postgres-tests`, PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($body:path, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let db = $crate::support::Db::sqlite();
            $body(&db).await;
            db.finish().await;
        }

        #[cfg(feature = "postgres-tests")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let db = $crate::support::Db::postgres();
            $body(&db).await;
            db.finish().await;
        }
    };
}

/// Waits (on the health watch stream, no polling) until the server at `addr` reports its
/// overall health SERVING, i.e. its decision index is built.
pub async fn wait_ready(addr: std::net::SocketAddr, pki: &TestPki) {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channel = mtls_channel(addr, &pki.material("gateway"))
        .await
        .expect("connect");
    let mut updates = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health watch")
        .into_inner();
    while let Some(update) = updates.message().await.expect("health update") {
        if update.status == ServingStatus::Serving as i32 {
            return;
        }
    }
    panic!("the health stream ended before the server was ready");
}

/// Starts rbac-svc on `url` and waits until its index is built.
pub async fn start(pki: &TestPki, url: &str) -> RunningServer<StartError> {
    let server = start_unready(pki, url).await;
    wait_ready(server.addr, pki).await;
    server
}

/// Starts rbac-svc on `url` without waiting for its index.
pub async fn start_unready(pki: &TestPki, url: &str) -> RunningServer<StartError> {
    let config = config(pki, url);
    RunningServer::start(|listener, shutdown| serve(config, listener, None, shutdown)).await
}

/// Starts rbac-svc on `url`; it opens the store and builds its index only once `go` is sent.
pub async fn start_gated(
    pki: &TestPki,
    url: &str,
    go: tokio::sync::oneshot::Receiver<()>,
) -> RunningServer<StartError> {
    let config = config(pki, url);
    let gate = async move {
        let _ = go.await;
    };
    RunningServer::start(|listener, shutdown| {
        rbac_svc::serve_after(gate, config, listener, None, shutdown)
    })
    .await
}

fn config(pki: &TestPki, url: &str) -> Config {
    Config {
        backend: mtm_plumbing::config::BackendArgs {
            server: pki.server_args("rbac-svc"),
            allowed_peers: Vec::new(),
        },
        database_url: url.to_owned(),
        lease_ms: rbac_svc::DEFAULT_LEASE_MS,
    }
}

/// A started server with clients.
pub struct Running {
    /// The server.
    pub server: RunningServer<StartError>,
    /// A channel as the gateway.
    pub channel: Channel,
    /// The internal API, as tenancy-svc.
    pub internal: RbacInternalServiceClient<Channel>,
    /// Decisions, as the gateway.
    pub decisions: DecisionServiceClient<Channel>,
}

impl Running {
    /// Starts rbac-svc on `db` and connects.
    pub async fn start(pki: &TestPki, db: &Db) -> Running {
        let server = start(pki, &db.url).await;
        let channel = mtls_channel(server.addr, &pki.material("gateway"))
            .await
            .expect("connect");
        let tenancy = mtls_channel(server.addr, &pki.material("tenancy-svc"))
            .await
            .expect("connect");
        Running {
            server,
            internal: RbacInternalServiceClient::new(tenancy),
            decisions: DecisionServiceClient::new(channel.clone()),
            channel,
        }
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// A principal: `tenants/{tenant}/users/{user}` in the given groups of its tenant.
pub fn principal(tenant: &str, user: &str, groups: &[&str]) -> Principal {
    Principal {
        user: format!("tenants/{tenant}/users/{user}"),
        upn: format!("{user}@{tenant}.example"),
        home_tenant: format!("tenants/{tenant}"),
        groups: groups
            .iter()
            .map(|g| format!("tenants/{tenant}/groups/{g}"))
            .collect(),
        ..Principal::default()
    }
}

/// A request carrying `principal` in the call context, as the gateway forwards it.
pub fn as_caller<T>(principal: &Principal, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(
        &mut request,
        &CallContext {
            principal: Some(principal.clone()),
            request_id: "test".into(),
            ..CallContext::default()
        },
    );
    request
}

/// A scope of room groups and rooms of `customer`.
pub fn scope(customer: &str, groups: &[&str], rooms: &[&str]) -> RoomScope {
    RoomScope {
        all_rooms: false,
        room_groups: groups
            .iter()
            .map(|g| format!("customers/{customer}/roomGroups/{g}"))
            .collect(),
        rooms: rooms
            .iter()
            .map(|r| format!("customers/{customer}/rooms/{r}"))
            .collect(),
        rooms_in_groups: Vec::new(),
    }
}

/// Whether `scope` covers room `room` of customer `a` while it is in group `group`, group-bound
/// rooms included.
pub fn covers(scope: &RoomScope, room: &str, group: &str) -> bool {
    let room = format!("customers/a/rooms/{room}");
    let group = format!("customers/a/roomGroups/{group}");
    scope.all_rooms
        || scope.rooms.contains(&room)
        || scope.room_groups.contains(&group)
        || scope
            .rooms_in_groups
            .iter()
            .any(|b| b.room == room && b.room_groups.contains(&group))
}

/// Every room.
pub fn all_rooms() -> RoomScope {
    RoomScope {
        all_rooms: true,
        ..RoomScope::default()
    }
}

/// A room target.
pub fn room(customer: &str, room: &str, group: &str) -> pb::DecisionTarget {
    pb::DecisionTarget {
        target: Some(pb::decision_target::Target::Room(pb::RoomTarget {
            room: format!("customers/{customer}/rooms/{room}"),
            room_group: format!("customers/{customer}/roomGroups/{group}"),
        })),
    }
}

/// Provisions `customer` with first admin `admin`.
pub async fn provision(running: &mut Running, customer: &str, admin: &str) -> i64 {
    running
        .internal
        .provision_customer(pb::ProvisionCustomerRequest {
            customer: format!("customers/{customer}"),
            first_admin: format!("tenants/{customer}/users/{admin}"),
        })
        .await
        .expect("provision")
        .into_inner()
        .revision
}

/// Relates `partner` to `customer` (relationship id `partner`) with `scope`, primary admins
/// `admins` (users of the partner).
pub async fn relate(
    running: &mut Running,
    customer: &str,
    partner: &str,
    scope: RoomScope,
    admins: &[&str],
) -> i64 {
    let relationship = format!("customers/{customer}/partnerRelationships/{partner}");
    running
        .internal
        .put_relationship(pb::PutRelationshipRequest {
            relationship: relationship.clone(),
            partner: format!("partners/{partner}"),
            customer: format!("customers/{customer}"),
            scope: Some(scope),
            state: mtm_proto::mtm::common::v1::RelationshipState::Active as i32,
            end_time: None,
        })
        .await
        .expect("put relationship");
    running
        .internal
        .add_primary_admins(pb::AddPrimaryAdminsRequest {
            relationship,
            members: admins
                .iter()
                .map(|a| format!("tenants/{partner}/users/{a}"))
                .collect(),
        })
        .await
        .expect("add primary admins")
        .into_inner()
        .revision
}

/// Checks one permission.
pub async fn check(
    running: &mut Running,
    principal: &Principal,
    customer: &str,
    permission: &str,
    target: Option<pb::DecisionTarget>,
) -> pb::Decision {
    running
        .decisions
        .check(pb::CheckRequest {
            principal: Some(principal.clone()),
            customer: format!("customers/{customer}"),
            permission: permission.into(),
            target,
            ..pb::CheckRequest::default()
        })
        .await
        .expect("check")
        .into_inner()
        .decision
        .expect("decision")
}

/// Role management as the gateway forwards it.
pub fn roles(
    running: &Running,
) -> mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient<Channel> {
    mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient::new(running.channel.clone())
}

/// Creates a role under `parent` as `caller`.
pub async fn create_role(
    running: &Running,
    caller: &Principal,
    parent: &str,
    id: &str,
    permissions: &[&str],
) -> Result<pb::CreateRoleResponse, tonic::Status> {
    roles(running)
        .create_role(as_caller(
            caller,
            pb::CreateRoleRequest {
                parent: parent.into(),
                role: Some(pb::Role {
                    display_name: format!("Role {id}"),
                    permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                    ..pb::Role::default()
                }),
                role_id: id.into(),
                request_id: String::new(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Assigns `role` under `parent` to `members` over `scope` as `caller`.
pub async fn assign(
    running: &Running,
    caller: &Principal,
    parent: &str,
    id: &str,
    role: &str,
    members: &[&str],
    scope: RoomScope,
) -> Result<pb::CreateRoleAssignmentResponse, tonic::Status> {
    roles(running)
        .create_role_assignment(as_caller(
            caller,
            pb::CreateRoleAssignmentRequest {
                parent: parent.into(),
                role_assignment: Some(pb::RoleAssignment {
                    display_name: format!("Assignment {id}"),
                    role: role.into(),
                    members: members.iter().map(|m| (*m).to_owned()).collect(),
                    scope: Some(scope),
                    ..pb::RoleAssignment::default()
                }),
                role_assignment_id: id.into(),
                request_id: String::new(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}
