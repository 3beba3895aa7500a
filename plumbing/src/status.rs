//! gRPC statuses with `google.rpc` details, built the same way by every service: field
//! violations for bad input, and internal errors that are logged with their cause chain but
//! reach the client only as a generic message.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Collects field violations of one request; empty means the input is valid.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (a path such as `invitation.lifetime_days`) is wrong, and why.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) -> &mut Self {
        self.0.push(FieldViolation::new(field, description));
        self
    }

    /// Records the violation when `bad` holds.
    pub fn check(&mut self, bad: bool, field: &str, description: &str) -> &mut Self {
        if bad {
            self.add(field, description);
        }
        self
    }

    /// `Ok` when nothing was recorded, otherwise INVALID_ARGUMENT naming every field.
    pub fn into_result(self) -> Result<(), Status> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(invalid_argument(self.0))
        }
    }
}

/// INVALID_ARGUMENT with a `google.rpc.BadRequest` listing the violations; the message names
/// the fields too, for clients that do not read details.
pub fn invalid_argument(violations: Vec<FieldViolation>) -> Status {
    let message = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ");
    Status::with_error_details(
        Code::InvalidArgument,
        message,
        ErrorDetails::with_bad_request(violations),
    )
}

/// INVALID_ARGUMENT for a single field.
pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Status {
    invalid_argument(vec![FieldViolation::new(field, description)])
}

/// One invalid request field, for shared helpers (filters, paging) whose callers turn it into
/// their own error type; it converts into INVALID_ARGUMENT naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {description}")]
pub struct FieldError {
    /// The request field, e.g. `filter` or `page_token`.
    pub field: String,
    /// Why it is wrong.
    pub description: String,
}

impl FieldError {
    /// `field` is wrong because of `description`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl From<FieldError> for Status {
    fn from(error: FieldError) -> Self {
        invalid_field(error.field, error.description)
    }
}

/// INTERNAL with a generic message; the cause and its chain go to the log only.
pub fn internal(error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "internal error");
    Status::internal("internal error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_become_invalid_argument_with_bad_request_details() {
        let mut violations = Violations::new();
        violations
            .check(true, "lifetime_days", "must be between 1 and 30")
            .check(false, "accept_terms", "must be true");
        let status = violations.into_result().expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("lifetime_days"));
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request details");
        assert_eq!(bad.field_violations.len(), 1);
        assert_eq!(bad.field_violations[0].field, "lifetime_days");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let io = std::io::Error::other("disk on fire");
        let status = internal(&io);
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("disk"));
    }

    #[test]
    fn field_errors_become_invalid_argument_naming_the_field() {
        let status = Status::from(FieldError::new("page_size", "must not be negative"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "page_size: must not be negative");
    }
}
