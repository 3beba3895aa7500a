//! Store queries behind `RoleService`: roles and assignments by name and by parent, display
//! name uniqueness, relationship scopes and the last-MMR-admin rule (R33).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::entity::{assignment, relationship, role};
use super::scope_of;
use crate::error::Error;
use crate::index::Scope;
use crate::names::Parent;

/// A role by name.
pub async fn role(db: &impl ConnectionTrait, name: &str) -> Result<Option<role::Model>, Error> {
    Ok(role::Entity::find_by_id(name).one(db).await?)
}

/// An assignment by name.
pub async fn assignment(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<assignment::Model>, Error> {
    Ok(assignment::Entity::find_by_id(name).one(db).await?)
}

/// A relationship by name.
pub async fn relationship(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<relationship::Model>, Error> {
    Ok(relationship::Entity::find_by_id(name).one(db).await?)
}

/// Every relationship scope of a customer, by relationship name.
pub async fn relationship_scopes(
    db: &impl ConnectionTrait,
    customer: &str,
) -> Result<HashMap<String, Scope>, Error> {
    Ok(relationship::Entity::find()
        .filter(relationship::Column::Customer.eq(customer))
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.name.clone(),
                scope_of(r.all_rooms, &r.room_groups, &r.rooms),
            )
        })
        .collect())
}

/// The roles under `parent`.
pub async fn roles_under(
    db: &impl ConnectionTrait,
    parent: &Parent,
) -> Result<Vec<role::Model>, Error> {
    let query = role::Entity::find().filter(role::Column::Customer.eq(parent.customer()));
    let query = match parent {
        Parent::Customer(_) => query.filter(role::Column::Relationship.is_null()),
        Parent::Relationship(..) => query.filter(role::Column::Relationship.eq(parent.name())),
        Parent::AnyRelationship(_) => query.filter(role::Column::Relationship.is_not_null()),
    };
    Ok(query.all(db).await?)
}

/// The assignments under `parent`.
pub async fn assignments_under(
    db: &impl ConnectionTrait,
    parent: &Parent,
) -> Result<Vec<assignment::Model>, Error> {
    let query =
        assignment::Entity::find().filter(assignment::Column::Customer.eq(parent.customer()));
    let query = match parent {
        Parent::Customer(_) => query.filter(assignment::Column::Relationship.is_null()),
        Parent::Relationship(..) => {
            query.filter(assignment::Column::Relationship.eq(parent.name()))
        }
        Parent::AnyRelationship(_) => query.filter(assignment::Column::Relationship.is_not_null()),
    };
    Ok(query.all(db).await?)
}

/// Number of assignments of each role of a customer.
pub async fn assignment_counts(
    db: &impl ConnectionTrait,
    customer: &str,
) -> Result<HashMap<String, usize>, Error> {
    let mut counts = HashMap::new();
    for a in assignment::Entity::find()
        .filter(assignment::Column::Customer.eq(customer))
        .all(db)
        .await?
    {
        *counts.entry(a.role).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Number of assignments of one role.
pub async fn assignment_count(db: &impl ConnectionTrait, role: &str) -> Result<usize, Error> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::Role.eq(role))
        .count(db)
        .await? as usize)
}

/// Whether another role under `parent` has `display_name`.
pub async fn role_name_taken(
    db: &impl ConnectionTrait,
    parent: &Parent,
    display_name: &str,
    except: &str,
) -> Result<bool, Error> {
    Ok(roles_under(db, parent)
        .await?
        .iter()
        .any(|r| r.display_name == display_name && r.name != except))
}

/// Whether another assignment under `parent` has `display_name`.
pub async fn assignment_name_taken(
    db: &impl ConnectionTrait,
    parent: &Parent,
    display_name: &str,
    except: &str,
) -> Result<bool, Error> {
    Ok(assignments_under(db, parent)
        .await?
        .iter()
        .any(|a| a.display_name == display_name && a.name != except))
}

/// R33: whether some all-rooms `mmr-admin` assignment of the customer still has a member.
pub async fn mmr_admin_remains(db: &impl ConnectionTrait, customer: &str) -> Result<bool, Error> {
    let role = format!("customers/{customer}/roles/mmr-admin");
    Ok(assignment::Entity::find()
        .filter(assignment::Column::Role.eq(role))
        .filter(assignment::Column::AllRooms.eq(true))
        .filter(assignment::Column::Members.ne(""))
        .count(db)
        .await?
        > 0)
}

/// Deletes every assignment of a role and returns them.
pub async fn delete_assignments_of(
    db: &impl ConnectionTrait,
    role: &str,
) -> Result<Vec<assignment::Model>, Error> {
    let deleted = assignment::Entity::find()
        .filter(assignment::Column::Role.eq(role))
        .all(db)
        .await?;
    assignment::Entity::delete_many()
        .filter(assignment::Column::Role.eq(role))
        .exec(db)
        .await?;
    Ok(deleted)
}
