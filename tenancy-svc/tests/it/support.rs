//! The test suite: real identity-svc, rbac-svc and rooms-svc servers, and tenancy-svc on the
//! store under test, all over mTLS on 127.0.0.1:0; clients that speak as the gateway.

use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::common::v1::{CallContext, DirectoryRole, Principal, TenantKind};
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{CreateUserRequest, User};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient;
use mtm_proto::mtm::rbac::v1::{CheckRequest, ResolveScopeRequest};
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateRoomGroupRequest, RoomGroup};
use mtm_proto::mtm::tenancy::v1::approval_service_client::ApprovalServiceClient;
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::relationship_service_client::RelationshipServiceClient;
use mtm_proto::mtm::tenancy::v1::tenancy_internal_service_client::TenancyInternalServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_manager_service_client::TenantManagerServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::transport::Channel;

/// Which store tenancy-svc runs on.
#[derive(Clone, Copy, Debug)]
pub enum Store {
    /// A temp-file SQLite database.
    Sqlite,
    /// A fresh PostgreSQL database.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    Postgres,
}

/// A signed-in user as the gateway would describe it.
#[derive(Clone, Debug)]
pub struct Person {
    pub principal: Principal,
}

impl Person {
    pub fn context(&self) -> CallContext {
        CallContext {
            principal: Some(self.principal.clone()),
            request_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        }
    }
}

/// A tenant made for a test, with its first admin (a Global admin).
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub domain: String,
    pub admin: Person,
}

pub struct Suite {
    pki: TestPki,
    _dir: tempfile::TempDir,
    pub tenancy: Channel,
    identity_channel: Channel,
    rbac_channel: Channel,
    rbac_as_tenancy: Channel,
    rooms_channel: Channel,
    servers: Vec<Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>>,
    postgres: Option<String>,
    pub config: tenancy_svc::Config,
}

/// Attaches `context` to `message`.
pub fn req<T>(message: T, context: &CallContext) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(&mut request, context);
    request
}

fn url(addr: std::net::SocketAddr) -> String {
    format!("https://127.0.0.1:{}", addr.port())
}

fn stopper<E: std::fmt::Debug + Send + 'static>(
    server: RunningServer<E>,
) -> Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send> {
    Box::new(move || tokio::spawn(server.stop()))
}

impl Suite {
    pub async fn start(store: Store) -> Self {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite = |name: &str| format!("sqlite://{}/{name}.db", dir.path().display());
        let backend = |service: &str| mtm_plumbing::config::BackendArgs {
            server: pki.server_args(service),
            allowed_peers: Vec::new(),
        };
        let identity_config =
            identity_svc::Config::for_test(pki.server_args("identity-svc"), sqlite("identity"));
        let identity =
            RunningServer::start(|l, s| identity_svc::serve(identity_config, l, None, s)).await;
        let rbac_config = rbac_svc::Config {
            backend: backend("rbac-svc"),
            database_url: sqlite("rbac"),
            lease_ms: rbac_svc::DEFAULT_LEASE_MS,
        };
        let rbac = RunningServer::start(|l, s| rbac_svc::serve(rbac_config, l, None, s)).await;
        let rooms_config = rooms_svc::Config::for_test(
            backend("rooms-svc"),
            &format!("sqlite://{}/stores/{{customer}}.db", dir.path().display()),
            dir.path(),
        );
        let rooms = RunningServer::start(|l, s| rooms_svc::serve(rooms_config, l, None, s)).await;
        let postgres = match store {
            Store::Sqlite => None,
            Store::Postgres => Some(mtm_plumbing::testing::unique_postgres_url("tenancy")),
        };
        let database_url = postgres.clone().unwrap_or_else(|| sqlite("tenancy"));
        let config = tenancy_svc::Config::for_test(
            pki.server_args("tenancy-svc"),
            database_url,
            url(identity.addr),
            url(rbac.addr),
            url(rooms.addr),
        );
        let tenancy_config = config.clone();
        let rbac_addr = rbac.addr;
        let rooms_addr = rooms.addr;
        let tenancy =
            RunningServer::start(|l, s| tenancy_svc::serve(tenancy_config, l, None, s)).await;
        let channel = mtls_channel(tenancy.addr, &pki.material("gateway"))
            .await
            .expect("mTLS to tenancy-svc");
        let identity_channel = mtls_channel(identity.addr, &pki.material("gateway"))
            .await
            .expect("mTLS to identity-svc");
        let rbac_channel = mtls_channel(rbac_addr, &pki.material("gateway"))
            .await
            .expect("mTLS to rbac-svc");
        let rbac_as_tenancy = mtls_channel(rbac_addr, &pki.material("tenancy-svc"))
            .await
            .expect("mTLS to rbac-svc as tenancy-svc");
        let rooms_channel = mtls_channel(rooms_addr, &pki.material("gateway"))
            .await
            .expect("mTLS to rooms-svc");
        Self {
            rooms_channel,
            rbac_as_tenancy,
            rbac_channel,
            pki,
            _dir: dir,
            tenancy: channel,
            identity_channel,
            servers: vec![
                stopper(tenancy),
                stopper(rooms),
                stopper(rbac),
                stopper(identity),
            ],
            postgres,
            config,
        }
    }

