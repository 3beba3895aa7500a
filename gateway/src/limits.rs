//! Per-tenant rate limits, so one partner cannot starve the others: a token bucket (GCRA, from
//! `governor`) per caller's home tenant, taken from its bearer token as admission verified it
//! (`admission::Authenticated` in the request's extensions); calls without a
//! valid token share a bucket per client address. Every public call counts, the gateway's own
//! services included; health checks do not. Over the limit is RESOURCE_EXHAUSTED with a
//! `google.rpc.RetryInfo` saying when to retry.

use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tonic::body::Body;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::admission::Authenticated;
use crate::forward::client_address::connection_ip;

/// How often buckets of idle callers are dropped.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Requests that are never limited (the standard health service).
const EXEMPT_PREFIX: &str = "/grpc.health.v1.Health/";

/// The rate-limit settings.
#[derive(Clone, Debug, clap::Args)]
pub struct LimitArgs {
    /// Sustained requests per second each tenant may make (calls without a valid token: each
    /// client address).
    #[arg(
        long,
        env = "MTM_TENANT_RATE_LIMIT",
        default_value_t = 50.0,
        value_parser = positive_rate
    )]
    pub tenant_rate_limit: f64,

    /// Requests a tenant may make at once above the sustained rate (the bucket's size).
    #[arg(
        long,
        env = "MTM_TENANT_RATE_BURST",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub tenant_rate_burst: u32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            tenant_rate_limit: 50.0,
            tenant_rate_burst: 100,
        }
    }
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

impl LimitArgs {
    /// The bucket every caller gets.
    fn quota(&self) -> Quota {
        let period = Duration::from_secs_f64(1.0 / self.tenant_rate_limit.clamp(0.001, 1e6));
        let burst = NonZeroU32::new(self.tenant_rate_burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// Limits every request by its caller's tenant.
#[derive(Clone)]
pub struct TenantLimitLayer {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl TenantLimitLayer {
    /// Buckets as `settings` say. Idle buckets are dropped every minute for as long as the
    /// layer lives.
    pub fn new(settings: &LimitArgs) -> Self {
        let limiter = Arc::new(RateLimiter::keyed(settings.quota()));
        tokio::spawn(sweep(Arc::downgrade(&limiter)));
        Self { limiter }
    }
}

async fn sweep(limiter: Weak<DefaultKeyedRateLimiter<String>>) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(limiter) = limiter.upgrade() else {
            return;
        };
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
}

impl<S> tower::Layer<S> for TenantLimitLayer {
    type Service = TenantLimit<S>;

    fn layer(&self, inner: S) -> TenantLimit<S> {
        TenantLimit {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`TenantLimitLayer`].
#[derive(Clone)]
pub struct TenantLimit<S> {
    inner: S,
    layer: TenantLimitLayer,
}

/// The bucket of a request: its verified token's home tenant (`operator` for the operator),
/// or its client address.
fn key_of(request: &http::Request<Body>) -> String {
    if let Some(claims) = request
        .extensions()
        .get::<Authenticated>()
        .and_then(|a| a.claims().ok())
    {
        return if claims.operator {
            "operator".to_owned()
        } else {
            claims.tid.clone()
        };
    }
    match remote_ip(request) {
        Some(ip) => format!("address:{ip}"),
        None => "address:unknown".to_owned(),
    }
}

fn remote_ip(request: &http::Request<Body>) -> Option<IpAddr> {
    let extensions = request.extensions();
    connection_ip(extensions.get(), extensions.get())
}

/// RESOURCE_EXHAUSTED telling the caller to retry after `wait`.
fn exhausted(wait: Duration) -> Status {
    Status::with_error_details(
        Code::ResourceExhausted,
        format!(
            "the tenant's request rate limit is reached; retry in {} ms",
            wait.as_millis().max(1)
        ),
        ErrorDetails::with_retry_info(Some(wait)),
    )
}

impl<S> tower::Service<http::Request<Body>> for TenantLimit<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let layer = self.layer.clone();
        Box::pin(async move {
            if request.uri().path().starts_with(EXEMPT_PREFIX) {
                return inner.call(request).await;
            }
            let key = key_of(&request);
            match layer.limiter.check_key(&key) {
                Ok(()) => inner.call(request).await,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(layer.limiter.clock().now());
                    tracing::info!(bucket = %key, wait_ms = wait.as_millis(), "rate limited");
                    Ok(exhausted(wait).into_http())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_must_be_positive_and_finite() {
        assert_eq!(positive_rate("2.5"), Ok(2.5));
        assert!(positive_rate("0").is_err());
        assert!(positive_rate("-1").is_err());
        assert!(positive_rate("NaN").is_err());
        assert!(positive_rate("fast").is_err());
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_a_wait() {
        let settings = LimitArgs {
            tenant_rate_limit: 0.01,
            tenant_rate_burst: 2,
        };
        let limiter: DefaultKeyedRateLimiter<String> = RateLimiter::keyed(settings.quota());
        let a = "tenants/a".to_owned();
        assert!(limiter.check_key(&a).is_ok());
        assert!(limiter.check_key(&a).is_ok());
        let refused = limiter.check_key(&a).expect_err("over the burst");
        assert!(refused.wait_time_from(limiter.clock().now()) > Duration::from_secs(1));
        assert!(limiter.check_key(&"tenants/b".to_owned()).is_ok());
    }

    #[test]
    fn refusals_carry_retry_info() {
        let status = exhausted(Duration::from_millis(1500));
        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = status.get_error_details();
        let retry = details.retry_info().expect("retry info");
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(1500)));
    }
}
