//! The RPC layer records one duration per call, labelled by method and final status.

use std::collections::VecDeque;
use std::convert::Infallible;

use opentelemetry::metrics::MeterProvider as _;
use tower::{Layer, Service, ServiceExt};

use super::*;

/// A response body of the given frames.
struct Frames(VecDeque<Frame<Bytes>>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

fn trailers(code: tonic::Code) -> Frame<Bytes> {
    let mut headers = HeaderMap::new();
    headers.insert("grpc-status", http::HeaderValue::from(code as i32));
    Frame::trailers(headers)
}

/// Sends a request for `path` through the server layer to a handler answering with
/// `headers_status` in the headers (trailers-only) or `frames`; reads the body unless
/// `drop_body`; returns the rendered series.
async fn one_call(
    path: &str,
    headers_status: Option<tonic::Code>,
    frames: Vec<Frame<Bytes>>,
    drop_body: bool,
) -> String {
    let (provider, registry) = crate::metrics::provider("test", false).expect("provider");
    let layer = RpcMetricsLayer::new(&provider.meter("test"), Side::Server);
    let frames = std::sync::Mutex::new(Some(frames));
    let handler = tower::service_fn(move |_request: http::Request<()>| {
        let frames = frames.lock().expect("lock").take().expect("one call");
        async move {
            let mut response = http::Response::new(Frames(frames.into()));
            if let Some(code) = headers_status {
                response
                    .headers_mut()
                    .insert("grpc-status", http::HeaderValue::from(code as i32));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let mut service = layer.layer(handler);
    let request = http::Request::builder()
        .uri(path)
        .body(())
        .expect("request");
    let response = service
        .ready()
        .await
        .expect("ready")
        .call(request)
        .await
        .expect("response");
    if drop_body {
        drop(response);
    } else {
        use http_body::Body as _;
        let mut body = response.into_body();
        while std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
            .await
            .is_some()
        {}
    }
    crate::metrics::render_registry(&registry)
}

const GET_STATUS: &str = "/mtm.gateway.v1.StatusService/GetStatus";

fn count_line(rendered: &str, service: &str, method: &str, code: i32) -> bool {
    rendered.lines().any(|line| {
        line.starts_with("rpc_server_duration_milliseconds_count{")
            && line.contains(&format!("rpc_service=\"{service}\""))
            && line.contains(&format!("rpc_method=\"{method}\""))
            && line.contains(&format!("rpc_grpc_status_code=\"{code}\""))
            && line.contains("rpc_system=\"grpc\"")
            && line.ends_with(" 1")
    })
}

#[tokio::test]
async fn the_status_in_the_trailers_labels_the_call() {
    let frames = vec![
        Frame::data(Bytes::from_static(b"\0\0\0\0\0")),
        trailers(tonic::Code::NotFound),
    ];
    let rendered = one_call(GET_STATUS, None, frames, false).await;
    assert!(
        count_line(&rendered, "mtm.gateway.v1.StatusService", "GetStatus", 5),
        "{rendered}"
    );
    assert!(rendered.contains("# TYPE rpc_server_duration_milliseconds histogram"));
}

#[tokio::test]
async fn a_trailers_only_answer_is_labelled_by_its_headers() {
    let rendered = one_call(
        GET_STATUS,
        Some(tonic::Code::PermissionDenied),
        vec![],
        false,
    )
    .await;
    assert!(
        count_line(&rendered, "mtm.gateway.v1.StatusService", "GetStatus", 7),
        "{rendered}"
    );
}

#[tokio::test]
async fn a_call_dropped_before_its_status_counts_as_cancelled() {
    let frames = vec![trailers(tonic::Code::Ok)];
    let rendered = one_call(GET_STATUS, None, frames, true).await;
    assert!(
        count_line(&rendered, "mtm.gateway.v1.StatusService", "GetStatus", 1),
        "{rendered}"
    );
}

#[tokio::test]
async fn unknown_paths_share_one_label_set() {
    let frames = vec![trailers(tonic::Code::Unimplemented)];
    let rendered = one_call("/evil.Service/Anything123", None, frames, false).await;
    assert!(count_line(&rendered, OTHER, OTHER, 12), "{rendered}");
    assert!(!rendered.contains("evil"), "{rendered}");
}
