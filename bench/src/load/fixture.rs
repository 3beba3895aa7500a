//! What a load run measures against: a fresh suite started from the real binaries by the e2e
//! library (so every server's pid and address is known) with `mtm-local`'s demo world, the facts
//! of that world the targets ask about (a partner primary admin, the customer rooms in and out of
//! its delegated scope), one set of connections per server, and optionally Cerbos.

use std::net::SocketAddr;
use std::path::PathBuf;

use mtm_e2e::api::Session;
use mtm_e2e::demo;
use mtm_e2e::world::{CUSTOMERS, PARTNER};
use mtm_e2e::{Suite, SuiteOptions};
use mtm_plumbing::devcerts;
use mtm_plumbing::tls::TlsMaterial;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::identity::v1::ResolvePrincipalRequest;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_proto::mtm::rooms::v1::ListRoomsRequest;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::tenancy::v1::ListManagedCustomersRequest;
use mtm_proto::mtm::tenancy::v1::relationship_service_client::RelationshipServiceClient;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::cerbos::{Cerbos, CerbosError};
use super::cpu::Process;

/// The partner user every target asks as: a primary admin of the partner's relationships.
pub const PARTNER_ADMIN: &str = "msa";

/// Why the fixture could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The suite did not start.
    #[error(transparent)]
    Suite(#[from] mtm_e2e::SuiteError),
    /// Building or reading the demo world failed.
    #[error("{0}")]
    World(String),
    /// A connection could not be made.
    #[error("connecting to {server}: {source}")]
    Connect {
        /// Which server.
        server: &'static str,
        /// The transport error.
        source: tonic::transport::Error,
    },
    /// Cerbos did not start.
    #[error(transparent)]
    Cerbos(#[from] CerbosError),
}

/// How to run Cerbos beside the suite.
#[derive(Clone, Debug)]
pub struct CerbosOptions {
    /// The `cerbos` binary (`bench/cerbos/fetch.sh` prints its path).
    pub binary: PathBuf,
    /// Where it serves gRPC.
    pub grpc_listen: SocketAddr,
    /// Where it serves HTTP (unused, but Cerbos always listens there).
    pub http_listen: SocketAddr,
}

/// How to set up a fixture.
#[derive(Clone, Debug)]
pub struct FixtureOptions {
    /// Where the five service binaries are (`mtm_e2e::ensure_built`).
    pub bin_dir: PathBuf,
    /// Connections per server.
    pub connections: usize,
    /// Cerbos, when it is measured too.
    pub cerbos: Option<CerbosOptions>,
}

/// A room and its current group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomAt {
    /// `customers/{customer}/rooms/{room}`.
    pub room: String,
    /// `customers/{customer}/roomGroups/{group}`.
    pub group: String,
}

/// The facts of the demo world the targets ask about.
#[derive(Clone, Debug)]
pub struct World {
    /// The customer whose delegated scope is one site: `customers/fabrikam`.
    pub customer: String,
    /// Its rooms in the partner's scope.
    pub in_scope: Vec<RoomAt>,
    /// Its rooms outside it.
    pub out_of_scope: Vec<RoomAt>,
    /// The delegated scope of each customer the partner manages.
    pub scopes: Vec<(String, RoomScope)>,
    /// The partner admin as rbac-svc receives it from the gateway.
    pub principal: Principal,
    /// `Bearer <token>` of the partner admin, for calls through the gateway.
    pub authorization: AsciiMetadataValue,
}

/// A running suite (and Cerbos) with connections to its servers.
pub struct Fixture {
    suite: Suite,
    cerbos: Option<Cerbos>,
    _data: tempfile::TempDir,
    /// The world.
    pub world: World,
    /// Connections to the gateway (TLS, as a public client).
    pub gateway: Vec<Channel>,
    /// Connections to rbac-svc (mutual TLS with the gateway's identity).
    pub rbac: Vec<Channel>,
    /// Connections to Cerbos (mutual TLS with the gateway's identity), if it runs.
    pub cerbos_channels: Vec<Channel>,
}

