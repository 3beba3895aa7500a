//! Users: lookups, creation with the UPN checks of §1, and directory role grants.

use mtm_proto::mtm::common::v1::DirectoryRole;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::entity::{domain, preference, role_grant, user};
use super::{is_unique_violation, now_micros};
use crate::error::{Error, Result};
use crate::names;

/// The user with resource name `name`.
pub async fn by_name(db: &impl ConnectionTrait, name: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(name).one(db).await?)
}

/// The user whose lower-cased UPN is `upn`.
pub async fn by_upn(db: &impl ConnectionTrait, upn: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Upn.eq(upn))
        .one(db)
        .await?)
}

/// The user `name` if it is in `tenant`, else NOT_FOUND.
pub async fn in_tenant(db: &impl ConnectionTrait, tenant: &str, name: &str) -> Result<user::Model> {
    match by_name(db, name).await? {
        Some(user) if user.tenant_id == tenant => Ok(user),
        _ => Err(Error::NotFound(name.to_owned())),
    }
}

/// Checks that `domain` is a verified domain of `tenant`; INVALID_ARGUMENT on `field` if not.
pub async fn check_upn_domain(
    db: &impl ConnectionTrait,
    tenant: &str,
    domain: &str,
    field: &str,
) -> Result<()> {
    let owned = domain::Entity::find_by_id(domain)
        .one(db)
        .await?
        .is_some_and(|d| d.tenant_id == tenant && d.verified);
    if owned {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("the domain {domain} is not a verified domain of the tenant"),
        ))
    }
}

/// What a new user is made of.
pub struct NewUser {
    /// The tenant id.
    pub tenant: String,
    /// The user id.
    pub id: String,
    /// The UPN as given.
    pub upn: String,
    /// The display name.
    pub display_name: String,
    /// Whether the user may sign in.
    pub enabled: bool,
    /// The password hash, if any.
    pub password_hash: Option<String>,
}

/// Inserts a user after checking its UPN (field `upn_field`); ALREADY_EXISTS when the UPN or
/// the id is taken.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewUser,
    upn_field: &str,
) -> Result<user::Model> {
    let (upn, domain) = names::normalize_upn(&new.upn, upn_field)?;
    check_upn_domain(db, &new.tenant, &domain, upn_field).await?;
    if by_upn(db, &upn).await?.is_some() {
        return Err(Error::AlreadyExists(format!("the UPN {upn} is taken")));
    }
    let name = names::child_name(&new.tenant, "users", &new.id);
    if by_name(db, &name).await?.is_some() {
        return Err(Error::AlreadyExists(format!("{name} already exists")));
    }
    let now = now_micros();
    let row = user::Model {
        name,
        tenant_id: new.tenant,
        upn,
        display_name: new.display_name,
        enabled: new.enabled,
        password_hash: new.password_hash,
        create_time: now,
        update_time: now,
        version: 1,
    };
    user::ActiveModel::from(row.clone())
        .insert(db)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::AlreadyExists(format!("the UPN {} is taken", row.upn))
            } else {
                Error::Database(e)
            }
        })?;
    Ok(row)
}

/// The role grants of one user, by role.
pub async fn roles_of(db: &impl ConnectionTrait, name: &str) -> Result<Vec<role_grant::Model>> {
    Ok(role_grant::Entity::find()
        .filter(role_grant::Column::UserName.eq(name))
        .order_by_asc(role_grant::Column::Role)
        .all(db)
        .await?)
}

/// Grants `role` to the user unless it holds it already; returns the grant.
pub async fn grant_role(
    db: &impl ConnectionTrait,
    user: &user::Model,
    role: DirectoryRole,
) -> Result<role_grant::Model> {
    let existing = role_grant::Entity::find_by_id((user.name.clone(), role as i32))
        .one(db)
        .await?;
    if let Some(grant) = existing {
        return Ok(grant);
    }
    let row = role_grant::Model {
        user_name: user.name.clone(),
        role: role as i32,
        tenant_id: user.tenant_id.clone(),
        grant_time: now_micros(),
    };
    role_grant::ActiveModel::from(row.clone())
        .insert(db)
        .await?;
    Ok(row)
}

