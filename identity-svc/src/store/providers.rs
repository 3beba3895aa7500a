//! Trusted external identity providers (R2): issuers unique across the system, stored in the
//! canonical form of `crate::issuer`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::entity::identity_provider::{self, Column, Entity, Model};
use super::{is_unique_violation, now_micros};
use crate::error::{Error, Result};

/// The provider trusting `issuer` (in canonical form), if any.
pub async fn by_issuer(db: &impl ConnectionTrait, issuer: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Issuer.eq(issuer))
        .one(db)
        .await?)
}

/// The provider `name` if it is in `tenant`, else NOT_FOUND.
pub async fn in_tenant(db: &impl ConnectionTrait, tenant: &str, name: &str) -> Result<Model> {
    Entity::find_by_id(name)
        .one(db)
        .await?
        .filter(|p| p.tenant_id == tenant)
        .ok_or_else(|| Error::NotFound(name.to_owned()))
}

/// Every provider of `tenant`, by display name.
pub async fn list(db: &impl ConnectionTrait, tenant: &str) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .order_by_asc(Column::DisplayName)
        .order_by_asc(Column::Name)
        .all(db)
        .await?)
}

fn conflict(error: sea_orm::DbErr, issuer: &str) -> Error {
    if is_unique_violation(&error) {
        Error::AlreadyExists(format!("the issuer {issuer} is already trusted"))
    } else {
        Error::Database(error)
    }
}

/// Inserts a provider; ALREADY_EXISTS when its name or issuer is taken.
pub async fn insert(db: &impl ConnectionTrait, mut row: Model) -> Result<Model> {
    if Entity::find_by_id(row.name.as_str())
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::AlreadyExists(format!("{} already exists", row.name)));
    }
    if by_issuer(db, &row.issuer).await?.is_some() {
        return Err(Error::AlreadyExists(format!(
            "the issuer {} is already trusted",
            row.issuer
        )));
    }
    let now = now_micros();
    row.create_time = now;
    row.update_time = now;
    row.version = 1;
    identity_provider::ActiveModel::from(row.clone())
        .insert(db)
        .await
        .map_err(|e| conflict(e, &row.issuer))?;
    Ok(row)
}

/// Saves a changed provider, bumping its version and update time.
pub async fn save(db: &impl ConnectionTrait, mut row: Model) -> Result<Model> {
    row.version += 1;
    row.update_time = now_micros();
    let active = ActiveModelTrait::reset_all(identity_provider::ActiveModel::from(row.clone()));
    active
        .update(db)
        .await
        .map_err(|e| conflict(e, &row.issuer))?;
    Ok(row)
}

/// Deletes a provider.
pub async fn delete(db: &impl ConnectionTrait, name: &str) -> Result<()> {
    Entity::delete_by_id(name).exec(db).await?;
    Ok(())
}

/// Brings the issuers stored by older releases (compared as given) into canonical form, so
/// every spelling of them finds their provider. An issuer whose canonical form another provider
/// already holds, or that has none, is left as it is and logged: the operator decides which
/// provider stays.
pub async fn normalize_stored(db: &DatabaseConnection) -> Result<()> {
    for row in Entity::find().all(db).await? {
        let Ok(canonical) = crate::issuer::normalize(&row.issuer) else {
            tracing::warn!(provider = %row.name, issuer = %row.issuer, "a trusted issuer is not a valid URL");
            continue;
        };
        if canonical == row.issuer {
            continue;
        }
        if by_issuer(db, &canonical).await?.is_some() {
            tracing::warn!(
                provider = %row.name,
                issuer = %row.issuer,
                %canonical,
                "two trusted issuers are the same issuer; delete one"
            );
            continue;
        }
        let mut active: identity_provider::ActiveModel = row.clone().into();
        active.issuer = sea_orm::ActiveValue::Set(canonical);
        active
            .update(db)
            .await
            .map_err(|e| conflict(e, &row.issuer))?;
    }
    Ok(())
}
