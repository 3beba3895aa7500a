//! Changes to an existing room, each one transaction with an etag check and its audit record.

use mtm_proto::mtm::rooms::v1::{DeviceType, EnrollRoomRequest, EnrolmentState, Room};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, Set,
};

use super::{Clock, check_descriptive, find, to_proto};
use crate::audit::Act;
use crate::context::Caller;
use crate::error::{Check, Error};
use crate::store::Store;
use crate::store::entity::{room, room_group, update_ring, version_seen};
use crate::time::{now_micros, stale};

type Details = Vec<(String, String)>;

/// Loads room `id` in the caller's scope, checks the etag, lets `apply` change it, saves it
/// with a new revision and audits it.
async fn change<F>(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    etag_given: &str,
    apply: F,
) -> Result<Room, Error>
where
    F: AsyncFnOnce(
        &DatabaseTransaction,
        &room::Model,
        &mut room::ActiveModel,
    ) -> Result<Details, Error>,
{
    let customer = store.customer();
    let txn = store.write().await?;
    let clock = Clock::of(&txn).await?;
    let current = find(&txn, customer, &caller.scope, id).await?;
    if stale(etag_given, current.revision) {
        return Err(Error::StaleEtag(customer.child("rooms", id)));
    }
    let mut row = current.clone().into_active_model();
    let details = apply(&txn, &current, &mut row).await?;
    row.update_time = Set(now_micros());
    row.revision = Set(current.revision + 1);
    let updated = row.update(&txn).await?;
    act.success(&txn, caller, &updated.display_name, details)
        .await?;
    txn.commit().await?;
    Ok(to_proto(customer, &updated, &clock))
}

/// Applies the descriptive fields `paths` of `input` to room `id`.
pub async fn update(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    input: &Room,
    paths: &[String],
) -> Result<Room, Error> {
    let mut check = Check::default();
    check.check(paths.is_empty(), "update_mask", "name at least one field");
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    check_descriptive(&mut check, input, &refs);
    check.done()?;
    let location = input.location.clone().unwrap_or_default();
    change(store, caller, act, id, &input.etag, async |_, _, row| {
        for path in &refs {
            match *path {
                "display_name" => row.display_name = Set(input.display_name.trim().to_owned()),
                "resource_account_upn" => {
                    row.resource_account_upn = Set(input.resource_account_upn.to_lowercase());
                }
                "location" => {
                    row.country_or_region = Set(location.country_or_region.clone());
                    row.city = Set(location.city.clone());
                    row.building = Set(location.building.clone());
                    row.floor = Set(location.floor.clone());
                }
                "location.country_or_region" => {
                    row.country_or_region = Set(location.country_or_region.clone())
                }
                "location.city" => row.city = Set(location.city.clone()),
                "location.building" => row.building = Set(location.building.clone()),
                "location.floor" => row.floor = Set(location.floor.clone()),
                "capacity" => row.capacity = Set(input.capacity),
                "size" => row.size = Set(input.size),
                "device_type" => row.device_type = Set(input.device_type),
                "model" => row.model = Set(input.model.clone()),
                "app_version" => row.app_version = Set(input.app_version.clone()),
                _ => row.os_version = Set(input.os_version.clone()),
            }
        }
        Ok(vec![("fields".into(), paths.join(","))])
    })
    .await
}

/// Notes when an app or OS version was first seen on a device type (for compliance).
pub async fn record_versions<C: ConnectionTrait>(
    db: &C,
    device_type: i32,
    app_version: &str,
    os_version: &str,
    seen: i64,
) -> Result<(), Error> {
    for (kind, version) in [("app", app_version), ("os", os_version)] {
        if version.is_empty() {
            continue;
        }
        let key = (device_type, kind.to_owned(), version.to_owned());
        let known = version_seen::Entity::find_by_id(key).one(db).await?;
        match known {
            Some(row) if row.first_seen_time <= seen => {}
            Some(row) => {
                let mut row = row.into_active_model();
                row.first_seen_time = Set(seen);
                row.update(db).await?;
            }
            None => {
                version_seen::ActiveModel {
                    device_type: Set(device_type),
                    kind: Set(kind.to_owned()),
                    version: Set(version.to_owned()),
                    first_seen_time: Set(seen),
                }
                .insert(db)
                .await?;
            }
        }
    }
    Ok(())
}

