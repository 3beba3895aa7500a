//! The suite the audit tests run against: real backends and the gateway, two customers and a
//! partner, and acts through the public API that each backend audits.

use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{
    AuditRecord, ExportAuditRecordsRequest, ExportAuditRecordsResponse, ListAuditRecordsRequest,
};
use mtm_proto::mtm::common::v1::{RoomScope, TenantKind};
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{CreateUserRequest, SignInRequest, User};
use mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient;
use mtm_proto::mtm::rbac::v1::{CreateRoleAssignmentRequest, RoleAssignment};
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::update_ring_service_client::UpdateRingServiceClient;
use mtm_proto::mtm::rooms::v1::{
    CreateRoomGroupRequest, RoomGroup, UpdateRing, UpdateUpdateRingRequest,
};
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    AcceptInvitationRequest, CreateInvitationRequest, CreateTenantRequest,
    EnrollElitePartnerRequest, Tenant,
};
use tonic::transport::Channel;

const OPERATOR_PASSWORD: &str = "operator-secret-password";
const PASSWORD: &str = "correct horse battery";

type Stop = Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>;

fn stopper<E: std::fmt::Debug + Send + 'static>(server: RunningServer<E>) -> Stop {
    Box::new(move || tokio::spawn(server.stop()))
}

fn url(addr: std::net::SocketAddr) -> String {
    format!("https://127.0.0.1:{}", addr.port())
}

/// The real backends and the gateway, and a public TLS channel to the gateway.
pub struct Suite {
    _pki: TestPki,
    _dir: tempfile::TempDir,
    pub channel: Channel,
    /// rooms-svc and tenancy-svc, spoken to as the gateway.
    pub rooms_internal: Channel,
    pub tenancy_internal: Channel,
    servers: Vec<(&'static str, Stop)>,
}

impl Suite {
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
            url(identity.addr),
            url(rbac.addr),
            url(rooms.addr),
        );
        let tenancy =
            RunningServer::start(|l, s| tenancy_svc::serve(tenancy_config, l, None, s)).await;
        let gateway_config = gateway::Config {
            server: pki.server_args("gateway"),
            public_tls_cert: None,
            public_tls_key: None,
            identity_url: url(identity.addr),
            tenancy_url: url(tenancy.addr),
            rbac_url: url(rbac.addr),
            rooms_url: url(rooms.addr),
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
        let rooms_internal = mtls_channel(rooms.addr, &pki.material("gateway"))
            .await
            .expect("mTLS to rooms-svc");
        let tenancy_internal = mtls_channel(tenancy.addr, &pki.material("gateway"))
            .await
            .expect("mTLS to tenancy-svc");
        Self {
            _pki: pki,
            _dir: dir,
            channel,
            rooms_internal,
            tenancy_internal,
            servers: vec![
                ("gateway", stopper(gateway)),
                ("tenancy-svc", stopper(tenancy)),
                ("rooms-svc", stopper(rooms)),
                ("rbac-svc", stopper(rbac)),
                ("identity-svc", stopper(identity)),
            ],
        }
    }

    pub async fn stop(self) {
        for (_, stop) in self.servers {
            stop().await.expect("server stopped");
        }
    }

    /// Stops one server of the suite, e.g. `rooms-svc`.
    pub async fn stop_one(&mut self, name: &str) {
        let index = self
            .servers
            .iter()
            .position(|(n, _)| *n == name)
            .expect("a server of the suite");
        let (_, stop) = self.servers.remove(index);
        stop().await.expect("server stopped");
    }

    pub async fn sign_in(&self, upn: &str, password: &str) -> String {
        AuthServiceClient::new(self.channel.clone())
            .sign_in(SignInRequest {
                upn: upn.to_owned(),
                password: password.to_owned(),
            })
            .await
            .expect("sign in")
            .into_inner()
            .access_token
    }

    pub fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.channel.clone())
    }
}

/// `message` with a bearer token.
pub fn as_user<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// A tenant created by the operator, and the token of its first admin (a Global admin).
pub struct Org {
    pub id: String,
    pub admin: String,
}

