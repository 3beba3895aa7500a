//! Room groups (sites): create, read, list in scope, rename, delete when empty. Ids are never
//! reused.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::RoomGroup;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::{retired_id, room, room_group};
use super::idempotency;
use crate::audit::Act;
use crate::context::{Caller, Scope};
use crate::cursor::{self, Page};
use crate::error::{Check, Error};
use crate::names::{CustomerId, valid_resource_id};
use crate::store::Store;
use crate::time::{etag, now_micros, stale, timestamp};
use mtm_plumbing::filter::{Comparison, FieldSpec};

/// The resource type in errors.
pub const KIND: &str = "mtm.rooms.v1.RoomGroup";
/// The filterable fields of `ListRoomGroups`.
pub const FILTER_FIELDS: FieldSpec<'static> = &[("display_name", false)];

/// The API view.
pub fn to_proto(customer: &CustomerId, model: &room_group::Model, room_count: u64) -> RoomGroup {
    RoomGroup {
        name: customer.child("roomGroups", &model.id),
        display_name: model.display_name.clone(),
        description: model.description.clone(),
        room_count: i32::try_from(room_count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(model.create_time)),
        update_time: Some(timestamp(model.update_time)),
        etag: etag(model.revision),
    }
}

async fn room_count<C: ConnectionTrait>(db: &C, id: &str) -> Result<u64, Error> {
    Ok(room::Entity::find()
        .filter(room::Column::RoomGroupId.eq(id))
        .count(db)
        .await?)
}

/// The group `id` if it exists and `scope` covers it, else NOT_FOUND (R37).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    id: &str,
) -> Result<room_group::Model, Error> {
    let not_found = || Error::not_found(KIND, customer.child("roomGroups", id));
    if !scope.covers_group(id) {
        return Err(not_found());
    }
    room_group::Entity::find_by_id(id.to_owned())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// The group with its room count.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    id: &str,
) -> Result<RoomGroup, Error> {
    let model = find(db, customer, scope, id).await?;
    let count = room_count(db, id).await?;
    Ok(to_proto(customer, &model, count))
}

/// The order of `ListRoomGroups`; it also binds the list's page tokens.
pub const ORDER: &str = "room groups by display_name, id";
/// Values in a group's sort key.
pub const KEY_PARTS: usize = 2;

