//! What every page token of a request is bound to besides its list's own fields: the gRPC
//! method and the caller. A server layer records both for the request it handles, so no list
//! can forget them.
//!
//! The caller is the principal's user from the gateway's call context on a backend (behind
//! the peer allow-list), and the `sub` of the bearer token on the public gateway; it is empty
//! for anonymous calls. Trusting the bearer token's unverified `sub` here is sound: a token is
//! only ever issued in an answer to a request that authenticated with that same token.

use std::task::{Context, Poll};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;
use tokio::task::futures::TaskLocalFuture;

use crate::context::CALL_CONTEXT_KEY;

/// Binary metadata is standard base64, padded or not.
const BINARY_METADATA: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The method and caller of the request being handled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestBinding {
    /// The gRPC path, `/package.Service/Method`.
    pub method: String,
    /// The calling user, or empty.
    pub caller: String,
}

tokio::task_local! {
    static REQUEST: RequestBinding;
}

/// The binding of the request this task is handling; empty outside a server (unit tests that
/// call handlers directly) and on tasks the handler spawned.
pub fn current() -> RequestBinding {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `future` as the handling of a request with `binding` (for tests and for servers that
/// are not assembled by [`crate::server`]).
pub async fn scope<F: std::future::Future>(binding: RequestBinding, future: F) -> F::Output {
    REQUEST.scope(binding, future).await
}

/// Where the caller of a request is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallerSource {
    /// The gateway's call context (`x-mtm-context-bin`), on backends.
    CallContext,
    /// The `sub` claim of the `authorization` bearer token, on the public gateway.
    BearerToken,
}

/// Server layer: handles each request inside the scope of its [`RequestBinding`].
#[derive(Clone, Copy, Debug)]
pub struct BindPageTokensLayer {
    source: CallerSource,
}

impl BindPageTokensLayer {
    /// Reads callers from `source`.
    pub fn new(source: CallerSource) -> Self {
        Self { source }
    }
}

impl<S> tower::Layer<S> for BindPageTokensLayer {
    type Service = BindPageTokens<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BindPageTokens {
            inner,
            source: self.source,
        }
    }
}

/// See [`BindPageTokensLayer`].
#[derive(Clone, Debug)]
pub struct BindPageTokens<S> {
    inner: S,
    source: CallerSource,
}

impl<S, B> tower::Service<http::Request<B>> for BindPageTokens<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<RequestBinding, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let binding = RequestBinding {
            method: request.uri().path().to_owned(),
            caller: caller_of(request.headers(), self.source),
        };
        REQUEST.scope(binding, self.inner.call(request))
    }
}

/// The caller named by `headers`, or empty.
pub fn caller_of(headers: &http::HeaderMap, source: CallerSource) -> String {
    match source {
        CallerSource::CallContext => headers
            .get(CALL_CONTEXT_KEY)
            .and_then(|v| BINARY_METADATA.decode(v.as_bytes()).ok())
            .and_then(|bytes| mtm_proto::mtm::common::v1::CallContext::decode(&*bytes).ok())
            .and_then(|context| context.principal)
            .map(|principal| principal.user)
            .unwrap_or_default(),
        CallerSource::BearerToken => headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .and_then(subject_of)
            .unwrap_or_default(),
    }
}

/// The `sub` claim of a JWT, without verifying it.
fn subject_of(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    if payload.len() > 64 * 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::common::v1::{CallContext, Principal};

    #[test]
    fn backends_read_the_caller_from_the_call_context() {
        let context = CallContext {
            principal: Some(Principal {
                user: "tenants/t/users/u".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut request = tonic::Request::new(());
        crate::context::attach(&mut request, &context);
        let headers = request.metadata().clone().into_headers();
        assert_eq!(
            caller_of(&headers, CallerSource::CallContext),
            "tenants/t/users/u"
        );
        assert_eq!(caller_of(&headers, CallerSource::BearerToken), "");
    }

    #[test]
    fn the_gateway_reads_the_caller_from_the_bearer_token() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"tenants/t/users/u","exp":1}"#);
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Bearer e30.{payload}.sig").parse().expect("header"),
        );
        assert_eq!(
            caller_of(&headers, CallerSource::BearerToken),
            "tenants/t/users/u"
        );
        assert_eq!(caller_of(&headers, CallerSource::CallContext), "");
        headers.insert(http::header::AUTHORIZATION, "Bearer x".parse().expect("h"));
        assert_eq!(caller_of(&headers, CallerSource::BearerToken), "");
    }
}
