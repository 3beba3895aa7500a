//! Idempotent creates: a request id seen within 24 hours returns what it created the first
//! time; the same id with a different request is INVALID_ARGUMENT.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, ModelTrait, Set};

use super::entity::idempotency::{self, Entity};
use crate::error::Error;

const WINDOW_MICROS: i64 = 24 * 3600 * 1_000_000;

/// A create's idempotency key and the fingerprint of its request.
#[derive(Clone, Debug)]
pub struct Key {
    request_id: String,
    operation: &'static str,
    fingerprint: String,
}

impl Key {
    /// The key of `request` for `operation`; `None` without a request id; INVALID_ARGUMENT
    /// when it is not a UUID.
    pub fn of(
        request_id: &str,
        operation: &'static str,
        request: &impl prost::Message,
    ) -> Result<Option<Self>, Error> {
        if request_id.is_empty() {
            return Ok(None);
        }
        if uuid::Uuid::parse_str(request_id).is_err() {
            return Err(Error::invalid("request_id", "must be a UUID"));
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, &request.encode_to_vec());
        Ok(Some(Self {
            request_id: request_id.to_owned(),
            operation,
            fingerprint: hex::encode(digest.as_ref()),
        }))
    }

    /// The resource the first request created, when this is a retry.
    pub async fn replay<C: ConnectionTrait>(&self, db: &C) -> Result<Option<String>, Error> {
        let Some(seen) = Entity::find_by_id(self.request_id.clone()).one(db).await? else {
            return Ok(None);
        };
        if crate::time::now_micros() - seen.create_time > WINDOW_MICROS {
            seen.delete(db).await?;
            return Ok(None);
        }
        if seen.operation != self.operation || seen.fingerprint != self.fingerprint {
            return Err(Error::invalid(
                "request_id",
                "was already used for a different request",
            ));
        }
        Ok(Some(seen.resource))
    }

    /// Remembers that this request created `resource`.
    pub async fn remember<C: ConnectionTrait>(&self, db: &C, resource: &str) -> Result<(), Error> {
        idempotency::ActiveModel {
            request_id: Set(self.request_id.clone()),
            operation: Set(self.operation.to_owned()),
            fingerprint: Set(self.fingerprint.clone()),
            resource: Set(resource.to_owned()),
            create_time: Set(crate::time::now_micros()),
        }
        .insert(db)
        .await?;
        Ok(())
    }
}
