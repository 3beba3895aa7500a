//! Update rings: the built-in `staging`, `general` and `executive` rings, custom rings, order
//! 1–9, and the 60-day rule over the sum of rollout and test days.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::UpdateRing;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::{room, update_ring};
use super::groups::{duplicate_name, ensure_unused, new_id};
use super::idempotency;
use crate::audit::Act;
use crate::context::{Caller, Scope};
use crate::cursor::{self, Page};
use crate::error::{Check, Error};
use crate::names::CustomerId;
use crate::store::Store;
use crate::time::{etag, now_micros, stale, timestamp};
use mtm_plumbing::filter::{Comparison, FieldSpec};

/// The resource type in errors.
pub const KIND: &str = "mtm.rooms.v1.UpdateRing";
/// The ring of every new room.
pub const GENERAL: &str = "general";
/// The most days all rings' rollout and test days may add up to.
pub const MAX_TOTAL_DAYS: i32 = 60;
/// The filterable fields of `ListUpdateRings`.
pub const FILTER_FIELDS: FieldSpec<'static> = &[("built_in", false), ("order", false)];

/// The built-in rings: id, name, description, order, deferral, rollout and test days.
const BUILT_INS: [(&str, &str, &str, i32, i32, i32, i32); 3] = [
    (
        "staging",
        "Staging",
        "Rooms that take updates first, to catch problems early.",
        1,
        0,
        2,
        5,
    ),
    (
        "general",
        "General",
        "Every room unless assigned elsewhere.",
        2,
        7,
        14,
        7,
    ),
    (
        "executive",
        "Executive",
        "Rooms that update last, once an update has proven itself.",
        3,
        14,
        7,
        0,
    ),
];

