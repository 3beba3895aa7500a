//! Forwarding public calls to the backend that owns them, after authenticating the caller and
//! deciding the call's permission with rbac-svc (ARCHITECTURE.md, "Requests").

pub mod decide;
pub mod raw_codec;
pub mod routes;
pub mod schema;
pub mod service;
