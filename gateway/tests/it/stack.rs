//! A complete MTM in-process for gateway tests: the real identity-svc, tenancy-svc, rbac-svc
//! and rooms-svc over mTLS on 127.0.0.1:0 with SQLite stores, and the gateway in front. Tenants,
//! users and relationships are set up on the backends directly (speaking as the gateway);
//! the behaviour under test is exercised through the gateway with real tokens.

use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::common::v1::{CallContext, DirectoryRole, Principal, RoomScope, TenantKind};
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{CreateUserRequest, SignInRequest, User};
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateRoomGroupRequest, CreateRoomRequest, Room, RoomGroup};
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    AcceptInvitationRequest, ChangeControlPolicy, CreateInvitationRequest, CreateTenantRequest,
    EnrollElitePartnerRequest, Relationship, Tenant,
};
use tonic::transport::Channel;

/// The password of every user the world creates.
pub const PASSWORD: &str = "correct horse battery";

/// A user as the gateway would describe it, for setting things up on the backends.
#[derive(Clone, Debug)]
pub struct Person {
    pub principal: Principal,
}

impl Person {
    /// A call context naming this person, with an all-rooms scope.
    pub fn context(&self) -> CallContext {
        CallContext {
            principal: Some(self.principal.clone()),
            scope: Some(RoomScope {
                all_rooms: true,
                ..Default::default()
            }),
            request_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        }
    }

    /// The user's UPN.
    pub fn upn(&self) -> &str {
        &self.principal.upn
    }
}

/// A tenant with its first admin (a Global admin; MMR admin of a customer).
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub domain: String,
    pub admin: Person,
}

type Stop = Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>;

fn stopper<E: std::fmt::Debug + Send + 'static>(server: RunningServer<E>) -> Stop {
    Box::new(move || tokio::spawn(server.stop()))
}

/// The running world.
pub struct World {
    pki: TestPki,
    _dir: tempfile::TempDir,
    gateway_addr: std::net::SocketAddr,
    pub identity: Channel,
    pub tenancy: Channel,
    pub rooms: Channel,
    servers: Vec<Stop>,
}

/// Attaches `context` to `message`, for calls on the backends.
pub fn req<T>(message: T, context: &CallContext) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(&mut request, context);
    request
}

/// `message` with a bearer token, for calls through the gateway.
pub fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

