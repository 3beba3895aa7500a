//! identity-svc's own series, next to the per-method RPC ones every service has: password
//! sign-ins by result (success, failure, throttled, error) and lockouts begun.

use std::sync::OnceLock;

use mtm_plumbing::metrics::{self, Counter, KeyValue};

use crate::error::Error;

fn counter(name: &'static str, unit: &'static str, description: &'static str) -> Counter<u64> {
    metrics::meter("identity-svc")
        .u64_counter(name)
        .with_unit(unit)
        .with_description(description)
        .build()
}

/// Counts one password sign-in by its outcome.
pub fn sign_in<T>(outcome: &Result<T, Error>) {
    static SIGN_INS: OnceLock<Counter<u64>> = OnceLock::new();
    let result = match outcome {
        Ok(_) => "success",
        Err(Error::Unauthenticated) => "failure",
        Err(Error::ResourceExhausted(_)) => "throttled",
        Err(_) => "error",
    };
    SIGN_INS
        .get_or_init(|| {
            counter(
                "mtm.identity.sign_ins",
                "{sign_in}",
                "Password sign-ins by result (success, failure, throttled, error)",
            )
        })
        .add(1, &[KeyValue::new("result", result)]);
}

/// Counts one lockout: an (account, source) pair blocked after too many failed guesses.
pub fn lockout() {
    static LOCKOUTS: OnceLock<Counter<u64>> = OnceLock::new();
    LOCKOUTS
        .get_or_init(|| {
            counter(
                "mtm.identity.lockouts",
                "{lockout}",
                "Lockouts begun after too many failed sign-ins for one account from one source",
            )
        })
        .add(1, &[]);
}
