//! The directories' audit trail (R28): every directory change appends a record in its own
//! transaction to the shared `audit_records` table, under the tenant's log
//! (`partners/{id}` or `customers/{id}` by the directory's kind); the log is served through
//! `mtm.audit.v1.AuditService` and `AuditInternalService`.

use mtm_plumbing::audit::service::{AuditStores, actor_of};
use mtm_plumbing::audit::{AuditParent, Entry};
use mtm_proto::mtm::audit::v1::{AuditCategory, AuditResult};
use mtm_proto::mtm::common::v1::{CallContext, TenantKind};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tonic::Status;

use crate::error::{Error, Result};
use crate::store::directories;

/// The name identity-svc writes as the records' `source`.
pub const SOURCE: &str = "identity-svc";

/// The log of the tenant whose directory has `kind`.
fn parent(tenant: &str, kind: i32) -> AuditParent {
    if kind == TenantKind::Partner as i32 {
        AuditParent::Partner(tenant.to_owned())
    } else {
        AuditParent::Customer(tenant.to_owned())
    }
}

/// What a directory change did, for its audit record.
pub struct Change<'a> {
    /// The tenant id.
    pub tenant: &'a str,
    /// What kind of object.
    pub category: AuditCategory,
    /// `create`, `update`, `delete` or a named action in snake case.
    pub operation: &'a str,
    /// The object's resource name.
    pub object_id: &'a str,
    /// The object's display name or UPN.
    pub object_name: &'a str,
}

/// Appends the record of `change`, made by the caller of `context`, through `db` (the open
/// transaction of the change).
pub async fn record(
    db: &impl ConnectionTrait,
    context: &CallContext,
    caller_display_name: &str,
    change: Change<'_>,
) -> Result<()> {
    let directory = directories::get(db, change.tenant)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tenants/{}", change.tenant)))?;
    let mut actor = actor_of(context);
    actor.display_name = caller_display_name.to_owned();
    mtm_plumbing::audit::append(
        db,
        SOURCE,
        Entry {
            parent: parent(change.tenant, directory.kind),
            category: change.category,
            operation: change.operation.to_owned(),
            object_id: change.object_id.to_owned(),
            object_name: change.object_name.to_owned(),
            result: AuditResult::Success,
            actor,
            request_id: context.request_id.clone(),
            status: None,
            details: Vec::new(),
        },
    )
    .await?;
    Ok(())
}

/// identity-svc keeps every directory's log in its one store.
pub struct DirectoryStores(pub DatabaseConnection);

#[tonic::async_trait]
impl AuditStores for DirectoryStores {
    async fn store(&self, parent: &AuditParent) -> Result<DatabaseConnection, Status> {
        let (id, kind) = match parent {
            AuditParent::Partner(id) => (id, TenantKind::Partner),
            AuditParent::Customer(id) => (id, TenantKind::Customer),
        };
        match directories::get(&self.0, id).await.map_err(Status::from)? {
            Some(directory) if directory.kind == kind as i32 => Ok(self.0.clone()),
            _ => Err(Status::not_found(format!("{} not found", parent.name()))),
        }
    }

    async fn parent_of(&self, target_tenant: &str) -> Result<AuditParent, Status> {
        let id = crate::names::parse_tenant(target_tenant, "target_tenant")?;
        let directory = directories::get(&self.0, &id)
            .await?
            .ok_or_else(|| Status::not_found(format!("{target_tenant} not found")))?;
        Ok(parent(&id, directory.kind))
    }
}
