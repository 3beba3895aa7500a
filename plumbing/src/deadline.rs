//! Deadline propagation: while a server handles a request whose caller set a deadline
//! (`grpc-timeout`), every call it makes to another service from the same task is given at
//! most the time that remains, and is not made at all once it has run out. Work spawned on
//! other tasks does not inherit the deadline.

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::task::futures::TaskLocalFuture;

tokio::task_local! {
    static DEADLINE: Option<Instant>;
}

/// The metadata key of a gRPC deadline.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Parses a `grpc-timeout` value (`100m`, `5S`, ...).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The time left before the deadline of the request this task is handling, if its caller set
/// one (zero once it has passed).
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| *deadline)
        .ok()
        .flatten()
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// Gives an outgoing call at most the time that remains of the incoming request's deadline;
/// DEADLINE_EXCEEDED without calling once none remains.
pub fn limit<T>(request: &mut tonic::Request<T>) -> Result<(), tonic::Status> {
    let Some(remaining) = remaining() else {
        return Ok(());
    };
    if remaining.is_zero() {
        return Err(tonic::Status::deadline_exceeded(
            "the caller's deadline passed before this call was made",
        ));
    }
    if timeout_of(request).is_none_or(|own| remaining < own) {
        request.set_timeout(remaining);
    }
    Ok(())
}

/// The deadline a request already carries.
fn timeout_of<T>(request: &tonic::Request<T>) -> Option<Duration> {
    request
        .metadata()
        .get(GRPC_TIMEOUT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
}

/// Server layer: handles each request inside the scope of its caller's deadline.
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateDeadlineLayer;

impl<S> tower::Layer<S> for PropagateDeadlineLayer {
    type Service = PropagateDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PropagateDeadline { inner }
    }
}

/// See [`PropagateDeadlineLayer`].
#[derive(Clone, Debug)]
pub struct PropagateDeadline<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for PropagateDeadline<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<Option<Instant>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let deadline = request
            .headers()
            .get(GRPC_TIMEOUT)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .and_then(|timeout| Instant::now().checked_add(timeout));
        DEADLINE.scope(deadline, self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        for bad in ["x", "", "S", "123456789S", "-1S", "1s"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn outside_a_request_calls_keep_their_own_timeout() {
        let mut request = tonic::Request::new(());
        request.set_timeout(Duration::from_secs(3));
        limit(&mut request).expect("no deadline to enforce");
        assert_eq!(remaining(), None);
        assert_eq!(timeout_of(&request), Some(Duration::from_secs(3)));
    }

    #[tokio::test]
    async fn calls_get_at_most_what_remains_of_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(2);
        DEADLINE
            .scope(Some(deadline), async {
                let mut long = tonic::Request::new(());
                long.set_timeout(Duration::from_secs(30));
                limit(&mut long).expect("time remains");
                let given = timeout_of(&long).expect("a timeout");
                assert!(given <= Duration::from_secs(2), "{given:?}");

                let mut short = tonic::Request::new(());
                short.set_timeout(Duration::from_millis(100));
                limit(&mut short).expect("time remains");
                assert_eq!(timeout_of(&short), Some(Duration::from_millis(100)));
            })
            .await;
    }

    #[tokio::test]
    async fn no_call_is_made_after_the_deadline() {
        DEADLINE
            .scope(Some(Instant::now()), async {
                let status = limit(&mut tonic::Request::new(())).expect_err("deadline passed");
                assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
            })
            .await;
    }

    #[tokio::test]
    async fn the_server_layer_scopes_each_request_to_its_callers_deadline() {
        use tower::{Layer, Service, ServiceExt};

        let inner = tower::service_fn(|_: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(remaining())
        });
        let mut service = PropagateDeadlineLayer.layer(inner);
        let with_deadline = http::Request::builder()
            .header(GRPC_TIMEOUT, "2S")
            .body(())
            .expect("request");
        let seen = service
            .ready()
            .await
            .expect("ready")
            .call(with_deadline)
            .await
            .expect("infallible")
            .expect("a deadline");
        assert!(
            seen <= Duration::from_secs(2) && seen > Duration::from_secs(1),
            "{seen:?}"
        );

        let without = http::Request::new(());
        let seen = service.ready().await.expect("ready").call(without).await;
        assert_eq!(seen.expect("infallible"), None);
    }
}
