//! The service's one error type and its mapping to gRPC statuses.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Everything that can go wrong in rbac-svc.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: (field, why) pairs.
    #[error("invalid argument")]
    Invalid(Vec<(String, String)>),
    /// Missing or outside the caller's reach (R37), answered the same way.
    #[error("{0} not found")]
    NotFound(String),
    /// The caller sees the target but lacks `permission` (or tries to escalate, R36).
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// The permission missing.
        permission: String,
        /// What was refused.
        message: String,
    },
    /// The state forbids it (built-in role, last MMR admin, ...).
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// The id or display name is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// A stale etag.
    #[error("the etag is stale: {0}")]
    Aborted(String),
    /// This replica could not reach the asked revision in time.
    #[error("revision {0} not reached in time")]
    Unavailable(i64),
    /// The decision index is still being built.
    #[error("starting")]
    Starting,
    /// This replica's lease is not valid: it decides nothing until it has caught up and
    /// renewed it.
    #[error("fenced")]
    Fenced,
    /// A revoking write is committed, but not every live replica confirmed it in time.
    #[error("revision {0} not confirmed by every replica")]
    Unconfirmed(i64),
    /// The store failed.
    #[error("database")]
    Database(#[from] sea_orm::DbErr),
    /// The store could not be opened.
    #[error("store")]
    Store(#[from] mtm_plumbing::store::StoreError),
}

impl Error {
    /// INVALID_ARGUMENT for one field.
    pub fn invalid(field: impl Into<String>, why: impl Into<String>) -> Error {
        Error::Invalid(vec![(field.into(), why.into())])
    }
}

impl From<mtm_plumbing::status::FieldError> for Error {
    fn from(error: mtm_plumbing::status::FieldError) -> Self {
        Error::Invalid(vec![(error.field, error.description)])
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(fields) => {
                let mut violations = mtm_plumbing::status::Violations::new();
                for (field, why) in fields {
                    violations.add(field, why);
                }
                violations
                    .into_result()
                    .err()
                    .unwrap_or_else(|| Status::invalid_argument("invalid argument"))
            }
            Error::NotFound(name) => Status::with_error_details(
                Code::NotFound,
                format!("{name} not found"),
                ErrorDetails::with_resource_info("", name, "", ""),
            ),
            Error::PermissionDenied {
                permission,
                message,
            } => Status::with_error_details(
                Code::PermissionDenied,
                message,
                ErrorDetails::with_error_info(
                    "PERMISSION_DENIED",
                    "mtm",
                    [("permission".to_owned(), permission)],
                ),
            ),
            Error::FailedPrecondition(message) => Status::failed_precondition(message),
            Error::AlreadyExists(name) => Status::already_exists(format!("{name} already exists")),
            Error::Aborted(name) => Status::aborted(format!("the etag of {name} is stale")),
            Error::Unavailable(revision) => Status::unavailable(format!(
                "revision {revision} is not applied on this replica yet; retry"
            )),
            Error::Starting => {
                Status::unavailable("rbac-svc is building its decision index; retry")
            }
            Error::Fenced => Status::unavailable(
                "this rbac-svc replica holds no valid lease (it is catching up or cannot reach \
                 its store); retry on another replica",
            ),
            Error::Unconfirmed(revision) => Status::unavailable(format!(
                "revision {revision} is committed but not yet confirmed by every replica; retry"
            )),
            Error::Database(_) | Error::Store(_) => mtm_plumbing::status::internal(&error),
        }
    }
}
