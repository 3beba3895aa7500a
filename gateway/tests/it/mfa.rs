//! R3: a customer may require partner users to present an MFA-asserted token; the gateway
//! refuses the others with UNAUTHENTICATED / `MFA_REQUIRED` from the very next call.

use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_client::AggregatedTicketServiceClient;
use mtm_proto::mtm::gateway::v1::{ListAllTicketsRequest, ListAllTicketsResponse};
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{
    CreateIdentityProviderRequest, ExchangeExternalTokenRequest, IdentityProvider,
};
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::settings_service_client::SettingsServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateIncidentRequest, TicketSeverity};
use mtm_proto::mtm::rooms::v1::{ListRoomsRequest, Settings, UpdateSettingsRequest};
use mtm_token::{KeyMaterial, jwks_json};
use tonic::Code;

use crate::harness::Backend;
use crate::harness::calls::{all_tickets_view_on, bearer, error_info, req};
use crate::harness::direct::{Org, World};

const ISSUER: &str = "https://login.partner.example";
const AUDIENCE: &str = "mtm-app";

/// A token of `org`'s admin asserting MFA, exchanged through the gateway for an MTM token.
pub async fn mfa_token(world: &World, org: &Org) -> String {
    let key = KeyMaterial::generate();
    DirectoryServiceClient::new(world.stack.identity.clone())
        .create_identity_provider(req(
            CreateIdentityProviderRequest {
                parent: format!("tenants/{}", org.id),
                identity_provider: Some(IdentityProvider {
                    display_name: "Partner sign-in".into(),
                    issuer: ISSUER.into(),
                    audience: AUDIENCE.into(),
                    jwks_json: jwks_json([(key.kid.as_str(), key.x.as_str())]),
                    ..Default::default()
                }),
                identity_provider_id: "partner-login".into(),
                request_id: String::new(),
            },
            &org.admin.context(),
        ))
        .await
        .expect("trust the partner's issuer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let id_token = key
        .sign(&serde_json::json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "external-subject",
            "upn": org.admin.upn(),
            "amr": ["pwd", "mfa"],
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        }))
        .expect("sign");
    let exchanged = AuthServiceClient::new(world.stack.public())
        .exchange_external_token(ExchangeExternalTokenRequest { id_token })
        .await
        .expect("exchange through the gateway")
        .into_inner();
    assert!(exchanged.amr.iter().any(|m| m == "mfa"));
    exchanged.access_token
}

/// `customer` (an id) requires partner users to sign in with MFA, set by its admin's `token`
/// through the gateway.
pub async fn require_mfa(world: &World, customer: &str, token: &str) {
    SettingsServiceClient::new(world.stack.public())
        .update_settings(bearer(
            UpdateSettingsRequest {
                settings: Some(Settings {
                    name: format!("customers/{customer}/settings"),
                    partner_mfa_required: true,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["partner_mfa_required".into()],
                }),
            },
            token,
        ))
        .await
        .expect("the customer requires MFA of partner users");
}

#[tokio::test]
async fn r3_partner_without_mfa_is_refused_once_the_customer_requires_it() {
    let world = World::start().await;
    let customer = world.customer("contoso").await;
    let partner = world.partner("fabrikam").await;
    world.relate(&customer, &partner, None).await;
    world.room(&customer, "r1").await;
    let customer_token = world.sign_in(&customer.admin).await;
    let partner_token = world.sign_in(&partner.admin).await;
    let channel = world.stack.public();
    let mut rooms = RoomServiceClient::new(channel.clone());
    let list = || ListRoomsRequest {
        parent: "customers/contoso".into(),
        ..Default::default()
    };

    // Off by default: the customer's own policies do not apply to partner users.
    let seen = rooms
        .list_rooms(bearer(list(), &partner_token))
        .await
        .expect("partner lists rooms without MFA")
        .into_inner();
    assert_eq!(seen.rooms.len(), 1);

    require_mfa(&world, "contoso", &customer_token).await;

    let refused = rooms
        .list_rooms(bearer(list(), &partner_token))
        .await
        .expect_err("a password-only partner token is refused at once");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(error_info(&refused).reason, "MFA_REQUIRED");

    rooms
        .list_rooms(bearer(list(), &customer_token))
        .await
        .expect("the customer's own users are not concerned");

    let with_mfa = mfa_token(&world, &partner).await;
    let seen = rooms
        .list_rooms(bearer(list(), &with_mfa))
        .await
        .expect("an MFA-asserted partner token is accepted")
        .into_inner();
    assert_eq!(seen.rooms.len(), 1);
    world.stop().await;
}

on_both_backends!(
    r3_all_tickets_view_enforces_partner_mfa,
    r3_all_tickets_view_enforces_partner_mfa_postgres,
    all_tickets_view_enforces_partner_mfa
);

async fn all_tickets_view_enforces_partner_mfa(backend: Backend) {
    let world = World::start_on(backend).await;
    let customer = world.customer("contoso").await;
    let other = world.customer("litware").await;
    let partner = world.partner("fabrikam").await;
    for org in [&customer, &other] {
        world.relate(org, &partner, None).await;
        let room = world.room(org, "r1").await;
        TicketServiceClient::new(world.stack.rooms.clone())
            .create_incident(req(
                CreateIncidentRequest {
                    parent: org.customer(),
                    rooms: vec![room],
                    title: "no picture".into(),
                    severity: TicketSeverity::Warning.into(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                    ..Default::default()
                },
                &org.admin.context(),
            ))
            .await
            .expect("an incident");
    }
    let partner_token = world.sign_in(&partner.admin).await;
    DirectoryServiceClient::new(world.stack.public())
        .update_user_preferences(bearer(
            all_tickets_view_on(&partner.admin.principal.user),
            &partner_token,
        ))
        .await
        .expect("turn the all tickets view on");
    let view = |token: String, filter: &str| {
        let request = bearer(
            ListAllTicketsRequest {
                filter: filter.to_owned(),
                ..Default::default()
            },
            &token,
        );
        let mut client = AggregatedTicketServiceClient::new(world.stack.public());
        async move {
            client
                .list_all_tickets(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let customers_of = |page: &ListAllTicketsResponse| -> Vec<String> {
        page.tickets.iter().map(|t| t.customer.clone()).collect()
    };

    let before = view(partner_token.clone(), "").await.expect("the view");
    assert_eq!(customers_of(&before).len(), 2);

    require_mfa(&world, "contoso", &world.sign_in(&customer.admin).await).await;

    let unfiltered = view(partner_token.clone(), "")
        .await
        .expect("the view still answers");
    assert_eq!(
        customers_of(&unfiltered),
        vec!["customers/litware".to_owned()]
    );
    let failed: Vec<_> = unfiltered
        .failed_customers
        .iter()
        .map(|f| (f.customer.as_str(), Code::from_i32(f.code)))
        .collect();
    assert_eq!(failed, vec![("customers/contoso", Code::Unauthenticated)]);

    let named = view(partner_token.clone(), r#"customer = "customers/contoso""#)
        .await
        .expect_err("the view of that customer alone is refused");
    assert_eq!(named.code(), Code::Unauthenticated);
    assert_eq!(error_info(&named).reason, "MFA_REQUIRED");

    let with_mfa = mfa_token(&world, &partner).await;
    let seen = view(with_mfa, "").await.expect("with MFA");
    let mut seen = customers_of(&seen);
    seen.sort();
    assert_eq!(seen, vec!["customers/contoso", "customers/litware"]);
    world.stop().await;
}
