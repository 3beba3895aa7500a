//! Lookups for other services: where rooms and tickets are (their groups and rings), and
//! what a room scope names and covers.

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::rooms::v1::{DescribeRoomScopeResponse, Placement};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::entity::{room, room_group, ticket, update_ring};
use crate::context::Scope;
use crate::error::Error;
use crate::names::{CustomerId, parse_child, split_child};

/// One placement per name, in order; names of other customers are not found.
pub async fn placements<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    names: &[String],
) -> Result<Vec<Placement>, Error> {
    let customer = customer.clone();
    let mut placements = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let mut placement = Placement {
            name: name.clone(),
            ..Default::default()
        };
        let collection = ["rooms", "tickets", "roomGroups", "updateRings"]
            .into_iter()
            .find(|c| split_child(name, c).is_some())
            .ok_or_else(|| {
                Error::invalid(
                    format!("names[{i}]"),
                    "not a room, ticket, room group or update ring",
                )
            })?;
        let (owner, id) = parse_child(&format!("names[{i}]"), name, collection)?;
        if owner == customer {
            match collection {
                "rooms" => {
                    if let Some(row) = room::Entity::find_by_id(id).one(db).await? {
                        placement.found = true;
                        placement.room_group = customer.child("roomGroups", &row.room_group_id);
                        placement.update_ring = customer.child("updateRings", &row.update_ring_id);
                    }
                }
                "tickets" => {
                    if ticket::Entity::find_by_id(id.clone())
                        .one(db)
                        .await?
                        .is_some()
                    {
                        placement.found = true;
                        placement.ticket_rooms =
                            super::tickets::visible_rooms(db, &customer, &Scope::All, &id).await?;
                    }
                }
                "roomGroups" => {
                    placement.found = room_group::Entity::find_by_id(id).one(db).await?.is_some()
                }
                _ => placement.found = update_ring::Entity::find_by_id(id).one(db).await?.is_some(),
            }
        }
        placements.push(placement);
    }
    Ok(placements)
}

/// Which named groups and rooms are missing, and how many rooms the scope covers.
pub async fn describe_scope<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: RoomScope,
) -> Result<DescribeRoomScopeResponse, Error> {
    let customer = customer.clone();
    let mut response = DescribeRoomScopeResponse::default();
    for name in &scope.room_groups {
        let exists = match split_child(name, "roomGroups") {
            Some((owner, id)) if owner == customer => {
                room_group::Entity::find_by_id(id).one(db).await?.is_some()
            }
            _ => false,
        };
        if !exists {
            response.missing_room_groups.push(name.clone());
        }
    }
    for name in &scope.rooms {
        let exists = match split_child(name, "rooms") {
            Some((owner, id)) if owner == customer => {
                room::Entity::find_by_id(id).one(db).await?.is_some()
            }
            _ => false,
        };
        if !exists {
            response.missing_rooms.push(name.clone());
        }
    }
    let covered = room::Entity::find()
        .filter(Scope::from_proto(Some(&scope), &customer).room_condition())
        .count(db)
        .await
        .map_err(Error::from)?;
    response.covered_room_count = i32::try_from(covered).unwrap_or(i32::MAX);
    Ok(response)
}
