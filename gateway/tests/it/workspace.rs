//! `mtm.gateway.v1.WorkspaceService` served by the gateway in front of the real backends:
//! who the caller is (R1, R25) and which customers it can switch to (R23, R24).

use mtm_proto::mtm::common::v1::{DirectoryRole, TenantKind};
use mtm_proto::mtm::gateway::v1::workspace_service_client::WorkspaceServiceClient;
use mtm_proto::mtm::gateway::v1::{
    GetCallerRequest, GetCallerResponse, ListMyCustomersRequest, ListMyCustomersResponse,
};
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::calls::{all_tickets_view_on, bearer};
use crate::harness::public::{Live, Person};

fn workspace(live: &Live) -> WorkspaceServiceClient<Channel> {
    WorkspaceServiceClient::new(live.stack.public())
}

async fn caller(live: &Live, who: &Person) -> GetCallerResponse {
    workspace(live)
        .get_caller(bearer(GetCallerRequest {}, &who.token))
        .await
        .expect("get caller")
        .into_inner()
}

async fn my_customers(
    live: &Live,
    who: &Person,
    request: ListMyCustomersRequest,
) -> Result<ListMyCustomersResponse, tonic::Status> {
    workspace(live)
        .list_my_customers(bearer(request, &who.token))
        .await
        .map(tonic::Response::into_inner)
}

async fn all_my_customers(live: &Live, who: &Person) -> ListMyCustomersResponse {
    my_customers(live, who, ListMyCustomersRequest::default())
        .await
        .expect("list my customers")
}

fn ids(list: &ListMyCustomersResponse) -> Vec<&str> {
    list.customers.iter().map(|c| c.customer.as_str()).collect()
}

#[tokio::test]
async fn r1_r25_get_caller_describes_the_verified_caller_and_its_home_tenant() {
    let live = Live::start().await;
    let operator = live.operator().await;
    let elite = live.elite_partner(&operator, "elite").await;
    let plain = live.tenant(&operator, "plain", TenantKind::Partner).await;
    let customer = live
        .tenant(&operator, "contoso", TenantKind::Customer)
        .await;
    let ana = live.user(&elite, "ana", "Ana Lima").await;

    let me = caller(&live, &ana).await;
    let principal = me.principal.clone().expect("principal");
    assert_eq!(principal.user, ana.user);
    assert_eq!(principal.upn, "ana@elite.example");
    assert_eq!(principal.home_tenant, "tenants/elite");
    assert!(!principal.operator);
    assert_eq!(me.display_name, "Ana Lima");
    assert_eq!(me.tenant_display_name, "elite Ltd");
    assert_eq!(me.tenant_kind(), TenantKind::Partner);
    assert!(me.elite_partner);
    assert!(!me.all_tickets_view_enabled);

    DirectoryServiceClient::new(live.stack.public())
        .update_user_preferences(bearer(all_tickets_view_on(&ana.user), &ana.token))
        .await
        .expect("turn on the all tickets view");
    assert!(caller(&live, &ana).await.all_tickets_view_enabled);

    let not_enrolled = caller(&live, &plain.admin).await;
    assert_eq!(not_enrolled.tenant_kind(), TenantKind::Partner);
    assert!(!not_enrolled.elite_partner, "R1: not enrolled");

    let admin = caller(&live, &customer.admin).await;
    assert_eq!(admin.display_name, "Admin of contoso");
    assert_eq!(admin.tenant_display_name, "contoso Ltd");
    assert_eq!(admin.tenant_kind(), TenantKind::Customer);
    assert!(!admin.elite_partner);
    let roles = admin.principal.expect("principal").directory_roles;
    assert_eq!(roles, [i32::from(DirectoryRole::GlobalAdmin)]);

    let op = caller(&live, &operator).await;
    assert_eq!(op.tenant_kind(), TenantKind::Unspecified);
    assert!(op.tenant_display_name.is_empty());
    assert!(op.principal.expect("principal").operator);

    let anonymous = workspace(&live)
        .get_caller(GetCallerRequest {})
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let forged = workspace(&live)
        .get_caller(bearer(GetCallerRequest {}, "not.a.token"))
        .await
        .expect_err("bad token");
    assert_eq!(forged.code(), Code::Unauthenticated);
    live.stop().await;
}

