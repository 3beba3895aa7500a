//! Queries on `relationships`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::relationship::{ActiveModel, Column, Entity, Model};
use crate::error::Result;

/// The `active_pair` value of a live relationship between `customer` and `partner`.
pub fn pair_key(customer: &str, partner: &str) -> String {
    format!("{customer}/{partner}")
}

/// The relationship `id` of `customer`.
pub async fn get<C: ConnectionTrait>(db: &C, customer: &str, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_owned())
        .filter(Column::CustomerId.eq(customer))
        .one(db)
        .await?)
}

/// The relationship of the pair that is not TERMINATED, if any (R15).
pub async fn live_for_pair<C: ConnectionTrait>(
    db: &C,
    customer: &str,
    partner: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::ActivePair.eq(pair_key(customer, partner)))
        .one(db)
        .await?)
}

/// Inserts a relationship.
pub async fn insert<C: ConnectionTrait>(db: &C, model: Model) -> Result<Model> {
    Ok(model.into_active_model().insert(db).await?)
}

/// Stores changed fields of `model`, bumping its version and update time.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    model: Model,
    change: impl FnOnce(&mut ActiveModel),
) -> Result<Model> {
    let version = model.version;
    let mut active = model.into_active_model();
    change(&mut active);
    active.version = Set(version + 1);
    active.update_time = Set(super::now_us());
    Ok(active.update(db).await?)
}

/// Filters of relationship lists.
#[derive(Debug, Default)]
pub struct RelationshipFilter {
    /// Only this customer.
    pub customer: Option<String>,
    /// Only this partner.
    pub partner: Option<String>,
    /// Only these states.
    pub states: Vec<String>,
}

/// One page of relationships, newest first, and the total.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &RelationshipFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64)> {
    let mut condition = Condition::all();
    if let Some(v) = &filter.customer {
        condition = condition.add(Column::CustomerId.eq(v.as_str()));
    }
    if let Some(v) = &filter.partner {
        condition = condition.add(Column::PartnerId.eq(v.as_str()));
    }
    if !filter.states.is_empty() {
        condition = condition.add(Column::State.is_in(filter.states.iter().cloned()));
    }
    let query = Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(Column::CreateTime)
        .order_by_desc(Column::Id)
        .offset(offset)
        .limit(Ord::min(limit, i64::MAX as u64))
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Every relationship that is not TERMINATED, or is still being terminated.
pub async fn live<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(
            Condition::any()
                .add(Column::ActivePair.is_not_null())
                .add(Column::Terminating.eq(true)),
        )
        .all(db)
        .await?)
}

/// Every ACTIVE relationship past its end time and not being terminated (R30).
pub async fn due<C: ConnectionTrait>(db: &C, now: i64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::State.eq("ACTIVE"))
        .filter(Column::Terminating.eq(false))
        .filter(Column::EndTime.lte(now))
        .all(db)
        .await?)
}
