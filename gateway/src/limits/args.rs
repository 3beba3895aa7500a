//! The rate-limit flags and the token buckets they describe: one per principal, and a ceiling
//! several times higher per tenant.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;

const DEFAULT_PRINCIPAL_RATE: f64 = 50.0;
const DEFAULT_PRINCIPAL_BURST: u32 = 100;
const DEFAULT_TENANT_RATE: f64 = 250.0;
const DEFAULT_TENANT_BURST: u32 = 500;

/// The rate-limit settings.
#[derive(Clone, Debug, clap::Args)]
pub struct LimitArgs {
    /// Sustained requests per second each principal may make: a signed-in user, the operator,
    /// or a client address for calls without a valid token.
    #[arg(
        long,
        env = "MTM_PRINCIPAL_RATE_LIMIT",
        default_value_t = DEFAULT_PRINCIPAL_RATE,
        value_parser = positive_rate
    )]
    pub principal_rate_limit: f64,

    /// Requests a principal may make at once above its sustained rate (its bucket's size).
    #[arg(
        long,
        env = "MTM_PRINCIPAL_RATE_BURST",
        default_value_t = DEFAULT_PRINCIPAL_BURST,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub principal_rate_burst: u32,

    /// Sustained requests per second all users of one tenant may make together: a ceiling over
    /// its principals' own limits.
    #[arg(
        long,
        env = "MTM_TENANT_RATE_LIMIT",
        default_value_t = DEFAULT_TENANT_RATE,
        value_parser = positive_rate
    )]
    pub tenant_rate_limit: f64,

    /// Requests all users of one tenant may make at once above the tenant's sustained rate.
    #[arg(
        long,
        env = "MTM_TENANT_RATE_BURST",
        default_value_t = DEFAULT_TENANT_BURST,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub tenant_rate_burst: u32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            principal_rate_limit: DEFAULT_PRINCIPAL_RATE,
            principal_rate_burst: DEFAULT_PRINCIPAL_BURST,
            tenant_rate_limit: DEFAULT_TENANT_RATE,
            tenant_rate_burst: DEFAULT_TENANT_BURST,
        }
    }
}

impl LimitArgs {
    /// The bucket of each principal.
    pub(super) fn principal_quota(&self) -> Quota {
        quota(self.principal_rate_limit, self.principal_rate_burst)
    }

    /// The bucket of each tenant.
    pub(super) fn tenant_quota(&self) -> Quota {
        quota(self.tenant_rate_limit, self.tenant_rate_burst)
    }
}

fn quota(per_second: f64, burst: u32) -> Quota {
    let period = Duration::from_secs_f64(1.0 / per_second.clamp(0.001, 1e6));
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

fn positive_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("{text} is not a number"))?;
    if rate.is_finite() && (0.001..=1_000_000.0).contains(&rate) {
        Ok(rate)
    } else {
        Err("must be between 0.001 and 1000000 requests per second".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn rates_must_be_positive_and_finite() {
        assert_eq!(positive_rate("2.5"), Ok(2.5));
        assert!(positive_rate("0").is_err());
        assert!(positive_rate("-1").is_err());
        assert!(positive_rate("NaN").is_err());
        assert!(positive_rate("fast").is_err());
    }

    #[test]
    fn the_flags_default_to_a_tenant_ceiling_five_times_a_principals_limit() {
        let limits = Flags::parse_from(["gateway"]).limits;
        let defaults = LimitArgs::default();
        assert_eq!(limits.principal_rate_limit, defaults.principal_rate_limit);
        assert_eq!(limits.principal_rate_burst, defaults.principal_rate_burst);
        assert_eq!(
            limits.tenant_rate_limit,
            5.0 * defaults.principal_rate_limit
        );
        assert_eq!(limits.tenant_rate_burst, 5 * defaults.principal_rate_burst);
    }

    #[test]
    fn a_burst_of_zero_is_refused() {
        assert!(Flags::try_parse_from(["gateway", "--principal-rate-burst", "0"]).is_err());
        assert!(Flags::try_parse_from(["gateway", "--tenant-rate-burst", "0"]).is_err());
    }
}
