//! One request through the gateway to the backends is one trace: spans of the gateway process
//! and of the backend processes share the trace id the client sent, exported over OTLP to a
//! receiver inside this test.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

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
    // SIGTERM makes every process flush its spans before it exits.
    assert_eq!(suite.stop().await, Vec::<String>::new());
    collector.abort();

    let wanted = hex(trace_id);
    let spans = receiver.spans.lock().expect("lock").clone();
    let in_trace: Vec<_> = spans.iter().filter(|s| s.trace_id == wanted).collect();
    let services: BTreeSet<_> = in_trace.iter().map(|s| s.service.as_str()).collect();
    let gateway_log =
        || std::fs::read_to_string(dir.path().join("logs/gateway.log")).unwrap_or_default();
    assert!(
        in_trace
            .iter()
            .any(|s| s.service == "gateway" && s.name == "mtm.gateway.v1.StatusService/GetStatus"),
        "no gateway server span in the trace: {in_trace:?}\ngateway log:\n{}",
        gateway_log()
    );
    for backend in ["identity-svc", "tenancy-svc", "rbac-svc", "rooms-svc"] {
        assert!(
            in_trace
                .iter()
                .any(|s| s.service == backend && s.name == "grpc.health.v1.Health/Check"),
            "no {backend} span in the trace; services seen: {services:?}"
        );
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
