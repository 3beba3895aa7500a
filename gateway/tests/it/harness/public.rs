//! A world of tenants, users and relationships built through the gateway's public API, as
//! clients build it: the operator and every user sign in and act with their tokens.

use mtm_proto::mtm::common::v1::TenantKind;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{SignInRequest, SignInResponse};
use mtm_proto::mtm::tenancy::v1::Relationship;
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;

use super::calls::{self, all_rooms, bearer};
use super::{OPERATOR_PASSWORD, PASSWORD, Stack};

/// A signed-in user: its token and who the sign-in said it is.
#[derive(Clone, Debug)]
pub struct Person {
    pub token: String,
    pub user: String,
    pub upn: String,
}

/// A tenant created by the operator, with its first admin signed in.
pub type Org = super::Org<Person>;

/// A stack and the set-up calls through its gateway.
pub struct Live {
    pub stack: Stack,
}

impl Live {
    /// A default stack.
    pub async fn start() -> Self {
        Self {
            stack: Stack::start().await,
        }
    }

    /// Stops every server, the gateway first.
    pub async fn stop(self) {
        self.stack.stop().await;
    }

    /// Signs `upn` in through the gateway.
    pub async fn sign_in(&self, upn: &str, password: &str) -> Person {
        let SignInResponse {
            access_token, user, ..
        } = AuthServiceClient::new(self.stack.public())
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

    /// Creates tenant `id` (see [`calls::create_tenant`]) as `operator`.
    pub async fn tenant(&self, operator: &Person, id: &str, kind: TenantKind) -> Org {
        TenantServiceClient::new(self.stack.public())
            .create_tenant(bearer(calls::create_tenant(id, kind), &operator.token))
            .await
            .expect("create tenant");
        let domain = format!("{id}.example");
        Org {
            id: id.to_owned(),
            admin: self.sign_in(&format!("admin@{domain}"), PASSWORD).await,
            domain,
        }
    }

    /// A partner tenant enrolled as an elite partner (R1).
    pub async fn elite_partner(&self, operator: &Person, id: &str) -> Org {
        let org = self.tenant(operator, id, TenantKind::Partner).await;
        TenantServiceClient::new(self.stack.public())
            .enroll_elite_partner(bearer(calls::enrol(id), &operator.token))
            .await
            .expect("enrol");
        org
    }

    /// A plain user `{local}@{domain}` created by the org's admin, signed in.
    pub async fn user(&self, org: &Org, local: &str, display_name: &str) -> Person {
        let upn = format!("{local}@{}", org.domain);
        DirectoryServiceClient::new(self.stack.public())
            .create_user(bearer(
                calls::create_user(&org.id, &upn, display_name),
                &org.admin.token,
            ))
            .await
            .expect("create user");
        self.sign_in(&upn, PASSWORD).await
    }

    /// The customer's admin invites `who` of `partner` (all rooms) and `who` accepts: the
    /// ACTIVE relationship, where `who` is a primary admin.
    pub async fn relate(&self, customer: &Org, partner: &Org, who: &Person) -> Relationship {
        let mut invitations = InvitationServiceClient::new(self.stack.public());
        let upns = vec![who.upn.clone()];
        let invite = calls::invite(
            customer.customer(),
            &partner.domain,
            upns,
            all_rooms(),
            None,
        );
        let invited = invitations
            .create_invitation(bearer(invite, &customer.admin.token))
            .await
            .expect("create invitation")
            .into_inner()
            .invitations;
        invitations
            .accept_invitation(bearer(calls::accept(&invited[0].name), &who.token))
            .await
            .expect("accept invitation")
            .into_inner()
            .relationship
            .expect("relationship")
    }
}
