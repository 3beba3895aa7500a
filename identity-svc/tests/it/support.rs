//! The test harness: a fresh store (temp-file SQLite or a fresh PostgreSQL database), the real
//! service on `127.0.0.1:0` over mTLS, clients as the gateway, and call contexts.

use identity_svc::{Config, serve};
use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::common::v1::{CallContext, Principal, TenantKind};
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::identity::v1::{
    CreateTenantDirectoryRequest, CreateTenantDirectoryResponse, SignInRequest,
};
use tonic::transport::Channel;

/// The services identity-svc mounts.
pub const SERVICES: &[&str] = &[
    "mtm.audit.v1.AuditInternalService",
    "mtm.audit.v1.AuditService",
    "mtm.identity.v1.AuthService",
    "mtm.identity.v1.DirectoryService",
    "mtm.identity.v1.PrincipalInternalService",
];

/// The operator password every harness configures.
pub const OPERATOR_PASSWORD: &str = "operator-secret-password";

/// The store a test runs on.
pub enum Store {
    /// A temp-file SQLite database, removed with the directory.
    Sqlite(tempfile::TempDir),
    /// A fresh PostgreSQL database, dropped at the end.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    Postgres(String),
}

impl Store {
    /// A temp-file SQLite store.
    pub fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    /// A fresh PostgreSQL database on the test server.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    pub fn postgres() -> Self {
        Self::Postgres(mtm_plumbing::testing::unique_postgres_url("identity"))
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}/identity.db", dir.path().display()),
            Self::Postgres(url) => url.clone(),
        }
    }
}

/// A running identity-svc with its store and PKI.
pub struct Harness {
    /// The test PKI.
    pub pki: TestPki,
    /// The server.
    pub server: RunningServer<identity_svc::Error>,
    /// A channel as the gateway.
    pub channel: Channel,
    /// A channel as tenancy-svc, which alone drives directories and lookups.
    pub tenancy: Channel,
    /// The configuration it runs with.
    pub config: Config,
    store: Store,
    _files: tempfile::TempDir,
}

impl Harness {
    /// Starts the service on `store` with the test defaults.
    pub async fn start(store: Store) -> Self {
        Self::start_with(store, |_| {}).await
    }

    /// Starts the service on `store` after `adjust` changed the configuration.
    pub async fn start_with(store: Store, adjust: impl FnOnce(&mut Config)) -> Self {
        let pki = TestPki::new();
        let files = tempfile::tempdir().expect("temp dir");
        let password_file = files.path().join("operator-password");
        std::fs::write(&password_file, format!("{OPERATOR_PASSWORD}\n")).expect("write");
        let mut config = Config::for_test(pki.server_args("identity-svc"), store.url());
        config.operator_password_file = Some(password_file);
        adjust(&mut config);
        let serving = config.clone();
        let server =
            RunningServer::start(|listener, shutdown| serve(serving, listener, None, shutdown))
                .await;
        let channel = mtls_channel(server.addr, &pki.material("gateway"))
            .await
            .expect("mTLS connect");
        let tenancy = mtls_channel(server.addr, &pki.material("tenancy-svc"))
            .await
            .expect("mTLS connect");
        Self {
            pki,
            server,
            channel,
            tenancy,
            config,
            store,
            _files: files,
        }
    }

    /// Starts a second replica on the same store and configuration; returns it and a channel
    /// to it as the gateway.
    pub async fn start_replica(&self) -> (RunningServer<identity_svc::Error>, Channel) {
        let config = self.config.clone();
        let server =
            RunningServer::start(|listener, shutdown| serve(config, listener, None, shutdown))
                .await;
        let channel = mtls_channel(server.addr, &self.pki.material("gateway"))
            .await
            .expect("mTLS connect");
        (server, channel)
    }

    /// Starts another replica on the same store after `adjust` changed a copy of the
    /// configuration; returns it and a channel to it as the gateway.
    pub async fn start_replica_with(
        &self,
        adjust: impl FnOnce(&mut Config),
    ) -> (RunningServer<identity_svc::Error>, Channel) {
        let mut config = self.config.clone();
        adjust(&mut config);
        let server =
            RunningServer::start(|listener, shutdown| serve(config, listener, None, shutdown))
                .await;
        let channel = mtls_channel(server.addr, &self.pki.material("gateway"))
            .await
            .expect("mTLS connect");
        (server, channel)
    }

    /// A direct connection to the service's store, for reading raw rows.
    pub async fn raw_store(&self) -> sea_orm::DatabaseConnection {
        identity_svc::store::open(&self.config.database_url)
            .await
            .expect("open the store")
    }

    /// Stops the service and removes its store.
    pub async fn stop(self) {
        self.server.stop().await;
        if let Store::Postgres(url) = &self.store {
            mtm_plumbing::testing::drop_postgres_database(url).await;
        }
    }

    /// A `PrincipalInternalService` client as tenancy-svc (directories and lookups).
    pub fn internal(&self) -> PrincipalInternalServiceClient<Channel> {
        PrincipalInternalServiceClient::new(self.tenancy.clone())
    }

    /// A `PrincipalInternalService` client as the gateway (`ResolvePrincipal`).
    pub fn principals(&self) -> PrincipalInternalServiceClient<Channel> {
        PrincipalInternalServiceClient::new(self.channel.clone())
    }

