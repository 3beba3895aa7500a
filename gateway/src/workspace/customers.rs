//! The customers a caller can switch to (R24): rbac-svc's accessible customers joined with
//! tenancy-svc's tenants, filtered, ordered by display name then id, and paged.

use std::collections::HashMap;

use mtm_plumbing::filter::{self, FieldSpec};
use mtm_plumbing::paging;
use mtm_proto::mtm::gateway::v1::MyCustomer;
use mtm_proto::mtm::rbac::v1::AccessibleCustomer;
use mtm_proto::mtm::tenancy::v1::Tenant;
use mtm_proto::mtm::tenancy::v1::tenant::State;
use tonic::Status;

/// Customers per page when `page_size` is 0.
const DEFAULT_PAGE_SIZE: u64 = 100;
/// The largest page; larger requests are lowered to it.
const MAX_PAGE_SIZE: u64 = 1000;
/// What `ListMyCustomers` filters on; neither is a time field.
const FILTER_FIELDS: FieldSpec<'static> =
    &[("display_name", false), ("partner_relationship", false)];

/// A parsed `ListMyCustomers` filter.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Filter {
    display_name: Option<String>,
    through_partner: Option<bool>,
}

impl Filter {
    /// Parses `text`; anything the grammar or the fields do not allow is INVALID_ARGUMENT
    /// naming `filter`.
    pub fn parse(text: &str) -> Result<Self, Status> {
        let terms = filter::parse(text, FILTER_FIELDS)?;
        let through_partner = terms
            .iter()
            .find(|t| t.field == "partner_relationship")
            .map(filter::boolean)
            .transpose()?;
        Ok(Self {
            display_name: filter::equal(&terms, "display_name").map(str::to_owned),
            through_partner,
        })
    }

    /// Whether `customer` passes the filter.
    fn admits(&self, customer: &MyCustomer) -> bool {
        let name_matches = self
            .display_name
            .as_ref()
            .is_none_or(|name| *name == customer.display_name);
        let side_matches = match self.through_partner {
            None => true,
            Some(true) => !customer.partner_relationship.is_empty(),
            Some(false) => customer.home_tenant,
        };
        name_matches && side_matches
    }
}

/// Where a page starts and how long it is, read from the request before any backend is asked.
#[derive(Debug, PartialEq, Eq)]
pub struct PageRequest {
    offset: usize,
    size: usize,
}

impl PageRequest {
    /// Checks `page_size` and `page_token`; the token is valid only with the same `filter`.
    pub fn parse(page_size: i32, page_token: &str, filter: &str) -> Result<Self, Status> {
        let size = paging::page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let offset = paging::decode_offset(&[filter], page_token)?;
        Ok(Self {
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            size: usize::try_from(size).unwrap_or(usize::MAX),
        })
    }
}

/// One page of the caller's customers.
#[derive(Debug)]
pub struct Page {
    /// The customers of this page.
    pub customers: Vec<MyCustomer>,
    /// Token for the next page; empty on the last page.
    pub next_page_token: String,
    /// Customers over all pages.
    pub total: usize,
}

/// Joins the accessible customers with their tenants. Customers whose tenant is not ACTIVE
/// (still being provisioned, being deleted, or gone) cannot be switched to and are left out.
pub fn join(
    accessible: Vec<AccessibleCustomer>,
    tenants: Vec<Tenant>,
    home_tenant: &str,
) -> Vec<MyCustomer> {
    let mut tenants: HashMap<String, Tenant> = tenants
        .into_iter()
        .filter(|t| t.state() == State::Active)
        .map(|t| (t.name.clone(), t))
        .collect();
    accessible
        .into_iter()
        .filter_map(|a| {
            let id = a.customer.strip_prefix("customers/")?;
            let tenant_name = format!("tenants/{id}");
            let tenant = tenants.remove(&tenant_name)?;
            Some(MyCustomer {
                home_tenant: tenant_name == home_tenant,
                customer: a.customer,
                display_name: tenant.display_name,
                primary_domain: tenant.primary_domain,
                partner_relationship: a.partner_relationship,
                roles: a.roles,
                role_display_names: a.role_display_names,
            })
        })
        .collect()
}

