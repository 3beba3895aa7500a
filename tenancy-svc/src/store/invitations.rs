//! Queries on `invitations`.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::invitation::{Column, Entity, Model};
use crate::error::Result;

/// The invitation `id` of `customer`.
pub async fn get<C: ConnectionTrait>(db: &C, customer: &str, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_owned())
        .filter(Column::CustomerId.eq(customer))
        .one(db)
        .await?)
}

/// The invitations `customer` created with `request_id`, in creation order.
pub async fn by_request_id<C: ConnectionTrait>(
    db: &C,
    customer: &str,
    request_id: &str,
) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CustomerId.eq(customer))
        .filter(Column::RequestId.eq(request_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// Inserts an invitation.
pub async fn insert<C: ConnectionTrait>(db: &C, model: Model) -> Result<Model> {
    Ok(model.into_active_model().insert(db).await?)
}

/// Deletes an invitation for good (R12).
pub async fn delete<C: ConnectionTrait>(db: &C, id: &str) -> Result<()> {
    Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Moves a PENDING, unexpired invitation (at `version`, when given) to `state`; returns
/// whether it moved.
pub async fn leave_pending<C: ConnectionTrait>(
    db: &C,
    id: &str,
    version: Option<i64>,
    state: &str,
    actor: Vec<u8>,
    relationship: Option<String>,
    now: i64,
) -> Result<bool> {
    let mut update = Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::StateTime, Expr::value(now))
        .col_expr(Column::StateChangedBy, Expr::value(actor))
        .col_expr(Column::Relationship, Expr::value(relationship))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq("PENDING"))
        .filter(Column::ExpireTime.gt(now));
    if let Some(version) = version {
        update = update.filter(Column::Version.eq(version));
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// Marks every PENDING invitation past its expiry EXPIRED; returns how many.
pub async fn expire_due<C: ConnectionTrait>(db: &C, now: i64) -> Result<u64> {
    let result = Entity::update_many()
        .col_expr(Column::State, Expr::value("EXPIRED"))
        .col_expr(Column::StateTime, Expr::col(Column::ExpireTime))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::State.eq("PENDING"))
        .filter(Column::ExpireTime.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Withdraws every PENDING invitation between `customer` (any, when `None`) and `partner`.
pub async fn withdraw_pending<C: ConnectionTrait>(
    db: &C,
    customer: Option<&str>,
    partner: &str,
    actor: Vec<u8>,
    now: i64,
) -> Result<u64> {
    let mut update = Entity::update_many()
        .col_expr(Column::State, Expr::value("WITHDRAWN"))
        .col_expr(Column::StateTime, Expr::value(now))
        .col_expr(Column::StateChangedBy, Expr::value(actor))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::PartnerId.eq(partner))
        .filter(Column::State.eq("PENDING"));
    if let Some(customer) = customer {
        update = update.filter(Column::CustomerId.eq(customer));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Filters of invitation lists.
#[derive(Debug, Default)]
pub struct InvitationFilter {
    /// Only this customer.
    pub customer: Option<String>,
    /// Only this partner.
    pub partner: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this invitee.
    pub invitee_upn: Option<String>,
    /// Created at or after (µs).
    pub created_after: Option<i64>,
    /// Created at or before (µs).
    pub created_before: Option<i64>,
}

/// One page of invitations, newest first, and the total.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &InvitationFilter,
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
    if let Some(v) = &filter.state {
        condition = condition.add(Column::State.eq(v.as_str()));
    }
    if let Some(v) = &filter.kind {
        condition = condition.add(Column::Kind.eq(v.as_str()));
    }
    if let Some(v) = &filter.invitee_upn {
        condition = condition.add(Column::InviteeUpn.eq(v.to_ascii_lowercase()));
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