    /// An `AuthService` client.
    pub fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel.clone())
    }

    /// A `DirectoryService` client.
    pub fn directory(&self) -> DirectoryServiceClient<Channel> {
        DirectoryServiceClient::new(self.channel.clone())
    }

    /// Resolves `user` as the gateway would for each request.
    pub async fn resolve(
        &self,
        user: &str,
    ) -> Result<mtm_proto::mtm::identity::v1::ResolvePrincipalResponse, tonic::Status> {
        use mtm_proto::mtm::identity::v1::ResolvePrincipalRequest;
        use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
        self.principals()
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(UserRef::User(user.to_owned())),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Creates a user `{id}@{domain}` in `tenant` as `admin`, with `password`.
    pub async fn create_user(
        &self,
        admin: &Principal,
        tenant: &str,
        id: &str,
        domain: &str,
        password: &str,
    ) -> mtm_proto::mtm::identity::v1::User {
        use mtm_proto::mtm::identity::v1::{CreateUserRequest, User};
        self.directory()
            .create_user(as_principal(
                CreateUserRequest {
                    parent: format!("tenants/{tenant}"),
                    user: Some(User {
                        upn: format!("{id}@{domain}"),
                        display_name: format!("User {id}"),
                        enabled: true,
                        ..Default::default()
                    }),
                    user_id: id.into(),
                    initial_password: password.into(),
                    request_id: String::new(),
                },
                admin.clone(),
            ))
            .await
            .expect("create user")
            .into_inner()
            .user
            .expect("user")
    }

    /// Creates a directory `tenants/{id}` for `domain` whose first admin is `admin@{domain}`.
    pub async fn create_tenant(&self, id: &str, domain: &str) -> CreateTenantDirectoryResponse {
        self.internal()
            .create_tenant_directory(directory_request(id, domain))
            .await
            .expect("create directory")
            .into_inner()
    }

    /// Signs in and returns the access token.
    pub async fn sign_in(&self, upn: &str, password: &str) -> Result<String, tonic::Status> {
        self.auth()
            .sign_in(SignInRequest {
                upn: upn.into(),
                password: password.into(),
            })
            .await
            .map(|r| r.into_inner().access_token)
    }
}

/// The password of every first admin the harness creates.
pub const ADMIN_PASSWORD: &str = "first-admin-password";

/// A `CreateTenantDirectory` request for `tenants/{id}` owning `domain`.
pub fn directory_request(id: &str, domain: &str) -> CreateTenantDirectoryRequest {
    CreateTenantDirectoryRequest {
        tenant: format!("tenants/{id}"),
        display_name: format!("{id} Ltd"),
        kind: TenantKind::Customer as i32,
        domains: vec![domain.into()],
        first_admin_upn: format!("admin@{domain}"),
        first_admin_display_name: "First Admin".into(),
        first_admin_password: ADMIN_PASSWORD.into(),
    }
}

/// `message` with a call context naming `principal`.
pub fn as_principal<T>(message: T, principal: Principal) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(
        &mut request,
        &CallContext {
            principal: Some(principal),
            request_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        },
    );
    request
}

/// The principal of the first admin of a directory the harness created.
pub fn admin_of(created: &CreateTenantDirectoryResponse) -> Principal {
    let directory = created.directory.clone().expect("directory");
    Principal {
        user: created.first_admin_user.clone(),
        upn: format!("admin@{}", directory.verified_domains[0]),
        home_tenant: directory.tenant,
        ..Default::default()
    }
}

/// The principal of user `name` of `tenant`.
pub fn user_principal(tenant: &str, name: &str) -> Principal {
    Principal {
        user: name.to_owned(),
        home_tenant: format!("tenants/{tenant}"),
        ..Default::default()
    }
}

/// `message` as the operator.
pub fn as_operator<T>(message: T) -> tonic::Request<T> {
    as_principal(
        message,
        Principal {
            upn: "operator".into(),
            operator: true,
            ..Default::default()
        },
    )
}

/// Asserts that `result` failed with `code`.
#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: tonic::Code) {
    match result {
        Ok(value) => panic!("expected {code:?}, got {value:?}"),
        Err(status) => assert_eq!(status.code(), code, "{status:?}"),
    }
}

/// Asserts INVALID_ARGUMENT naming `field` in its field violations.
#[track_caller]
pub fn assert_invalid_field<T: std::fmt::Debug>(result: Result<T, tonic::Status>, field: &str) {
    use tonic_types::StatusExt;
    let status = result.expect_err("expected INVALID_ARGUMENT");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let violations = details.bad_request().expect("field violations");
    assert!(
        violations.field_violations.iter().any(|v| v.field == field),
        "{field} not named in {status:?}"
    );
}

/// Defines a test on SQLite and, with feature `postgres-tests`, its `_postgres` twin; the body
/// is an async fn taking a [`Store`].
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $pg_name:ident, $body:path) => {
        #[tokio::test]
        async fn $name() {
            $body($crate::support::Store::sqlite()).await;
        }

        #[cfg(feature = "postgres-tests")]
        #[tokio::test]
        async fn $pg_name() {
            $body($crate::support::Store::postgres()).await;
        }
    };
}
