//! Which customers the *all tickets* view covers, and what the gateway needs about each: the
//! caller's `tickets.view` scope there (rbac-svc), a bound on its newest ticket time
//! (rooms-svc's ticket activity, to skip customers that cannot reach a page) and its display name (tenancy-svc).

use std::collections::HashMap;

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::rbac::v1::ListAccessibleCustomersRequest;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rooms::v1::BatchGetTicketActivityRequest;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use mtm_proto::mtm::tenancy::v1::BatchGetTenantsRequest;
use mtm_proto::mtm::tenancy::v1::tenancy_internal_service_client::TenancyInternalServiceClient;
use tokio::time::Instant;
use tonic::Status;

use super::order::micros;

/// The permission the view lists tickets with.
pub const PERMISSION: &str = "tickets.view";

/// Customers asked of rbac-svc per page of `ListAccessibleCustomers`.
const ACCESSIBLE_PAGE: i32 = 5000;

/// A customer where the caller may view tickets.
#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    /// `customers/{customer}`.
    pub name: String,
    /// The caller's `tickets.view` scope there.
    pub scope: Option<RoomScope>,
    /// The caller's relationship with it, for a partner user.
    pub partner_relationship: String,
}

/// A customer that could not contribute, with the status that says why.
#[derive(Clone, Debug)]
pub struct Failure {
    /// `customers/{customer}`.
    pub customer: String,
    /// The status.
    pub status: Status,
}

/// Every customer where `principal` may view tickets, optionally only `only`, with its scope
/// there, ordered by customer name: one paged `ListAccessibleCustomers` call narrowed to
/// [`PERMISSION`], whatever the number of customers.
pub async fn with_ticket_scope(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    only: Option<&str>,
) -> Result<Vec<Customer>, Status> {
    let mut customers = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = rbac
            .list_accessible_customers(ListAccessibleCustomersRequest {
                principal: Some(principal.clone()),
                page_size: ACCESSIBLE_PAGE,
                page_token,
                at_least_revision: 0,
                permission: PERMISSION.to_owned(),
            })
            .await?
            .into_inner();
        customers.extend(
            page.customers
                .into_iter()
                .filter(|c| only.is_none_or(|only| only == c.customer))
                .map(|c| Customer {
                    name: c.customer,
                    scope: c.scope,
                    partner_relationship: c.partner_relationship,
                }),
        );
        if page.next_page_token.is_empty() {
            return Ok(customers);
        }
        page_token = page.next_page_token;
    }
}

/// How new a customer's tickets can be, from rooms-svc's ticket activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// No ticket is newer than this (microseconds).
    Bound(i64),
    /// The store has no tickets.
    Empty,
}

/// The ticket activity of the stores of `names` that rooms-svc knows (customers left out
/// must be asked), in one call that opens no store. When rooms-svc does not answer (or not
/// before `deadline`), every store counts as failed with that status, so the view still
/// answers.
pub async fn ticket_activity(
    rooms: ServiceChannel,
    names: Vec<String>,
    deadline: Instant,
) -> (HashMap<String, Activity>, Vec<Failure>) {
    if names.is_empty() {
        return (HashMap::new(), Vec::new());
    }
    let mut request = tonic::Request::new(BatchGetTicketActivityRequest {
        customers: names.clone(),
    });
    request.set_timeout(deadline.saturating_duration_since(Instant::now()));
    let mut client = StoreInternalServiceClient::new(rooms);
    let answer =
        match tokio::time::timeout_at(deadline, client.batch_get_ticket_activity(request)).await {
            Ok(Ok(answer)) => answer.into_inner(),
            Ok(Err(status)) => return (HashMap::new(), all_failed(names, &status)),
            Err(_) => {
                let status = Status::deadline_exceeded("the stores did not answer in time");
                return (HashMap::new(), all_failed(names, &status));
            }
        };
    let known = answer
        .activities
        .into_iter()
        .map(|activity| {
            let bound = activity
                .newest_ticket_update_time_bound
                .map_or(Activity::Empty, |time| Activity::Bound(micros(Some(&time))));
            (activity.customer, bound)
        })
        .collect();
    (known, Vec::new())
}

fn all_failed(names: Vec<String>, status: &Status) -> Vec<Failure> {
    names
        .into_iter()
        .map(|customer| Failure {
            customer,
            status: Status::new(status.code(), status.message()),
        })
        .collect()
}

/// Display names of the customers `names` (`customers/{customer}`); unknown ones are left
/// out.
pub async fn display_names(
    tenancy: ServiceChannel,
    names: Vec<String>,
) -> Result<HashMap<String, String>, Status> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let tenants = TenancyInternalServiceClient::new(tenancy)
        .batch_get_tenants(BatchGetTenantsRequest { names })
        .await?
        .into_inner()
        .tenants;
    Ok(tenants
        .into_iter()
        .filter_map(|tenant| {
            let id = tenant.name.rsplit('/').next()?.to_owned();
            Some((format!("customers/{id}"), tenant.display_name))
        })
        .collect())
}
