//! Sign-in failure limiting per UPN, in memory (per replica): after `max_failures` failed
//! attempts within `window`, further attempts for that UPN are refused until the window since
//! the first counted failure has passed. A successful sign-in clears the count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts failed sign-ins per lower-cased UPN.
#[derive(Clone)]
pub struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    entries: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl FailureLimiter {
    /// At most `max_failures` failures per `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            entries: Arc::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u32)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `upn` may try now.
    pub fn allowed(&self, upn: &str) -> bool {
        let mut entries = self.entries();
        match entries.get(upn) {
            Some((since, _)) if since.elapsed() >= self.window => {
                entries.remove(upn);
                true
            }
            Some((_, count)) => *count < self.max_failures,
            None => true,
        }
    }

    /// Records a failed attempt.
    pub fn failed(&self, upn: &str) {
        let mut entries = self.entries();
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (since, _)| since.elapsed() < window);
        }
        let entry = entries.entry(upn.to_owned()).or_insert((Instant::now(), 0));
        entry.1 = entry.1.saturating_add(1);
    }

    /// Clears the count after a successful sign-in.
    pub fn succeeded(&self, upn: &str) {
        self.entries().remove(upn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_and_forgets_on_success() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(3600));
        assert!(limiter.allowed("a@b.com"));
        limiter.failed("a@b.com");
        assert!(limiter.allowed("a@b.com"));
        limiter.failed("a@b.com");
        assert!(!limiter.allowed("a@b.com"));
        assert!(limiter.allowed("other@b.com"));
        limiter.succeeded("a@b.com");
        assert!(limiter.allowed("a@b.com"));
    }

    #[test]
    fn the_window_ends_the_refusal() {
        let limiter = FailureLimiter::new(1, Duration::ZERO);
        limiter.failed("a@b.com");
        assert!(limiter.allowed("a@b.com"));
    }
}