/// One page of the groups in scope matching `filter`, by display name then id, strictly after
/// the sort key `after`, and the number matching.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    filter: &[Comparison],
    after: Option<Vec<String>>,
    limit: u64,
) -> Result<Page<RoomGroup>, Error> {
    let mut condition = match scope {
        Scope::All => Condition::all(),
        Scope::Some { groups, .. } => {
            Condition::all().add(room_group::Column::Id.is_in(groups.iter().cloned()))
        }
    };
    for comparison in filter {
        condition = condition.add(room_group::Column::DisplayName.eq(comparison.value.clone()));
    }
    let query = room_group::Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let mut rows = query;
    if let Some(key) = after {
        rows = rows.filter(cursor::after(
            &[room_group::Column::DisplayName, room_group::Column::Id],
            key.into_iter().map(Into::into).collect(),
        ));
    }
    let rows = rows
        .order_by_asc(room_group::Column::DisplayName)
        .order_by_asc(room_group::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let page = Page::cut(rows, limit, total, |row| {
        vec![row.display_name.clone(), row.id.clone()]
    });
    let mut items = Vec::with_capacity(page.items.len());
    for row in &page.items {
        let count = room_count(db, &row.id).await?;
        items.push(to_proto(customer, row, count));
    }
    Ok(Page {
        items,
        next: page.next,
        total,
    })
}

/// Fails with ALREADY_EXISTS when `id` is in use or was ever used for `kind`.
pub async fn ensure_unused<C: ConnectionTrait>(
    db: &C,
    kind: &'static str,
    collection: &str,
    customer: &CustomerId,
    id: &str,
    exists: bool,
) -> Result<(), Error> {
    let retired = retired_id::Entity::find_by_id((collection.to_owned(), id.to_owned()))
        .one(db)
        .await?
        .is_some();
    if exists || retired {
        return Err(Error::AlreadyExists {
            kind,
            name: customer.child(collection, id),
        });
    }
    Ok(())
}

/// The id to create with: the client's (checked) or a new UUIDv7.
pub fn new_id(field: &str, requested: &str) -> Result<String, Error> {
    if requested.is_empty() {
        Ok(uuid::Uuid::now_v7().to_string())
    } else if valid_resource_id(requested) {
        Ok(requested.to_owned())
    } else {
        Err(Error::invalid(field, "must match [a-z0-9][a-z0-9-]{0,62}"))
    }
}

/// Creates a group; audited; idempotent on `key`.
pub async fn create(
    store: &Store,
    caller: &Caller,
    input: &RoomGroup,
    requested_id: &str,
    key: Option<idempotency::Key>,
) -> Result<RoomGroup, Error> {
    let customer = store.customer();
    let act = Act::new(
        customer,
        AuditCategory::Group,
        "create",
        customer.child("roomGroups", "-"),
    );
    let outcome = async {
        let mut check = Check::default();
        check.check(
            input.display_name.trim().is_empty() || input.display_name.len() > 256,
            "room_group.display_name",
            "required, at most 256 bytes",
        );
        check.check(
            input.description.len() > 4096,
            "room_group.description",
            "at most 4096 bytes",
        );
        check.done()?;
        let id = new_id("room_group_id", requested_id)?;
        let name = customer.child("roomGroups", &id);
        let txn = store.write().await?;
        if let Some(key) = &key
            && let Some(previous) = key.replay(&txn).await?
        {
            let (_, previous_id) =
                crate::names::parse_child("room_group", &previous, "roomGroups")?;
            return get(&txn, customer, &Scope::All, &previous_id).await;
        }
        let exists = room_group::Entity::find_by_id(id.clone())
            .one(&txn)
            .await?
            .is_some();
        ensure_unused(&txn, KIND, "roomGroups", customer, &id, exists).await?;
        let now = now_micros();
        let inserted = room_group::ActiveModel {
            id: Set(id.clone()),
            display_name: Set(input.display_name.trim().to_owned()),
            description: Set(input.description.clone()),
            create_time: Set(now),
            update_time: Set(now),
            revision: Set(1),
        }
        .insert(&txn)
        .await
        .map_err(|e| duplicate_name(e, "room_group.display_name"))?;
        if let Some(key) = &key {
            key.remember(&txn, &name).await?;
        }
        Act {
            object_id: name.clone(),
            ..act.clone()
        }
        .success(&txn, caller, &inserted.display_name, Vec::new())
        .await?;
        txn.commit().await?;
        Ok(to_proto(customer, &inserted, 0))
    }
    .await;
    act.finish(store, caller, outcome).await
}

/// A unique violation on a display name becomes ALREADY_EXISTS naming the field.
pub fn duplicate_name(error: sea_orm::DbErr, field: &str) -> Error {
    if super::is_unique_violation(&error) {
        Error::AlreadyExists {
            kind: "display_name",
            name: format!("{field} is already used"),
        }
    } else {
        error.into()
    }
}

/// Applies `paths` (`display_name`, `description`) of `input` to group `id`; audited.
pub async fn update(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    input: &RoomGroup,
    paths: &[String],
) -> Result<RoomGroup, Error> {
    let customer = store.customer();
    let mut check = Check::default();
    check.check(paths.is_empty(), "update_mask", "name at least one field");
    for path in paths {
        match path.as_str() {
            "display_name" => {
                check.check(
                    input.display_name.trim().is_empty() || input.display_name.len() > 256,
                    "room_group.display_name",
                    "required, at most 256 bytes",
                );
            }
            "description" => {
                check.check(
                    input.description.len() > 4096,
                    "room_group.description",
                    "at most 4096 bytes",
                );
            }
            other => {
                check.check(true, "update_mask", format!("`{other}` cannot be updated"));
            }
        }
    }
    check.done()?;
    let txn = store.write().await?;
    let current = find(&txn, customer, &caller.scope, id).await?;
    if stale(&input.etag, current.revision) {
        return Err(Error::StaleEtag(customer.child("roomGroups", id)));
    }
    let mut row = current.clone().into_active_model();
    for path in paths {
        if path == "display_name" {
            row.display_name = Set(input.display_name.trim().to_owned());
        } else {
            row.description = Set(input.description.clone());
        }
    }
    row.update_time = Set(now_micros());
    row.revision = Set(current.revision + 1);
    let updated = row
        .update(&txn)
        .await
        .map_err(|e| duplicate_name(e, "room_group.display_name"))?;
    let count = room_count(&txn, id).await?;
    act.success(
        &txn,
        caller,
        &updated.display_name,
        vec![("fields".into(), paths.join(","))],
    )
    .await?;
    txn.commit().await?;
    Ok(to_proto(customer, &updated, count))
}

/// Deletes group `id` when it holds no rooms; its id is retired; audited.
pub async fn delete(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    etag_given: &str,
) -> Result<(), Error> {
    let customer = store.customer();
    let txn = store.write().await?;
    let current = find(&txn, customer, &caller.scope, id).await?;
    if stale(etag_given, current.revision) {
        return Err(Error::StaleEtag(customer.child("roomGroups", id)));
    }
    if room_count(&txn, id).await? > 0 {
        return Err(Error::precondition(
            customer.child("roomGroups", id),
            "the group still holds rooms; move them first",
        ));
    }
    room_group::Entity::delete_by_id(id.to_owned())
        .exec(&txn)
        .await?;
    retired_id::ActiveModel {
        kind: Set("roomGroups".into()),
        id: Set(id.to_owned()),
    }
    .insert(&txn)
    .await?;
    act.success(&txn, caller, &current.display_name, Vec::new())
        .await?;
    txn.commit().await?;
    Ok(())
}
