//! Audit retention (R28): deleting the records older than the customer's
//! `audit_retention_days`. The retention task (`crate::retention`) decides when.

use sea_orm::{ConnectionTrait, EntityTrait};

use super::entity::settings;
use crate::error::Error;
use crate::names::CustomerId;

const DAY_MICROS: i64 = 86_400_000_000;

/// Deletes the customer's audit records past retention; returns how many. A store not yet
/// seeded has nothing to purge.
pub async fn purge<C: ConnectionTrait>(db: &C, customer: &CustomerId) -> Result<u64, Error> {
    let Some(settings) = settings::Entity::find_by_id(1).one(db).await? else {
        return Ok(0);
    };
    let cutoff = crate::time::now_micros() - i64::from(settings.audit_retention_days) * DAY_MICROS;
    Ok(mtm_plumbing::audit::query::purge_older_than(db, &customer.name(), cutoff).await?)
}
