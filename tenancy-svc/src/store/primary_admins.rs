//! Queries on `primary_admins`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::primary_admin::{Column, Entity, Model};
use crate::error::Result;

/// The entry `id` of relationship `relationship`.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    relationship: &str,
    id: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_owned())
        .filter(Column::RelationshipId.eq(relationship))
        .one(db)
        .await?)
}

/// The entry of `member` in `relationship`, if any.
pub async fn by_member<C: ConnectionTrait>(
    db: &C,
    relationship: &str,
    member: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::RelationshipId.eq(relationship))
        .filter(Column::Member.eq(member))
        .one(db)
        .await?)
}

/// Inserts an entry.
pub async fn insert<C: ConnectionTrait>(db: &C, model: Model) -> Result<Model> {
    Ok(model.into_active_model().insert(db).await?)
}

/// Entries that count toward R14 (not marked removing by an earlier version).
pub async fn counted<C: ConnectionTrait>(db: &C, relationship: &str) -> Result<u64> {
    Ok(Entity::find()
        .filter(Column::RelationshipId.eq(relationship))
        .filter(Column::Removing.eq(false))
        .count(db)
        .await?)
}

/// Deletes an entry.
pub async fn delete<C: ConnectionTrait>(db: &C, id: &str) -> Result<()> {
    Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Every entry of `relationship`, by display name.
pub async fn all<C: ConnectionTrait>(db: &C, relationship: &str) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::RelationshipId.eq(relationship))
        .order_by_asc(Column::DisplayName)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// One page of the entries of `relationship` that count, and their total.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    relationship: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64)> {
    let query = Entity::find()
        .filter(Column::RelationshipId.eq(relationship))
        .filter(Column::Removing.eq(false));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(Column::DisplayName)
        .order_by_asc(Column::Id)
        .offset(offset)
        .limit(Ord::min(limit, i64::MAX as u64))
        .all(db)
        .await?;
    Ok((rows, total))
}
