//! Idempotent creates: a retry with the same `request_id` within 24 hours returns what the
//! first call created; the same id with a different request is INVALID_ARGUMENT.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::entity::request;
use crate::error::Error;

/// How long a request id is remembered, in microseconds.
pub const KEEP_MICROS: i64 = 24 * 3600 * 1_000_000;

/// A request's fingerprint: the RPC and the encoded request with its id cleared.
pub fn fingerprint(method: &str, encoded: &[u8]) -> String {
    let mut out = String::with_capacity(method.len() + 1 + encoded.len() * 2);
    out.push_str(method);
    out.push(':');
    for b in encoded {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Checks the shape of a request id (empty: not idempotent).
pub fn check_id(request_id: &str) -> Result<(), Error> {
    if request_id.is_empty() || uuid::Uuid::parse_str(request_id).is_ok() {
        Ok(())
    } else {
        Err(Error::invalid("request_id", "must be a UUID"))
    }
}

/// The resource created by an earlier call with this id, if it was the same request.
pub async fn replay(
    db: &impl ConnectionTrait,
    request_id: &str,
    fingerprint: &str,
    micros: i64,
) -> Result<Option<String>, Error> {
    if request_id.is_empty() {
        return Ok(None);
    }
    match request::Entity::find_by_id(request_id).one(db).await? {
        Some(row) if micros - row.create_time < KEEP_MICROS => {
            if row.fingerprint == fingerprint {
                Ok(Some(row.resource))
            } else {
                Err(Error::invalid(
                    "request_id",
                    "was used with a different request",
                ))
            }
        }
        Some(row) => {
            request::Entity::delete_by_id(row.request_id)
                .exec(db)
                .await?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Remembers that this request created `resource`.
pub async fn remember(
    db: &impl ConnectionTrait,
    request_id: &str,
    fingerprint: &str,
    resource: &str,
    micros: i64,
) -> Result<(), Error> {
    if request_id.is_empty() {
        return Ok(());
    }
    request::ActiveModel {
        request_id: Set(request_id.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        resource: Set(resource.to_owned()),
        create_time: Set(micros),
    }
    .insert(db)
    .await?;
    Ok(())
}
