//! The handlers' shared state: the store and the clients of the other services.

use std::sync::Arc;

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::audit::service::AuditStores;
use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use sea_orm::DatabaseConnection;
use tonic::Status;

/// Cheap-clone handles shared by every handler.
#[derive(Clone)]
pub struct State {
    /// The tenancy store.
    pub db: DatabaseConnection,
    /// identity-svc's internal API.
    pub identity: PrincipalInternalServiceClient<ServiceChannel>,
    /// rbac-svc's internal API.
    pub rbac: RbacInternalServiceClient<ServiceChannel>,
    /// rooms-svc's internal API.
    pub rooms: StoreInternalServiceClient<ServiceChannel>,
}

/// The audit log lives in the one tenancy store, for every customer and partner.
pub struct SingleStore(pub DatabaseConnection);

#[tonic::async_trait]
impl AuditStores for SingleStore {
    async fn store(&self, _parent: &AuditParent) -> Result<DatabaseConnection, Status> {
        Ok(self.0.clone())
    }

    async fn parent_of(&self, target_tenant: &str) -> Result<AuditParent, Status> {
        let id = target_tenant
            .strip_prefix("tenants/")
            .filter(|id| crate::names::valid_tenant_id(id))
            .ok_or_else(|| {
                mtm_plumbing::status::invalid_field("target_tenant", "must be tenants/{tenant}")
            })?;
        let tenant = crate::store::tenants::get(&self.0, id)
            .await
            .map_err(Status::from)?;
        match tenant {
            Some(t) if t.kind == "PARTNER" => Ok(AuditParent::Partner(t.id)),
            _ => Ok(AuditParent::Customer(id.to_owned())),
        }
    }
}

impl State {
    /// The audit store handle.
    pub fn audit_stores(&self) -> Arc<SingleStore> {
        Arc::new(SingleStore(self.db.clone()))
    }
}
