//! Shared server plumbing for the MTM services: rustls mTLS with a peer allow-list, the call
//! context and W3C trace context carried in gRPC metadata, telemetry, server assembly with
//! health, reflection and graceful shutdown, and development certificates; plus the API
//! conventions every list and name shares (filter grammar, paging, resource ids).
//!
//! No domain logic lives here.

pub mod audit;
pub mod client;
pub mod config;
pub mod context;
pub mod deadline;
pub mod devcerts;
pub mod filter;
pub mod metadata_limit;
pub mod metrics;
pub mod names;
pub mod paging;
pub mod peer;
pub mod raw_codec;
pub mod server;
pub mod size_status;
pub mod status;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod trace;
pub mod validate;

pub use mtm_callgraph as callgraph;
pub use tokio_util::sync::CancellationToken;