impl Fixture {
    /// Starts the suite in a temporary directory, builds the demo world, reads its facts, and
    /// opens `options.connections` connections to each server.
    pub async fn start(options: &FixtureOptions) -> Result<Self, FixtureError> {
        let data = tempfile::tempdir().map_err(|e| FixtureError::World(e.to_string()))?;
        let suite_options = SuiteOptions::new(
            data.path().to_path_buf(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            options.bin_dir.clone(),
        );
        let suite = Suite::start(&suite_options).await?;
        let mut fixture = Self {
            suite,
            cerbos: None,
            world: placeholder_world(),
            gateway: Vec::new(),
            rbac: Vec::new(),
            cerbos_channels: Vec::new(),
            _data: data,
        };
        if let Err(error) = fixture.prepare(options).await {
            fixture.stop().await;
            return Err(error);
        }
        Ok(fixture)
    }

    async fn prepare(&mut self, options: &FixtureOptions) -> Result<(), FixtureError> {
        let certs = self._data.path().join("certs");
        let public = self.suite.gateway_channel().await?;
        demo::seed(public.clone(), &self.suite.operator_password_file)
            .await
            .map_err(|e| FixtureError::World(e.to_string()))?;
        let mutual = TlsMaterial::load(
            &devcerts::paths(&certs, "gateway").cert,
            &devcerts::paths(&certs, "gateway").key,
            &devcerts::paths(&certs, "gateway").ca,
        )
        .map_err(|e| FixtureError::World(e.to_string()))?
        .mutual_client();
        let ca =
            std::fs::read(&self.suite.ca_file).map_err(|e| FixtureError::World(e.to_string()))?;
        let public_tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));

        let identity = self.backend_endpoint("identity-svc", &mutual)?;
        let identity = connect(&identity, "identity-svc").await?;
        self.world = read_world(public, identity).await?;

        let gateway = endpoint(self.suite.gateway_addr, &public_tls, "gateway")?;
        let rbac = self.backend_endpoint("rbac-svc", &mutual)?;
        for _ in 0..options.connections.max(1) {
            self.gateway.push(connect(&gateway, "gateway").await?);
            self.rbac.push(connect(&rbac, "rbac-svc").await?);
        }
        if let Some(cerbos) = &options.cerbos {
            let mut running = Cerbos::spawn(
                &cerbos.binary,
                &certs,
                &self._data.path().join("cerbos"),
                cerbos.grpc_listen,
                cerbos.http_listen,
            )?;
            let endpoint = endpoint(running.addr, &mutual, "cerbos")?;
            let serving = running.wait_serving(&endpoint).await;
            self.cerbos = Some(running);
            serving?;
            for _ in 0..options.connections.max(1) {
                self.cerbos_channels
                    .push(connect(&endpoint, "cerbos").await?);
            }
        }
        Ok(())
    }

    fn backend_endpoint(
        &self,
        service: &'static str,
        tls: &ClientTlsConfig,
    ) -> Result<Endpoint, FixtureError> {
        let addr = self
            .suite
            .service_addr(service)
            .ok_or_else(|| FixtureError::World(format!("{service} reported no address")))?;
        endpoint(addr, tls, service)
    }

    /// The server processes: the suite's five services and Cerbos if it runs.
    pub fn processes(&self) -> Vec<Process> {
        let mut processes: Vec<Process> = self
            .suite
            .pids()
            .into_iter()
            .map(|(name, pid)| Process {
                name: name.to_owned(),
                pid,
            })
            .collect();
        if let Some(pid) = self.cerbos.as_ref().and_then(Cerbos::pid) {
            processes.push(Process {
                name: "cerbos".to_owned(),
                pid,
            });
        }
        processes
    }

    /// Stops Cerbos and the suite; returns the services that did not stop cleanly.
    pub async fn stop(self) -> Vec<String> {
        if let Some(cerbos) = self.cerbos {
            cerbos.stop().await;
        }
        self.suite.stop().await
    }
}

