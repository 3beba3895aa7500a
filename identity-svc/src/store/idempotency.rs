//! Idempotent creates: a retry with the same `request_id` within 24 hours returns the first
//! answer; the same id with a different request is INVALID_ARGUMENT.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::idempotency_key::{self, Column, Entity};
use super::now_micros;
use crate::error::{Error, Result};

const RETENTION_MICROS: i64 = 24 * 3600 * 1_000_000;

/// A create's idempotency key: the request id, the method and the request without the id.
pub struct Key {
    request_id: String,
    method: &'static str,
    fingerprint: String,
}

impl Key {
    /// The key of a request; `None` when it carries no request id. INVALID_ARGUMENT naming
    /// `request_id` unless it is a UUID.
    pub fn of<M: prost::Message>(
        method: &'static str,
        request_id: &str,
        request_without_id: &M,
    ) -> Result<Option<Self>> {
        if request_id.is_empty() {
            return Ok(None);
        }
        uuid::Uuid::parse_str(request_id)
            .map_err(|_| Error::invalid("request_id", "must be a UUID"))?;
        Ok(Some(Self {
            request_id: request_id.to_owned(),
            method,
            fingerprint: STANDARD.encode(request_without_id.encode_to_vec()),
        }))
    }
}

/// The resource a previous call with this key created, if any.
pub async fn previous(db: &impl ConnectionTrait, key: Option<&Key>) -> Result<Option<String>> {
    let Some(key) = key else {
        return Ok(None);
    };
    Entity::delete_many()
        .filter(Column::CreateTime.lt(now_micros() - RETENTION_MICROS))
        .exec(db)
        .await?;
    match Entity::find_by_id(key.request_id.as_str()).one(db).await? {
        Some(row) if row.method == key.method && row.fingerprint == key.fingerprint => {
            Ok(Some(row.resource))
        }
        Some(_) => Err(Error::invalid(
            "request_id",
            "was already used with a different request",
        )),
        None => Ok(None),
    }
}

/// Remembers that the call with this key created `resource`.
pub async fn remember(db: &impl ConnectionTrait, key: Option<Key>, resource: &str) -> Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    idempotency_key::ActiveModel::from(idempotency_key::Model {
        request_id: key.request_id,
        method: key.method.to_owned(),
        fingerprint: key.fingerprint,
        resource: resource.to_owned(),
        create_time: now_micros(),
    })
    .insert(db)
    .await?;
    Ok(())
}
