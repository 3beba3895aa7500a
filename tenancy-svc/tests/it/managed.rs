//! ListManagedCustomers, the partner's list of its customers: only ACTIVE relationships unless
//! ended ones are asked for with a `state` filter (R6, R17, R30).

use mtm_proto::mtm::common::v1::RelationshipState;
use mtm_proto::mtm::tenancy::v1::*;

use crate::support::{Person, Store, Suite, end_relationship_now, req};

/// The customers `who` sees in `partners/fabrikam` with `filter`, and the total.
async fn managed(suite: &Suite, who: &Person, filter: &str) -> (Vec<String>, i32) {
    let listed = suite
        .relationships()
        .list_managed_customers(req(
            ListManagedCustomersRequest {
                parent: "partners/fabrikam".into(),
                filter: filter.to_owned(),
                ..Default::default()
            },
            &who.context(),
        ))
        .await
        .expect("list managed customers")
        .into_inner();
    let mut customers: Vec<String> = listed
        .relationships
        .iter()
        .map(|r| r.customer.clone())
        .collect();
    customers.sort();
    (customers, listed.total_size)
}

async fn case_r17_r30_managed_customers_lists_only_active_relationships(store: Store) {
    let suite = Suite::start(store).await;
    let contoso = suite.customer("contoso").await;
    let northwind = suite.customer("northwind").await;
    let tailspin = suite.customer("tailspin").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    suite.relate(&contoso, &partner, &ana).await;
    let removed = suite.relate(&northwind, &partner, &ana).await;
    let expired = suite.relate(&tailspin, &partner, &ana).await;
    suite
        .relationships()
        .remove_partner(req(
            RemovePartnerRequest {
                name: removed.name.clone(),
                confirm: true,
                etag: String::new(),
            },
            &northwind.admin.context(),
        ))
        .await
        .expect("the customer removes the partner");
    end_relationship_now(&suite, &expired.name).await;

    let active = (vec!["customers/contoso".to_owned()], 1);
    assert_eq!(
        managed(&suite, &partner.admin, "").await,
        active,
        "a Global admin of the partner sees only the active relationship"
    );
    assert_eq!(
        managed(&suite, &ana, "").await,
        active,
        "a primary admin sees only the active relationship"
    );
    assert_eq!(
        managed(&suite, &partner.admin, r#"state = "ACTIVE""#).await,
        active
    );
    assert_eq!(
        managed(&suite, &partner.admin, r#"state = "TERMINATED""#).await,
        (vec!["customers/northwind".to_owned()], 1),
        "ended relationships are listed when asked for"
    );
    assert_eq!(
        managed(&suite, &partner.admin, r#"state = "EXPIRED""#).await,
        (vec!["customers/tailspin".to_owned()], 1)
    );
    assert_eq!(
        managed(
            &suite,
            &partner.admin,
            r#"customer = "customers/northwind""#
        )
        .await,
        (Vec::new(), 0),
        "a removed customer is not listed by name either"
    );
    let ended = suite
        .relationships()
        .list_managed_customers(req(
            ListManagedCustomersRequest {
                parent: "partners/fabrikam".into(),
                filter: r#"state = "TERMINATED""#.into(),
                ..Default::default()
            },
            &partner.admin.context(),
        ))
        .await
        .expect("list ended")
        .into_inner()
        .relationships;
    assert!(
        ended
            .iter()
            .all(|r| r.state() == RelationshipState::Terminated)
    );
    suite.stop().await;
}
on_both!(
    r17_r30_managed_customers_lists_only_active_relationships,
    r17_r30_managed_customers_lists_only_active_relationships_postgres,
    case_r17_r30_managed_customers_lists_only_active_relationships
);
