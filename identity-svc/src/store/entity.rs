//! The sea-orm entities, one module per table.

pub mod directory;
pub mod directory_epoch;
pub mod domain;
pub mod group;
pub mod group_member;
pub mod idempotency_key;
pub mod identity_provider;
pub mod preference;
pub mod role_grant;
pub mod signing_key;
pub mod user;
