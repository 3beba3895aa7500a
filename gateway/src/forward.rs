//! Forwarding public calls to the backend that owns them, after authenticating the caller and
//! deciding the call's permission with rbac-svc (ARCHITECTURE.md, "Requests"), applying the
//! customer's partner-MFA requirement (R3) and change control (R29) on the way, and auditing
//! the calls it refuses (R28).

pub mod approval;
pub mod client_address;
pub mod decide;
pub mod inputs;
pub mod routes;
pub mod schema;
pub mod service;
pub mod visibility;
