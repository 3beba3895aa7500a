//! What the caller learns when another service refuses a call made on its behalf.
//!
//! The other service judged the caller's request, so its verdict reaches the caller with the
//! same code: INVALID_ARGUMENT (with the field violations renamed to the caller's fields),
//! NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED, OUT_OF_RANGE and
//! RESOURCE_EXHAUSTED keep their code, message and details. UNAVAILABLE, DEADLINE_EXCEEDED and
//! CANCELLED say which service did not answer. Everything else (INTERNAL, UNKNOWN, DATA_LOSS,
//! UNIMPLEMENTED, and PERMISSION_DENIED or UNAUTHENTICATED, which mean this service's own
//! identity was refused) is a fault of the suite: logged, and INTERNAL for the caller.

use tonic::{Code, Status};
use tonic_types::{FieldViolation, StatusExt};

use super::Error;

/// The status the caller gets for `status` from `service`; `fields` renames the other
/// service's request fields to the caller's (see [`Error::upstream_as`]).
pub fn status(service: &'static str, status: Status, fields: &[(String, String)]) -> Status {
    match status.code() {
        Code::InvalidArgument => invalid(&status, fields),
        Code::NotFound
        | Code::FailedPrecondition
        | Code::AlreadyExists
        | Code::Aborted
        | Code::OutOfRange
        | Code::ResourceExhausted => Status::with_details(
            status.code(),
            status.message(),
            status.details().to_vec().into(),
        ),
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            tracing::warn!(service, status = %status, "a service did not answer");
            Status::new(status.code(), format!("{service} is not available"))
        }
        _ => mtm_plumbing::status::internal(&Error::Upstream {
            service,
            status,
            fields: fields.to_vec(),
        }),
    }
}

/// INVALID_ARGUMENT naming the caller's fields.
fn invalid(status: &Status, fields: &[(String, String)]) -> Status {
    let violations: Vec<FieldViolation> = match status.get_details_bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => bad
            .field_violations
            .into_iter()
            .map(|v| FieldViolation::new(rename(&v.field, fields), v.description))
            .collect(),
        _ => match fields.first() {
            Some((_, ours)) => vec![FieldViolation::new(ours.clone(), status.message())],
            None => return Status::invalid_argument(status.message()),
        },
    };
    mtm_plumbing::status::invalid_argument(violations)
}

/// `field` of the other service's request as a field of the caller's request.
fn rename(field: &str, fields: &[(String, String)]) -> String {
    for (theirs, ours) in fields {
        if let Some(rest) = field.strip_prefix(theirs.as_str())
            && (rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
        {
            return format!("{ours}{rest}");
        }
    }
    match fields.first() {
        Some((_, ours)) => ours.clone(),
        None => field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn violated(status: &Status) -> Vec<String> {
        status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn invalid_arguments_name_the_callers_fields() {
        let fields = map(&[("domain_name", "partner_domain"), ("upns", "invited_upns")]);
        let theirs = mtm_plumbing::status::invalid_argument(vec![
            FieldViolation::new("domain_name", "must be a DNS name"),
            FieldViolation::new("upns[2]", "must be a UPN"),
            FieldViolation::new("upnsx", "other"),
        ]);
        let ours = status("identity-svc", theirs, &fields);
        assert_eq!(ours.code(), Code::InvalidArgument);
        assert_eq!(
            violated(&ours),
            ["partner_domain", "invited_upns[2]", "partner_domain"]
        );
        assert!(
            ours.message()
                .contains("partner_domain: must be a DNS name")
        );
        let bare = status(
            "identity-svc",
            Status::invalid_argument("bad domain"),
            &fields,
        );
        assert_eq!(violated(&bare), ["partner_domain"]);
        let unmapped = status("rbac-svc", Status::invalid_argument("bad"), &[]);
        assert_eq!(unmapped.code(), Code::InvalidArgument);
    }

    #[test]
    fn every_code_has_its_answer_and_none_a_client_can_cause_is_internal() {
        for code in [
            Code::NotFound,
            Code::FailedPrecondition,
            Code::AlreadyExists,
            Code::Aborted,
            Code::OutOfRange,
            Code::ResourceExhausted,
            Code::InvalidArgument,
        ] {
            let ours = status("rooms-svc", Status::new(code, "theirs"), &[]);
            assert_eq!(ours.code(), code);
            assert!(ours.message().contains("theirs"));
        }
        for code in [Code::Unavailable, Code::DeadlineExceeded, Code::Cancelled] {
            let ours = status("rooms-svc", Status::new(code, "secret cause"), &[]);
            assert_eq!(ours.code(), code);
            assert_eq!(ours.message(), "rooms-svc is not available");
        }
        for code in [
            Code::Internal,
            Code::Unknown,
            Code::DataLoss,
            Code::Unimplemented,
            Code::PermissionDenied,
            Code::Unauthenticated,
        ] {
            let ours = status("rbac-svc", Status::new(code, "secret cause"), &[]);
            assert_eq!(ours.code(), Code::Internal);
            assert!(!ours.message().contains("secret"));
        }
    }
}