#[tokio::test]
async fn r23_r24_my_customers_are_exactly_those_where_the_caller_holds_a_role() {
    let live = Live::start().await;
    let operator = live.operator().await;
    let partner = live.elite_partner(&operator, "fabrikam").await;
    let rival = live.elite_partner(&operator, "rival").await;
    let contoso = live
        .tenant(&operator, "contoso", TenantKind::Customer)
        .await;
    let northwind = live
        .tenant(&operator, "northwind", TenantKind::Customer)
        .await;
    let woodgrove = live
        .tenant(&operator, "woodgrove", TenantKind::Customer)
        .await;
    let ana = live.user(&partner, "ana", "Ana").await;
    let bob = live.user(&partner, "bob", "Bob").await;
    let rita = live.user(&rival, "rita", "Rita").await;
    let with_contoso = live.relate(&contoso, &partner, &ana).await;
    let with_northwind = live.relate(&northwind, &partner, &ana).await;
    live.relate(&woodgrove, &rival, &rita).await;
    live.relate(&contoso, &rival, &rita).await;

    let anas = all_my_customers(&live, &ana).await;
    assert_eq!(ids(&anas), ["customers/contoso", "customers/northwind"]);
    assert_eq!(anas.total_size, 2);
    assert!(anas.next_page_token.is_empty());
    let first = &anas.customers[0];
    assert_eq!(first.display_name, "contoso Ltd");
    assert_eq!(first.primary_domain, "contoso.example");
    assert!(!first.home_tenant);
    assert_eq!(first.partner_relationship, with_contoso.name);
    assert_eq!(
        first.roles,
        [format!("{}/roles/primary-admins", with_contoso.name)]
    );
    assert_eq!(first.role_display_names, ["Primary admins"]);
    assert_eq!(anas.customers[1].partner_relationship, with_northwind.name);

    // R23: another partner's customers never show, not even a customer both partners serve
    // through its own relationship.
    let ritas = all_my_customers(&live, &rita).await;
    assert_eq!(ids(&ritas), ["customers/contoso", "customers/woodgrove"]);
    assert!(
        ritas
            .customers
            .iter()
            .all(|c| c.partner_relationship != with_contoso.name)
    );

    // A colleague without a role, the partner's own admin and the operator switch nowhere.
    for nobody in [&bob, &partner.admin, &operator] {
        let list = all_my_customers(&live, nobody).await;
        assert!(list.customers.is_empty(), "{}: {list:?}", nobody.upn);
        assert_eq!(list.total_size, 0);
    }

    // A customer's admin switches to its own tenant only.
    let admins = all_my_customers(&live, &contoso.admin).await;
    assert_eq!(ids(&admins), ["customers/contoso"]);
    let home = &admins.customers[0];
    assert!(home.home_tenant);
    assert!(home.partner_relationship.is_empty());
    assert_eq!(home.roles, ["customers/contoso/roles/mmr-admin"]);
    assert_eq!(home.role_display_names, ["MMR admin"]);
    live.stop().await;
}

#[tokio::test]
async fn r24_my_customers_are_filtered_and_paged() {
    let live = Live::start().await;
    let operator = live.operator().await;
    let partner = live.elite_partner(&operator, "fabrikam").await;
    let ana = live.user(&partner, "ana", "Ana").await;
    for id in ["contoso", "northwind", "woodgrove"] {
        let customer = live.tenant(&operator, id, TenantKind::Customer).await;
        live.relate(&customer, &partner, &ana).await;
    }

    let first = my_customers(
        &live,
        &ana,
        ListMyCustomersRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await
    .expect("first page");
    assert_eq!(ids(&first), ["customers/contoso", "customers/northwind"]);
    assert_eq!(first.total_size, 3);
    assert!(!first.next_page_token.is_empty());
    let second = my_customers(
        &live,
        &ana,
        ListMyCustomersRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await
    .expect("second page");
    assert_eq!(ids(&second), ["customers/woodgrove"]);
    assert!(second.next_page_token.is_empty());

    let filtered = |filter: &str| ListMyCustomersRequest {
        filter: filter.to_owned(),
        ..Default::default()
    };
    let named = my_customers(&live, &ana, filtered(r#"display_name = "northwind Ltd""#))
        .await
        .expect("by name");
    assert_eq!(ids(&named), ["customers/northwind"]);
    assert_eq!(named.total_size, 1);
    let partner_side = my_customers(&live, &ana, filtered(r#"partner_relationship = "true""#))
        .await
        .expect("partner side");
    assert_eq!(partner_side.total_size, 3);
    let own = my_customers(&live, &ana, filtered(r#"partner_relationship = "false""#))
        .await
        .expect("own tenant");
    assert!(own.customers.is_empty());

    for bad in [
        filtered(r#"partner_relationship = "maybe""#),
        filtered(r#"tenant = "customers/contoso""#),
        filtered("display_name = northwind"),
        ListMyCustomersRequest {
            page_size: -1,
            ..Default::default()
        },
        ListMyCustomersRequest {
            page_token: first.next_page_token.clone(),
            filter: r#"partner_relationship = "true""#.into(),
            ..Default::default()
        },
    ] {
        let status = my_customers(&live, &ana, bad.clone())
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}");
    }
    live.stop().await;
}
