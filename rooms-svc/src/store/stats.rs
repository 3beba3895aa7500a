//! The store's counters (rooms, tickets, open tickets, newest ticket change), kept in step with
//! every change so `GetStoreInfo` reads one row.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entity::store_stats::{self, Column, Entity};
use crate::error::Error;
use crate::store::Store;

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
    find(db)
        .await?
        .ok_or_else(|| Error::Corrupt("store counters missing".into()))
}

/// The counters, unless the store has none yet (it is being provisioned).
pub async fn find<C: ConnectionTrait>(db: &C) -> Result<Option<store_stats::Model>, Error> {
    Ok(Entity::find_by_id(1).one(db).await?)
}

/// Adds to the counters. `ticket` is the store and update time of a ticket this change
/// gives that time: the store's activity bound is raised first (R25).
pub async fn adjust<C: ConnectionTrait>(
    db: &C,
    rooms: i32,
    tickets: i32,
    open_tickets: i32,
    ticket: Option<(&Store, i64)>,
) -> Result<(), Error> {
    let ticket_time = match ticket {
        Some((store, time)) => {
            store.note_ticket_time(time).await?;
            Some(time)
        }
        None => None,
    };
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
