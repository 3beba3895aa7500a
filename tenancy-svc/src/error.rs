//! The service's one error type and its single mapping to gRPC statuses.

mod upstream;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Everything a tenancy-svc handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input: one `(field, description)` per bad field.
    #[error("invalid argument: {0:?}")]
    Invalid(Vec<(String, String)>),
    /// Missing, or outside the caller's reach (answered identically, R37).
    #[error("{kind} {name} not found")]
    NotFound {
        /// The resource type, e.g. `invitation`.
        kind: &'static str,
        /// The name as requested.
        name: String,
    },
    /// The state forbids the act.
    #[error("failed precondition {subject}: {description}")]
    Precondition {
        /// A short violation type, e.g. `INVITATION_NOT_PENDING`.
        kind: &'static str,
        /// The resource concerned.
        subject: String,
        /// What is wrong, for people.
        description: String,
    },
    /// The id or name is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// A stale etag.
    #[error("stale etag for {0}")]
    Aborted(String),
    /// The caller sees the target but may not do this.
    #[error("permission denied: {0}")]
    Denied(String),
    /// A store failure.
    #[error("store: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Another service answered with an error.
    #[error("{service} answered {status}")]
    Upstream {
        /// Which service.
        service: &'static str,
        /// Its status.
        status: Status,
        /// How the fields of the request sent to it read in the caller's request:
        /// `(theirs, ours)` path prefixes, the first also naming what the call was about.
        fields: Vec<(String, String)>,
    },
    /// A status built elsewhere (list filters and page tokens).
    #[error("{0}")]
    Status(Status),
    /// The configuration cannot be used.
    #[error("configuration: {0}")]
    Config(String),
    /// Start-up failed.
    #[error("serving: {0}")]
    Serve(#[from] mtm_plumbing::server::ServeError),
    /// The store could not be opened.
    #[error("opening the store: {0}")]
    Store(#[from] mtm_plumbing::store::StoreError),
}

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// INVALID_ARGUMENT for one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Invalid(vec![(field.into(), description.into())])
    }

    /// FAILED_PRECONDITION of `kind` about `subject`.
    pub fn precondition(
        kind: &'static str,
        subject: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self::Precondition {
            kind,
            subject: subject.into(),
            description: description.into(),
        }
    }

    /// NOT_FOUND for `name`.
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            name: name.into(),
        }
    }

    /// The error of a failed call to `service` whose request this service made up itself:
    /// a field it names keeps the other service's path.
    pub fn upstream(service: &'static str) -> impl FnOnce(Status) -> Self {
        move |status| Self::Upstream {
            service,
            status,
            fields: Vec::new(),
        }
    }

    /// The error of a failed call to `service` made with the caller's input: each `(theirs,
    /// ours)` pair renames a path prefix of the other service's request to the caller's field
    /// (`("upns", "invited_upns")` turns `upns[2]` into `invited_upns[2]`); a field no pair
    /// names, and a rejection that names none, are reported on the first pair's field.
    pub fn upstream_as(
        service: &'static str,
        fields: &[(&str, &str)],
    ) -> impl FnOnce(Status) -> Self {
        let fields = fields
            .iter()
            .map(|(theirs, ours)| ((*theirs).to_owned(), (*ours).to_owned()))
            .collect();
        move |status| Self::Upstream {
            service,
            status,
            fields,
        }
    }
}

impl From<mtm_plumbing::status::FieldError> for Error {
    fn from(error: mtm_plumbing::status::FieldError) -> Self {
        Self::Invalid(vec![(error.field, error.description)])
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(fields) => {
                let mut violations = mtm_plumbing::status::Violations::new();
                for (field, description) in fields {
                    violations.add(field, description);
                }
                violations
                    .into_result()
                    .err()
                    .unwrap_or_else(|| Status::invalid_argument("invalid argument"))
            }
            Error::NotFound { kind, name } => Status::with_error_details(
                Code::NotFound,
                format!("{kind} {name} not found"),
                ErrorDetails::with_resource_info(kind, name.clone(), "", ""),
            ),
            Error::Precondition {
                kind,
                subject,
                description,
            } => Status::with_error_details(
                Code::FailedPrecondition,
                description.clone(),
                ErrorDetails::with_precondition_failure_violation(kind, subject, description),
            ),
            Error::AlreadyExists(name) => Status::with_error_details(
                Code::AlreadyExists,
                format!("{name} already exists"),
                ErrorDetails::with_resource_info("", name.clone(), "", ""),
            ),
            Error::Aborted(name) => {
                Status::aborted(format!("{name} changed since it was read (stale etag)"))
            }
            Error::Denied(message) => Status::permission_denied(message),
            Error::Status(status) => status,
            Error::Upstream {
                service,
                status,
                fields,
            } => upstream::status(service, status, &fields),
            other => mtm_plumbing::status::internal(&other),
        }
    }
}
