//! The store's counters (rooms, tickets, open tickets, newest ticket change), kept in step with
//! every change so `GetStoreInfo` reads one row.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entity::store_stats::{self, Column, Entity};
use crate::error::Error;

/// Creates the counters row unless it exists.
pub async fn ensure<C: ConnectionTrait>(db: &C) -> Result<(), Error> {
    if Entity::find_by_id(1).one(db).await?.is_none() {
        store_stats::ActiveModel {
            id: Set(1),
            room_count: Set(0),
            ticket_count: Set(0),
            open_ticket_count: Set(0),
            newest_ticket_update_time: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The counters.
pub async fn get<C: ConnectionTrait>(db: &C) -> Result<store_stats::Model, Error> {
    Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("store counters missing".into()))
}

/// Adds to the counters; `ticket_time` is the update time of a ticket just changed.
pub async fn adjust<C: ConnectionTrait>(
    db: &C,
    rooms: i32,
    tickets: i32,
    open_tickets: i32,
    ticket_time: Option<i64>,
) -> Result<(), Error> {
    let mut update = Entity::update_many()
        .col_expr(Column::RoomCount, Expr::col(Column::RoomCount).add(rooms))
        .col_expr(
            Column::TicketCount,
            Expr::col(Column::TicketCount).add(tickets),
        )
        .col_expr(
            Column::OpenTicketCount,
            Expr::col(Column::OpenTicketCount).add(open_tickets),
        );
    if let Some(time) = ticket_time {
        let newest = get(db).await?.newest_ticket_update_time;
        if newest.is_none_or(|newest| time > newest) {
            update = update.col_expr(Column::NewestTicketUpdateTime, Expr::val(time));
        }
    }
    update.filter(Column::Id.eq(1)).exec(db).await?;
    Ok(())
}
