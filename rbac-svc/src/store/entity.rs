//! sea-orm entities, one module per table; the schema itself comes from the migrations.

pub mod assignment;
pub mod customer;
pub mod relationship;
pub mod request;
pub mod revision;
pub mod role;
