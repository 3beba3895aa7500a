//! Sign-in guess limiting, in memory (per replica), per (account, source) with exponential
//! backoff, plus a wider ceiling per account over all sources.
//!
//! An attempt *reserves* its guess before the password is verified and settles it after: a
//! success clears its (account, source) count, anything else counts as a failure. A bucket
//! admits a reservation only while `failures + in flight < limit`, so however many attempts
//! arrive at once, at most `limit` guesses per bucket are verified. Reaching the limit blocks
//! the bucket for the lockout window, doubling with each further lockout in a row up to
//! [`MAX_BACKOFF_FACTOR`] windows. The limit is per source, so guesses from one address do not
//! lock the real user out from another; the account-wide ceiling ([`ACCOUNT_FACTOR`] times the
//! per-source limit, same backoff) bounds guesses spread over many sources.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The account-wide limit, as a multiple of the per-source limit.
pub const ACCOUNT_FACTOR: u32 = 10;

/// The longest block, as a multiple of the lockout window.
pub const MAX_BACKOFF_FACTOR: u32 = 64;

/// Entries kept before idle ones are pruned.
const PRUNE_ABOVE: usize = 100_000;

/// A bucket's key: the account (lower-cased UPN or operator name) and, for the per-source
/// bucket, the source.
type Key = (String, Option<String>);

/// Counts sign-in guesses per (account, source) and per account.
#[derive(Clone)]
pub struct SignInLimiter {
    per_source: u32,
    window: Duration,
    buckets: Arc<Mutex<HashMap<Key, Bucket>>>,
}

/// One bucket's state.
#[derive(Debug, Default)]
struct Bucket {
    /// Start of the current counting window (the first failure in it).
    since: Option<Instant>,
    /// Failures counted in the window.
    failures: u32,
    /// Reserved attempts not settled yet.
    in_flight: u32,
    /// Lockouts in a row: the backoff exponent.
    strikes: u32,
    /// Refused until then.
    blocked_until: Option<Instant>,
    /// Last reservation or settlement, for pruning.
    touched: Option<Instant>,
}

/// A reserved guess; settle it with [`Attempt::succeeded`], otherwise it counts as a failure
/// (also when dropped, for example when the client goes away during the verification).
pub struct Attempt {
    limiter: SignInLimiter,
    account: String,
    source: String,
    settled: bool,
}

impl SignInLimiter {
    /// At most `per_source` failed guesses per (account, source) per `window`.
    pub fn new(per_source: u32, window: Duration) -> Self {
        Self {
            per_source: per_source.max(1),
            window,
            buckets: Arc::default(),
        }
    }

    fn buckets(&self) -> MutexGuard<'_, HashMap<Key, Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn keys(account: &str, source: &str) -> [(Key, bool); 2] {
        [
            ((account.to_owned(), Some(source.to_owned())), false),
            ((account.to_owned(), None), true),
        ]
    }

    fn limit(&self, account_wide: bool) -> u32 {
        if account_wide {
            self.per_source.saturating_mul(ACCOUNT_FACTOR)
        } else {
            self.per_source
        }
    }

    /// Reserves one guess for `account` from `source`, or says how long to wait.
    pub fn reserve(&self, account: &str, source: &str) -> Result<Attempt, Duration> {
        self.reserve_at(account, source, Instant::now())
    }

    fn reserve_at(&self, account: &str, source: &str, now: Instant) -> Result<Attempt, Duration> {
        let mut buckets = self.buckets();
        if buckets.len() > PRUNE_ABOVE {
            let idle = self.window.saturating_mul(MAX_BACKOFF_FACTOR);
            buckets.retain(|_, b| b.in_flight > 0 || b.touched.is_none_or(|t| now - t < idle));
        }
        let mut wait = Duration::ZERO;
        for (key, account_wide) in Self::keys(account, source) {
            let limit = self.limit(account_wide);
            if let Some(bucket) = buckets.get_mut(&key)
                && let Err(w) = bucket.admit(now, limit, self.window)
            {
                wait = wait.max(w);
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, _) in Self::keys(account, source) {
            let bucket = buckets.entry(key).or_default();
            bucket.in_flight += 1;
            bucket.touched = Some(now);
        }
        Ok(Attempt {
            limiter: self.clone(),
            account: account.to_owned(),
            source: source.to_owned(),
            settled: false,
        })
    }

    fn settle(&self, account: &str, source: &str, success: bool, now: Instant) {
        let mut buckets = self.buckets();
        for (key, account_wide) in Self::keys(account, source) {
            let limit = self.limit(account_wide);
            let Some(bucket) = buckets.get_mut(&key) else {
                continue;
            };
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
            bucket.touched = Some(now);
            if success {
                if !account_wide && bucket.in_flight == 0 {
                    buckets.remove(&key);
                }
            } else {
                bucket.fail(now, limit, self.window);
            }
        }
    }
}

impl Bucket {
    /// Whether one more reservation fits; otherwise how long until it may.
    fn admit(&mut self, now: Instant, limit: u32, window: Duration) -> Result<(), Duration> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(until - now);
            }
            self.blocked_until = None;
        }
        if self.since.is_some_and(|since| now - since >= window) {
            self.since = None;
            self.failures = 0;
        }
        if self.failures.saturating_add(self.in_flight) >= limit {
            let end = self.since.map_or(window, |since| since + window - now);
            return Err(end.max(Duration::from_secs(1)));
        }
        Ok(())
    }

    fn fail(&mut self, now: Instant, limit: u32, window: Duration) {
        if self.since.is_none_or(|since| now - since >= window) {
            self.since = Some(now);
            self.failures = 0;
        }
        self.failures += 1;
        if self.failures >= limit {
            self.strikes = self.strikes.saturating_add(1);
            let factor = 1u32
                .checked_shl(self.strikes - 1)
                .unwrap_or(u32::MAX)
                .min(MAX_BACKOFF_FACTOR);
            self.blocked_until = Some(now + window.saturating_mul(factor));
            crate::metrics::lockout();
            self.since = None;
            self.failures = 0;
        }
    }
}

impl Attempt {
    /// The guess was right: the (account, source) count and backoff are cleared.
    pub fn succeeded(self) {
        self.settle_at(true, Instant::now());
    }

    /// The guess was wrong.
    pub fn failed(self) {
        self.settle_at(false, Instant::now());
    }

    fn settle_at(mut self, success: bool, now: Instant) {
        self.settled = true;
        self.limiter
            .settle(&self.account, &self.source, success, now);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            self.limiter
                .settle(&self.account, &self.source, false, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests;
