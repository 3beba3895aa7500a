//! A live suite for the gateway's own services: the real identity-svc, tenancy-svc, rbac-svc
//! and rooms-svc and the gateway, all on 127.0.0.1:0 over mTLS, and a world of tenants, users
//! and relationships built through the gateway's public API, as clients build it.

use mtm_plumbing::testing::{RunningServer, TestPki};
use mtm_proto::mtm::common::v1::{RoomScope, TenantKind};
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{CreateUserRequest, SignInRequest, SignInResponse, User};
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    AcceptInvitationRequest, CreateInvitationRequest, CreateTenantRequest,
    EnrollElitePartnerRequest, Relationship, Tenant,
};
use tonic::transport::Channel;

const OPERATOR_PASSWORD: &str = "operator-secret-password";
const PASSWORD: &str = "correct horse battery";

type Stop = Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>;

fn url<E>(server: &RunningServer<E>) -> String {
    format!("https://127.0.0.1:{}", server.addr.port())
}

fn stopper<E: std::fmt::Debug + Send + 'static>(server: RunningServer<E>) -> Stop {
    Box::new(move || tokio::spawn(server.stop()))
}

/// The real backends behind the gateway, and a public TLS channel to the gateway.
pub struct Live {
    _pki: TestPki,
    _dir: tempfile::TempDir,
    /// TLS without a client certificate, as public clients connect.
    pub channel: Channel,
    servers: Vec<Stop>,
}

/// A signed-in user: its token and who the sign-in said it is.
#[derive(Clone, Debug)]
pub struct Person {
    pub token: String,
    pub user: String,
    pub upn: String,
}

/// A tenant created by the operator, with its first admin (a Global admin).
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub admin: Person,
}

impl Org {
    /// `customers/{id}`.
    pub fn customer(&self) -> String {
        format!("customers/{}", self.id)
    }
}

/// `message` with `token` as bearer.
pub fn as_user<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

