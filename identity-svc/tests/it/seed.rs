//! The demo world: seeded once into an empty store; every demo user signs in.

use identity_svc::seed::{DEMO, DEMO_PASSWORD};
use mtm_proto::mtm::common::v1::DirectoryRole;
use mtm_proto::mtm::identity::v1::ResolveDomainRequest;

use crate::on_both_stores;
use crate::support::{Harness, Store};

async fn demo_seed_loads_once_and_every_demo_user_signs_in_on(store: Store) {
    let h = Harness::start_with(store, |c| c.seed_demo = true).await;
    for tenant in DEMO {
        let resolved = h
            .internal()
            .resolve_domain(ResolveDomainRequest {
                domain_name: tenant.domain.into(),
            })
            .await
            .expect("domain")
            .into_inner();
        assert_eq!(resolved.tenant, format!("tenants/{}", tenant.id));
        for user in tenant.users {
            let upn = format!("{}@{}", user.id, tenant.domain);
            h.sign_in(&upn, DEMO_PASSWORD).await.expect(&upn);
        }
    }
    let partner = h
        .resolve("tenants/contoso-partner/users/lena")
        .await
        .expect("lena");
    assert_eq!(
        partner.principal.expect("principal").groups,
        ["tenants/contoso-partner/groups/tenant-managers"]
    );
    let msa = h
        .resolve("tenants/contoso-partner/users/msa")
        .await
        .expect("msa")
        .principal
        .expect("principal");
    assert_eq!(
        msa.directory_roles,
        [DirectoryRole::ManagedServiceAdmin as i32]
    );

    // A second start on the same store seeds nothing and fails nothing.
    let state = identity_svc::prepare(&h.config).await.expect("prepare");
    assert!(!identity_svc::seed::demo(&state).await.expect("seed"));
    h.stop().await;
}
on_both_stores!(
    demo_seed_loads_once_and_every_demo_user_signs_in,
    demo_seed_loads_once_and_every_demo_user_signs_in_postgres,
    demo_seed_loads_once_and_every_demo_user_signs_in_on
);
