//! The service's one error type and its single conversion into a gRPC status.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Everything a rooms-svc call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or out-of-range input, field by field.
    #[error("invalid argument: {0:?}")]
    Invalid(Vec<(String, String)>),
    /// Missing, or outside the caller's scope (answered identically, R37).
    #[error("{kind} {name} not found")]
    NotFound {
        /// The resource type, e.g. `mtm.rooms.v1.Room`.
        kind: &'static str,
        /// The name as requested.
        name: String,
    },
    /// The id is taken.
    #[error("{kind} {name} already exists")]
    AlreadyExists {
        /// The resource type.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// The state forbids the act.
    #[error("failed precondition: {subject}: {description}")]
    FailedPrecondition {
        /// What the precondition is about (a resource name).
        subject: String,
        /// Why it fails.
        description: String,
    },
    /// The caller can see the target but may not do this (a wrong enrolment key).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The etag given is not the current one.
    #[error("stale etag on {0}")]
    StaleEtag(String),
    /// The call carries no usable caller context.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// A store could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database")]
    Database(#[from] sea_orm::DbErr),
    /// The database failed inside a transaction.
    #[error("transaction")]
    Transaction(#[from] sea_orm::TransactionError<sea_orm::DbErr>),
    /// Opening a store failed.
    #[error("store")]
    Store(#[from] mtm_plumbing::store::StoreError),
    /// A file of the store or of the sealing key could not be used.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Sealing or unsealing an enrolment key failed.
    #[error("enrolment key sealing: {0}")]
    Sealing(&'static str),
    /// A stored value does not decode.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl Error {
    /// One bad field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Invalid(vec![(field.into(), description.into())])
    }

    /// NOT_FOUND for `name` of type `kind`.
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            name: name.into(),
        }
    }

    /// FAILED_PRECONDITION about `subject`.
    pub fn precondition(subject: impl Into<String>, description: impl Into<String>) -> Self {
        Self::FailedPrecondition {
            subject: subject.into(),
            description: description.into(),
        }
    }

    /// The error and its causes, `: `-separated, for the log.
    pub fn with_causes(&self) -> String {
        let mut chain = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        chain
    }

    /// The gRPC code this error answers with.
    pub fn code(&self) -> Code {
        match self {
            Self::Invalid(_) => Code::InvalidArgument,
            Self::NotFound { .. } => Code::NotFound,
            Self::AlreadyExists { .. } => Code::AlreadyExists,
            Self::FailedPrecondition { .. } => Code::FailedPrecondition,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::StaleEtag(_) => Code::Aborted,
            Self::Unauthenticated(_) => Code::Unauthenticated,
            Self::Unavailable(_) => Code::Unavailable,
            _ => Code::Internal,
        }
    }
}

impl From<mtm_plumbing::status::FieldError> for Error {
    fn from(error: mtm_plumbing::status::FieldError) -> Self {
        Self::invalid(error.field, error.description)
    }
}

/// Collects field violations before failing with all of them.
#[derive(Debug, Default)]
pub struct Check(Vec<(String, String)>);

impl Check {
    /// Records a violation of `field` when `bad`.
    pub fn check(&mut self, bad: bool, field: &str, description: impl Into<String>) -> &mut Self {
        if bad {
            self.0.push((field.to_owned(), description.into()));
        }
        self
    }

    /// `Ok` when nothing was recorded.
    pub fn done(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A name as an error quotes it: client input, so clamped (see [`mtm_plumbing::status::clamp`]).
fn quoted(name: &str) -> String {
    mtm_plumbing::status::clamp(name, mtm_plumbing::status::MAX_DESCRIPTION_CHARS)
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => mtm_plumbing::status::invalid_argument(
                violations
                    .into_iter()
                    .map(|(field, description)| FieldViolation::new(field, description))
                    .collect(),
            ),
            Error::NotFound { kind, name } => Status::with_error_details(
                Code::NotFound,
                format!("{} not found", quoted(&name)),
                ErrorDetails::with_resource_info(kind, quoted(&name), "", ""),
            ),
            Error::AlreadyExists { kind, name } => Status::with_error_details(
                Code::AlreadyExists,
                format!("{} already exists", quoted(&name)),
                ErrorDetails::with_resource_info(kind, quoted(&name), "", ""),
            ),
            Error::FailedPrecondition {
                subject,
                description,
            } => Status::with_error_details(
                Code::FailedPrecondition,
                format!("{subject}: {description}"),
                ErrorDetails::with_precondition_failure_violation("STATE", subject, description),
            ),
            Error::PermissionDenied(message) => Status::with_error_details(
                Code::PermissionDenied,
                message,
                ErrorDetails::with_error_info("PERMISSION_DENIED", "mtm", []),
            ),
            Error::StaleEtag(name) => Status::aborted(format!(
                "{} changed since it was read (stale etag)",
                quoted(&name)
            )),
            Error::Unauthenticated(message) => Status::unauthenticated(message),
            Error::Unavailable(message) => Status::unavailable(message),
            other => mtm_plumbing::status::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_names_are_clamped() {
        let huge = format!("customers/fabrikam/rooms/{}", "x".repeat(100_000));
        for error in [
            Error::not_found("mtm.rooms.v1.Room", huge.clone()),
            Error::AlreadyExists {
                kind: "mtm.rooms.v1.Room",
                name: huge.clone(),
            },
            Error::StaleEtag(huge.clone()),
        ] {
            let status = Status::from(error);
            assert!(status.message().len() < 1024, "{}", status.message().len());
            assert!(status.details().len() < 2048, "{}", status.details().len());
        }
    }
}
