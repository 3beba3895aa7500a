//! Rate limits on every public call, so that one user's burst does not throttle their
//! colleagues and one tenant cannot starve the others: each principal has a token bucket of its
//! own (a signed-in user or the operator, taken from the bearer token admission verified; a
//! client address for calls without a valid token), and all users of one tenant share a
//! ceiling several times higher. Every public call counts, the gateway's own services included;
//! health checks do not. Over a limit is RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` saying
//! when to retry and an `ErrorInfo` (`RATE_LIMITED`) naming the bucket that refused.

mod args;
mod buckets;
mod keys;
mod refusal;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;

pub use args::LimitArgs;
use buckets::Buckets;
use keys::Keys;

/// Requests that are never limited (the standard health service).
const EXEMPT_PREFIX: &str = "/grpc.health.v1.Health/";

/// Limits every request by its principal and its principal's home tenant.
#[derive(Clone)]
pub struct RateLimitLayer {
    buckets: Arc<Buckets>,
}

impl RateLimitLayer {
    /// Buckets as `settings` say. Full buckets are dropped every minute for as long as the
    /// layer lives.
    pub fn new(settings: &LimitArgs) -> Self {
        let buckets = Arc::new(Buckets::new(settings));
        tokio::spawn(Buckets::sweep_while_alive(Arc::downgrade(&buckets)));
        Self { buckets }
    }
}

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            buckets: self.buckets.clone(),
        }
    }
}

/// The service of [`RateLimitLayer`].
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    buckets: Arc<Buckets>,
}

impl<S> tower::Service<http::Request<Body>> for RateLimit<S>
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
        let buckets = self.buckets.clone();
        Box::pin(async move {
            if request.uri().path().starts_with(EXEMPT_PREFIX) {
                return inner.call(request).await;
            }
            let keys = Keys::of(&request);
            match buckets.admit(&keys) {
                Ok(()) => inner.call(request).await,
                Err(refusal) => {
                    tracing::info!(
                        scope = refusal.scope.as_str(),
                        principal = %keys.principal,
                        tenant = keys.tenant.as_deref().unwrap_or_default(),
                        wait_ms = refusal.wait.as_millis(),
                        "rate limited"
                    );
                    crate::metrics::rate_limited(refusal.scope.as_str());
                    Ok(refusal.status().into_http())
                }
            }
        })
    }
}
