//! The sea-orm entities, one module per table.

pub mod approval_request;
pub mod invitation;
pub mod primary_admin;
pub mod relationship;
pub mod tenant;
pub mod tenant_manager;
