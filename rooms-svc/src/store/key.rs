//! The customer's enrolment key: one per customer, sealed at rest with its hash beside it;
//! its value leaves the store only through download and reset, both audited.

use mtm_proto::mtm::rooms::v1::EnrolmentKey;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QuerySelect, Set};

use super::entity::enrolment_key::{self, Entity};
use crate::audit::Act;
use crate::context::Caller;
use crate::error::Error;
use crate::names::CustomerId;
use crate::sealing::{Sealer, hash_key, matches};
use crate::store::Store;
use crate::time::{etag, now_micros, stale, timestamp};

/// Creates the first key unless one exists.
pub async fn ensure<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    sealer: &Sealer,
) -> Result<(), Error> {
    if Entity::find_by_id(1).one(db).await?.is_none() {
        let key = sealer.new_key()?;
        enrolment_key::ActiveModel {
            id: Set(1),
            version: Set(1),
            sealed: Set(sealer.seal(customer, 1, &key)?),
            key_hash: Set(hash_key(&key)),
            create_time: Set(now_micros()),
            reset_by: Set(None),
            revision: Set(1),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

async fn current<C: ConnectionTrait>(db: &C) -> Result<enrolment_key::Model, Error> {
    Entity::find_by_id(1)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("enrolment key missing".into()))
}

/// Whether `presented` is the customer's current key.
pub async fn is_current<C: ConnectionTrait>(db: &C, presented: &str) -> Result<bool, Error> {
    Ok(matches(presented, &current(db).await?.key_hash))
}

fn to_proto(
    customer: &CustomerId,
    model: &enrolment_key::Model,
    key: String,
) -> Result<EnrolmentKey, Error> {
    Ok(EnrolmentKey {
        name: format!("{}/enrolmentKey", customer.name()),
        key,
        version: model.version,
        create_time: Some(timestamp(model.create_time)),
        reset_by: model
            .reset_by
            .as_deref()
            .map(super::decode_actor)
            .transpose()?,
        etag: etag(model.revision),
    })
}

/// Returns the key with its value; the read is audited in the same transaction.
pub async fn download(
    store: &Store,
    caller: &Caller,
    act: &Act,
    sealer: &Sealer,
) -> Result<EnrolmentKey, Error> {
    let txn = store.write().await?;
    let model = current(&txn).await?;
    let key = sealer.unseal(store.customer(), model.version, &model.sealed)?;
    act.success(
        &txn,
        caller,
        "enrolment key",
        vec![("version".into(), model.version.to_string())],
    )
    .await?;
    txn.commit().await?;
    to_proto(store.customer(), &model, key)
}

/// Replaces the key with a new one and returns it; the old key stops working at once.
pub async fn reset(
    store: &Store,
    caller: &Caller,
    act: &Act,
    sealer: &Sealer,
    etag_given: &str,
) -> Result<EnrolmentKey, Error> {
    let txn = store.write().await?;
    let model = current(&txn).await?;
    if stale(etag_given, model.revision) {
        return Err(Error::StaleEtag(format!(
            "{}/enrolmentKey",
            store.customer().name()
        )));
    }
    let key = sealer.new_key()?;
    let version = model.version + 1;
    let mut row = model.clone().into_active_model();
    row.version = Set(version);
    row.sealed = Set(sealer.seal(store.customer(), version, &key)?);
    row.key_hash = Set(hash_key(&key));
    row.create_time = Set(now_micros());
    row.reset_by = Set(Some(super::encode_actor(&caller.actor)));
    row.revision = Set(model.revision + 1);
    let updated = row.update(&txn).await?;
    act.success(
        &txn,
        caller,
        "enrolment key",
        vec![("version".into(), version.to_string())],
    )
    .await?;
    txn.commit().await?;
    to_proto(store.customer(), &updated, key)
}
