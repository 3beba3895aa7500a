//! Queries on `approval_requests`.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::approval_request::{Column, Entity, Model};
use crate::error::Result;

/// How long a request waits for a decision: 7 days, in microseconds.
pub const LIFETIME_US: i64 = 7 * crate::rules::DAY_US;

/// The request `id` of `customer`.
pub async fn get<C: ConnectionTrait>(db: &C, customer: &str, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_owned())
        .filter(Column::CustomerId.eq(customer))
        .one(db)
        .await?)
}

/// The request submitted with `request_id`.
pub async fn by_request_id<C: ConnectionTrait>(db: &C, request_id: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::RequestId.eq(request_id))
        .one(db)
        .await?)
}

/// Inserts a request.
pub async fn insert<C: ConnectionTrait>(db: &C, model: Model) -> Result<Model> {
    Ok(model.into_active_model().insert(db).await?)
}

/// Moves a PENDING, unexpired request (at `version`, when given) to `state` with its decider
/// and reason; returns whether it moved.
pub async fn decide<C: ConnectionTrait>(
    db: &C,
    id: &str,
    version: Option<i64>,
    state: &str,
    by: Vec<u8>,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let mut update = Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::DecidedBy, Expr::value(by))
        .col_expr(Column::DecideTime, Expr::value(now))
        .col_expr(Column::DecisionReason, Expr::value(reason))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq("PENDING"))
        .filter(Column::ExpireTime.gt(now));
    if let Some(version) = version {
        update = update.filter(Column::Version.eq(version));
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// Records the outcome of an APPROVED request without one; returns whether it was recorded.
pub async fn record_outcome<C: ConnectionTrait>(
    db: &C,
    id: &str,
    state: &str,
    outcome: Vec<u8>,
    now: i64,
) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::Outcome, Expr::value(outcome))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq("APPROVED"))
        .filter(Column::Outcome.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Expires PENDING requests past their expiry, or all PENDING ones of `relationship` when
/// given (it left ACTIVE); returns how many.
pub async fn expire<C: ConnectionTrait>(
    db: &C,
    relationship: Option<&str>,
    now: i64,
) -> Result<u64> {
    let mut update = Entity::update_many()
        .col_expr(Column::State, Expr::value("EXPIRED"))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::State.eq("PENDING"));
    update = match relationship {
        Some(id) => update.filter(Column::RelationshipId.eq(id)),
        None => update.filter(Column::ExpireTime.lte(now)),
    };
    Ok(update.exec(db).await?.rows_affected)
}

/// Filters of `ListApprovalRequests`.
#[derive(Debug, Default)]
pub struct ApprovalFilter {
    /// The customer.
    pub customer: String,
    /// Only these relationships (partner-side readers); all when `None`.
    pub relationships: Option<Vec<String>>,
    /// Only this state.
    pub state: Option<String>,
    /// Only this event type number.
    pub event_type: Option<i32>,
    /// Only this relationship id.
    pub relationship: Option<String>,
    /// Only this partner id.
    pub partner: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Created at or after (µs).
    pub created_after: Option<i64>,
    /// Created at or before (µs).
    pub created_before: Option<i64>,
}

/// One page of requests, newest first, and the total.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &ApprovalFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64)> {
    let mut condition = Condition::all().add(Column::CustomerId.eq(filter.customer.as_str()));
    if let Some(ids) = &filter.relationships {
        condition = condition.add(Column::RelationshipId.is_in(ids.iter().cloned()));
    }
    if let Some(v) = &filter.state {
        condition = condition.add(Column::State.eq(v.as_str()));
    }
    if let Some(v) = filter.event_type {
        condition = condition.add(Column::EventType.eq(v));
    }
    if let Some(v) = &filter.relationship {
        condition = condition.add(Column::RelationshipId.eq(v.as_str()));
    }
    if let Some(v) = &filter.partner {
        condition = condition.add(Column::PartnerId.eq(v.as_str()));
    }
    if let Some(v) = &filter.target {
        condition = condition.add(Column::Target.eq(v.as_str()));
    }
    if let Some(v) = filter.created_after {
        condition = condition.add(Column::CreateTime.gte(v));
    }
    if let Some(v) = filter.created_before {
        condition = condition.add(Column::CreateTime.lte(v));
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
