//! The gRPC handlers: thin adapters from requests to the store and domain modules.

pub mod auth;
pub mod directory;
pub mod internal;
pub mod source;

/// Turns a handler result into a gRPC response.
pub(crate) fn reply<T>(
    result: crate::error::Result<T>,
) -> Result<tonic::Response<T>, tonic::Status> {
    result
        .map(tonic::Response::new)
        .map_err(tonic::Status::from)
}
