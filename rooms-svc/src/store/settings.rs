//! The customer's settings: partner MFA (R3), audit retention (R28) and the disconnection
//! threshold of room health.

use mtm_proto::mtm::rooms::v1::Settings;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QuerySelect, Set};

use super::entity::settings::{self, Entity};
use crate::audit::Act;
use crate::context::Caller;
use crate::error::{Check, Error};
use crate::store::Store;
use crate::time::{etag, now_micros, stale, timestamp};

/// Default audit retention in days (R28).
pub const DEFAULT_AUDIT_RETENTION_DAYS: i32 = 180;
/// Default minutes without telemetry before a room is DISCONNECTED.
pub const DEFAULT_DISCONNECTED_AFTER_MINUTES: i32 = 30;

/// Creates the settings with defaults unless they exist.
pub async fn ensure<C: ConnectionTrait>(db: &C, display_name: &str) -> Result<(), Error> {
    if Entity::find_by_id(1).one(db).await?.is_none() {
        settings::ActiveModel {
            id: Set(1),
            display_name: Set(display_name.to_owned()),
            partner_mfa_required: Set(false),
            audit_retention_days: Set(DEFAULT_AUDIT_RETENTION_DAYS),
            disconnected_after_minutes: Set(DEFAULT_DISCONNECTED_AFTER_MINUTES),
            update_time: Set(now_micros()),
            revision: Set(1),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The settings row.
pub async fn get<C: ConnectionTrait>(db: &C) -> Result<settings::Model, Error> {
    Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("settings missing".into()))
}

/// The settings row, locked for the rest of the transaction.
async fn get_for_update<C: ConnectionTrait>(db: &C) -> Result<settings::Model, Error> {
    Entity::find_by_id(1)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("settings missing".into()))
}

/// The disconnection threshold in microseconds.
pub fn disconnected_after_micros(model: &settings::Model) -> i64 {
    i64::from(model.disconnected_after_minutes) * 60 * 1_000_000
}

/// The API view.
pub fn to_proto(store: &Store, model: &settings::Model) -> Settings {
    Settings {
        name: format!("{}/settings", store.customer().name()),
        partner_mfa_required: model.partner_mfa_required,
        audit_retention_days: model.audit_retention_days,
        disconnected_after_minutes: model.disconnected_after_minutes,
        update_time: Some(timestamp(model.update_time)),
        etag: etag(model.revision),
    }
}

/// Applies `mask` from `input`; audited.
pub async fn update(
    store: &Store,
    caller: &Caller,
    act: &Act,
    input: &Settings,
    paths: &[String],
) -> Result<Settings, Error> {
    let mut check = Check::default();
    check.check(paths.is_empty(), "update_mask", "name at least one field");
    for path in paths {
        match path.as_str() {
            "partner_mfa_required" => {}
            "audit_retention_days" => {
                check.check(
                    !(30..=3650).contains(&input.audit_retention_days),
                    "settings.audit_retention_days",
                    "must be between 30 and 3650",
                );
            }
            "disconnected_after_minutes" => {
                check.check(
                    !(5..=1440).contains(&input.disconnected_after_minutes),
                    "settings.disconnected_after_minutes",
                    "must be between 5 and 1440",
                );
            }
            other => {
                check.check(true, "update_mask", format!("`{other}` cannot be updated"));
            }
        }
    }
    check.done()?;
    let txn = store.write().await?;
    let current = get_for_update(&txn).await?;
    if stale(&input.etag, current.revision) {
        return Err(Error::StaleEtag(format!(
            "{}/settings",
            store.customer().name()
        )));
    }
    let mut details = Vec::new();
    let mut row = current.clone().into_active_model();
    for path in paths {
        match path.as_str() {
            "partner_mfa_required" => {
                details.push((
                    path.clone(),
                    format!(
                        "{} -> {}",
                        current.partner_mfa_required, input.partner_mfa_required
                    ),
                ));
                row.partner_mfa_required = Set(input.partner_mfa_required);
            }
            "audit_retention_days" => {
                details.push((
                    path.clone(),
                    format!(
                        "{} -> {}",
                        current.audit_retention_days, input.audit_retention_days
                    ),
                ));
                row.audit_retention_days = Set(input.audit_retention_days);
            }
            _ => {
                details.push((
                    path.clone(),
                    format!(
                        "{} -> {}",
                        current.disconnected_after_minutes, input.disconnected_after_minutes
                    ),
                ));
                row.disconnected_after_minutes = Set(input.disconnected_after_minutes);
            }
        }
    }
    row.update_time = Set(now_micros());
    row.revision = Set(current.revision + 1);
    let updated = row.update(&txn).await?;
    act.success(&txn, caller, "settings", details).await?;
    txn.commit().await?;
    Ok(to_proto(store, &updated))
}