impl Live {
    /// Starts the backends and the gateway.
    pub async fn start() -> Self {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite = |name: &str| format!("sqlite://{}/{name}.db", dir.path().display());
        let backend = |service: &str| mtm_plumbing::config::BackendArgs {
            server: pki.server_args(service),
            allowed_peers: Vec::new(),
        };
        let password_file = dir.path().join("operator-password");
        std::fs::write(&password_file, format!("{OPERATOR_PASSWORD}\n")).expect("write");
        let mut identity_config =
            identity_svc::Config::for_test(pki.server_args("identity-svc"), sqlite("identity"));
        identity_config.operator_password_file = Some(password_file);
        let identity =
            RunningServer::start(|l, s| identity_svc::serve(identity_config, l, None, s)).await;
        let rbac_config = rbac_svc::Config {
            backend: backend("rbac-svc"),
            database_url: sqlite("rbac"),
        };
        let rbac = RunningServer::start(|l, s| rbac_svc::serve(rbac_config, l, None, s)).await;
        let rooms_config = rooms_svc::Config::for_test(
            backend("rooms-svc"),
            &format!("sqlite://{}/stores/{{customer}}.db", dir.path().display()),
            dir.path(),
        );
        let rooms = RunningServer::start(|l, s| rooms_svc::serve(rooms_config, l, None, s)).await;
        let tenancy_config = tenancy_svc::Config::for_test(
            pki.server_args("tenancy-svc"),
            sqlite("tenancy"),
            url(&identity),
            url(&rbac),
            url(&rooms),
        );
        let tenancy =
            RunningServer::start(|l, s| tenancy_svc::serve(tenancy_config, l, None, s)).await;
        let gateway_config = gateway::Config {
            server: pki.server_args("gateway"),
            public_tls_cert: None,
            public_tls_key: None,
            identity_url: url(&identity),
            tenancy_url: url(&tenancy),
            rbac_url: url(&rbac),
            rooms_url: url(&rooms),
            limits: gateway::LimitArgs::default(),
        };
        let gateway = RunningServer::start(|l, s| gateway::serve(gateway_config, l, None, s)).await;
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(pki.ca_pem()));
        let channel = Channel::from_shared(format!("https://{}", gateway.addr))
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
            .expect("connect to the gateway");
        Self {
            _pki: pki,
            _dir: dir,
            channel,
            servers: vec![
                stopper(gateway),
                stopper(tenancy),
                stopper(rooms),
                stopper(rbac),
                stopper(identity),
            ],
        }
    }

    /// Stops every server, the gateway first.
    pub async fn stop(self) {
        for stop in self.servers {
            stop().await.expect("server stopped");
        }
    }

    /// Signs `upn` in through the gateway.
    pub async fn sign_in(&self, upn: &str, password: &str) -> Person {
        let SignInResponse {
            access_token, user, ..
        } = AuthServiceClient::new(self.channel.clone())
            .sign_in(SignInRequest {
                upn: upn.to_owned(),
                password: password.to_owned(),
            })
            .await
            .expect("sign in")
            .into_inner();
        Person {
            token: access_token,
            user,
            upn: upn.to_owned(),
        }
    }

    /// The operator, signed in.
    pub async fn operator(&self) -> Person {
        self.sign_in("operator", OPERATOR_PASSWORD).await
    }

    /// Creates tenant `id` (display name `{id} Ltd`, domain `{id}.example`) as `operator`.
    pub async fn tenant(&self, operator: &Person, id: &str, kind: TenantKind) -> Org {
        TenantServiceClient::new(self.channel.clone())
            .create_tenant(as_user(
                &operator.token,
                CreateTenantRequest {
                    tenant: Some(Tenant {
                        display_name: format!("{id} Ltd"),
                        kind: kind.into(),
                        ..Default::default()
                    }),
                    tenant_id: id.to_owned(),
                    domains: vec![format!("{id}.example")],
                    first_admin_upn: format!("admin@{id}.example"),
                    first_admin_display_name: format!("Admin of {id}"),
                    first_admin_password: PASSWORD.into(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                },
            ))
            .await
            .expect("create tenant");
        Org {
            id: id.to_owned(),
            admin: self.sign_in(&format!("admin@{id}.example"), PASSWORD).await,
        }
    }

    /// A partner tenant enrolled as an elite partner (R1).
    pub async fn elite_partner(&self, operator: &Person, id: &str) -> Org {
        let org = self.tenant(operator, id, TenantKind::Partner).await;
        TenantServiceClient::new(self.channel.clone())
            .enroll_elite_partner(as_user(
                &operator.token,
                EnrollElitePartnerRequest {
                    name: format!("partners/{id}"),
                },
            ))
            .await
            .expect("enrol");
        org
    }

    /// A plain user `{local}@{id}.example` created by the org's admin, signed in.
    pub async fn user(&self, org: &Org, local: &str, display_name: &str) -> Person {
        let upn = format!("{local}@{}.example", org.id);
        DirectoryServiceClient::new(self.channel.clone())
            .create_user(as_user(
                &org.admin.token,
                CreateUserRequest {
                    parent: format!("tenants/{}", org.id),
                    user: Some(User {
                        upn: upn.clone(),
                        display_name: display_name.to_owned(),
                        enabled: true,
                        ..Default::default()
                    }),
                    initial_password: PASSWORD.into(),
                    ..Default::default()
                },
            ))
            .await
            .expect("create user");
        self.sign_in(&upn, PASSWORD).await
    }

    /// The customer's admin invites `who` of `partner` (all rooms) and `who` accepts: the
    /// ACTIVE relationship, where `who` is a primary admin.
    pub async fn relate(&self, customer: &Org, partner: &Org, who: &Person) -> Relationship {
        let invitations = InvitationServiceClient::new(self.channel.clone())
            .create_invitation(as_user(
                &customer.admin.token,
                CreateInvitationRequest {
                    parent: customer.customer(),
                    partner_domain: format!("{}.example", partner.id),
                    invited_upns: vec![who.upn.clone()],
                    room_scope: Some(RoomScope {
                        all_rooms: true,
                        ..Default::default()
                    }),
                    change_control: None,
                    lifetime_days: None,
                    accept_terms: true,
                    request_id: String::new(),
                },
            ))
            .await
            .expect("create invitation")
            .into_inner()
            .invitations;
        InvitationServiceClient::new(self.channel.clone())
            .accept_invitation(as_user(
                &who.token,
                AcceptInvitationRequest {
                    name: invitations[0].name.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect("accept invitation")
            .into_inner()
            .relationship
            .expect("relationship")
    }
}