    pub async fn stop(self) {
        for stop in self.servers {
            stop().await.expect("server stopped");
        }
        if let Some(url) = self.postgres {
            mtm_plumbing::testing::drop_postgres_database(&url).await;
        }
    }

    /// tenancy-svc's own state on the suite's store and peers, to run its steps directly
    /// (as a request or a reconciliation would, and stopping where a crash would).
    pub async fn state(&self) -> tenancy_svc::state::State {
        tenancy_svc::prepare(&self.config).await.expect("state")
    }

    /// The same state with rbac-svc out of reach, as if it failed in the middle of a change.
    pub async fn state_without_rbac(&self) -> tenancy_svc::state::State {
        tenancy_svc::prepare(&self.config_without_rbac())
            .await
            .expect("state")
    }

    fn config_without_rbac(&self) -> tenancy_svc::Config {
        let mut config = self.config.clone();
        config.rbac_url = "https://127.0.0.1:1".into();
        config
    }

    /// A second tenancy-svc on the same store whose rbac-svc is out of reach, as if rbac-svc
    /// failed in the middle of a change, and a channel to it as the gateway.
    pub async fn tenancy_without_rbac(&self) -> (Channel, RunningServer<tenancy_svc::Error>) {
        let config = self.config_without_rbac();
        let server = RunningServer::start(|l, s| tenancy_svc::serve(config, l, None, s)).await;
        let channel = mtls_channel(server.addr, &self.pki.material("gateway"))
            .await
            .expect("mTLS to the second tenancy-svc");
        (channel, server)
    }

    pub fn tenants(&self) -> TenantServiceClient<Channel> {
        TenantServiceClient::new(self.tenancy.clone())
    }

    pub fn invitations(&self) -> InvitationServiceClient<Channel> {
        InvitationServiceClient::new(self.tenancy.clone())
    }

    pub fn relationships(&self) -> RelationshipServiceClient<Channel> {
        RelationshipServiceClient::new(self.tenancy.clone())
    }

    pub fn approvals(&self) -> ApprovalServiceClient<Channel> {
        ApprovalServiceClient::new(self.tenancy.clone())
    }

    pub fn internal(&self) -> TenancyInternalServiceClient<Channel> {
        TenancyInternalServiceClient::new(self.tenancy.clone())
    }

    /// rbac-svc's internal API, spoken as tenancy-svc (to simulate a lost write).
    pub fn rbac_internal(&self) -> RbacInternalServiceClient<Channel> {
        RbacInternalServiceClient::new(self.rbac_as_tenancy.clone())
    }

    /// Creates room group `id` in `customer` (as its admin, through rooms-svc).
    pub async fn room_group(&self, customer: &Org, id: &str) -> String {
        RoomGroupServiceClient::new(self.rooms_channel.clone())
            .create_room_group(req(
                CreateRoomGroupRequest {
                    parent: format!("customers/{}", customer.id),
                    room_group: Some(RoomGroup {
                        display_name: id.to_owned(),
                        ..Default::default()
                    }),
                    room_group_id: id.to_owned(),
                    request_id: String::new(),
                },
                &customer.admin.context(),
            ))
            .await
            .expect("create room group")
            .into_inner()
            .room_group
            .expect("room group")
            .name
    }

    /// The scope rbac-svc gives `who` for `rooms.view` at `customer`, at `revision` or later.
    pub async fn rbac_scope(
        &self,
        who: &Person,
        customer: &Org,
        revision: i64,
    ) -> Option<RoomScope> {
        DecisionServiceClient::new(self.rbac_channel.clone())
            .resolve_scope(req(
                ResolveScopeRequest {
                    principal: Some(who.principal.clone()),
                    customer: format!("customers/{}", customer.id),
                    permission: "rooms.view".into(),
                    at_least_revision: revision,
                },
                &who.context(),
            ))
            .await
            .expect("resolve scope")
            .into_inner()
            .scope
    }

