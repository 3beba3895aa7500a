//! rbac-svc's store: opening and migrating it, loading customers into the index, and the
//! revision log. Handlers' writes live in `store::write`.

pub mod entity;
pub mod migration;
pub mod requests;
pub mod roles;
pub mod write;

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::catalogue::PermSet;
use crate::error::Error;
use crate::index::{AssignmentData, CustomerData, RelationshipData, RoleData, Scope};
use entity::{assignment, customer, relationship, revision, role};

/// `mtm.common.v1.RelationshipState.ACTIVE`.
pub const STATE_ACTIVE: i32 = 1;

/// The PostgreSQL advisory lock key replicas take to migrate the store one at a time.
pub const MIGRATION_LOCK: i64 = 0x7262_6163_6d69_6772;

/// Opens the database at `url` and brings its schema up to date. On PostgreSQL the migrations
/// run in one transaction holding an advisory lock, so replicas started together migrate
/// once, one after the other, and none fails on a half-made schema.
pub async fn open(url: &str) -> Result<DatabaseConnection, Error> {
    let db = mtm_plumbing::store::open(url, 8).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await?;
        migration::Migrator::up(&txn, None).await?;
        txn.commit().await?;
    } else {
        migration::Migrator::up(&db, None).await?;
    }
    Ok(db)
}

/// Joins names into one column value, one per line.
pub fn lines<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits a column value written by [`lines`].
pub fn split(value: &str) -> Vec<String> {
    value
        .split('\n')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A scope from its three columns.
pub fn scope_of(all: bool, groups: &str, rooms: &str) -> Scope {
    Scope::new(all, split(groups), split(rooms))
}

fn relationship_data(row: relationship::Model) -> RelationshipData {
    RelationshipData {
        scope: scope_of(row.all_rooms, &row.room_groups, &row.rooms),
        active: row.state == STATE_ACTIVE,
        end_time: row.end_time,
        partner: row.partner,
        name: row.name,
    }
}

fn role_data(row: role::Model) -> RoleData {
    let names = split(&row.permissions);
    RoleData {
        permissions: PermSet::parse(&names).unwrap_or_else(|_| {
            names
                .iter()
                .filter_map(|n| crate::catalogue::Perm::parse(n))
                .fold(PermSet::EMPTY, PermSet::with)
        }),
        display_name: row.display_name,
        name: row.name,
    }
}

fn assignment_data(row: assignment::Model) -> AssignmentData {
    AssignmentData {
        scope: scope_of(row.all_rooms, &row.room_groups, &row.rooms),
        members: split(&row.members),
        relationship: row.relationship,
        role: row.role,
        name: row.name,
    }
}

/// Everything known of one customer, or `None` when it is not provisioned.
pub async fn load_customer(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<CustomerData>, Error> {
    if customer::Entity::find_by_id(id).one(db).await?.is_none() {
        return Ok(None);
    }
    let relationships = relationship::Entity::find()
        .filter(relationship::Column::Customer.eq(id))
        .all(db)
        .await?;
    let roles = role::Entity::find()
        .filter(role::Column::Customer.eq(id))
        .all(db)
        .await?;
    let assignments = assignment::Entity::find()
        .filter(assignment::Column::Customer.eq(id))
        .all(db)
        .await?;
    Ok(Some(CustomerData {
        id: id.to_owned(),
        relationships: relationships.into_iter().map(relationship_data).collect(),
        roles: roles.into_iter().map(role_data).collect(),
        assignments: assignments.into_iter().map(assignment_data).collect(),
    }))
}

/// Every customer, for building the index at start.
pub async fn load_all(db: &impl ConnectionTrait) -> Result<Vec<CustomerData>, Error> {
    let mut customers: BTreeMap<String, CustomerData> = customer::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id.clone(),
                CustomerData {
                    id: c.id,
                    ..CustomerData::default()
                },
            )
        })
        .collect();
    for row in relationship::Entity::find().all(db).await? {
        if let Some(c) = customers.get_mut(&row.customer) {
            c.relationships.push(relationship_data(row));
        }
    }
    for row in role::Entity::find().all(db).await? {
        if let Some(c) = customers.get_mut(&row.customer) {
            c.roles.push(role_data(row));
        }
    }
    for row in assignment::Entity::find().all(db).await? {
        if let Some(c) = customers.get_mut(&row.customer) {
            c.assignments.push(assignment_data(row));
        }
    }
    Ok(customers.into_values().collect())
}

/// The newest committed revision (0 when none).
pub async fn latest_revision(db: &impl ConnectionTrait) -> Result<i64, Error> {
    Ok(revision::Entity::find()
        .order_by_desc(revision::Column::Revision)
        .limit(1)
        .one(db)
        .await?
        .map_or(0, |r| r.revision))
}

/// The revisions after `after`, oldest first, as (revision, customer).
pub async fn revisions_after(
    db: &impl ConnectionTrait,
    after: i64,
) -> Result<Vec<(i64, String)>, Error> {
    Ok(revision::Entity::find()
        .filter(revision::Column::Revision.gt(after))
        .order_by_asc(revision::Column::Revision)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.revision, r.customer))
        .collect())
}
