//! The demo world the local suite loads on first run (`--seed-demo`): one elite-partner
//! directory with a Global admin, a Managed Service admin, tenant managers and helpdesk users
//! in their groups, and three customers each with a Global admin and an MMR admin user. Every
//! demo user signs in with [`DEMO_PASSWORD`]. Seeding happens only while the store holds no
//! directory, in one transaction, so it is idempotent.

use std::collections::BTreeSet;

use mtm_proto::mtm::common::v1::{DirectoryRole, TenantKind};
use mtm_proto::mtm::identity::v1::MemberKind;

use crate::error::Result;
use crate::state::State;
use crate::store::{directories, groups, users};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "mtm-demo-password";

/// A demo user: its UPN's local part, display name, directory role and groups.
pub struct DemoUser {
    /// The user id and the UPN's local part.
    pub id: &'static str,
    /// The display name.
    pub display_name: &'static str,
    /// A directory role besides the first user's Global admin.
    pub role: Option<DirectoryRole>,
    /// Ids of the groups it is in.
    pub groups: &'static [&'static str],
}

/// A demo tenant; its first user is the Global admin.
pub struct DemoTenant {
    /// The tenant id (`tenants/{id}`).
    pub id: &'static str,
    /// The display name.
    pub display_name: &'static str,
    /// Partner or customer.
    pub kind: TenantKind,
    /// The verified domain.
    pub domain: &'static str,
    /// Groups as `(id, display name)`.
    pub groups: &'static [(&'static str, &'static str)],
    /// Users, the Global admin first.
    pub users: &'static [DemoUser],
}

const fn user(id: &'static str, display_name: &'static str) -> DemoUser {
    DemoUser {
        id,
        display_name,
        role: None,
        groups: &[],
    }
}

const fn customer(
    id: &'static str,
    display_name: &'static str,
    domain: &'static str,
) -> DemoTenant {
    DemoTenant {
        id,
        display_name,
        kind: TenantKind::Customer,
        domain,
        groups: &[],
        users: CUSTOMER_USERS,
    }
}

/// Every customer's users: a Global admin and the user rbac-svc's demo makes MMR admin.
const CUSTOMER_USERS: &[DemoUser] = &[
    user("admin", "Global Admin"),
    user("mmr-admin", "MMR Admin"),
];

/// The demo directories.
pub const DEMO: &[DemoTenant] = &[
    DemoTenant {
        id: "contoso-partner",
        display_name: "Contoso Partner",
        kind: TenantKind::Partner,
        domain: "contoso-partner.com",
        groups: &[
            ("tenant-managers", "Tenant managers"),
            ("helpdesk", "Helpdesk"),
        ],
        users: &[
            user("admin", "Ana Admin"),
            DemoUser {
                id: "msa",
                display_name: "Mia Service-Admin",
                role: Some(DirectoryRole::ManagedServiceAdmin),
                groups: &[],
            },
            DemoUser {
                id: "lena",
                display_name: "Lena Tenant-Manager",
                role: None,
                groups: &["tenant-managers"],
            },
            DemoUser {
                id: "tom",
                display_name: "Tom Tenant-Manager",
                role: None,
                groups: &["tenant-managers"],
            },
            DemoUser {
                id: "hugo",
                display_name: "Hugo Helpdesk",
                role: None,
                groups: &["helpdesk"],
            },
            DemoUser {
                id: "hanna",
                display_name: "Hanna Helpdesk",
                role: None,
                groups: &["helpdesk"],
            },
        ],
    },
    customer("fabrikam", "Fabrikam", "fabrikam.com"),
    customer("northwind", "Northwind Traders", "northwind.com"),
    customer("adatum", "Adatum", "adatum.com"),
];

/// Loads [`DEMO`] unless the store already holds a directory; returns whether it did.
pub async fn demo(state: &State) -> Result<bool> {
    let hash = state.passwords.hash(DEMO_PASSWORD).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    if !directories::is_empty(&txn).await? {
        return Ok(false);
    }
    for tenant in DEMO {
        let Some((first, rest)) = tenant.users.split_first() else {
            continue;
        };
        let (_, admin) = directories::create_in(
            &txn,
            directories::NewDirectory {
                tenant: tenant.id.to_owned(),
                display_name: tenant.display_name.to_owned(),
                kind: tenant.kind as i32,
                domains: BTreeSet::from([tenant.domain.to_owned()]),
                admin_upn: format!("{}@{}", first.id, tenant.domain),
                admin_display_name: first.display_name.to_owned(),
                admin_password_hash: hash.clone(),
            },
        )
        .await?;
        for (id, display_name) in tenant.groups {
            groups::insert(&txn, tenant.id, id, display_name, "").await?;
        }
        let mut seeded = vec![(admin, first)];
        for demo_user in rest {
            let row = users::insert(
                &txn,
                users::NewUser {
                    tenant: tenant.id.to_owned(),
                    id: demo_user.id.to_owned(),
                    upn: format!("{}@{}", demo_user.id, tenant.domain),
                    display_name: demo_user.display_name.to_owned(),
                    enabled: true,
                    password_hash: Some(hash.clone()),
                },
                "upn",
            )
            .await?;
            if let Some(role) = demo_user.role {
                users::grant_role(&txn, &row, role).await?;
            }
            seeded.push((row.name, demo_user));
        }
        for (name, demo_user) in seeded {
            for group in demo_user.groups {
                let group_name = format!("tenants/{}/groups/{group}", tenant.id);
                groups::add_member(&txn, tenant.id, &group_name, &name, MemberKind::User).await?;
            }
            tracing::info!(
                upn = %format!("{}@{}", demo_user.id, tenant.domain),
                user = %name,
                "demo user seeded"
            );
        }
    }
    txn.commit().await?;
    state.cache.invalidate();
    tracing::info!(password = DEMO_PASSWORD, "demo directories seeded");
    Ok(true)
}