    pub fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.tenancy.clone())
    }

    /// rbac-svc's audit log, read as the gateway.
    pub fn rbac_audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.rbac_channel.clone())
    }

    pub fn managers(&self) -> TenantManagerServiceClient<Channel> {
        TenantManagerServiceClient::new(self.tenancy.clone())
    }

    /// Whether rbac-svc lets `who` read reports of `customer` (held by primary admins), at
    /// `revision` or later.
    pub async fn rbac_allows(&self, who: &Person, customer: &Org, revision: i64) -> bool {
        DecisionServiceClient::new(self.rbac_channel.clone())
            .check(req(
                CheckRequest {
                    principal: Some(who.principal.clone()),
                    customer: format!("customers/{}", customer.id),
                    permission: "reports.view".into(),
                    at_least_revision: revision,
                    ..Default::default()
                },
                &who.context(),
            ))
            .await
            .expect("check")
            .into_inner()
            .decision
            .is_some_and(|d| d.allowed)
    }

    /// Invites `who` and has it accept: the ACTIVE relationship.
    pub async fn relate(&self, customer: &Org, partner: &Org, who: &Person) -> Relationship {
        let invited = self
            .invite(customer, partner, std::slice::from_ref(&who.principal.upn))
            .await;
        self.accept(who, &invited[0].name)
            .await
            .expect("accept")
            .relationship
            .expect("relationship")
    }

    pub async fn accept(
        &self,
        who: &Person,
        invitation: &str,
    ) -> Result<AcceptInvitationResponse, tonic::Status> {
        self.invitations()
            .accept_invitation(req(
                AcceptInvitationRequest {
                    name: invitation.to_owned(),
                    ..Default::default()
                },
                &who.context(),
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn primary_admins(&self, who: &Person, relationship: &str) -> Vec<PrimaryAdmin> {
        self.relationships()
            .list_primary_admins(req(
                ListPrimaryAdminsRequest {
                    parent: relationship.to_owned(),
                    page_size: 500,
                    ..Default::default()
                },
                &who.context(),
            ))
            .await
            .expect("list primary admins")
            .into_inner()
            .primary_admins
    }

    pub fn operator() -> CallContext {
        CallContext {
            principal: Some(Principal {
                operator: true,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Creates a tenant (as the operator) with domain `{id}.example`.
    pub async fn tenant(&self, id: &str, kind: TenantKind) -> Org {
        let domain = format!("{id}.example");
        let tenant = self
            .tenants()
            .create_tenant(req(
                CreateTenantRequest {
                    tenant: Some(Tenant {
                        display_name: format!("{id} Ltd"),
                        kind: kind.into(),
                        ..Default::default()
                    }),
                    tenant_id: id.to_owned(),
                    domains: vec![domain.clone()],
                    first_admin_upn: format!("admin@{domain}"),
                    first_admin_display_name: "Admin".into(),
                    first_admin_password: "correct horse battery".into(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                },
                &Self::operator(),
            ))
            .await
            .expect("create tenant")
            .into_inner()
            .tenant
            .expect("tenant");
        let admin = Person {
            principal: Principal {
                user: tenant.first_admin_user.clone(),
                upn: format!("admin@{domain}"),
                home_tenant: format!("tenants/{id}"),
                directory_roles: vec![DirectoryRole::GlobalAdmin.into()],
                ..Default::default()
            },
        };
        Org {
            id: id.to_owned(),
            domain,
            admin,
        }
    }

    /// An elite partner.
    pub async fn partner(&self, id: &str) -> Org {
        let org = self.tenant(id, TenantKind::Partner).await;
        self.tenants()
            .enroll_elite_partner(req(
                EnrollElitePartnerRequest {
                    name: format!("partners/{id}"),
                },
                &Self::operator(),
            ))
            .await
            .expect("enrol");
        org
    }

    /// A customer.
    pub async fn customer(&self, id: &str) -> Org {
        self.tenant(id, TenantKind::Customer).await
    }

    /// A plain user of `org` named `{local}@{domain}`.
    pub async fn user(&self, org: &Org, local: &str) -> Person {
        let upn = format!("{local}@{}", org.domain);
        let user = DirectoryServiceClient::new(self.identity_channel.clone())
            .create_user(req(
                CreateUserRequest {
                    parent: format!("tenants/{}", org.id),
                    user: Some(User {
                        upn: upn.clone(),
                        display_name: local.to_owned(),
                        enabled: true,
                        ..Default::default()
                    }),
                    initial_password: "correct horse battery".into(),
                    ..Default::default()
                },
                &org.admin.context(),
            ))
            .await
            .expect("create user")
            .into_inner()
            .user
            .expect("user");
        Person {
            principal: Principal {
                user: user.name,
                upn,
                home_tenant: format!("tenants/{}", org.id),
                ..Default::default()
            },
        }
    }

    /// Invites `upns` of `partner` on behalf of `customer` (all rooms, 30 days, terms accepted).
    pub async fn invite(&self, customer: &Org, partner: &Org, upns: &[String]) -> Vec<Invitation> {
        self.invitations()
            .create_invitation(req(
                invitation_request(customer, partner, upns),
                &customer.admin.context(),
            ))
            .await
            .expect("create invitation")
            .into_inner()
            .invitations
    }
}

/// A valid invitation request: all rooms, default lifetime, terms accepted.
pub fn invitation_request(
    customer: &Org,
    partner: &Org,
    upns: &[String],
) -> CreateInvitationRequest {
    CreateInvitationRequest {
        parent: format!("customers/{}", customer.id),
        partner_domain: partner.domain.clone(),
        invited_upns: upns.to_vec(),
        room_scope: Some(mtm_proto::mtm::common::v1::RoomScope {
            all_rooms: true,
            ..Default::default()
        }),
        change_control: None,
        lifetime_days: None,
        accept_terms: true,
        request_id: String::new(),
    }
}

/// Asserts a status code and that a field violation or the message names `needle`.
pub fn assert_status(
    result: Result<impl std::fmt::Debug, tonic::Status>,
    code: tonic::Code,
    needle: &str,
) {
    let status = result.expect_err("the call must fail");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(needle),
        "{:?} should name {needle}",
        status.message()
    );
}

/// Moves an invitation's expiry into the past, as if its lifetime had passed.
pub async fn age_invitation(suite: &Suite, id: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use tenancy_svc::store::entity::invitation::{Column, Entity};
    let db = tenancy_svc::store::open(&suite.config.database_url)
        .await
        .expect("open store");
    Entity::update_many()
        .col_expr(
            Column::ExpireTime,
            Expr::value(tenancy_svc::store::now_us() - 1),
        )
        .filter(Column::Id.eq(id))
        .exec(&db)
        .await
        .expect("age invitation");
}

/// The UPNs of a relationship's primary admins as the customer lists them, sorted.
pub async fn primary_admin_upns(suite: &Suite, customer: &Org, relationship: &str) -> Vec<String> {
    let mut upns: Vec<String> = suite
        .primary_admins(&customer.admin, relationship)
        .await
        .into_iter()
        .map(|p| p.upn)
        .collect();
    upns.sort();
    upns
}

/// Moves a relationship's end time to now, as if it had passed (R30), in tenancy-svc's store;
/// rbac-svc enforces the end time itself and learns the state from the next push.
pub async fn end_relationship_now(suite: &Suite, relationship: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use tenancy_svc::store::entity::relationship::{Column, Entity};
    let db = tenancy_svc::store::open(&suite.config.database_url)
        .await
        .expect("open store");
    let id = relationship.rsplit('/').next().expect("id");
    Entity::update_many()
        .col_expr(
            Column::EndTime,
            Expr::value(tenancy_svc::store::now_us() - 1),
        )
        .filter(Column::Id.eq(id))
        .exec(&db)
        .await
        .expect("end relationship");
}

/// Marks a relationship as being terminated, as a crash right after that first step would
/// leave it.
pub async fn leave_termination_half_done(suite: &Suite, relationship: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use tenancy_svc::store::entity::relationship::{Column, Entity};
    let db = tenancy_svc::store::open(&suite.config.database_url)
        .await
        .expect("open store");
    let id = relationship.rsplit('/').next().expect("id");
    Entity::update_many()
        .col_expr(Column::Terminating, Expr::value(true))
        .col_expr(Column::TerminationReason, Expr::value(1))
        .filter(Column::Id.eq(id))
        .exec(&db)
        .await
        .expect("half-done termination");
}
