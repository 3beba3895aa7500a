//! Test helpers (feature `testing`): a throwaway PKI with a certificate per service, and mTLS
//! probes of a server's health and reflection.

use std::net::SocketAddr;

use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::config::ServerArgs;
use crate::devcerts::{self, CertPaths, DevCa};
use crate::tls::TlsMaterial;

/// A CA and a certificate for every service of the suite, in a temporary directory.
pub struct TestPki {
    ca: DevCa,
    dir: tempfile::TempDir,
}

impl TestPki {
    /// Mints the CA and the service certificates.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca = DevCa::generate("MTM test CA").expect("test CA");
        std::fs::write(dir.path().join("ca.pem"), ca.ca_pem()).expect("write CA");
        let pki = Self { ca, dir };
        for service in devcerts::SERVICES {
            let issued = pki.ca.issue(service).expect("issue");
            let paths = pki.paths(service);
            std::fs::write(paths.cert, issued.cert_pem).expect("write cert");
            std::fs::write(paths.key, issued.key_pem).expect("write key");
        }
        pki
    }

    /// The certificate files of a suite service.
    pub fn paths(&self, service: &str) -> CertPaths {
        devcerts::paths(self.dir.path(), service)
    }

    /// Server settings for `service` on `127.0.0.1:0` with its certificate.
    pub fn server_args(&self, service: &str) -> ServerArgs {
        let paths = self.paths(service);
        ServerArgs::for_test(paths.cert, paths.key, paths.ca)
    }

    /// The TLS material of a suite service, e.g. to call another service as it.
    pub fn material(&self, service: &str) -> TlsMaterial {
        let paths = self.paths(service);
        TlsMaterial::load(&paths.cert, &paths.key, &paths.ca).expect("load test material")
    }

    /// TLS material for an identity the suite does not know, signed by the same CA.
    pub fn stranger(&self, name: &str) -> TlsMaterial {
        let issued = self.ca.issue(name).expect("issue");
        TlsMaterial::from_pem(&issued.cert_pem, &issued.key_pem, &self.ca.ca_pem())
    }

    /// The CA certificate, PEM-encoded.
    pub fn ca_pem(&self) -> String {
        self.ca.ca_pem()
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// Connects to `addr` over mutual TLS as the holder of `material`.
pub async fn mtls_channel(
    addr: SocketAddr,
    material: &TlsMaterial,
) -> Result<Channel, tonic::transport::Error> {
    Channel::from_shared(format!("https://{addr}"))
        .expect("valid url")
        .tls_config(material.mutual_client())?
        .connect()
        .await
}

/// Asks a server's health service about `service` (`""` for the server as a whole).
pub async fn health_of(channel: Channel, service: &str) -> Result<i32, tonic::Status> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(response.into_inner().status)
}

/// The services a server advertises through reflection v1.
pub async fn reflected_services(channel: Channel) -> Result<Vec<String>, tonic::Status> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    let mut names = Vec::new();
    while let Some(response) = responses.next().await {
        if let Some(MessageResponse::ListServicesResponse(list)) = response?.message_response {
            names.extend(list.service.into_iter().map(|s| s.name));
        }
    }
    names.sort();
    Ok(names)
}

/// A server started by a test on `127.0.0.1:0`.
pub struct RunningServer<E> {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: crate::CancellationToken,
    task: tokio::task::JoinHandle<Result<(), E>>,
}

impl<E: std::fmt::Debug> RunningServer<E> {
    /// Binds `127.0.0.1:0` and spawns `serve` on it; the server accepts at once.
    pub async fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(tokio::net::TcpListener, crate::CancellationToken) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
        E: Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shutdown = crate::CancellationToken::new();
        let task = tokio::spawn(serve(listener, shutdown.clone()));
        Self {
            addr,
            shutdown,
            task,
        }
    }

    /// Cancels the server and waits for a clean stop.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("server task")
            .expect("server stopped cleanly");
    }
}

/// Asserts that the server at `addr` answers health SERVING over mTLS (as `caller`) and
/// advertises health, both reflection versions and `services` through reflection.
pub async fn assert_introspectable(addr: SocketAddr, caller: &TlsMaterial, services: &[&str]) {
    let channel = mtls_channel(addr, caller).await.expect("mTLS connect");
    let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    assert_eq!(
        health_of(channel.clone(), "").await.expect("health"),
        serving
    );
    let mut expected: Vec<String> = [
        crate::server::HEALTH_SERVICE,
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]
    .iter()
    .chain(services)
    .map(|s| (*s).to_owned())
    .collect();
    expected.sort();
    assert_eq!(
        reflected_services(channel.clone())
            .await
            .expect("reflection"),
        expected
    );
    for service in services {
        assert_eq!(
            health_of(channel.clone(), service).await.expect("health"),
            serving
        );
    }
}

/// The PostgreSQL server the `*_postgres` tests use: `MTM_TEST_POSTGRES_URL`, or the local
/// server with trust authentication.
pub fn postgres_server_url() -> String {
    std::env::var("MTM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A URL for database `name` on the test server.
pub fn postgres_database_url(name: &str) -> String {
    let server = postgres_server_url();
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// A URL for a fresh, uniquely named database on the test server (created on first open).
pub fn unique_postgres_url(prefix: &str) -> String {
    postgres_database_url(&format!(
        "mtm_test_{prefix}_{}",
        uuid::Uuid::new_v4().simple()
    ))
}

/// Drops every database of the test server whose name starts with `prefix`; panics if the
/// server is unreachable.
pub async fn drop_postgres_databases_starting_with(prefix: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let admin = sea_orm::Database::connect(postgres_server_url())
        .await
        .expect("PostgreSQL test server unreachable (MTM_TEST_POSTGRES_URL)");
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            [prefix.into()],
        ))
        .await
        .expect("list databases");
    for row in rows {
        let name: String = row.try_get_by_index(0).expect("datname");
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .expect("drop database");
    }
    admin.close().await.expect("close");
}

/// Drops a database made by [`unique_postgres_url`]; panics if the server is unreachable.
pub async fn drop_postgres_database(url: &str) {
    use sea_orm::ConnectionTrait;
    let (base, name) = url.rsplit_once('/').expect("database url");
    let admin = sea_orm::Database::connect(format!("{base}/postgres"))
        .await
        .expect("PostgreSQL test server unreachable (MTM_TEST_POSTGRES_URL)");
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop test database");
}