async fn tenant(suite: &Suite, operator: &str, id: &str, kind: TenantKind) -> Org {
    TenantServiceClient::new(suite.channel.clone())
        .create_tenant(as_user(
            operator,
            CreateTenantRequest {
                tenant: Some(Tenant {
                    display_name: format!("{id} Ltd"),
                    kind: kind.into(),
                    ..Default::default()
                }),
                tenant_id: id.to_owned(),
                domains: vec![format!("{id}.example")],
                first_admin_upn: format!("admin@{id}.example"),
                first_admin_display_name: "Admin".into(),
                first_admin_password: PASSWORD.into(),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
        ))
        .await
        .expect("create tenant");
    Org {
        id: id.to_owned(),
        admin: suite
            .sign_in(&format!("admin@{id}.example"), PASSWORD)
            .await,
    }
}

async fn room_group(suite: &Suite, org: &Org, id: &str) {
    RoomGroupServiceClient::new(suite.channel.clone())
        .create_room_group(as_user(
            &org.admin,
            CreateRoomGroupRequest {
                parent: format!("customers/{}", org.id),
                room_group: Some(RoomGroup {
                    display_name: id.to_owned(),
                    ..Default::default()
                }),
                room_group_id: id.to_owned(),
                request_id: String::new(),
            },
        ))
        .await
        .expect("create room group");
}

/// Two customers and a partner related to the first one, with audited acts of each backend.
pub struct World {
    pub suite: Suite,
    pub contoso: Org,
    pub northwind: Org,
    pub fabrikam: Org,
    /// A contoso user assigned Site lead, which does not hold `settings.view`.
    pub site_lead: String,
}

impl World {
    pub async fn build() -> Self {
        let suite = Suite::start().await;
        let operator = suite.sign_in("operator", OPERATOR_PASSWORD).await;
        let contoso = tenant(&suite, &operator, "contoso", TenantKind::Customer).await;
        let northwind = tenant(&suite, &operator, "northwind", TenantKind::Customer).await;
        let fabrikam = tenant(&suite, &operator, "fabrikam", TenantKind::Partner).await;
        TenantServiceClient::new(suite.channel.clone())
            .enroll_elite_partner(as_user(
                &operator,
                EnrollElitePartnerRequest {
                    name: "partners/fabrikam".into(),
                },
            ))
            .await
            .expect("enrol fabrikam");

        room_group(&suite, &contoso, "hq").await;
        room_group(&suite, &northwind, "nw-site").await;

        let lead = DirectoryServiceClient::new(suite.channel.clone())
            .create_user(as_user(
                &contoso.admin,
                CreateUserRequest {
                    parent: "tenants/contoso".into(),
                    user: Some(User {
                        upn: "lead@contoso.example".into(),
                        display_name: "Lead".into(),
                        enabled: true,
                        ..Default::default()
                    }),
                    initial_password: PASSWORD.into(),
                    ..Default::default()
                },
            ))
            .await
            .expect("create user")
            .into_inner()
            .user
            .expect("user");
        RoleServiceClient::new(suite.channel.clone())
            .create_role_assignment(as_user(
                &contoso.admin,
                CreateRoleAssignmentRequest {
                    parent: "customers/contoso".into(),
                    role_assignment: Some(RoleAssignment {
                        display_name: "Leads".into(),
                        role: "customers/contoso/roles/site-lead".into(),
                        members: vec![lead.name],
                        scope: Some(RoomScope {
                            all_rooms: true,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ))
            .await
            .expect("assign site lead");
        let site_lead = suite.sign_in("lead@contoso.example", PASSWORD).await;

        let invitations = InvitationServiceClient::new(suite.channel.clone())
            .create_invitation(as_user(
                &contoso.admin,
                CreateInvitationRequest {
                    parent: "customers/contoso".into(),
                    partner_domain: "fabrikam.example".into(),
                    invited_upns: vec!["admin@fabrikam.example".into()],
                    room_scope: Some(RoomScope {
                        all_rooms: true,
                        ..Default::default()
                    }),
                    accept_terms: true,
                    ..Default::default()
                },
            ))
            .await
            .expect("invite fabrikam")
            .into_inner()
            .invitations;
        InvitationServiceClient::new(suite.channel.clone())
            .accept_invitation(as_user(
                &fabrikam.admin,
                AcceptInvitationRequest {
                    name: invitations[0].name.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect("fabrikam accepts");
        // A partner action at the customer: fabrikam's primary admin edits a ring.
        UpdateRingServiceClient::new(suite.channel.clone())
            .update_update_ring(as_user(
                &fabrikam.admin,
                UpdateUpdateRingRequest {
                    update_ring: Some(UpdateRing {
                        name: "customers/contoso/updateRings/general".into(),
                        description: "Every room, managed by fabrikam".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["description".into()],
                    }),
                },
            ))
            .await
            .expect("fabrikam edits a ring");
        Self {
            suite,
            contoso,
            northwind,
            fabrikam,
            site_lead,
        }
    }

    /// Every record of `parent` matching `filter`, walking pages of `page_size`.
    pub async fn walk(
        &self,
        token: &str,
        parent: &str,
        filter: &str,
        page_size: i32,
    ) -> Vec<AuditRecord> {
        let mut records = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .suite
                .audit()
                .list_audit_records(as_user(
                    token,
                    ListAuditRecordsRequest {
                        parent: parent.to_owned(),
                        page_size,
                        page_token,
                        filter: filter.to_owned(),
                        start_after: None,
                    },
                ))
                .await
                .expect("list audit records")
                .into_inner();
            records.extend(page.audit_records);
            if page.next_page_token.is_empty() {
                return records;
            }
            page_token = page.next_page_token;
        }
    }

    pub async fn all(&self, filter: &str) -> Vec<AuditRecord> {
        self.walk(&self.contoso.admin, "customers/contoso", filter, 1000)
            .await
    }

    pub async fn list_error(&self, token: &str, parent: &str, filter: &str) -> tonic::Status {
        self.suite
            .audit()
            .list_audit_records(as_user(
                token,
                ListAuditRecordsRequest {
                    parent: parent.to_owned(),
                    filter: filter.to_owned(),
                    ..Default::default()
                },
            ))
            .await
            .expect_err("refused")
    }

    pub async fn export_chunks(
        &self,
        token: &str,
        parent: &str,
    ) -> Result<Vec<ExportAuditRecordsResponse>, tonic::Status> {
        let mut stream = self
            .suite
            .audit()
            .export_audit_records(as_user(
                token,
                ExportAuditRecordsRequest {
                    parent: parent.to_owned(),
                    filter: String::new(),
                },
            ))
            .await?
            .into_inner();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.message().await? {
            assert!(chunk.data.len() <= 64 * 1024, "chunks stay under 64 KiB");
            chunks.push(chunk);
        }
        Ok(chunks)
    }

    pub async fn export(&self, token: &str, parent: &str) -> Result<(Vec<u8>, i32), tonic::Status> {
        let chunks = self.export_chunks(token, parent).await?;
        let count = chunks.iter().map(|c| c.record_count).sum();
        Ok((chunks.into_iter().flat_map(|c| c.data).collect(), count))
    }
}
