//! The customer audit logs of rooms-svc for `mtm_plumbing::audit::service::AuditLog`: each
//! customer's log is in its own store; rooms-svc keeps no partner logs.

use std::sync::Arc;

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::audit::service::AuditStores;
use sea_orm::DatabaseConnection;
use tonic::Status;

use super::State;
use crate::error::Error;
use crate::names::CustomerId;

/// The audit stores: one per customer.
pub struct Stores(pub Arc<State>);

#[tonic::async_trait]
impl AuditStores for Stores {
    async fn store(&self, parent: &AuditParent) -> Result<DatabaseConnection, Status> {
        let not_found = || Status::from(Error::not_found("mtm.audit.v1.AuditLog", parent.name()));
        let AuditParent::Customer(id) = parent else {
            return Err(not_found());
        };
        let customer = CustomerId::new(id).ok_or_else(not_found)?;
        let store = self.0.store(&customer).await.map_err(Status::from)?;
        Ok(store.db().clone())
    }

    async fn parent_of(&self, target_tenant: &str) -> Result<AuditParent, Status> {
        target_tenant
            .strip_prefix("tenants/")
            .and_then(CustomerId::new)
            .map(|customer| AuditParent::Customer(customer.as_str().to_owned()))
            .ok_or_else(|| {
                mtm_plumbing::status::invalid_field(
                    "audit_records.target_tenant",
                    "must be tenants/{customer}",
                )
            })
    }
}
