//! gRPC statuses with `google.rpc` details, built the same way by every service: field
//! violations for bad input, and internal errors that are logged with their cause chain but
//! reach the client only as a generic message.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The most characters of client input an error quotes ([`quote`]).
pub const MAX_QUOTED_CHARS: usize = 64;

/// The longest field path or description a field violation carries, in characters: enough
/// for any message a service writes, small enough that a violation echoing client input can
/// never outgrow the transport's header limits.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// The most field violations one status lists.
pub const MAX_VIOLATIONS: usize = 16;

/// Client input as an error message may quote it: at most [`MAX_QUOTED_CHARS`] characters
/// (then `…`), control characters escaped, so an echoed value is short and printable.
pub fn quote(input: &str) -> String {
    let mut quoted = String::new();
    for (count, c) in input.chars().enumerate() {
        if count == MAX_QUOTED_CHARS {
            quoted.push('…');
            break;
        }
        if c.is_control() {
            quoted.extend(c.escape_default());
        } else {
            quoted.push(c);
        }
    }
    quoted
}

/// `text` cut to at most `max` characters (ending in `…` when cut).
pub fn clamp(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let keep = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(text.len(), |(at, _)| at);
            format!("{}…", &text[..keep])
        }
    }
}

/// A field violation with its path and description clamped to [`MAX_DESCRIPTION_CHARS`].
fn violation(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
    FieldViolation::new(
        clamp(&field.into(), MAX_DESCRIPTION_CHARS),
        clamp(&description.into(), MAX_DESCRIPTION_CHARS),
    )
}

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
        self.0.push(violation(field, description));
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
/// Every path and description is clamped to [`MAX_DESCRIPTION_CHARS`], and at most
/// [`MAX_VIOLATIONS`] are kept, so echoed input cannot outgrow the transport's header limits.
pub fn invalid_argument(violations: Vec<FieldViolation>) -> Status {
    let violations: Vec<FieldViolation> = violations
        .into_iter()
        .take(MAX_VIOLATIONS)
        .map(|v| violation(v.field, v.description))
        .collect();
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
    invalid_argument(vec![violation(field, description)])
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
    fn echoed_input_is_short_and_printable() {
        let huge = "x".repeat(20_000);
        let status = invalid_field("filter", format!("`{huge}` is not valid"));
        assert!(status.message().len() < 2 * MAX_DESCRIPTION_CHARS + 16);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request details");
        assert!(bad.field_violations[0].description.chars().count() <= MAX_DESCRIPTION_CHARS);
        let status = invalid_argument(
            (0..1000)
                .map(|i| FieldViolation::new(format!("f{i}"), "bad"))
                .collect(),
        );
        let details = status.get_error_details();
        assert_eq!(
            details.bad_request().expect("bad").field_violations.len(),
            MAX_VIOLATIONS
        );
        assert_eq!(quote("a\u{0}b"), "a\\u{0}b");
        assert_eq!(quote(&huge).chars().count(), MAX_QUOTED_CHARS + 1);
        assert_eq!(clamp("abc", 3), "abc");
        assert_eq!(clamp("abcd", 3), "ab…");
        assert_eq!(clamp("ééé", 2), "é…");
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
