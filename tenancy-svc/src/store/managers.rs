//! Queries on `tenant_managers`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::tenant_manager::{Column, Entity, Model};
use crate::error::Result;

/// The entry of `member` at `partner`, if any.
pub async fn by_member<C: ConnectionTrait>(
    db: &C,
    partner: &str,
    member: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::PartnerId.eq(partner))
        .filter(Column::Member.eq(member))
        .one(db)
        .await?)
}

/// The entry `id` of `partner`, if any.
pub async fn get<C: ConnectionTrait>(db: &C, partner: &str, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_owned())
        .filter(Column::PartnerId.eq(partner))
        .one(db)
        .await?)
}

/// Inserts an entry.
pub async fn insert<C: ConnectionTrait>(db: &C, model: Model) -> Result<Model> {
    Ok(model.into_active_model().insert(db).await?)
}

/// Deletes an entry.
pub async fn delete<C: ConnectionTrait>(db: &C, id: &str) -> Result<()> {
    Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Every member (user or group name) of `partner`'s tenant managers.
pub async fn members<C: ConnectionTrait>(db: &C, partner: &str) -> Result<Vec<String>> {
    Ok(Entity::find()
        .filter(Column::PartnerId.eq(partner))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.member)
        .collect())
}

/// One page of `partner`'s tenant managers by display name, optionally only `member`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    partner: &str,
    member: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64)> {
    let mut query = Entity::find().filter(Column::PartnerId.eq(partner));
    if let Some(member) = member {
        query = query.filter(Column::Member.eq(member));
    }
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
