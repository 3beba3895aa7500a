//! The service's one error type and its mapping to gRPC statuses.

use tonic::{Code, Status};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; the status carries the field violations.
    #[error("invalid argument: {}", .0.message())]
    Invalid(Status),
    /// The resource does not exist, or is outside the caller's tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// The resource (or a unique value) already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// The system is not in a state that allows the change.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// Sign-in refused, without saying why.
    #[error("the credentials were not accepted")]
    Unauthenticated,
    /// Too many failed attempts.
    #[error("{0}")]
    ResourceExhausted(String),
    /// A stale etag.
    #[error("{0}")]
    Aborted(String),
    /// The store failed.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// Key or hash handling failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] mtm_plumbing::server::ServeError),
}

impl Error {
    /// INVALID_ARGUMENT for one field.
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        Self::Invalid(mtm_plumbing::status::invalid_field(field, description))
    }
}

impl From<mtm_plumbing::status::FieldError> for Error {
    fn from(error: mtm_plumbing::status::FieldError) -> Self {
        Self::Invalid(error.into())
    }
}

impl From<mtm_plumbing::store::StoreError> for Error {
    fn from(error: mtm_plumbing::store::StoreError) -> Self {
        match error {
            mtm_plumbing::store::StoreError::Database(db) => Self::Database(db),
            other => Self::Config(other.to_string()),
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(status) => status,
            Error::NotFound(what) => Status::new(Code::NotFound, format!("{what} not found")),
            Error::AlreadyExists(message) => Status::already_exists(message),
            Error::FailedPrecondition(message) => Status::failed_precondition(message),
            Error::PermissionDenied(message) => Status::permission_denied(message),
            Error::Unauthenticated => Status::unauthenticated("the credentials were not accepted"),
            Error::ResourceExhausted(message) => Status::resource_exhausted(message),
            Error::Aborted(message) => Status::aborted(message),
            error
            @ (Error::Database(_) | Error::Crypto(_) | Error::Config(_) | Error::Serve(_)) => {
                mtm_plumbing::status::internal(&error)
            }
        }
    }
}

/// Results of the service's functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;
