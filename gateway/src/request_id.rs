//! Request ids (`x-request-id`): the client's own when it sends a usable one, a fresh UUID
//! otherwise. The id is put on the request (so handlers read it from their metadata and the
//! forwarder passes it to the backends), recorded in the request's span, and echoed in the
//! response headers, which for a refused call are also where its status travels.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::HeaderValue;
use tonic::metadata::MetadataMap;

/// The header carrying the request id, both ways.
pub const HEADER: &str = "x-request-id";

/// The longest request id taken from a client; longer ones are replaced.
const MAX_LEN: usize = 128;

/// Whether a client's request id can be kept: 1 to 128 visible ASCII characters.
fn usable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(u8::is_ascii_graphic)
}

/// The request id of a request that passed [`RequestIdLayer`] (a fresh one otherwise).
pub fn of(metadata: &MetadataMap) -> String {
    metadata
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(mint)
}

fn mint() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Gives every request an id and echoes it in the response.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> tower::Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;

    fn layer(&self, inner: S) -> RequestId<S> {
        RequestId { inner }
    }
}

/// The service of [`RequestIdLayer`].
#[derive(Clone, Debug)]
pub struct RequestId<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for RequestId<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let id = match request.headers().get(HEADER) {
            Some(value) if usable(value) => value.clone(),
            _ => HeaderValue::try_from(mint()).unwrap_or(HeaderValue::from_static("-")),
        };
        request.headers_mut().insert(HEADER, id.clone());
        if let Ok(text) = id.to_str() {
            tracing::Span::current().record("request_id", text);
        }
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            response.headers_mut().insert(HEADER, id);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_ascii_ids_are_kept() {
        assert!(usable(&HeaderValue::from_static("req-1")));
        assert!(!usable(&HeaderValue::from_static("")));
        assert!(!usable(&HeaderValue::from_static("has space")));
        let long = "x".repeat(MAX_LEN + 1);
        assert!(!usable(&HeaderValue::try_from(long).expect("header")));
    }

    #[test]
    fn requests_without_an_id_get_a_uuid() {
        let id = of(&MetadataMap::new());
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }
}
