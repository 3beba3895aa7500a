//! Signing keys: exactly one ACTIVE key signs; RETIRED keys verify until deleted.

use mtm_proto::mtm::identity::v1::signing_key::State;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use super::entity::signing_key::{self, Column, Entity, Model};
use super::now_micros;
use crate::error::{Error, Result};
use crate::token::KeyMaterial;

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

fn new_row(key: &KeyMaterial, request_id: Option<String>, replaced: Option<String>) -> Model {
    Model {
        kid: key.kid.clone(),
        private_seed: key.seed.clone(),
        public_x: key.x.clone(),
        state: State::Active as i32,
        create_time: now_micros(),
        retire_time: None,
        request_id,
        replaced_kid: replaced,
    }
}

/// Creates the first ACTIVE key unless one exists.
pub async fn ensure_active(db: &DatabaseConnection) -> Result<Model> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    if let Some(key) = active(&txn).await? {
        return Ok(key);
    }
    let row = new_row(&KeyMaterial::generate(), None, None);
    signing_key::ActiveModel::from(row.clone())
        .insert(&txn)
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// Makes a new ACTIVE key and retires the previous one; a repeated `request_id` returns the
/// keys of the first call.
pub async fn rotate(db: &DatabaseConnection, request_id: Option<String>) -> Result<(Model, Model)> {
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
        &KeyMaterial::generate(),
        request_id,
        Some(retired.kid.clone()),
    );
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

/// The key material of a stored key.
pub fn material(model: &Model) -> KeyMaterial {
    KeyMaterial {
        kid: model.kid.clone(),
        seed: model.private_seed.clone(),
        x: model.public_x.clone(),
    }
}
