//! The answer to a call over a limit: RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` saying
//! when the bucket that refused it next has a token, and an `ErrorInfo` (reason
//! `RATE_LIMITED`, domain `mtm`) whose `scope` names that bucket.

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `google.rpc.ErrorInfo` reason of a refusal.
const REASON: &str = "RATE_LIMITED";

/// The bucket that refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// The signed-in user's (or the operator's) own bucket.
    Principal,
    /// The bucket of a client address, for calls without a valid token.
    Address,
    /// The bucket all users of the caller's home tenant share.
    Tenant,
}

impl Scope {
    /// The `scope` in the `ErrorInfo` metadata.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Principal => "principal",
            Self::Address => "address",
            Self::Tenant => "tenant",
        }
    }

    fn whose(self) -> &'static str {
        match self {
            Self::Principal => "the caller's",
            Self::Address => "this client address's",
            Self::Tenant => "the tenant's (all its users together)",
        }
    }
}

/// A call refused by the bucket of `scope`, which has a token again after `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Refusal {
    pub scope: Scope,
    pub wait: Duration,
}

impl Refusal {
    /// The status the caller gets. The delay is at least a millisecond, never zero.
    pub(super) fn status(&self) -> Status {
        let wait = self.wait.max(Duration::from_millis(1));
        let mut details = ErrorDetails::with_retry_info(Some(wait));
        details.set_error_info(
            REASON,
            "mtm",
            HashMap::from([("scope".to_owned(), self.scope.as_str().to_owned())]),
        );
        Status::with_error_details(
            Code::ResourceExhausted,
            format!(
                "{} request rate limit is reached; retry in {} ms",
                self.scope.whose(),
                wait.as_millis()
            ),
            details,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_retry_info_and_the_scope() {
        let status = Refusal {
            scope: Scope::Tenant,
            wait: Duration::from_millis(1500),
        }
        .status();
        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = status.get_error_details();
        let retry = details.retry_info().expect("retry info");
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(1500)));
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, REASON);
        assert_eq!(
            info.metadata.get("scope").map(String::as_str),
            Some("tenant")
        );
    }

    #[test]
    fn a_zero_wait_is_answered_as_one_millisecond() {
        let status = Refusal {
            scope: Scope::Principal,
            wait: Duration::ZERO,
        }
        .status();
        let retry = status.get_error_details().retry_info().cloned();
        assert_eq!(
            retry.and_then(|r| r.retry_delay),
            Some(Duration::from_millis(1))
        );
    }
}
