//! A customer store: its handle, entities, migrations and schema versions, and the queries
//! and changes of each kind of data, kept apart from the gRPC handlers. Every change is one
//! transaction that also appends its audit record.

pub mod entity;
pub mod groups;
pub mod handle;
pub mod idempotency;
pub mod key;
pub mod lookup;
pub mod migration;
pub mod provision;
pub mod reports;
pub mod retention;
pub mod rings;
pub mod rooms;
pub mod schema;
pub mod settings;
pub mod stats;
pub mod tickets;

use mtm_proto::mtm::common::v1::Actor;
use prost::Message;

use crate::error::Error;
pub use handle::{Pool, Store};

/// Encodes an actor for storage.
pub fn encode_actor(actor: &Actor) -> Vec<u8> {
    actor.encode_to_vec()
}

/// Decodes a stored actor.
pub fn decode_actor(bytes: &[u8]) -> Result<Actor, Error> {
    Actor::decode(bytes).map_err(|e| Error::Corrupt(format!("actor: {e}")))
}

/// `true` when a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