/// Filters and orders `customers` (display name, then id) and cuts the page `request` asks
/// for, with tokens bound to `filter_text`.
pub fn page(
    mut customers: Vec<MyCustomer>,
    filter: &Filter,
    filter_text: &str,
    request: &PageRequest,
) -> Page {
    customers.retain(|c| filter.admits(c));
    customers.sort_by(|a, b| (&a.display_name, &a.customer).cmp(&(&b.display_name, &b.customer)));
    let total = customers.len();
    let next = request.offset.saturating_add(request.size);
    let customers = customers
        .into_iter()
        .skip(request.offset)
        .take(request.size)
        .collect();
    let next_page_token = if next < total {
        paging::encode(&[filter_text], &next.to_string())
    } else {
        String::new()
    };
    Page {
        customers,
        next_page_token,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accessible(id: &str, relationship: &str) -> AccessibleCustomer {
        AccessibleCustomer {
            customer: format!("customers/{id}"),
            partner_relationship: relationship.to_owned(),
            roles: vec![format!("customers/{id}/roles/site-lead")],
            role_display_names: vec!["Site lead".to_owned()],
            scope: None,
        }
    }

    fn tenant(id: &str, display_name: &str, state: State) -> Tenant {
        Tenant {
            name: format!("tenants/{id}"),
            display_name: display_name.to_owned(),
            primary_domain: format!("{id}.example"),
            state: state.into(),
            ..Default::default()
        }
    }

    fn world() -> Vec<MyCustomer> {
        join(
            vec![
                accessible("home", ""),
                accessible("zeta", "customers/zeta/partnerRelationships/r1"),
                accessible("alpha", "customers/alpha/partnerRelationships/r2"),
                accessible("gone", "customers/gone/partnerRelationships/r3"),
                accessible("new", "customers/new/partnerRelationships/r4"),
            ],
            vec![
                tenant("zeta", "Acme", State::Active),
                tenant("alpha", "Acme", State::Active),
                tenant("home", "Home Co", State::Active),
                tenant("new", "New Co", State::Provisioning),
            ],
            "tenants/home",
        )
    }

    fn names(page: &Page) -> Vec<&str> {
        page.customers.iter().map(|c| c.customer.as_str()).collect()
    }

    #[test]
    fn r24_customers_join_their_active_tenants_and_order_by_display_name_then_id() {
        let all = page(
            world(),
            &Filter::default(),
            "",
            &PageRequest::parse(0, "", "").expect("page"),
        );
        assert_eq!(
            names(&all),
            ["customers/alpha", "customers/zeta", "customers/home"]
        );
        assert_eq!(all.total, 3);
        let home = &all.customers[2];
        assert!(home.home_tenant);
        assert_eq!(home.display_name, "Home Co");
        assert_eq!(home.primary_domain, "home.example");
        assert_eq!(home.roles, ["customers/home/roles/site-lead"]);
        assert_eq!(home.role_display_names, ["Site lead"]);
        assert!(!all.customers[0].home_tenant);
        assert!(all.next_page_token.is_empty());
    }

    #[test]
    fn r24_filters_pick_the_partner_side_the_home_tenant_or_a_display_name() {
        let cut = |text: &str| {
            let filter = Filter::parse(text).expect("filter");
            let request = PageRequest::parse(0, "", text).expect("page");
            names(&page(world(), &filter, text, &request))
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            cut(r#"partner_relationship = "true""#),
            ["customers/alpha", "customers/zeta"]
        );
        assert_eq!(cut(r#"partner_relationship = "false""#), ["customers/home"]);
        assert_eq!(
            cut(r#"display_name = "Acme" AND partner_relationship = "true""#),
            ["customers/alpha", "customers/zeta"]
        );
        assert!(cut(r#"display_name = "acme""#).is_empty());
    }

    #[test]
    fn bad_filters_name_the_filter_field() {
        for text in [
            r#"partner_relationship = "yes""#,
            r#"customer = "customers/a""#,
            r#"display_name >= "A""#,
            "display_name = Acme",
        ] {
            let status = Filter::parse(text).expect_err(text);
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{text}");
        }
    }

    #[test]
    fn pages_walk_the_list_with_tokens_bound_to_the_filter() {
        let filter = Filter::default();
        let first = page(
            world(),
            &filter,
            "",
            &PageRequest::parse(2, "", "").expect("page"),
        );
        assert_eq!(names(&first), ["customers/alpha", "customers/zeta"]);
        assert_eq!(first.total, 3);
        let request = PageRequest::parse(2, &first.next_page_token, "").expect("page");
        let second = page(world(), &filter, "", &request);
        assert_eq!(names(&second), ["customers/home"]);
        assert!(second.next_page_token.is_empty());
        let other_filter = r#"partner_relationship = "true""#;
        let refused = PageRequest::parse(2, &first.next_page_token, other_filter)
            .expect_err("token of another filter");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            PageRequest::parse(-1, "", "").expect_err("negative").code(),
            tonic::Code::InvalidArgument
        );
        assert_eq!(
            PageRequest::parse(5000, "", "").expect("page"),
            PageRequest {
                offset: 0,
                size: 1000
            }
        );
    }
}
