//! `mtm.gateway.v1.WorkspaceService`: who the caller is (R1, R25) and which customers it can
//! switch to (R23, R24), combined from identity-svc, tenancy-svc and rbac-svc.

mod customers;

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{Principal, TenantKind};
use mtm_proto::mtm::gateway::v1::workspace_service_server::WorkspaceService;
use mtm_proto::mtm::gateway::v1::{
    GetCallerRequest, GetCallerResponse, ListMyCustomersRequest, ListMyCustomersResponse,
};
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_proto::mtm::identity::v1::{ResolvePrincipalRequest, ResolvePrincipalResponse};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::{AccessibleCustomer, ListAccessibleCustomersRequest};
use mtm_proto::mtm::tenancy::v1::tenancy_internal_service_client::TenancyInternalServiceClient;
use mtm_proto::mtm::tenancy::v1::{BatchGetTenantsRequest, Tenant};
use tonic::{Request, Response, Status};

use crate::Backends;
use crate::admission;
use customers::{Filter, PageRequest};

/// The most accessible customers asked of rbac-svc per page (its maximum).
const ACCESSIBLE_PAGE_SIZE: i32 = 5000;
/// The most tenants asked of tenancy-svc per call (its maximum).
const TENANTS_PER_BATCH: usize = 5000;

/// Serves `WorkspaceService` for any signed-in caller.
pub struct Workspace {
    identity: PrincipalInternalServiceClient<ServiceChannel>,
    tenancy: TenancyInternalServiceClient<ServiceChannel>,
    rbac: DecisionServiceClient<ServiceChannel>,
}

impl Workspace {
    /// The service, asking `backends` about callers admission authenticated.
    pub fn new(backends: &Backends) -> Self {
        Self {
            identity: PrincipalInternalServiceClient::new(backends.identity.clone()),
            tenancy: TenancyInternalServiceClient::new(backends.tenancy.clone()),
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
        }
    }

    /// The user's display name and preferences as identity-svc holds them now.
    async fn user(&self, principal: &Principal) -> Result<ResolvePrincipalResponse, Status> {
        self.identity
            .clone()
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(UserRef::User(principal.user.clone())),
            })
            .await
            .map(Response::into_inner)
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => Status::unauthenticated("the caller no longer exists"),
                _ => status,
            })
    }

    /// The tenants named in `names` that tenancy-svc knows, asked in batches.
    async fn tenants(&self, names: Vec<String>) -> Result<Vec<Tenant>, Status> {
        let mut tenants = Vec::with_capacity(names.len());
        for batch in names.chunks(TENANTS_PER_BATCH) {
            let found = self
                .tenancy
                .clone()
                .batch_get_tenants(BatchGetTenantsRequest {
                    names: batch.to_vec(),
                })
                .await?
                .into_inner()
                .tenants;
            tenants.extend(found);
        }
        Ok(tenants)
    }

    /// Every customer where `principal` holds a role, over all of rbac-svc's pages.
    async fn accessible(&self, principal: &Principal) -> Result<Vec<AccessibleCustomer>, Status> {
        let mut customers = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .rbac
                .clone()
                .list_accessible_customers(ListAccessibleCustomersRequest {
                    principal: Some(principal.clone()),
                    page_size: ACCESSIBLE_PAGE_SIZE,
                    page_token,
                    at_least_revision: 0,
                    permission: String::new(),
                })
                .await?
                .into_inner();
            customers.extend(page.customers);
            if page.next_page_token.is_empty() {
                return Ok(customers);
            }
            page_token = page.next_page_token;
        }
    }
}

#[tonic::async_trait]
impl WorkspaceService for Workspace {
    /// The verified principal with the user's display name and *all tickets* preference, and
    /// its home tenant's name, kind and elite enrolment. The operator, who has no directory
    /// entry and no tenant, gets its principal alone. A home tenant tenancy-svc does not know
    /// leaves the tenant fields empty.
    async fn get_caller(
        &self,
        request: Request<GetCallerRequest>,
    ) -> Result<Response<GetCallerResponse>, Status> {
        let principal = admission::caller(request.extensions()).await?.principal;
        if principal.operator {
            return Ok(Response::new(GetCallerResponse {
                principal: Some(principal),
                ..Default::default()
            }));
        }
        let (user, tenants) = tokio::try_join!(
            self.user(&principal),
            self.tenants(vec![principal.home_tenant.clone()])
        )?;
        let tenant = tenants
            .into_iter()
            .find(|t| t.name == principal.home_tenant)
            .unwrap_or_default();
        let elite_partner = tenant.kind() == TenantKind::Partner && tenant.elite_partner;
        Ok(Response::new(GetCallerResponse {
            principal: Some(principal),
            display_name: user.display_name,
            tenant_display_name: tenant.display_name,
            tenant_kind: tenant.kind,
            elite_partner,
            all_tickets_view_enabled: user.all_tickets_view_enabled,
        }))
    }

    /// The customers where the caller itself holds a role (R23, R24): never another user's,
    /// never another partner's. The operator holds none.
    async fn list_my_customers(
        &self,
        request: Request<ListMyCustomersRequest>,
    ) -> Result<Response<ListMyCustomersResponse>, Status> {
        let principal = admission::caller(request.extensions()).await?.principal;
        let request = request.into_inner();
        let filter = Filter::parse(&request.filter)?;
        let page_request =
            PageRequest::parse(request.page_size, &request.page_token, &request.filter)?;
        if principal.operator {
            return Ok(Response::new(ListMyCustomersResponse::default()));
        }
        let accessible = self.accessible(&principal).await?;
        let names = accessible.iter().map(|a| a.customer.clone()).collect();
        let tenants = self.tenants(names).await?;
        let joined = customers::join(accessible, tenants, &principal.home_tenant);
        let page = customers::page(joined, &filter, &request.filter, &page_request);
        Ok(Response::new(ListMyCustomersResponse {
            customers: page.customers,
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
        }))
    }
}
