//! Rooms: create, read, list in scope with filters evaluated in SQL, descriptive updates, and
//! the state changes (enrol, unenrol, suppress, move to a group or a ring).

mod change;
mod health;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::{DeviceType, EnrolmentState, Location, Room, RoomHealth, RoomSize};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::{room, room_group, update_ring};
use super::{idempotency, stats};
use crate::audit::Act;
use crate::context::{Caller, Scope};
use crate::cursor::{self, Page};
use crate::error::{Check, Error};
use crate::names::{CustomerId, parse_child_of};
use crate::store::Store;
use crate::time::{etag, now_micros, timestamp, timestamp_opt};
pub use change::{
    assign_ring, enroll, move_to_group, record_versions, set_suppressed, unenroll, update,
};
pub use health::Clock;
use mtm_plumbing::filter::{self, Comparison, FieldSpec};

/// The resource type in errors.
pub const KIND: &str = "mtm.rooms.v1.Room";
/// The filterable fields of `ListRooms`.
pub const FILTER_FIELDS: FieldSpec<'static> = &[
    ("room_group", false),
    ("update_ring", false),
    ("enrolment_state", false),
    ("health", false),
    ("suppressed", false),
    ("device_type", false),
    ("size", false),
    ("location.country_or_region", false),
    ("location.city", false),
    ("location.building", false),
];

/// The API view of a room.
pub fn to_proto(customer: &CustomerId, model: &room::Model, clock: &Clock) -> Room {
    Room {
        name: customer.child("rooms", &model.id),
        display_name: model.display_name.clone(),
        resource_account_upn: model.resource_account_upn.clone(),
        room_group: customer.child("roomGroups", &model.room_group_id),
        location: Some(Location {
            country_or_region: model.country_or_region.clone(),
            city: model.city.clone(),
            building: model.building.clone(),
            floor: model.floor.clone(),
        }),
        capacity: model.capacity,
        size: model.size,
        device_type: model.device_type,
        model: model.model.clone(),
        app_version: model.app_version.clone(),
        os_version: model.os_version.clone(),
        update_ring: customer.child("updateRings", &model.update_ring_id),
        enrolment_state: model.enrolment_state,
        health: clock.health(model) as i32,
        suppressed: model.suppressed,
        last_telemetry_time: timestamp_opt(model.last_telemetry_time),
        open_ticket_count: model.open_ticket_count,
        enroll_time: timestamp_opt(model.enroll_time),
        create_time: Some(timestamp(model.create_time)),
        update_time: Some(timestamp(model.update_time)),
        etag: etag(model.revision),
    }
}

/// Room `id` if it exists and `scope` covers it; otherwise NOT_FOUND, the same either way.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    id: &str,
) -> Result<room::Model, Error> {
    room::Entity::find_by_id(id.to_owned())
        .filter(scope.room_condition())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(KIND, customer.child("rooms", id)))
}

fn filter_condition(
    customer: &CustomerId,
    comparison: &Comparison,
    clock: &Clock,
) -> Result<Condition, Error> {
    let value = comparison.value.clone();
    let expr = match comparison.field.as_str() {
        "room_group" => {
            room::Column::RoomGroupId.eq(parse_child_of(customer, "filter", &value, "roomGroups")?)
        }
        "update_ring" => room::Column::UpdateRingId.eq(parse_child_of(
            customer,
            "filter",
            &value,
            "updateRings",
        )?),
        "enrolment_state" => room::Column::EnrolmentState.eq(filter::enumeration(
            comparison,
            "ENROLMENT_STATE_",
            |n| EnrolmentState::from_str_name(n).map(|v| v as i32),
        )?),
        "health" => {
            let health = filter::enumeration(comparison, "ROOM_HEALTH_", |n| {
                RoomHealth::from_str_name(n).map(|v| v as i32)
            })?;
            return Ok(clock.health_condition(health));
        }
        "suppressed" => room::Column::Suppressed.eq(filter::boolean(comparison)?),
        "device_type" => {
            room::Column::DeviceType.eq(filter::enumeration(comparison, "DEVICE_TYPE_", |n| {
                DeviceType::from_str_name(n).map(|v| v as i32)
            })?)
        }
        "size" => room::Column::Size.eq(filter::enumeration(comparison, "ROOM_SIZE_", |n| {
            RoomSize::from_str_name(n).map(|v| v as i32)
        })?),
        "location.country_or_region" => room::Column::CountryOrRegion.eq(value),
        "location.city" => room::Column::City.eq(value),
        _ => room::Column::Building.eq(value),
    };
    Ok(Condition::all().add(expr))
}

