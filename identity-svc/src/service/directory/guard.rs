//! Who may use `DirectoryService`: enabled users of the tenant read it, its Global admins
//! change it; a name in another tenant answers NOT_FOUND (R26). Roles and the enabled flag
//! are read from the directory itself, so a change counts at once (R2).

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::common::v1::{CallContext, DirectoryRole};
use prost_types::FieldMask;
use sea_orm::ConnectionTrait;
use tonic::Request;

use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::entity::user;
use crate::store::users;

/// The verified caller of a directory call.
pub struct Caller {
    /// The caller's user row.
    pub user: user::Model,
    /// Whether it is a Global admin of its tenant.
    pub global_admin: bool,
    /// The call context, for the audit record.
    pub context: CallContext,
}

impl Caller {
    /// Records a change the caller made in its tenant, through the change's transaction:
    /// bumps the directory change counter (so every replica's principal cache notices, R2)
    /// and appends the audit record (R28). Every directory write calls it.
    pub async fn audit(
        &self,
        db: &impl ConnectionTrait,
        category: AuditCategory,
        operation: &str,
        object_id: &str,
        object_name: &str,
    ) -> Result<()> {
        crate::store::epoch::bump(db).await?;
        crate::audit::record(
            db,
            &self.context,
            &self.user.display_name,
            crate::audit::Change {
                tenant: &self.user.tenant_id,
                category,
                operation,
                object_id,
                object_name,
            },
        )
        .await
    }

    /// PERMISSION_DENIED unless the caller is a Global admin.
    pub fn require_admin(&self) -> Result<()> {
        if self.global_admin {
            Ok(())
        } else {
            Err(Error::PermissionDenied(
                "changing the directory needs a Global admin of the tenant".into(),
            ))
        }
    }
}

/// The caller of `request`, an enabled user of `tenant`; `resource` is what a caller from
/// another tenant is told does not exist.
pub async fn caller<T>(
    state: &State,
    request: &Request<T>,
    tenant: &str,
    resource: &str,
) -> Result<Caller> {
    let context = mtm_plumbing::context::extract(request).map_err(Error::Invalid)?;
    let principal = context.principal.clone().unwrap_or_default();
    if principal.operator {
        return Err(Error::PermissionDenied(
            "the operator manages tenants through TenantService".into(),
        ));
    }
    if principal.home_tenant != names::tenant_name(tenant) {
        return Err(Error::NotFound(resource.to_owned()));
    }
    let user = users::by_name(&state.db, &principal.user)
        .await?
        .filter(|u| u.tenant_id == tenant && u.enabled)
        .ok_or_else(|| Error::PermissionDenied("the caller is not an enabled user".into()))?;
    let global_admin = users::holds(&state.db, &user.name, DirectoryRole::GlobalAdmin).await?;
    Ok(Caller {
        user,
        global_admin,
        context,
    })
}

/// The caller of `request`, a Global admin of `tenant`.
pub async fn admin<T>(
    state: &State,
    request: &Request<T>,
    tenant: &str,
    resource: &str,
) -> Result<Caller> {
    let caller = caller(state, request, tenant, resource).await?;
    caller.require_admin()?;
    Ok(caller)
}

/// The paths of an update mask, each among `allowed`; INVALID_ARGUMENT naming `update_mask`
/// for an empty mask or another path.
pub fn mask_paths(mask: Option<&FieldMask>, allowed: &[&str]) -> Result<Vec<String>> {
    let paths = mask.map(|m| m.paths.clone()).unwrap_or_default();
    if paths.is_empty() {
        return Err(Error::invalid(
            "update_mask",
            format!("name the fields to change: {}", allowed.join(", ")),
        ));
    }
    if let Some(bad) = paths.iter().find(|p| !allowed.contains(&p.as_str())) {
        return Err(Error::invalid(
            "update_mask",
            format!("`{bad}` cannot be changed; allowed: {}", allowed.join(", ")),
        ));
    }
    Ok(paths)
}

/// ABORTED when `etag` is given and is not the current `version`.
pub fn check_etag(etag: &str, version: i64) -> Result<()> {
    if etag.is_empty() || etag == version.to_string() {
        Ok(())
    } else {
        Err(Error::Aborted(
            "the resource changed since it was read (stale etag)".into(),
        ))
    }
}
