//! A running rooms-svc with clients, on a temporary SQLite directory or on uniquely named
//! PostgreSQL databases (one per customer), and call contexts for the callers of the tests.

use mtm_plumbing::server::ServeError;
use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::common::v1::{CallContext, Principal, RoomScope};
use mtm_proto::mtm::rooms::v1::enrolment_key_service_client::EnrolmentKeyServiceClient;
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::settings_service_client::SettingsServiceClient;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::update_ring_service_client::UpdateRingServiceClient;
use mtm_proto::mtm::rooms::v1::*;
use rooms_svc::{Config, serve};
use tonic::transport::Channel;

/// Which database engine holds the customer stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file per customer in a temporary directory.
    Sqlite,
    /// A PostgreSQL database per customer on the test server.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    Postgres,
}

/// A running service and what the test needs to talk to it.
pub struct Suite {
    pub dir: tempfile::TempDir,
    pub channel: Channel,
    /// A connection as tenancy-svc, the one caller that provisions and deprovisions stores.
    pub provisioner: Channel,
    server: RunningServer<ServeError>,
    prefix: String,
    template: String,
    _pki: TestPki,
}

impl Suite {
    /// Starts the service with the default pool cap.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, 64).await
    }

    /// Starts the service with at most `max_open_stores` open store pools.
    pub async fn start_with(backend: Backend, max_open_stores: usize) -> Self {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix = format!(
            "mtm_test_rooms_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let template = match backend {
            Backend::Sqlite => format!("sqlite://{}/stores/{{customer}}.db", dir.path().display()),
            Backend::Postgres => {
                mtm_plumbing::testing::postgres_database_url(&format!("{prefix}_{{customer}}"))
            }
        };
        let mut config = Config::for_test(
            mtm_plumbing::config::BackendArgs {
                server: pki.server_args("rooms-svc"),
                allowed_peers: Vec::new(),
            },
            &template,
            dir.path(),
        );
        let store_template = template.clone();
        config.max_open_stores = max_open_stores;
        config.store_max_connections = 2;
        let server =
            RunningServer::start(|listener, shutdown| serve(config, listener, None, shutdown))
                .await;
        let channel = mtls_channel(server.addr, &pki.material("gateway"))
            .await
            .expect("mTLS connect");
        let provisioner = mtls_channel(server.addr, &pki.material("tenancy-svc"))
            .await
            .expect("mTLS connect");
        Self {
            dir,
            channel,
            provisioner,
            server,
            prefix,
            template: store_template,
            _pki: pki,
        }
    }

    /// The store URL template the service runs with.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The database name prefix of this suite's PostgreSQL stores.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn internal(&self) -> StoreInternalServiceClient<Channel> {
        StoreInternalServiceClient::new(self.channel.clone())
    }
    /// The store lifecycle, as tenancy-svc calls it.
    pub fn store_admin(&self) -> StoreInternalServiceClient<Channel> {
        StoreInternalServiceClient::new(self.provisioner.clone())
    }
    pub fn rooms(&self) -> RoomServiceClient<Channel> {
        RoomServiceClient::new(self.channel.clone())
    }
    pub fn groups(&self) -> RoomGroupServiceClient<Channel> {
        RoomGroupServiceClient::new(self.channel.clone())
    }
    pub fn rings(&self) -> UpdateRingServiceClient<Channel> {
        UpdateRingServiceClient::new(self.channel.clone())
    }
    pub fn tickets(&self) -> TicketServiceClient<Channel> {
        TicketServiceClient::new(self.channel.clone())
    }
    pub fn keys(&self) -> EnrolmentKeyServiceClient<Channel> {
        EnrolmentKeyServiceClient::new(self.channel.clone())
    }
    pub fn settings(&self) -> SettingsServiceClient<Channel> {
        SettingsServiceClient::new(self.channel.clone())
    }
    pub fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.channel.clone())
    }

    /// Provisions `customer`'s store.
    pub async fn provision(&self, customer: &str) -> StoreInfo {
        self.store_admin()
            .provision_store(ProvisionStoreRequest {
                customer: format!("customers/{customer}"),
                display_name: format!("{customer} Ltd"),
            })
            .await
            .expect("provision")
            .into_inner()
            .store
            .expect("store")
    }

    /// Creates a group `id` in `customer` as its admin.
    pub async fn group(&self, customer: &str, id: &str) -> RoomGroup {
        self.groups()
            .create_room_group(call(
                CreateRoomGroupRequest {
                    parent: format!("customers/{customer}"),
                    room_group: Some(RoomGroup {
                        display_name: format!("Site {id}"),
                        ..Default::default()
                    }),
                    room_group_id: id.to_owned(),
                    request_id: String::new(),
                },
                &admin(customer),
            ))
            .await
            .expect("create group")
            .into_inner()
            .room_group
            .expect("group")
    }

    /// Creates room `id` in group `group` of `customer` as its admin.
    pub async fn room(&self, customer: &str, group: &str, id: &str) -> Room {
        self.rooms()
            .create_room(call(
                CreateRoomRequest {
                    parent: format!("customers/{customer}"),
                    room: Some(Room {
                        display_name: format!("Room {id}"),
                        room_group: format!("customers/{customer}/roomGroups/{group}"),
                        capacity: 8,
                        size: RoomSize::Medium as i32,
                        ..Default::default()
                    }),
                    room_id: id.to_owned(),
                    request_id: String::new(),
                },
                &admin(customer),
            ))
            .await
            .expect("create room")
            .into_inner()
            .room
            .expect("room")
    }

    /// Deletes the stores of `customers`, stops the service and, on PostgreSQL, drops what
    /// is left of the suite's databases (the template new stores are copied from).
    pub async fn finish(self, customers: &[&str]) {
        for customer in customers {
            self.store_admin()
                .deprovision_store(DeprovisionStoreRequest {
                    customer: format!("customers/{customer}"),
                    confirm: true,
                })
                .await
                .expect("deprovision");
        }
        self.server.stop().await;
        if self.template.starts_with("postgres") {
            mtm_plumbing::testing::drop_postgres_databases_starting_with(&format!(
                "{}_",
                self.prefix
            ))
            .await;
        }
    }
}

/// A request carrying `context`.
pub fn call<T>(message: T, context: &CallContext) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(&mut request, context);
    request
}

/// A user of `customer` whose scope is every room.
pub fn admin(customer: &str) -> CallContext {
    CallContext {
        principal: Some(Principal {
            user: format!("tenants/{customer}/users/admin"),
            upn: format!("admin@{customer}.example"),
            home_tenant: format!("tenants/{customer}"),
            ..Default::default()
        }),
        scope: Some(RoomScope {
            all_rooms: true,
            ..Default::default()
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

/// A partner user acting on `customer` with a scope of some groups and rooms (ids).
pub fn scoped(customer: &str, groups: &[&str], rooms: &[&str]) -> CallContext {
    CallContext {
        principal: Some(Principal {
            user: "tenants/fabrikam-msp/users/ana".into(),
            upn: "ana@fabrikam-msp.example".into(),
            home_tenant: "tenants/fabrikam-msp".into(),
            ..Default::default()
        }),
        scope: Some(RoomScope {
            all_rooms: false,
            room_groups: groups
                .iter()
                .map(|g| format!("customers/{customer}/roomGroups/{g}"))
                .collect(),
            rooms: rooms
                .iter()
                .map(|r| format!("customers/{customer}/rooms/{r}"))
                .collect(),
            ..Default::default()
        }),
        partner_relationship: format!("customers/{customer}/partnerRelationships/rel-1"),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

/// The field paths of the `BadRequest` details of an INVALID_ARGUMENT status.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