/// Creates the built-in rings unless they exist.
pub async fn ensure_built_ins<C: ConnectionTrait>(db: &C) -> Result<(), Error> {
    let now = now_micros();
    for (id, name, description, order, deferral, rollout, test) in BUILT_INS {
        if update_ring::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?
            .is_none()
        {
            update_ring::ActiveModel {
                id: Set(id.to_owned()),
                display_name: Set(name.to_owned()),
                description: Set(description.to_owned()),
                ring_order: Set(order),
                deferral_days: Set(deferral),
                rollout_days: Set(rollout),
                test_days: Set(test),
                built_in: Set(true),
                create_time: Set(now),
                update_time: Set(now),
                revision: Set(1),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// The API view; `room_count` counts the ring's rooms in the caller's scope.
pub fn to_proto(customer: &CustomerId, model: &update_ring::Model, room_count: u64) -> UpdateRing {
    UpdateRing {
        name: customer.child("updateRings", &model.id),
        display_name: model.display_name.clone(),
        description: model.description.clone(),
        order: model.ring_order,
        deferral_days: model.deferral_days,
        rollout_days: model.rollout_days,
        test_days: model.test_days,
        built_in: model.built_in,
        room_count: i32::try_from(room_count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(model.create_time)),
        update_time: Some(timestamp(model.update_time)),
        etag: etag(model.revision),
    }
}

async fn rooms_in_scope<C: ConnectionTrait>(db: &C, scope: &Scope, id: &str) -> Result<u64, Error> {
    Ok(room::Entity::find()
        .filter(room::Column::UpdateRingId.eq(id))
        .filter(scope.room_condition())
        .count(db)
        .await?)
}

/// The ring `id`, or NOT_FOUND.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    id: &str,
) -> Result<update_ring::Model, Error> {
    update_ring::Entity::find_by_id(id.to_owned())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(KIND, customer.child("updateRings", id)))
}

/// The ring with the number of its rooms in scope.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    id: &str,
) -> Result<UpdateRing, Error> {
    let model = find(db, customer, id).await?;
    let count = rooms_in_scope(db, scope, id).await?;
    Ok(to_proto(customer, &model, count))
}

/// The sum of rollout and test days over all rings.
pub async fn total_days<C: ConnectionTrait>(db: &C) -> Result<i32, Error> {
    let rings = update_ring::Entity::find().all(db).await?;
    Ok(rings.iter().map(|r| r.rollout_days + r.test_days).sum())
}

/// The order of `ListUpdateRings`; it also binds the list's page tokens.
pub const ORDER: &str = "update rings by order, display_name, id";
/// Values in a ring's sort key.
pub const KEY_PARTS: usize = 3;

/// One page of rings by order, name and id strictly after the sort key `after`, the number
/// matching and the 60-day total.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    filter: &[Comparison],
    after: Option<Vec<String>>,
    limit: u64,
) -> Result<(Page<UpdateRing>, i32), Error> {
    let mut condition = Condition::all();
    for comparison in filter {
        condition = condition.add(match comparison.field.as_str() {
            "built_in" => {
                update_ring::Column::BuiltIn.eq(mtm_plumbing::filter::boolean(comparison)?)
            }
            _ => update_ring::Column::RingOrder.eq(comparison
                .value
                .parse::<i32>()
                .map_err(|_| Error::invalid("filter", "`order` takes a number"))?),
        });
    }
    let query = update_ring::Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let mut rows = query;
    if let Some(key) = after {
        let [order, name, id]: [String; KEY_PARTS] =
            key.try_into().map_err(|_| cursor::refused())?;
        rows = rows.filter(cursor::after(
            &[
                update_ring::Column::RingOrder,
                update_ring::Column::DisplayName,
                update_ring::Column::Id,
            ],
            vec![cursor::number(&order)?.into(), name.into(), id.into()],
        ));
    }
    let rows = rows
        .order_by_asc(update_ring::Column::RingOrder)
        .order_by_asc(update_ring::Column::DisplayName)
        .order_by_asc(update_ring::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let page = Page::cut(rows, limit, total, |row| {
        vec![
            row.ring_order.to_string(),
            row.display_name.clone(),
            row.id.clone(),
        ]
    });
    let mut items = Vec::with_capacity(page.items.len());
    for row in &page.items {
        let count = rooms_in_scope(db, scope, &row.id).await?;
        items.push(to_proto(customer, row, count));
    }
    let page = Page {
        items,
        next: page.next,
        total,
    };
    Ok((page, total_days(db).await?))
}

fn check_fields(check: &mut Check, input: &UpdateRing, paths: &[&str]) {
    for path in paths {
        match *path {
            "display_name" => {
                check.check(
                    input.display_name.trim().is_empty() || input.display_name.len() > 256,
                    "update_ring.display_name",
                    "required, at most 256 bytes",
                );
            }
            "description" => {
                check.check(
                    input.description.len() > 4096,
                    "update_ring.description",
                    "at most 4096 bytes",
                );
            }
            "order" => {
                check.check(
                    !(1..=9).contains(&input.order),
                    "update_ring.order",
                    "must be between 1 and 9",
                );
            }
            "deferral_days" | "rollout_days" | "test_days" => {
                let value = match *path {
                    "deferral_days" => input.deferral_days,
                    "rollout_days" => input.rollout_days,
                    _ => input.test_days,
                };
                check.check(
                    !(0..=60).contains(&value),
                    &format!("update_ring.{path}"),
                    "must be between 0 and 60",
                );
            }
            other => {
                check.check(true, "update_mask", format!("`{other}` cannot be updated"));
            }
        }
    }
}

fn sixty_day_rule(total: i32) -> Result<(), Error> {
    if total > MAX_TOTAL_DAYS {
        return Err(Error::invalid(
            "update_ring.rollout_days",
            format!(
                "the rollout and test days of all rings would add up to {total}; at most {MAX_TOTAL_DAYS} are allowed"
            ),
        ));
    }
    Ok(())
}

/// Creates a custom ring; audited; idempotent on `key`.
pub async fn create(
    store: &Store,
    caller: &Caller,
    input: &UpdateRing,
    requested_id: &str,
    key: Option<idempotency::Key>,
) -> Result<UpdateRing, Error> {
    let customer = store.customer();
    let act = Act::new(
        customer,
        AuditCategory::Ring,
        "create",
        customer.child("updateRings", "-"),
    );
    let outcome = async {
        let mut check = Check::default();
        check_fields(
            &mut check,
            input,
            &[
                "display_name",
                "description",
                "order",
                "deferral_days",
                "rollout_days",
                "test_days",
            ],
        );
        check.done()?;
        let id = new_id("update_ring_id", requested_id)?;
        let name = customer.child("updateRings", &id);
        let txn = store.write().await?;
        if let Some(key) = &key
            && let Some(previous) = key.replay(&txn).await?
        {
            let (_, previous_id) =
                crate::names::parse_child("update_ring", &previous, "updateRings")?;
            return get(&txn, customer, &caller.scope, &previous_id).await;
        }
        let exists = update_ring::Entity::find_by_id(id.clone())
            .one(&txn)
            .await?
            .is_some();
        ensure_unused(&txn, KIND, "updateRings", customer, &id, exists).await?;
        sixty_day_rule(total_days(&txn).await? + input.rollout_days + input.test_days)?;
        let now = now_micros();
        let inserted = update_ring::ActiveModel {
            id: Set(id.clone()),
            display_name: Set(input.display_name.trim().to_owned()),
            description: Set(input.description.clone()),
            ring_order: Set(input.order),
            deferral_days: Set(input.deferral_days),
            rollout_days: Set(input.rollout_days),
            test_days: Set(input.test_days),
            built_in: Set(false),
            create_time: Set(now),
            update_time: Set(now),
            revision: Set(1),
        }
        .insert(&txn)
        .await
        .map_err(|e| duplicate_name(e, "update_ring.display_name"))?;
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

/// Changes a ring's definition (built-ins included); audited.
pub async fn update(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    input: &UpdateRing,
    paths: &[String],
) -> Result<UpdateRing, Error> {
    let customer = store.customer();
    let mut check = Check::default();
    check.check(paths.is_empty(), "update_mask", "name at least one field");
    let path_refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    check_fields(&mut check, input, &path_refs);
    check.done()?;
    let txn = store.write().await?;
    let current = find(&txn, customer, id).await?;
    if stale(&input.etag, current.revision) {
        return Err(Error::StaleEtag(customer.child("updateRings", id)));
    }
    let mut row = current.clone().into_active_model();
    let (mut rollout, mut test) = (current.rollout_days, current.test_days);
    for path in &path_refs {
        match *path {
            "display_name" => row.display_name = Set(input.display_name.trim().to_owned()),
            "description" => row.description = Set(input.description.clone()),
            "order" => row.ring_order = Set(input.order),
            "deferral_days" => row.deferral_days = Set(input.deferral_days),
            "rollout_days" => {
                rollout = input.rollout_days;
                row.rollout_days = Set(rollout);
            }
            _ => {
                test = input.test_days;
                row.test_days = Set(test);
            }
        }
    }
    let total = total_days(&txn).await? - current.rollout_days - current.test_days + rollout + test;
    sixty_day_rule(total)?;
    row.update_time = Set(now_micros());
    row.revision = Set(current.revision + 1);
    let updated = row
        .update(&txn)
        .await
        .map_err(|e| duplicate_name(e, "update_ring.display_name"))?;
    let count = rooms_in_scope(&txn, &caller.scope, id).await?;
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

/// Deletes a custom ring, moving its rooms to `general`; returns how many moved; audited.
pub async fn delete(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    etag_given: &str,
) -> Result<u64, Error> {
    let customer = store.customer();
    let txn = store.write().await?;
    let current = find(&txn, customer, id).await?;
    if stale(etag_given, current.revision) {
        return Err(Error::StaleEtag(customer.child("updateRings", id)));
    }
    if current.built_in {
        return Err(Error::precondition(
            customer.child("updateRings", id),
            "built-in rings cannot be deleted",
        ));
    }
    let now = now_micros();
    let moved = room::Entity::update_many()
        .col_expr(room::Column::UpdateRingId, Expr::val(GENERAL))
        .col_expr(room::Column::UpdateTime, Expr::val(now))
        .col_expr(
            room::Column::Revision,
            Expr::col(room::Column::Revision).add(1),
        )
        .filter(room::Column::UpdateRingId.eq(id))
        .exec(&txn)
        .await?
        .rows_affected;
    update_ring::Entity::delete_by_id(id.to_owned())
        .exec(&txn)
        .await?;
    act.success(
        &txn,
        caller,
        &current.display_name,
        vec![("moved_rooms".into(), moved.to_string())],
    )
    .await?;
    txn.commit().await?;
    Ok(moved)
}