fn operator() -> CallContext {
    CallContext {
        principal: Some(Principal {
            operator: true,
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl World {
    /// Starts the backends and a gateway with `limits`.
    pub async fn start(limits: gateway::LimitArgs) -> Self {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite = |name: &str| format!("sqlite://{}/{name}.db", dir.path().display());
        let url = |addr: std::net::SocketAddr| format!("https://127.0.0.1:{}", addr.port());
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
            url(identity.addr),
            url(rbac.addr),
            url(rooms.addr),
        );
        let tenancy =
            RunningServer::start(|l, s| tenancy_svc::serve(tenancy_config, l, None, s)).await;
        let config = gateway::Config {
            server: pki.server_args("gateway"),
            public_tls_cert: None,
            public_tls_key: None,
            identity_url: url(identity.addr),
            tenancy_url: url(tenancy.addr),
            rbac_url: url(rbac.addr),
            rooms_url: url(rooms.addr),
            limits,
        };
        let gateway = RunningServer::start(|l, s| gateway::serve(config, l, None, s)).await;
        let as_gateway = pki.material("gateway");
        let channel = |addr| {
            let tls = as_gateway.clone();
            async move { mtls_channel(addr, &tls).await.expect("mTLS channel") }
        };
        Self {
            identity: channel(identity.addr).await,
            tenancy: channel(tenancy.addr).await,
            rooms: channel(rooms.addr).await,
            gateway_addr: gateway.addr,
            pki,
            _dir: dir,
            servers: vec![
                stopper(gateway),
                stopper(tenancy),
                stopper(rooms),
                stopper(rbac),
                stopper(identity),
            ],
        }
    }

    /// Stops every server.
    pub async fn stop(self) {
        for stop in self.servers {
            stop().await.expect("server stopped");
        }
    }

    /// A public (server-TLS only) channel to the gateway.
    pub async fn public(&self) -> Channel {
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(self.pki.ca_pem()));
        Channel::from_shared(format!("https://{}", self.gateway_addr))
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
            .expect("connect to the gateway")
    }

    /// Signs `who` in through the gateway with its password: the access token.
    pub async fn sign_in(&self, who: &Person) -> String {
        AuthServiceClient::new(self.public().await)
            .sign_in(SignInRequest {
                upn: who.upn().to_owned(),
                password: PASSWORD.to_owned(),
            })
            .await
            .expect("sign in through the gateway")
            .into_inner()
            .access_token
    }

    async fn tenant(&self, id: &str, kind: TenantKind) -> Org {
        let domain = format!("{id}.example");
        let tenant = TenantServiceClient::new(self.tenancy.clone())
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
                    first_admin_password: PASSWORD.into(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                },
                &operator(),
            ))
            .await
            .expect("create tenant")
            .into_inner()
            .tenant
            .expect("tenant");
        Org {
            id: id.to_owned(),
            admin: Person {
                principal: Principal {
                    user: tenant.first_admin_user,
                    upn: format!("admin@{domain}"),
                    home_tenant: format!("tenants/{id}"),
                    directory_roles: vec![DirectoryRole::GlobalAdmin.into()],
                    ..Default::default()
                },
            },
            domain,
        }
    }

    /// A customer tenant; its admin is MMR admin.
    pub async fn customer(&self, id: &str) -> Org {
        self.tenant(id, TenantKind::Customer).await
    }

    /// An elite partner tenant.
    pub async fn partner(&self, id: &str) -> Org {
        let org = self.tenant(id, TenantKind::Partner).await;
        TenantServiceClient::new(self.tenancy.clone())
            .enroll_elite_partner(req(
                EnrollElitePartnerRequest {
                    name: format!("partners/{id}"),
                },
                &operator(),
            ))
            .await
            .expect("enrol the partner");
        org
    }

    /// A user of `org` without any role, `{local}@{domain}`.
    pub async fn user(&self, org: &Org, local: &str) -> Person {
        let upn = format!("{local}@{}", org.domain);
        let user = DirectoryServiceClient::new(self.identity.clone())
            .create_user(req(
                CreateUserRequest {
                    parent: format!("tenants/{}", org.id),
                    user: Some(User {
                        upn: upn.clone(),
                        display_name: local.to_owned(),
                        enabled: true,
                        ..Default::default()
                    }),
                    initial_password: PASSWORD.into(),
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

    /// Makes `partner`'s admin a primary admin of `customer` (all rooms, `change_control`).
    pub async fn relate(
        &self,
        customer: &Org,
        partner: &Org,
        change_control: Option<ChangeControlPolicy>,
    ) -> Relationship {
        let mut invitations = InvitationServiceClient::new(self.tenancy.clone());
        let invited = invitations
            .create_invitation(req(
                CreateInvitationRequest {
                    parent: format!("customers/{}", customer.id),
                    partner_domain: partner.domain.clone(),
                    invited_upns: vec![partner.admin.upn().to_owned()],
                    room_scope: Some(RoomScope {
                        all_rooms: true,
                        ..Default::default()
                    }),
                    change_control,
                    lifetime_days: None,
                    accept_terms: true,
                    request_id: String::new(),
                },
                &customer.admin.context(),
            ))
            .await
            .expect("create invitation")
            .into_inner()
            .invitations;
        invitations
            .accept_invitation(req(
                AcceptInvitationRequest {
                    name: invited[0].name.clone(),
                    ..Default::default()
                },
                &partner.admin.context(),
            ))
            .await
            .expect("accept invitation")
            .into_inner()
            .relationship
            .expect("relationship")
    }

    /// Creates room `id` (in a new group of the same id) at `customer`: its name.
    pub async fn room(&self, customer: &Org, id: &str) -> String {
        let context = customer.admin.context();
        let group = RoomGroupServiceClient::new(self.rooms.clone())
            .create_room_group(req(
                CreateRoomGroupRequest {
                    parent: format!("customers/{}", customer.id),
                    room_group: Some(RoomGroup {
                        display_name: format!("Site {id}"),
                        ..Default::default()
                    }),
                    room_group_id: format!("site-{id}"),
                    request_id: String::new(),
                },
                &context,
            ))
            .await
            .expect("create room group")
            .into_inner()
            .room_group
            .expect("room group");
        RoomServiceClient::new(self.rooms.clone())
            .create_room(req(
                CreateRoomRequest {
                    parent: format!("customers/{}", customer.id),
                    room: Some(Room {
                        display_name: format!("Room {id}"),
                        room_group: group.name,
                        capacity: 8,
                        size: mtm_proto::mtm::rooms::v1::RoomSize::Medium as i32,
                        ..Default::default()
                    }),
                    room_id: id.to_owned(),
                    request_id: String::new(),
                },
                &context,
            ))
            .await
            .expect("create room")
            .into_inner()
            .room
            .expect("room")
            .name
    }
}

/// The `google.rpc.ErrorInfo` of a status.
pub fn error_info(status: &tonic::Status) -> tonic_types::ErrorInfo {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .error_info()
        .cloned()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
}
