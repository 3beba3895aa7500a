//! The operator enrols the partner, the partner appoints its tenant managers, the customers
//! lay out their rooms, Fabrikam invites the partner and a tenant manager accepts.

use mtm_e2e::world::{self, CUSTOMERS, Offer, PARTNER};
use mtm_proto::mtm::common::v1::{RelationshipState, RoomScope};
use mtm_proto::mtm::rooms::v1::{Room, TicketSeverity};
use mtm_proto::mtm::tenancy::v1::ListReceivedInvitationsRequest;
use mtm_proto::mtm::tenancy::v1::invitation::State as InvitationState;
use mtm_proto::mtm::tenancy::v1::invitation_service_client::InvitationServiceClient;
use mtm_proto::mtm::tenancy::v1::partner_profile::EliteStatus;
use mtm_proto::mtm::tenancy::v1::tenant::State as TenantState;

use super::cast::{Cast, FABRIKAM, FLEET_ADMINS};
use super::reads::{assert_out_of_reach, rooms_seen, tickets_seen};

/// The operator registers the partner and the three customers, then enrols the partner (R1).
pub async fn operator_enrols_the_partner(cast: &Cast) {
    for spec in std::iter::once(&PARTNER).chain(&CUSTOMERS) {
        let tenant = world::register_tenant(&cast.operator, spec)
            .await
            .expect("register tenant");
        assert_eq!(tenant.name, format!("tenants/{}", spec.id));
        assert_eq!(tenant.state(), TenantState::Active, "{tenant:?}");
    }
    let profile = world::enrol_partner(&cast.operator, &PARTNER)
        .await
        .expect("enrol partner");
    assert_eq!(profile.elite_status(), EliteStatus::Enrolled);
    assert_eq!(profile.name, PARTNER.partner());
}

/// The partner's Global admin makes the tenant-managers group tenant managers (R4) and puts
/// the future primary admin into a fleet-admins group.
pub async fn global_admin_adds_tenant_managers(cast: &mut Cast) {
    let group = PARTNER.group("tenant-managers");
    let manager = world::add_tenant_manager(&cast.partner_admin, &group)
        .await
        .expect("add tenant managers");
    assert_eq!(manager.member, group);
    let fleet = world::create_group(
        &cast.partner_admin,
        FLEET_ADMINS,
        "Fleet admins",
        std::slice::from_ref(&cast.primary_admin.user),
    )
    .await
    .expect("fleet admins group");
    assert_eq!(fleet.name, PARTNER.group(FLEET_ADMINS));
}

/// Fabrikam has a Berlin site with two rooms and a Paris site with one, and a ticket on a room
/// of each; Northwind and Adatum have one site, room and ticket each.
pub async fn customers_lay_out_rooms(cast: &mut Cast) {
    let admin = cast.fabrikam_admin().clone();
    let customer = FABRIKAM.customer();
    let berlin = site(&admin, &customer, "berlin", "Berlin").await;
    let paris = site(&admin, &customer, "paris", "Paris").await;
    let spree = room(&admin, &customer, &berlin, "spree", "Spree").await;
    let tiergarten = room(&admin, &customer, &berlin, "tiergarten", "Tiergarten").await;
    let seine = room(&admin, &customer, &paris, "seine", "Seine").await;
    let spree_ticket = ticket(&admin, &customer, &spree, "Spree display flickers").await;
    let seine_ticket = ticket(&admin, &customer, &seine, "Seine camera offline").await;
    cast.rooms = super::cast::FabrikamRooms {
        berlin,
        spree,
        tiergarten,
        seine,
        spree_ticket,
        seine_ticket,
    };
    for (index, spec) in CUSTOMERS.iter().enumerate().skip(1) {
        let admin = cast.customer_admins[index].clone();
        let customer = spec.customer();
        let hq = site(&admin, &customer, "hq", "Headquarters").await;
        let boardroom = room(&admin, &customer, &hq, "boardroom", "Boardroom").await;
        ticket(
            &admin,
            &customer,
            &boardroom,
            &format!("{} boardroom mic", spec.display_name),
        )
        .await;
    }
}

