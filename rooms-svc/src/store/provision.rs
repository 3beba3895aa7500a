//! Seeding a provisioned store (built-in rings, default settings, the first enrolment key,
//! counters) and reading the facts about a store.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::StoreInfo;
use sea_orm::EntityTrait;

use super::{key, migration, rings, settings, stats};
use crate::audit::Act;
use crate::context::Caller;
use crate::error::Error;
use crate::sealing::Sealer;
use crate::store::Store;
use crate::time::timestamp_opt;

/// Seeds what a new store needs; does nothing to a store already seeded.
pub async fn seed(store: &Store, sealer: &Sealer, display_name: &str) -> Result<(), Error> {
    let txn = store.write().await?;
    let fresh = super::entity::settings::Entity::find_by_id(1)
        .one(&txn)
        .await?
        .is_none();
    stats::ensure(&txn).await?;
    settings::ensure(&txn, display_name).await?;
    rings::ensure_built_ins(&txn).await?;
    key::ensure(&txn, store.customer(), sealer).await?;
    if fresh {
        Act::new(
            store.customer(),
            AuditCategory::Tenant,
            "provision_store",
            store.customer().name(),
        )
        .success(&txn, &Caller::system(), display_name, Vec::new())
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The facts about a store, from its counters and settings rows.
pub async fn info(store: &Store) -> Result<StoreInfo, Error> {
    let counters = stats::get(store.db()).await?;
    let settings = settings::get(store.db()).await?;
    Ok(StoreInfo {
        customer: store.customer().name(),
        newest_ticket_update_time: timestamp_opt(counters.newest_ticket_update_time),
        ticket_count: counters.ticket_count,
        open_ticket_count: counters.open_ticket_count,
        room_count: counters.room_count,
        partner_mfa_required: settings.partner_mfa_required,
        schema_version: migration::schema_version(),
        audit_retention_days: settings.audit_retention_days,
    })
}
