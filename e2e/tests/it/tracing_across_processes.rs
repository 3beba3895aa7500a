//! One request through the gateway to the backends is one trace: spans of the gateway process
//! and of the backend processes share the trace id the client sent, exported over OTLP to a
//! receiver inside this test while the suite runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;

use crate::support::start_suite;

/// A span as received: which service sent it, its name and its trace id.
#[derive(Clone, Debug)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("lock");
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.clone())
                .map(|v| match v {
                    Value::StringValue(s) => s,
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(ReceivedSpan {
                        service: service.clone(),
                        name: span.name,
                        trace_id: span.trace_id,
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test]
async fn one_request_through_the_gateway_is_one_trace_across_processes() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let otlp = listener.local_addr().expect("addr");
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(receiver.clone()))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
    let collector = tokio::spawn(server);

    let env = vec![
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
            format!("http://{otlp}"),
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL".to_owned(), "grpc".to_owned()),
        // Export every 100 ms rather than every 5 s, so the spans arrive while the suite runs.
        ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "100".to_owned()),
    ];
    let (suite, dir) = start_suite(env).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(GetStatusRequest {});
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .expect("header"),
    );
    let channel = suite.gateway_channel().await.expect("gateway");
    StatusServiceClient::new(channel)
        .get_status(request)
        .await
        .expect("status");

    let wanted = hex(trace_id);
    let expected = [
        ("gateway", "mtm.gateway.v1.StatusService/GetStatus"),
        ("identity-svc", "grpc.health.v1.Health/Check"),
        ("tenancy-svc", "grpc.health.v1.Health/Check"),
        ("rbac-svc", "grpc.health.v1.Health/Check"),
        ("rooms-svc", "grpc.health.v1.Health/Check"),
    ];
    let missing = || -> Vec<(&str, &str)> {
        let spans = receiver.spans.lock().expect("lock");
        expected
            .iter()
            .filter(|(service, name)| {
                !spans
                    .iter()
                    .any(|s| s.trace_id == wanted && s.service == *service && s.name == *name)
            })
            .copied()
            .collect()
    };
    let deadline = tokio::time::Instant::now() + EXPORT_DEADLINE;
    while !missing().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing = missing();
    let gateway_log =
        std::fs::read_to_string(dir.path().join("logs/gateway.log")).unwrap_or_default();
    assert_eq!(suite.stop().await, Vec::<String>::new());
    collector.abort();
    let received = receiver.spans.lock().expect("lock").clone();
    assert!(
        missing.is_empty(),
        "spans missing from the trace after {EXPORT_DEADLINE:?}: {missing:?}\nreceived: {received:?}\ngateway log:\n{gateway_log}"
    );
}

/// How long the spans of one request may take to reach the collector.
const EXPORT_DEADLINE: Duration = Duration::from_secs(30);

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