/// The order of `ListRooms`; it also binds the list's page tokens.
pub const ORDER: &str = "rooms by display_name, id";
/// Values in a room's sort key.
pub const KEY_PARTS: usize = 2;

fn key_of(row: &room::Model) -> Vec<String> {
    vec![row.display_name.clone(), row.id.clone()]
}

/// One page of the rooms in scope matching `filter`, by display name then id, strictly after
/// the sort key `after`, and the number matching.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    filter: &[Comparison],
    after: Option<Vec<String>>,
    limit: u64,
    clock: &Clock,
) -> Result<Page<Room>, Error> {
    let mut condition = Condition::all().add(scope.room_condition());
    for comparison in filter {
        condition = condition.add(filter_condition(customer, comparison, clock)?);
    }
    let query = room::Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let mut rows = query;
    if let Some(key) = after {
        rows = rows.filter(cursor::after(
            &[room::Column::DisplayName, room::Column::Id],
            key.into_iter().map(Into::into).collect(),
        ));
    }
    let rows = rows
        .order_by_asc(room::Column::DisplayName)
        .order_by_asc(room::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let page = Page::cut(rows, limit, total, key_of);
    Ok(Page {
        items: page
            .items
            .iter()
            .map(|r| to_proto(customer, r, clock))
            .collect(),
        next: page.next,
        total: page.total,
    })
}

/// Checks the descriptive fields of `input` named by `paths` (all of them at creation).
pub fn check_descriptive(check: &mut Check, input: &Room, paths: &[&str]) {
    let location = input.location.clone().unwrap_or_default();
    for path in paths {
        match *path {
            "display_name" => {
                check.check(
                    input.display_name.trim().is_empty() || input.display_name.len() > 256,
                    "room.display_name",
                    "required, at most 256 bytes",
                );
            }
            "resource_account_upn" => {
                let upn = &input.resource_account_upn;
                check.check(
                    !upn.is_empty()
                        && (upn.len() > 320
                            || upn.split('@').count() != 2
                            || upn.starts_with('@')
                            || upn.ends_with('@')),
                    "room.resource_account_upn",
                    "must be a UPN such as room-4-12@contoso.com",
                );
            }
            "location" | "location.country_or_region" => {
                let code = &location.country_or_region;
                check.check(
                    !(code.is_empty()
                        || (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))),
                    "room.location.country_or_region",
                    "must be an ISO 3166-1 alpha-2 code such as DE",
                );
                if *path == "location" {
                    for (field, value) in [
                        ("city", &location.city),
                        ("building", &location.building),
                        ("floor", &location.floor),
                    ] {
                        check.check(
                            value.len() > 256,
                            &format!("room.location.{field}"),
                            "at most 256 bytes",
                        );
                    }
                }
            }
            "location.city" | "location.building" | "location.floor" => {
                let value = match *path {
                    "location.city" => &location.city,
                    "location.building" => &location.building,
                    _ => &location.floor,
                };
                check.check(
                    value.len() > 256,
                    &format!("room.{path}"),
                    "at most 256 bytes",
                );
            }
            "capacity" => {
                check.check(
                    !(0..=10_000).contains(&input.capacity),
                    "room.capacity",
                    "must be between 0 and 10000",
                );
            }
            "size" => {
                check.check(
                    RoomSize::try_from(input.size).is_err(),
                    "room.size",
                    "unknown size",
                );
            }
            "device_type" => {
                check.check(
                    DeviceType::try_from(input.device_type).is_err(),
                    "room.device_type",
                    "unknown device type",
                );
            }
            "model" | "app_version" | "os_version" => {
                let value = match *path {
                    "model" => &input.model,
                    "app_version" => &input.app_version,
                    _ => &input.os_version,
                };
                check.check(
                    value.len() > 256,
                    &format!("room.{path}"),
                    "at most 256 bytes",
                );
            }
            other => {
                check.check(true, "update_mask", format!("`{other}` cannot be updated"));
            }
        }
    }
}

/// Every descriptive path, as checked at creation.
pub const DESCRIPTIVE: &[&str] = &[
    "display_name",
    "resource_account_upn",
    "location",
    "capacity",
    "size",
    "device_type",
    "model",
    "app_version",
    "os_version",
];