/// The user's preferences row, if ever written.
pub async fn preferences(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<preference::Model>> {
    Ok(preference::Entity::find_by_id(name).one(db).await?)
}

/// Every user of `tenant`, by UPN.
pub async fn list(db: &impl ConnectionTrait, tenant: &str) -> Result<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant))
        .order_by_asc(user::Column::Upn)
        .all(db)
        .await?)
}

/// Every role grant of `tenant`.
pub async fn grants_in_tenant(
    db: &impl ConnectionTrait,
    tenant: &str,
) -> Result<Vec<role_grant::Model>> {
    Ok(role_grant::Entity::find()
        .filter(role_grant::Column::TenantId.eq(tenant))
        .all(db)
        .await?)
}

/// Number of Global admins of `tenant` that are enabled.
pub async fn enabled_global_admins(db: &impl ConnectionTrait, tenant: &str) -> Result<usize> {
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::TenantId.eq(tenant))
        .filter(role_grant::Column::Role.eq(DirectoryRole::GlobalAdmin as i32))
        .all(db)
        .await?;
    let mut count = 0;
    for grant in grants {
        if by_name(db, &grant.user_name)
            .await?
            .is_some_and(|u| u.enabled)
        {
            count += 1;
        }
    }
    Ok(count)
}

/// Whether `user` holds `role`.
pub async fn holds(db: &impl ConnectionTrait, user: &str, role: DirectoryRole) -> Result<bool> {
    Ok(
        role_grant::Entity::find_by_id((user.to_owned(), role as i32))
            .one(db)
            .await?
            .is_some(),
    )
}

/// Revokes `role`; false when the user did not hold it.
pub async fn revoke_role(
    db: &impl ConnectionTrait,
    user: &str,
    role: DirectoryRole,
) -> Result<bool> {
    let result = role_grant::Entity::delete_by_id((user.to_owned(), role as i32))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Saves a changed user, bumping its version and update time.
pub async fn save(db: &impl ConnectionTrait, mut row: user::Model) -> Result<user::Model> {
    row.version += 1;
    row.update_time = now_micros();
    let mut active: user::ActiveModel = row.clone().into();
    active = sea_orm::ActiveModelTrait::reset_all(active);
    active.name = sea_orm::ActiveValue::Unchanged(row.name.clone());
    active.update(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists(format!("the UPN {} is taken", row.upn))
        } else {
            Error::Database(e)
        }
    })?;
    Ok(row)
}

/// Deletes a user: out of every group, role grants and preferences go with it.
pub async fn delete(db: &impl ConnectionTrait, name: &str) -> Result<()> {
    super::groups::remove_from_all_groups(db, name).await?;
    role_grant::Entity::delete_many()
        .filter(role_grant::Column::UserName.eq(name))
        .exec(db)
        .await?;
    preference::Entity::delete_by_id(name).exec(db).await?;
    user::Entity::delete_by_id(name).exec(db).await?;
    Ok(())
}

/// Stores the *all tickets* preference, bumping its version.
pub async fn save_preferences(
    db: &impl ConnectionTrait,
    user: &str,
    all_tickets_view_enabled: bool,
) -> Result<preference::Model> {
    let existing = preferences(db, user).await?;
    let row = preference::Model {
        user_name: user.to_owned(),
        all_tickets_view_enabled,
        update_time: now_micros(),
        version: existing.as_ref().map_or(1, |p| p.version + 1),
    };
    let mut active: preference::ActiveModel = row.clone().into();
    if existing.is_some() {
        active = sea_orm::ActiveModelTrait::reset_all(active);
        active.user_name = sea_orm::ActiveValue::Unchanged(row.user_name.clone());
        active.update(db).await?;
    } else {
        active.insert(db).await?;
    }
    Ok(row)
}
