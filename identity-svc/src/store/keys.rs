//! Signing keys: exactly one ACTIVE key signs; RETIRED keys verify until deleted. Private
//! keys are stored sealed by the primary key-encryption key (`crate::kek`).

use mtm_proto::mtm::identity::v1::signing_key::State;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use super::entity::signing_key::{self, Column, Entity, Model};
use super::now_micros;
use crate::error::{Error, Result};
use crate::kek::{KeyEncryptionKeys, Sealing};
use mtm_token::KeyMaterial;

/// The ACTIVE key, if any.
pub async fn active(db: &impl ConnectionTrait) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::State.eq(State::Active as i32))
        .one(db)
        .await?)
}

/// Every key, newest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .order_by_desc(Column::CreateTime)
        .order_by_desc(Column::Kid)
        .all(db)
        .await?)
}

fn new_row(
    keks: &KeyEncryptionKeys,
    key: &KeyMaterial,
    request_id: Option<String>,
    replaced: Option<String>,
) -> Result<Model> {
    Ok(Model {
        kid: key.kid.clone(),
        private_seed: keks.seal(
            &key.kid,
            &key.seed_bytes().map_err(|e| Error::Crypto(e.to_string()))?,
        )?,
        public_x: key.x.clone(),
        state: State::Active as i32,
        create_time: now_micros(),
        retire_time: None,
        request_id,
        replaced_kid: replaced,
    })
}

/// Creates the first ACTIVE key unless one exists.
pub async fn ensure_active(db: &DatabaseConnection, keks: &KeyEncryptionKeys) -> Result<Model> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    if let Some(key) = active(&txn).await? {
        return Ok(key);
    }
    let row = new_row(keks, &KeyMaterial::generate(), None, None)?;
    signing_key::ActiveModel::from(row.clone())
        .insert(&txn)
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// Makes a new ACTIVE key and retires the previous one; a repeated `request_id` returns the
/// keys of the first call.
pub async fn rotate(
    db: &DatabaseConnection,
    keks: &KeyEncryptionKeys,
    request_id: Option<String>,
) -> Result<(Model, Model)> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    if let Some(id) = &request_id {
        let previous = Entity::find()
            .filter(Column::RequestId.eq(id.as_str()))
            .one(&txn)
            .await?;
        if let Some(new) = previous {
            let old = match &new.replaced_kid {
                Some(kid) => Entity::find_by_id(kid.as_str()).one(&txn).await?,
                None => None,
            };
            let old = old.ok_or_else(|| {
                Error::FailedPrecondition(
                    "the key retired by this request has been deleted since".into(),
                )
            })?;
            return Ok((new, old));
        }
    }
    let old = active(&txn)
        .await?
        .ok_or_else(|| Error::FailedPrecondition("there is no active signing key".into()))?;
    let mut retiring = old.clone().into_active_model();
    retiring.state = Set(State::Retired as i32);
    retiring.retire_time = Set(Some(now_micros()));
    let retired = retiring.update(&txn).await?;
    let row = new_row(
        keks,
        &KeyMaterial::generate(),
        request_id,
        Some(retired.kid.clone()),
    )?;
    signing_key::ActiveModel::from(row.clone())
        .insert(&txn)
        .await?;
    txn.commit().await?;
    Ok((row, retired))
}

/// Deletes a RETIRED key; the ACTIVE key cannot be deleted.
pub async fn delete(db: &DatabaseConnection, kid: &str) -> Result<()> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    let key = Entity::find_by_id(kid)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("signingKeys/{kid}")))?;
    if key.state == State::Active as i32 {
        return Err(Error::FailedPrecondition(
            "the active signing key cannot be deleted; rotate first".into(),
        ));
    }
    Entity::delete_by_id(kid).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Seals every stored private key under the primary KEK: plain-text rows (stored before
/// keys were sealed) and rows sealed by another configured KEK (after a KEK rotation). Every
/// row must open with the configured KEKs, so a wrong KEK file stops the start-up here with an
/// error naming the key, not at the first sign-in. Returns how many rows were (re)sealed.
pub async fn seal_at_rest(db: &DatabaseConnection, keks: &KeyEncryptionKeys) -> Result<usize> {
    let mut sealed = 0;
    for row in Entity::find().all(db).await? {
        let secret = match keks.sealing(&row.private_seed) {
            Sealing::Primary => {
                keks.open(&row.kid, &row.private_seed)
                    .map_err(|e| Error::Config(e.to_string()))?;
                continue;
            }
            Sealing::Secondary => keks
                .open(&row.kid, &row.private_seed)
                .map_err(|e| Error::Config(e.to_string()))?,
            Sealing::Plaintext => KeyMaterial::seed_bytes_of(&row.private_seed)
                .map_err(|_| Error::Config(format!("signing key {} is corrupt", row.kid)))?
                .to_vec(),
        };
        let resealed = keks.seal(&row.kid, &secret)?;
        // Only the value read is replaced: a replica starting at the same time may have
        // sealed it already, and either result opens.
        let updated = Entity::update_many()
            .col_expr(
                Column::PrivateSeed,
                sea_orm::sea_query::Expr::value(resealed),
            )
            .filter(Column::Kid.eq(row.kid.as_str()))
            .filter(Column::PrivateSeed.eq(row.private_seed.as_str()))
            .exec(db)
            .await?;
        if updated.rows_affected > 0 {
            sealed += 1;
            tracing::info!(kid = %row.kid, "signing key sealed under the primary key-encryption key");
        }
    }
    Ok(sealed)
}

/// The key material of a stored key, opened with the KEKs.
pub fn material(model: &Model, keks: &KeyEncryptionKeys) -> Result<KeyMaterial> {
    let seed = keks.open(&model.kid, &model.private_seed)?;
    Ok(KeyMaterial {
        kid: model.kid.clone(),
        seed: base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, seed),
        x: model.public_x.clone(),
    })
}