/// Creates a room in ONBOARDING; audited; idempotent on `key`.
pub async fn create(
    store: &Store,
    caller: &Caller,
    input: &Room,
    requested_id: &str,
    key: Option<idempotency::Key>,
) -> Result<Room, Error> {
    let customer = store.customer();
    let act = Act::new(
        customer,
        AuditCategory::Room,
        "create",
        customer.child("rooms", "-"),
    );
    let outcome = async {
        let mut check = Check::default();
        check_descriptive(&mut check, input, DESCRIPTIVE);
        check.check(input.room_group.is_empty(), "room.room_group", "required");
        check.done()?;
        let group_id =
            parse_child_of(customer, "room.room_group", &input.room_group, "roomGroups")?;
        let ring_id = if input.update_ring.is_empty() {
            super::rings::GENERAL.to_owned()
        } else {
            parse_child_of(
                customer,
                "room.update_ring",
                &input.update_ring,
                "updateRings",
            )?
        };
        if !requested_id.is_empty() && !matches!(caller.scope, Scope::All) {
            // An id taken by a room outside the caller's scope must not show through
            // ALREADY_EXISTS (R37): only callers who see every room choose ids.
            return Err(Error::invalid(
                "room_id",
                "may be chosen only by callers whose rooms.create scope is all rooms; leave it empty for a server-assigned id",
            ));
        }
        let id = super::groups::new_id("room_id", requested_id)?;
        let name = customer.child("rooms", &id);
        let txn = store.write().await?;
        let clock = Clock::of(&txn).await?;
        if let Some(key) = &key
            && let Some(previous) = key.replay(&txn).await?
        {
            let previous_id = parse_child_of(customer, "room", &previous, "rooms")?;
            let model = find(&txn, customer, &Scope::All, &previous_id).await?;
            return Ok(to_proto(customer, &model, &clock));
        }
        if !caller.scope.covers_group(&group_id) {
            return Err(Error::not_found(
                super::groups::KIND,
                input.room_group.clone(),
            ));
        }
        room_group::Entity::find_by_id(group_id.clone())
            .one(&txn)
            .await?
            .ok_or_else(|| Error::not_found(super::groups::KIND, input.room_group.clone()))?;
        update_ring::Entity::find_by_id(ring_id.clone())
            .one(&txn)
            .await?
            .ok_or_else(|| {
                Error::not_found(super::rings::KIND, customer.child("updateRings", &ring_id))
            })?;
        if room::Entity::find_by_id(id.clone())
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists {
                kind: KIND,
                name: name.clone(),
            });
        }
        let now = now_micros();
        let location = input.location.clone().unwrap_or_default();
        let inserted = room::ActiveModel {
            id: Set(id.clone()),
            display_name: Set(input.display_name.trim().to_owned()),
            resource_account_upn: Set(input.resource_account_upn.to_lowercase()),
            room_group_id: Set(group_id.clone()),
            country_or_region: Set(location.country_or_region),
            city: Set(location.city),
            building: Set(location.building),
            floor: Set(location.floor),
            capacity: Set(input.capacity),
            size: Set(input.size),
            device_type: Set(input.device_type),
            model: Set(input.model.clone()),
            app_version: Set(input.app_version.clone()),
            os_version: Set(input.os_version.clone()),
            update_ring_id: Set(ring_id.clone()),
            enrolment_state: Set(EnrolmentState::Onboarding as i32),
            suppressed: Set(false),
            last_telemetry_time: Set(None),
            enroll_time: Set(None),
            open_ticket_count: Set(0),
            unhealthy_ticket_count: Set(0),
            create_time: Set(now),
            update_time: Set(now),
            revision: Set(1),
        }
        .insert(&txn)
        .await?;
        stats::adjust(&txn, 1, 0, 0, None).await?;
        if let Some(key) = &key {
            key.remember(&txn, &name).await?;
        }
        Act {
            object_id: name.clone(),
            ..act.clone()
        }
        .success(
            &txn,
            caller,
            &inserted.display_name,
            vec![("room_group".into(), group_id)],
        )
        .await?;
        txn.commit().await?;
        Ok(to_proto(customer, &inserted, &clock))
    }
    .await;
    act.finish(store, caller, outcome).await
}
