//! The token buckets (GCRA, from `governor`) every call draws on: its principal's first, then
//! its home tenant's. A call its principal's bucket refuses takes nothing from the tenant's, so
//! one user's burst cannot use up the ceiling their colleagues share; a call the tenant's bucket
//! refuses has still taken its principal's token. Buckets that have filled up again are dropped
//! every minute, so memory follows the callers active in the last minute or so.

use std::sync::Weak;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, NotUntil, RateLimiter};

use super::LimitArgs;
use super::keys::{Keys, PrincipalKey};
use super::refusal::{Refusal, Scope};

/// How often full buckets are dropped.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Every principal's and every tenant's bucket.
pub(super) struct Buckets {
    principals: DefaultKeyedRateLimiter<PrincipalKey>,
    tenants: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Buckets {
    /// Empty buckets as `settings` say.
    pub(super) fn new(settings: &LimitArgs) -> Self {
        Self {
            principals: RateLimiter::keyed(settings.principal_quota()),
            tenants: RateLimiter::keyed(settings.tenant_quota()),
            clock: DefaultClock::default(),
        }
    }

    /// Takes a token from each bucket of `keys`, or says which bucket refused and for how long.
    pub(super) fn admit(&self, keys: &Keys) -> Result<(), Refusal> {
        self.principals.check_key(&keys.principal).map_err(|not| {
            let scope = match keys.principal {
                PrincipalKey::User(_) => Scope::Principal,
                PrincipalKey::Address(_) => Scope::Address,
            };
            self.refusal(scope, &not)
        })?;
        match &keys.tenant {
            Some(tenant) => self
                .tenants
                .check_key(tenant)
                .map_err(|not| self.refusal(Scope::Tenant, &not)),
            None => Ok(()),
        }
    }

    fn refusal(
        &self,
        scope: Scope,
        not_until: &NotUntil<<DefaultClock as Clock>::Instant>,
    ) -> Refusal {
        Refusal {
            scope,
            wait: not_until.wait_time_from(self.clock.now()),
        }
    }

    /// Drops the buckets that are full again.
    fn sweep(&self) {
        self.principals.retain_recent();
        self.principals.shrink_to_fit();
        self.tenants.retain_recent();
        self.tenants.shrink_to_fit();
    }

    /// Sweeps `buckets` every minute for as long as they live.
    pub(super) async fn sweep_while_alive(buckets: Weak<Self>) {
        let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(buckets) = buckets.upgrade() else {
                return;
            };
            buckets.sweep();
        }
    }

    /// How many buckets are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.principals.len() + self.tenants.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(principal_burst: u32, tenant_burst: u32) -> LimitArgs {
        LimitArgs {
            principal_rate_limit: 0.01,
            principal_rate_burst: principal_burst,
            tenant_rate_limit: 0.01,
            tenant_rate_burst: tenant_burst,
        }
    }

    fn user(tenant: &str, user: &str) -> Keys {
        Keys {
            principal: PrincipalKey::User(format!("tenants/{tenant}/users/{user}")),
            tenant: Some(format!("tenants/{tenant}")),
        }
    }

    #[test]
    fn a_principals_refused_calls_take_nothing_from_its_tenant() {
        let buckets = Buckets::new(&settings(2, 3));
        let busy = user("a", "busy");
        buckets.admit(&busy).expect("first");
        buckets.admit(&busy).expect("second");
        for _ in 0..10 {
            let refused = buckets
                .admit(&busy)
                .expect_err("over the principal's burst");
            assert_eq!(refused.scope, Scope::Principal);
            assert!(refused.wait > Duration::from_secs(1), "{refused:?}");
        }
        buckets
            .admit(&user("a", "colleague"))
            .expect("the tenant's third token");
    }

    #[test]
    fn the_tenant_ceiling_holds_across_principals() {
        let buckets = Buckets::new(&settings(2, 3));
        buckets.admit(&user("a", "one")).expect("one");
        buckets.admit(&user("a", "two")).expect("two");
        buckets.admit(&user("a", "three")).expect("three");
        let refused = buckets
            .admit(&user("a", "four"))
            .expect_err("over the ceiling");
        assert_eq!(refused.scope, Scope::Tenant);
        assert!(refused.wait > Duration::from_secs(1), "{refused:?}");
        buckets.admit(&user("b", "one")).expect("another tenant");
    }

    #[test]
    fn the_operator_and_addresses_have_only_their_own_bucket() {
        let buckets = Buckets::new(&settings(1, 1));
        let operator = Keys {
            principal: PrincipalKey::User("operator".to_owned()),
            tenant: None,
        };
        let address = Keys {
            principal: PrincipalKey::Address(Some([127, 0, 0, 1].into())),
            tenant: None,
        };
        buckets.admit(&operator).expect("operator");
        buckets.admit(&address).expect("address");
        let refused = buckets
            .admit(&address)
            .expect_err("over the address's burst");
        assert_eq!(refused.scope, Scope::Address);
    }

    #[test]
    fn full_buckets_are_dropped() {
        let buckets = Buckets::new(&LimitArgs {
            principal_rate_limit: 1e6,
            principal_rate_burst: 1,
            tenant_rate_limit: 1e6,
            tenant_rate_burst: 1,
        });
        buckets.admit(&user("a", "one")).expect("admitted");
        assert_eq!(buckets.len(), 2);
        std::thread::sleep(Duration::from_millis(5));
        buckets.sweep();
        assert_eq!(buckets.len(), 0);
    }
}