async fn site(admin: &mtm_e2e::api::Session, customer: &str, id: &str, display: &str) -> String {
    world::create_site(admin, customer, id, display)
        .await
        .expect("create site")
        .name
}

async fn room(
    admin: &mtm_e2e::api::Session,
    customer: &str,
    site: &str,
    id: &str,
    display: &str,
) -> String {
    let room = Room {
        display_name: display.to_owned(),
        room_group: site.to_owned(),
        capacity: 8,
        ..Default::default()
    };
    world::create_room(admin, customer, id, room)
        .await
        .expect("create room")
        .name
}

async fn ticket(admin: &mtm_e2e::api::Session, customer: &str, room: &str, title: &str) -> String {
    world::open_incident(
        admin,
        customer,
        &[room.to_owned()],
        title,
        TicketSeverity::Important,
    )
    .await
    .expect("open incident")
    .name
}

/// Fabrikam's MMR admin invites the partner: its domain, one UPN, the Berlin site, 7 days.
pub async fn customer_invites_the_partner(cast: &mut Cast) {
    let offer = Offer {
        partner_domain: PARTNER.domain.to_owned(),
        invited_upns: vec![PARTNER.upn("admin")],
        room_scope: RoomScope {
            room_groups: vec![cast.rooms.berlin.clone()],
            ..Default::default()
        },
        lifetime_days: 7,
        manual_approval: Vec::new(),
    };
    let invitations = world::invite_partner(cast.fabrikam_admin(), &FABRIKAM.customer(), &offer)
        .await
        .expect("invite the partner");
    assert_eq!(invitations.len(), 1, "one invitation per invited UPN (R11)");
    let invitation = &invitations[0];
    assert_eq!(invitation.state(), InvitationState::Pending);
    assert_eq!(invitation.partner, PARTNER.partner());
    assert_eq!(invitation.invitee_upn, PARTNER.upn("admin"));
    assert_eq!(invitation.lifetime_days, 7);
    let created = invitation.create_time.expect("create time").seconds;
    let expires = invitation.expire_time.expect("expire time").seconds;
    assert_eq!(expires - created, 7 * 24 * 3600, "{invitation:?}");
    cast.invitation = invitation.name.clone();
}

/// The tenant manager sees the invitation with its high-level metadata only, and no room or
/// ticket of the customer (R5, R6, R9).
pub async fn tenant_manager_sees_only_the_invitation(cast: &Cast) {
    let received = InvitationServiceClient::new(cast.channel.clone())
        .list_received_invitations(cast.tenant_manager.call(ListReceivedInvitationsRequest {
            parent: PARTNER.partner(),
            ..Default::default()
        }))
        .await
        .expect("received invitations")
        .into_inner()
        .invitations;
    let invitation = received
        .iter()
        .find(|i| i.name == cast.invitation)
        .unwrap_or_else(|| panic!("{} not among {received:?}", cast.invitation));
    assert_eq!(invitation.customer_display_name, FABRIKAM.display_name);
    assert_eq!(invitation.customer_domain, FABRIKAM.domain);
    assert_eq!(
        invitation.room_scope, None,
        "no room names for the partner (R6)"
    );
    let summary = invitation.scope_summary.expect("scope summary");
    assert_eq!(summary.room_group_count, 1);
    assert_eq!(summary.covered_room_count, 2);

    let customer = FABRIKAM.customer();
    assert_out_of_reach(
        rooms_seen(&cast.tenant_manager, &customer).await,
        "a tenant manager lists the customer's rooms",
    );
    assert_out_of_reach(
        tickets_seen(&cast.tenant_manager, &customer).await,
        "a tenant manager lists the customer's tickets",
    );
}

/// The tenant manager accepts and names the fleet-admins group primary admins (R10).
pub async fn tenant_manager_accepts(cast: &mut Cast) {
    let relationship = world::accept_invitation(
        &cast.tenant_manager,
        &cast.invitation,
        &[PARTNER.group(FLEET_ADMINS)],
    )
    .await
    .expect("accept the invitation");
    assert_eq!(relationship.state(), RelationshipState::Active);
    assert_eq!(relationship.customer, FABRIKAM.customer());
    assert_eq!(relationship.partner, PARTNER.partner());
    cast.relationships.push(relationship.name);
}
