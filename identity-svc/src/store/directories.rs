//! Tenant directories: creation (idempotent), deletion, summaries and domain resolution.

use std::collections::BTreeSet;

use mtm_proto::mtm::common::v1::DirectoryRole;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entity::{directory, domain, group, user};
use super::now_micros;
use super::users::{self, NewUser};
use crate::error::{Error, Result};

/// A directory with its verified domains and counts.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The directory row.
    pub directory: directory::Model,
    /// Verified domains, sorted.
    pub verified_domains: Vec<String>,
    /// Number of users.
    pub user_count: u64,
    /// Number of groups.
    pub group_count: u64,
}

/// The directory of `tenant`, if any.
pub async fn get(db: &impl ConnectionTrait, tenant: &str) -> Result<Option<directory::Model>> {
    Ok(directory::Entity::find_by_id(tenant).one(db).await?)
}

/// The summary of `tenant`'s directory, if any.
pub async fn summary(db: &impl ConnectionTrait, tenant: &str) -> Result<Option<Summary>> {
    let Some(directory) = get(db, tenant).await? else {
        return Ok(None);
    };
    let verified_domains = domain::Entity::find()
        .filter(domain::Column::TenantId.eq(tenant))
        .filter(domain::Column::Verified.eq(true))
        .order_by_asc(domain::Column::DomainName)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.domain_name)
        .collect();
    let user_count = user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant))
        .count(db)
        .await?;
    let group_count = group::Entity::find()
        .filter(group::Column::TenantId.eq(tenant))
        .count(db)
        .await?;
    Ok(Some(Summary {
        directory,
        verified_domains,
        user_count,
        group_count,
    }))
}

/// What a new directory is made of; domains and UPN already normalized.
pub struct NewDirectory {
    /// The tenant id.
    pub tenant: String,
    /// Display name.
    pub display_name: String,
    /// `TenantKind` as its number.
    pub kind: i32,
    /// Verified domains.
    pub domains: BTreeSet<String>,
    /// The first admin's lower-cased UPN.
    pub admin_upn: String,
    /// The first admin's display name.
    pub admin_display_name: String,
    /// The first admin's password hash.
    pub admin_password_hash: String,
}

/// Creates the directory, its domains and its first user (a Global admin). Repeating the same
/// creation returns the stored directory; a different one is ALREADY_EXISTS.
pub async fn create(db: &DatabaseConnection, new: NewDirectory) -> Result<(Summary, String)> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    let created = create_in(&txn, new).await?;
    txn.commit().await?;
    Ok(created)
}

/// [`create`] inside the caller's transaction.
pub async fn create_in(txn: &impl ConnectionTrait, new: NewDirectory) -> Result<(Summary, String)> {
    if let Some(existing) = get(txn, &new.tenant).await? {
        let admin = users::by_upn(txn, &new.admin_upn)
            .await?
            .filter(|u| u.tenant_id == new.tenant);
        let stored_domains: BTreeSet<String> = domain::Entity::find()
            .filter(domain::Column::TenantId.eq(new.tenant.as_str()))
            .all(txn)
            .await?
            .into_iter()
            .map(|d| d.domain_name)
            .collect();
        let same = existing.display_name == new.display_name
            && existing.kind == new.kind
            && new.domains.is_subset(&stored_domains);
        return match admin {
            Some(admin) if same => {
                let summary = summary(txn, &new.tenant).await?;
                let summary = summary.ok_or_else(|| Error::NotFound(new.tenant.clone()))?;
                Ok((summary, admin.name))
            }
            _ => Err(Error::AlreadyExists(format!(
                "tenants/{} already has a different directory",
                new.tenant
            ))),
        };
    }
    for name in &new.domains {
        if domain::Entity::find_by_id(name.as_str())
            .one(txn)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "the domain {name} belongs to another tenant"
            )));
        }
    }
    let now = now_micros();
    directory::ActiveModel::from(directory::Model {
        tenant_id: new.tenant.clone(),
        display_name: new.display_name.clone(),
        kind: new.kind,
        create_time: now,
    })
    .insert(txn)
    .await?;
    for name in &new.domains {
        domain::ActiveModel::from(domain::Model {
            domain_name: name.clone(),
            tenant_id: new.tenant.clone(),
            verified: true,
            verification_token: String::new(),
            create_time: now,
            verify_time: Some(now),
        })
        .insert(txn)
        .await?;
    }
    let admin = users::insert(
        txn,
        NewUser {
            tenant: new.tenant.clone(),
            id: uuid::Uuid::now_v7().to_string(),
            upn: new.admin_upn,
            display_name: new.admin_display_name,
            enabled: true,
            password_hash: Some(new.admin_password_hash),
        },
        "first_admin_upn",
    )
    .await?;
    users::grant_role(txn, &admin, DirectoryRole::GlobalAdmin).await?;
    super::epoch::bump(txn).await?;
    let summary = summary(txn, &new.tenant)
        .await?
        .ok_or_else(|| Error::NotFound(new.tenant.clone()))?;
    Ok((summary, admin.name))
}

/// Deletes the directory and, through the foreign keys, everything in it. Absent is fine.
pub async fn delete(db: &DatabaseConnection, tenant: &str) -> Result<()> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    super::groups::delete_memberships_of_tenant(&txn, tenant).await?;
    directory::Entity::delete_by_id(tenant).exec(&txn).await?;
    super::epoch::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The directory holding `domain_name` verified.
pub async fn resolve_domain(
    db: &impl ConnectionTrait,
    domain_name: &str,
) -> Result<Option<directory::Model>> {
    let domain = domain::Entity::find_by_id(domain_name)
        .one(db)
        .await?
        .filter(|d| d.verified);
    match domain {
        Some(d) => get(db, &d.tenant_id).await,
        None => Ok(None),
    }
}

/// Whether no directory exists yet.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(directory::Entity::find().count(db).await? == 0)
}
