//! A tenant's domains: claiming, verification and removal.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entity::{domain, user};
use super::{is_unique_violation, now_micros};
use crate::error::{Error, Result};

/// The domain `name` of `tenant`, else NOT_FOUND naming `resource`.
pub async fn in_tenant(
    db: &impl ConnectionTrait,
    tenant: &str,
    name: &str,
    resource: &str,
) -> Result<domain::Model> {
    domain::Entity::find_by_id(name)
        .one(db)
        .await?
        .filter(|d| d.tenant_id == tenant)
        .ok_or_else(|| Error::NotFound(resource.to_owned()))
}

/// Every domain of `tenant`, by name.
pub async fn list(db: &impl ConnectionTrait, tenant: &str) -> Result<Vec<domain::Model>> {
    Ok(domain::Entity::find()
        .filter(domain::Column::TenantId.eq(tenant))
        .order_by_asc(domain::Column::DomainName)
        .all(db)
        .await?)
}

/// Claims `name` for `tenant`, pending verification. ALREADY_EXISTS when any tenant holds it.
pub async fn create(db: &impl ConnectionTrait, tenant: &str, name: &str) -> Result<domain::Model> {
    if domain::Entity::find_by_id(name).one(db).await?.is_some() {
        return Err(Error::AlreadyExists(format!(
            "the domain {name} is already claimed"
        )));
    }
    let mut token = [0u8; 16];
    OsRng.fill_bytes(&mut token);
    let row = domain::Model {
        domain_name: name.to_owned(),
        tenant_id: tenant.to_owned(),
        verified: false,
        verification_token: token.iter().map(|b| format!("{b:02x}")).collect(),
        create_time: now_micros(),
        verify_time: None,
    };
    domain::ActiveModel::from(row.clone())
        .insert(db)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::AlreadyExists(format!("the domain {name} is already claimed"))
            } else {
                Error::Database(e)
            }
        })?;
    Ok(row)
}

/// Marks a domain verified.
pub async fn mark_verified(db: &impl ConnectionTrait, row: domain::Model) -> Result<domain::Model> {
    if row.verified {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.verified = Set(true);
    active.verify_time = Set(Some(now_micros()));
    Ok(active.update(db).await?)
}

/// Removes a domain; FAILED_PRECONDITION while UPNs use it or when it is the tenant's last
/// verified domain.
pub async fn delete(db: &impl ConnectionTrait, row: &domain::Model) -> Result<()> {
    let in_use = user::Entity::find()
        .filter(user::Column::TenantId.eq(row.tenant_id.as_str()))
        .filter(user::Column::Upn.ends_with(format!("@{}", row.domain_name)))
        .count(db)
        .await?;
    if in_use > 0 {
        return Err(Error::FailedPrecondition(format!(
            "{in_use} users have UPNs in {}",
            row.domain_name
        )));
    }
    if row.verified {
        let verified = domain::Entity::find()
            .filter(domain::Column::TenantId.eq(row.tenant_id.as_str()))
            .filter(domain::Column::Verified.eq(true))
            .count(db)
            .await?;
        if verified <= 1 {
            return Err(Error::FailedPrecondition(
                "a tenant keeps at least one verified domain".into(),
            ));
        }
    }
    domain::Entity::delete_by_id(row.domain_name.as_str())
        .exec(db)
        .await?;
    Ok(())
}