fn endpoint(
    addr: SocketAddr,
    tls: &ClientTlsConfig,
    server: &'static str,
) -> Result<Endpoint, FixtureError> {
    Endpoint::from_shared(format!("https://{addr}"))
        .and_then(|e| e.tls_config(tls.clone()))
        .map(|e| e.tcp_nodelay(true))
        .map_err(|source| FixtureError::Connect { server, source })
}

/// One new connection (each call opens its own HTTP/2 connection).
async fn connect(endpoint: &Endpoint, server: &'static str) -> Result<Channel, FixtureError> {
    endpoint
        .connect()
        .await
        .map_err(|source| FixtureError::Connect { server, source })
}

fn placeholder_world() -> World {
    World {
        customer: String::new(),
        in_scope: Vec::new(),
        out_of_scope: Vec::new(),
        scopes: Vec::new(),
        principal: Principal::default(),
        authorization: MetadataValue::from_static(""),
    }
}

/// Signs in as the partner admin and the first customer's MMR admin, and reads the customer's
/// rooms, the partner's delegated scopes and the admin's principal.
async fn read_world(public: Channel, identity: Channel) -> Result<World, FixtureError> {
    let failed = |e: mtm_e2e::api::StepError| FixtureError::World(e.to_string());
    let customer = CUSTOMERS[0];
    let admin = Session::demo_user(public.clone(), &PARTNER.upn(PARTNER_ADMIN))
        .await
        .map_err(failed)?;
    let customer_admin = Session::demo_user(public.clone(), &customer.upn("mmr-admin"))
        .await
        .map_err(failed)?;
    let relationships = RelationshipServiceClient::new(public.clone())
        .list_managed_customers(admin.call(ListManagedCustomersRequest {
            parent: PARTNER.partner(),
            page_size: 500,
            ..Default::default()
        }))
        .await
        .map_err(|s| FixtureError::World(format!("listing managed customers: {s}")))?
        .into_inner()
        .relationships;
    let scopes: Vec<(String, RoomScope)> = relationships
        .into_iter()
        .filter_map(|r| Some((r.customer, r.room_scope?)))
        .collect();
    let scope = scopes
        .iter()
        .find(|(c, _)| *c == customer.customer())
        .map(|(_, s)| s.clone())
        .ok_or_else(|| FixtureError::World(format!("no scope at {}", customer.customer())))?;
    let rooms = RoomServiceClient::new(public)
        .list_rooms(customer_admin.call(ListRoomsRequest {
            parent: customer.customer(),
            page_size: 500,
            ..Default::default()
        }))
        .await
        .map_err(|s| FixtureError::World(format!("listing rooms: {s}")))?
        .into_inner()
        .rooms;
    let (in_scope, out_of_scope): (Vec<RoomAt>, Vec<RoomAt>) = rooms
        .into_iter()
        .map(|r| RoomAt {
            room: r.name,
            group: r.room_group,
        })
        .partition(|r| covers(&scope, r));
    if in_scope.is_empty() || out_of_scope.is_empty() {
        return Err(FixtureError::World(format!(
            "{} has {} rooms in the partner's scope and {} outside; the targets need both",
            customer.customer(),
            in_scope.len(),
            out_of_scope.len()
        )));
    }
    let mut principal = PrincipalInternalServiceClient::new(identity)
        .resolve_principal(ResolvePrincipalRequest {
            user_ref: Some(UserRef::User(admin.user.clone())),
        })
        .await
        .map_err(|s| FixtureError::World(format!("resolving {}: {s}", admin.upn)))?
        .into_inner()
        .principal
        .ok_or_else(|| FixtureError::World("ResolvePrincipal answered no principal".into()))?;
    principal.amr = vec!["pwd".to_owned()];
    let authorization = admin
        .call(())
        .metadata()
        .get("authorization")
        .cloned()
        .ok_or_else(|| FixtureError::World("no bearer token".into()))?;
    Ok(World {
        customer: customer.customer(),
        in_scope,
        out_of_scope,
        scopes,
        principal,
        authorization,
    })
}

/// Whether a scope covers a room in its current group.
pub fn covers(scope: &RoomScope, room: &RoomAt) -> bool {
    scope.all_rooms || scope.room_groups.contains(&room.group) || scope.rooms.contains(&room.room)
}
