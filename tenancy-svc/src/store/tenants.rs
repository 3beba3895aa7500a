//! Queries on `tenants`.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::tenant::{ActiveModel, Column, Entity, Model};
use crate::error::Result;

/// The tenant with `id`.
pub async fn get<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_owned()).one(db).await?)
}

/// The tenant whose creation carried `request_id`.
pub async fn by_request_id<C: ConnectionTrait>(db: &C, request_id: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::RequestId.eq(request_id))
        .one(db)
        .await?)
}

/// The tenant holding `domain` (lower-cased) as its primary domain.
pub async fn by_primary_domain<C: ConnectionTrait>(db: &C, domain: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::PrimaryDomain.eq(domain))
        .one(db)
        .await?)
}

/// Inserts a new tenant.
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

/// Deletes a tenant (its invitations, relationships and managers cascade).
pub async fn delete<C: ConnectionTrait>(db: &C, id: &str) -> Result<()> {
    Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Tenants left mid-way by a crash: PROVISIONING or DELETING.
pub async fn unfinished<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::State.is_in(["PROVISIONING", "DELETING"]))
        .all(db)
        .await?)
}

/// Filters of `ListTenants`.
#[derive(Debug, Default)]
pub struct TenantFilter {
    /// `PARTNER` or `CUSTOMER`.
    pub kind: Option<String>,
    /// Lifecycle state.
    pub state: Option<String>,
    /// Elite enrolment.
    pub elite: Option<bool>,
    /// Primary domain.
    pub primary_domain: Option<String>,
}

/// One page of tenants ordered by display name then id, after `offset`, and the total.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &TenantFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64)> {
    let mut query = Entity::find();
    if let Some(kind) = &filter.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(state) = &filter.state {
        query = query.filter(Column::State.eq(state.as_str()));
    }
    if let Some(elite) = filter.elite {
        query = query.filter(Column::ElitePartner.eq(elite));
    }
    if let Some(domain) = &filter.primary_domain {
        query = query.filter(Column::PrimaryDomain.eq(domain.as_str()));
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

/// The tenants with these ids.
pub async fn many<C: ConnectionTrait>(db: &C, ids: &[String]) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?)
}

/// Sets the elite flag when it differs; returns whether anything changed.
pub async fn set_elite<C: ConnectionTrait>(
    db: &C,
    id: &str,
    elite: bool,
    now: i64,
) -> Result<bool> {
    let time_column = if elite {
        Column::EnrollTime
    } else {
        Column::UnenrollTime
    };
    let result = Entity::update_many()
        .col_expr(Column::ElitePartner, Expr::value(elite))
        .col_expr(time_column, Expr::value(now))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::ElitePartner.eq(!elite))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
