//! The directories' change counter (see `entity::directory_epoch`).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::directory_epoch::{Column, Entity};
use crate::error::Result;

/// The current counter.
pub async fn current(db: &impl ConnectionTrait) -> Result<i64> {
    Ok(Entity::find_by_id(1)
        .one(db)
        .await?
        .map_or(0, |row| row.epoch))
}

/// Bumps the counter inside the transaction of a directory write.
pub async fn bump(db: &impl ConnectionTrait) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::Epoch, Expr::col(Column::Epoch).add(1))
        .filter(Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}
