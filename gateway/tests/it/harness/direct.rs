//! A world set up on the backends directly, speaking as the gateway with call contexts; the
//! behaviour under test is then exercised through the gateway with real tokens.

use mtm_proto::mtm::common::v1::{CallContext, DirectoryRole, Principal, RoomScope, TenantKind};
use mtm_proto::mtm::identity::v1::SignInRequest;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::{
    CreateRoomGroupRequest, CreateRoomRequest, Room, RoomGroup, RoomSize,
};
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use mtm_proto::mtm::tenancy::v1::{ChangeControlPolicy, Relationship};

use super::calls::{self, all_rooms, operator, req};
use super::{PASSWORD, Stack};

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
            scope: Some(all_rooms()),
            request_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        }
    }

    /// The user's UPN.
    pub fn upn(&self) -> &str {
        &self.principal.upn
    }
}

/// A tenant with its first admin.
pub type Org = super::Org<Person>;

/// A stack and the set-up calls on its backends.
pub struct World {
    pub stack: Stack,
}

impl World {
    /// A world on a default stack.
    pub async fn start() -> Self {
        Self::on(Stack::start().await)
    }

    /// A world on a default stack whose stores are on `backend`.
    pub async fn start_on(backend: super::Backend) -> Self {
        Self::on(Stack::builder().backend(backend).start().await)
    }

    /// A world on `stack`.
    pub fn on(stack: Stack) -> Self {
        Self { stack }
    }

    /// Stops every server.
    pub async fn stop(self) {
        self.stack.stop().await;
    }

    /// Signs `who` in through the gateway with its password: the access token.
    pub async fn sign_in(&self, who: &Person) -> String {
        AuthServiceClient::new(self.stack.public())
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
        let tenant = TenantServiceClient::new(self.stack.tenancy.clone())
            .create_tenant(req(calls::create_tenant(id, kind), &operator()))
            .await
            .expect("create tenant")
            .into_inner()
            .tenant
            .expect("tenant");
        let domain = format!("{id}.example");
        let admin = Principal {
            user: tenant.first_admin_user,
            upn: format!("admin@{domain}"),
            home_tenant: format!("tenants/{id}"),
            directory_roles: vec![DirectoryRole::GlobalAdmin.into()],
            ..Default::default()
        };
        Org {
            id: id.to_owned(),
            domain,
            admin: Person { principal: admin },
        }
    }

    /// A customer tenant; its admin is MMR admin.
    pub async fn customer(&self, id: &str) -> Org {
        self.tenant(id, TenantKind::Customer).await
    }

    /// An elite partner tenant.
    pub async fn partner(&self, id: &str) -> Org {
        let org = self.tenant(id, TenantKind::Partner).await;
        TenantServiceClient::new(self.stack.tenancy.clone())
            .enroll_elite_partner(req(calls::enrol(id), &operator()))
            .await
            .expect("enrol the partner");
        org
    }

    /// A user of `org` without any role, `{local}@{domain}`.
    pub async fn user(&self, org: &Org, local: &str) -> Person {
        let upn = format!("{local}@{}", org.domain);
        let user = DirectoryServiceClient::new(self.stack.identity.clone())
            .create_user(req(
                calls::create_user(&org.id, &upn, local),
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
        self.relate_people(
            customer,
            partner,
            &[&partner.admin],
            all_rooms(),
            change_control,
        )
        .await
    }

    /// `customer`'s admin invites `who` of `partner` to `scope` and each of them accepts: the
    /// relationship, where they are primary admins.
    pub async fn relate_people(
        &self,
        customer: &Org,
        partner: &Org,
        who: &[&Person],
        scope: RoomScope,
        change_control: Option<ChangeControlPolicy>,
    ) -> Relationship {
        let mut invitations = InvitationServiceClient::new(self.stack.tenancy.clone());
        let upns = who.iter().map(|p| p.upn().to_owned()).collect();
        let invite = calls::invite(
            customer.customer(),
            &partner.domain,
            upns,
            scope,
            change_control,
        );
        let invited = invitations
            .create_invitation(req(invite, &customer.admin.context()))
            .await
            .expect("create invitation")
            .into_inner()
            .invitations;
        let mut relationship = None;
        for person in who {
            let invitation = invited
                .iter()
                .find(|i| i.invitee_upn == person.upn())
                .expect("an invitation per invited user");
            let accepted = invitations
                .accept_invitation(req(calls::accept(&invitation.name), &person.context()))
                .await
                .expect("accept invitation")
                .into_inner();
            relationship = accepted.relationship;
        }
        relationship.expect("relationship")
    }

    /// Creates room group `id` at `customer`: its name.
    pub async fn room_group(&self, customer: &Org, id: &str, display_name: &str) -> String {
        let group = CreateRoomGroupRequest {
            parent: customer.customer(),
            room_group: Some(RoomGroup {
                display_name: display_name.to_owned(),
                ..Default::default()
            }),
            room_group_id: id.to_owned(),
            request_id: String::new(),
        };
        RoomGroupServiceClient::new(self.stack.rooms.clone())
            .create_room_group(req(group, &customer.admin.context()))
            .await
            .expect("create room group")
            .into_inner()
            .room_group
            .expect("room group")
            .name
    }

    /// Creates room `id` (medium, 8 seats) in `group` at `customer`: its name.
    pub async fn room_in(
        &self,
        customer: &Org,
        group: String,
        id: &str,
        display_name: &str,
    ) -> String {
        let room = CreateRoomRequest {
            parent: customer.customer(),
            room: Some(Room {
                display_name: display_name.to_owned(),
                room_group: group,
                capacity: 8,
                size: RoomSize::Medium as i32,
                ..Default::default()
            }),
            room_id: id.to_owned(),
            request_id: String::new(),
        };
        RoomServiceClient::new(self.stack.rooms.clone())
            .create_room(req(room, &customer.admin.context()))
            .await
            .expect("create room")
            .into_inner()
            .room
            .expect("room")
            .name
    }

    /// Creates room `id` (`Room {id}`, in a new group `site-{id}`) at `customer`: its name.
    pub async fn room(&self, customer: &Org, id: &str) -> String {
        let group = self
            .room_group(customer, &format!("site-{id}"), &format!("Site {id}"))
            .await;
        self.room_in(customer, group, id, &format!("Room {id}"))
            .await
    }
}
