//! rbac-svc's audit trail (R28): role and assignment changes appended to the customer's log
//! in the transaction of the change, and the log served through `mtm.audit.v1` from the one
//! rbac store. Partner roles belong to a customer's relationship, so every record goes to a
//! customer's log; rbac-svc keeps no partner logs.

use std::sync::Arc;

use mtm_plumbing::audit::service::{AuditStores, actor_of};
use mtm_plumbing::audit::{AuditParent, Entry};
use mtm_proto::mtm::audit::v1::{AuditCategory, AuditResult};
use mtm_proto::mtm::common::v1::Actor;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tonic::{Request, Status};

use crate::error::Error;
use crate::state::Ready;

/// The `source` of the records rbac-svc writes.
pub const SOURCE: &str = crate::SERVICE_NAME;

/// Who made a change and under which request id, from the call context. A call without a
/// context (an internal call carrying none) is recorded with an empty actor.
#[derive(Clone, Debug, Default)]
pub struct Acting {
    actor: Actor,
    request_id: String,
}

impl Acting {
    /// The actor of `request`.
    pub fn of<T>(request: &Request<T>) -> Acting {
        mtm_plumbing::context::extract(request)
            .map(|context| Acting {
                actor: actor_of(&context),
                request_id: context.request_id,
            })
            .unwrap_or_default()
    }
}

/// One successful change to record in a customer's log.
pub struct Change<'a> {
    /// The customer id whose log it goes to.
    pub customer: &'a str,
    /// Role or assignment.
    pub category: AuditCategory,
    /// `create`, `update`, `delete`.
    pub operation: &'a str,
    /// The role's or assignment's resource name.
    pub object_id: &'a str,
    /// Its display name at the time.
    pub object_name: &'a str,
    /// Further facts.
    pub details: Vec<(String, String)>,
}

/// Appends `change` made by `by` through `db` (the open transaction of the change).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    by: &Acting,
    change: Change<'_>,
) -> Result<(), Error> {
    mtm_plumbing::audit::append(
        db,
        SOURCE,
        Entry {
            parent: AuditParent::Customer(change.customer.to_owned()),
            category: change.category,
            operation: change.operation.to_owned(),
            object_id: change.object_id.to_owned(),
            object_name: change.object_name.to_owned(),
            result: AuditResult::Success,
            actor: by.actor.clone(),
            request_id: by.request_id.clone(),
            status: None,
            details: change.details,
        },
    )
    .await?;
    Ok(())
}

/// The audit logs in the rbac store, for `mtm_plumbing::audit::service::AuditLog`.
pub struct Stores(pub Ready);

impl Stores {
    /// The stores of `state`, shared by the audit services.
    pub fn new(state: Ready) -> Arc<Stores> {
        Arc::new(Stores(state))
    }
}

#[tonic::async_trait]
impl AuditStores for Stores {
    async fn store(&self, parent: &AuditParent) -> Result<DatabaseConnection, Status> {
        match parent {
            AuditParent::Customer(_) => Ok(self.0.get()?.db().clone()),
            AuditParent::Partner(_) => Err(Error::NotFound(parent.name()).into()),
        }
    }

    async fn parent_of(&self, target_tenant: &str) -> Result<AuditParent, Status> {
        target_tenant
            .strip_prefix("tenants/")
            .filter(|id| crate::names::valid_segment(id))
            .map(|id| AuditParent::Customer(id.to_owned()))
            .ok_or_else(|| {
                Error::invalid("audit_records.target_tenant", "must be tenants/{customer}").into()
            })
    }
}