/// ONBOARDING or UNENROLLED → ENROLLED with the customer's current key; a wrong key is
/// PERMISSION_DENIED.
pub async fn enroll(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    fields: &EnrollRoomRequest,
) -> Result<Room, Error> {
    let mut check = Check::default();
    check.check(fields.enrolment_key.is_empty(), "enrolment_key", "required");
    check.check(
        DeviceType::try_from(fields.device_type).is_err(),
        "device_type",
        "unknown device type",
    );
    for (field, value) in [
        ("model", &fields.model),
        ("app_version", &fields.app_version),
        ("os_version", &fields.os_version),
    ] {
        check.check(value.len() > 256, field, "at most 256 bytes");
    }
    check.done()?;
    change(
        store,
        caller,
        act,
        id,
        &fields.etag,
        async |txn, current, row| {
            if current.enrolment_state == EnrolmentState::Enrolled as i32 {
                return Err(Error::precondition(
                    store.customer().child("rooms", id),
                    "the room is already enrolled",
                ));
            }
            if !crate::store::key::is_current(txn, &fields.enrolment_key).await? {
                return Err(Error::PermissionDenied(
                    "the enrolment key is not the customer's current key".into(),
                ));
            }
            let now = now_micros();
            let device_type = if fields.device_type == 0 {
                current.device_type
            } else {
                fields.device_type
            };
            row.enrolment_state = Set(EnrolmentState::Enrolled as i32);
            row.enroll_time = Set(Some(now));
            row.device_type = Set(device_type);
            if !fields.model.is_empty() {
                row.model = Set(fields.model.clone());
            }
            if !fields.app_version.is_empty() {
                row.app_version = Set(fields.app_version.clone());
            }
            if !fields.os_version.is_empty() {
                row.os_version = Set(fields.os_version.clone());
            }
            record_versions(
                txn,
                device_type,
                &fields.app_version,
                &fields.os_version,
                now,
            )
            .await?;
            Ok(vec![("enrolment_state".into(), "ENROLLED".into())])
        },
    )
    .await
}

/// ENROLLED → UNENROLLED.
pub async fn unenroll(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    etag: &str,
) -> Result<Room, Error> {
    change(store, caller, act, id, etag, async |_, current, row| {
        if current.enrolment_state != EnrolmentState::Enrolled as i32 {
            return Err(Error::precondition(
                store.customer().child("rooms", id),
                "the room is not enrolled",
            ));
        }
        row.enrolment_state = Set(EnrolmentState::Unenrolled as i32);
        Ok(vec![("enrolment_state".into(), "UNENROLLED".into())])
    })
    .await
}

/// Sets or clears the maintenance flag.
pub async fn set_suppressed(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    suppressed: bool,
    etag: &str,
) -> Result<Room, Error> {
    change(store, caller, act, id, etag, async |_, _, row| {
        row.suppressed = Set(suppressed);
        Ok(vec![("suppressed".into(), suppressed.to_string())])
    })
    .await
}

/// Moves the room to group `group_id` (which must exist).
pub async fn move_to_group(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    group_id: &str,
    etag: &str,
) -> Result<Room, Error> {
    change(store, caller, act, id, etag, async |txn, current, row| {
        room_group::Entity::find_by_id(group_id.to_owned())
            .one(txn)
            .await?
            .ok_or_else(|| {
                Error::not_found(
                    crate::store::groups::KIND,
                    store.customer().child("roomGroups", group_id),
                )
            })?;
        row.room_group_id = Set(group_id.to_owned());
        Ok(vec![(
            "room_group".into(),
            format!("{} -> {group_id}", current.room_group_id),
        )])
    })
    .await
}

/// Moves the room to ring `ring_id` (which must exist).
pub async fn assign_ring(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    ring_id: &str,
    etag: &str,
) -> Result<Room, Error> {
    change(store, caller, act, id, etag, async |txn, current, row| {
        update_ring::Entity::find_by_id(ring_id.to_owned())
            .one(txn)
            .await?
            .ok_or_else(|| {
                Error::not_found(
                    crate::store::rings::KIND,
                    store.customer().child("updateRings", ring_id),
                )
            })?;
        row.update_ring_id = Set(ring_id.to_owned());
        Ok(vec![(
            "update_ring".into(),
            format!("{} -> {ring_id}", current.update_ring_id),
        )])
    })
    .await
}
