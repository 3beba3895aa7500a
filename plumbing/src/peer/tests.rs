//! The call graph enforced over real mutual TLS: every (caller, backend method) pair, for each
//! backend, against a server assembled exactly as the services are, whose only handler records
//! that it was reached.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mtm_callgraph::{Decision, Service};
use mtm_proto::mtm::common::v1::{CallContext, Principal, RoomScope};
use prost::Message;
use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::Channel;

use crate::config::{AllowedPeer, ServerArgs};
use crate::devcerts::DevCa;
use crate::server::{Access, Assembly, RoutedService, ServeError};
use crate::tls::TlsMaterial;

/// What the stand-in handler answers, so a test can tell it was reached.
const REACHED: &str = "reached the handler";

/// In front of the routes (health and reflection stay real): every other call reaches one
/// handler, which counts it, reads the call context as a real handler would, and answers
/// ABORTED with [`REACHED`].
#[derive(Clone)]
struct StandIn {
    reached: Arc<AtomicUsize>,
}

impl tower::Layer<tonic::service::Routes> for StandIn {
    type Service = RoutedService;

    fn layer(&self, routes: tonic::service::Routes) -> RoutedService {
        let reached = self.reached.clone();
        RoutedService::new(tower::service_fn(
            move |request: http::Request<tonic::body::Body>| {
                let mut routes = routes.clone();
                let reached = reached.clone();
                async move {
                    let service = request.uri().path().split('/').nth(1).unwrap_or_default();
                    if mtm_callgraph::OPEN_SERVICES.contains(&service) {
                        return tower::Service::call(&mut routes, request).await;
                    }
                    reached.fetch_add(1, Ordering::SeqCst);
                    let mut incoming = tonic::Request::new(());
                    *incoming.metadata_mut() =
                        tonic::metadata::MetadataMap::from_headers(request.headers().clone());
                    if let Some(admitted) = request.extensions().get::<super::Admitted>() {
                        incoming.extensions_mut().insert(*admitted);
                    }
                    let status = match crate::context::extract(&incoming) {
                        Err(status) if status.code() != Code::Unauthenticated => status,
                        _ => tonic::Status::aborted(REACHED),
                    };
                    Ok::<_, Infallible>(status.into_http())
                }
            },
        ))
    }
}

struct Backend {
    addr: SocketAddr,
    reached: Arc<AtomicUsize>,
    shutdown: crate::CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

async fn serve(ca: &DevCa, backend: Service) -> Backend {
    let issued = ca.issue(backend.name()).expect("certificate");
    let tls = TlsMaterial::from_pem(&issued.cert_pem, &issued.key_pem, &ca.ca_pem());
    let settings = ServerArgs::for_test("cert".into(), "key".into(), "ca".into());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let reached = Arc::new(AtomicUsize::new(0));
    let assembly = Assembly::new().route_layer(StandIn {
        reached: reached.clone(),
    });
    let peers = mtm_callgraph::callers(backend)
        .into_iter()
        .map(AllowedPeer::of)
        .collect();
    let shutdown = crate::CancellationToken::new();
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        assembly
            .serve(
                &settings,
                &tls,
                Access::Mutual { backend, peers },
                listener,
                None,
                token,
            )
            .await
    });
    Backend {
        addr,
        reached,
        shutdown,
        task,
    }
}

async fn connect(ca: &DevCa, name: &str, addr: SocketAddr) -> Channel {
    let issued = ca.issue(name).expect("certificate");
    let material = TlsMaterial::from_pem(&issued.cert_pem, &issued.key_pem, &ca.ca_pem());
    Channel::from_shared(format!("https://{addr}"))
        .expect("url")
        .tls_config(material.mutual_client())
        .expect("tls")
        .connect()
        .await
        .expect("connect")
}

/// A unary call of `path` with an empty message and, when given, a call context.
async fn call(channel: &Channel, path: &str, context: Option<&CallContext>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("ready");
    let mut request = tonic::Request::new(());
    if let Some(context) = context {
        crate::context::attach(&mut request, context);
    }
    let path =
        http::uri::PathAndQuery::from_maybe_shared(path.to_owned().into_bytes()).expect("path");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc.unary(request, path, codec).await {
        Ok(_) => tonic::Status::ok("answered"),
        Err(status) => status,
    }
}

/// Every method of every service in the MTM descriptor set, as `/package.Service/Method`.
fn every_method() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(mtm_proto::FILE_DESCRIPTOR_SET)
        .expect("descriptor set");
    let mut paths = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                paths.push(format!(
                    "/{}.{}/{}",
                    file.package(),
                    service.name(),
                    method.name()
                ));
            }
        }
    }
    paths
}

/// The callers tried: every service of the suite and an identity that is none of them.
fn callers() -> Vec<(String, Option<Service>)> {
    let mut callers: Vec<_> = Service::ALL
        .into_iter()
        .map(|s| (s.name().to_owned(), Some(s)))
        .collect();
    callers.push(("intruder".to_owned(), None));
    callers
}

fn forged() -> CallContext {
    CallContext {
        principal: Some(Principal {
            user: "tenants/t1/users/mallory".into(),
            home_tenant: "tenants/t1".into(),
            operator: true,
            ..Default::default()
        }),
        scope: Some(RoomScope {
            all_rooms: true,
            ..Default::default()
        }),
        request_id: "forged".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn call_graph_admits_exactly_its_caller_method_pairs_on_every_backend() {
    let ca = DevCa::generate("call graph CA").expect("CA");
    let methods = every_method();
    assert!(
        methods.len() > 150,
        "the descriptor set lists {}",
        methods.len()
    );
    let mut admitted = 0;
    for backend in Service::BACKENDS {
        let server = serve(&ca, backend).await;
        for (name, caller) in callers() {
            let channel = connect(&ca, &name, server.addr).await;
            for path in &methods {
                let expected = caller.map_or(Decision::Refused, |c| {
                    if mtm_callgraph::callers(backend).contains(&c) {
                        mtm_callgraph::decide(backend, path, c)
                    } else {
                        Decision::Refused
                    }
                });
                let before = server.reached.load(Ordering::SeqCst);
                let status = call(&channel, path, None).await;
                let reached = server.reached.load(Ordering::SeqCst) - before;
                match expected {
                    Decision::Granted(_) => {
                        admitted += 1;
                        assert_eq!(
                            (status.code(), status.message(), reached),
                            (Code::Aborted, REACHED, 1),
                            "{name} → {backend} {path} must reach the handler"
                        );
                    }
                    Decision::Refused | Decision::Open => {
                        assert_eq!(
                            (status.code(), reached),
                            (Code::PermissionDenied, 0),
                            "{name} → {backend} {path} must be refused: {status:?}"
                        );
                    }
                }
            }
        }
        server.shutdown.cancel();
        server.task.await.expect("server task").expect("clean stop");
    }
    let expected: usize = Service::BACKENDS
        .into_iter()
        .map(|b| {
            mtm_callgraph::RULES
                .iter()
                .filter(|r| r.backend == b)
                .map(|r| r.methods.len() * r.grants.len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(admitted, expected, "every granted pair was tried");
}

#[tokio::test]
async fn call_graph_refuses_forged_call_contexts_from_every_caller_but_the_gateway() {
    let ca = DevCa::generate("call graph CA").expect("CA");
    let methods = every_method();
    for backend in Service::BACKENDS {
        let server = serve(&ca, backend).await;
        for caller in mtm_callgraph::callers(backend) {
            let channel = connect(&ca, caller.name(), server.addr).await;
            let granted = methods.iter().filter(|path| {
                matches!(
                    mtm_callgraph::decide(backend, path, caller),
                    Decision::Granted(_)
                )
            });
            for path in granted {
                let status = call(&channel, path, Some(&forged())).await;
                if caller == Service::Gateway {
                    assert_eq!(
                        (status.code(), status.message()),
                        (Code::Aborted, REACHED),
                        "the gateway's context on {backend} {path}"
                    );
                } else {
                    assert_eq!(
                        status.code(),
                        Code::PermissionDenied,
                        "{caller} forging an operator with an all-rooms scope on {backend} {path}: {status:?}"
                    );
                }
            }
        }
        server.shutdown.cancel();
        server.task.await.expect("server task").expect("clean stop");
    }
}

#[tokio::test]
async fn call_graph_keeps_health_open_to_every_allowed_caller_only() {
    let ca = DevCa::generate("call graph CA").expect("CA");
    for backend in Service::BACKENDS {
        let server = serve(&ca, backend).await;
        for (name, caller) in callers() {
            let channel = connect(&ca, &name, server.addr).await;
            let health = tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await;
            let allowed = caller.is_some_and(|c| mtm_callgraph::callers(backend).contains(&c));
            if allowed {
                assert!(health.is_ok(), "{name} → {backend} health: {health:?}");
            } else {
                let status = health.expect_err("refused");
                assert_eq!(status.code(), Code::PermissionDenied, "{name} → {backend}");
            }
        }
        server.shutdown.cancel();
        server.task.await.expect("server task").expect("clean stop");
    }
}

#[tokio::test]
async fn call_graph_refuses_the_holes_found_in_the_audit() {
    let ca = DevCa::generate("call graph CA").expect("CA");
    let identity = serve(&ca, Service::Identity).await;
    let rooms = serve(&ca, Service::Rooms).await;
    for caller in ["tenancy-svc", "rbac-svc"] {
        let channel = connect(&ca, caller, identity.addr).await;
        let status = call(
            &channel,
            "/mtm.identity.v1.AuthService/DeleteSigningKey",
            Some(&forged()),
        )
        .await;
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{caller}: {status:?}"
        );
        let channel = connect(&ca, caller, rooms.addr).await;
        let status = call(
            &channel,
            "/mtm.rooms.v1.RoomService/ListRooms",
            Some(&forged()),
        )
        .await;
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{caller}: {status:?}"
        );
    }
    let channel = connect(&ca, "rbac-svc", identity.addr).await;
    let status = call(
        &channel,
        "/mtm.identity.v1.PrincipalInternalService/LookupMembers",
        None,
    )
    .await;
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "rbac-svc calls no identity-svc method"
    );
    assert_eq!(identity.reached.load(Ordering::SeqCst), 0);
    assert_eq!(rooms.reached.load(Ordering::SeqCst), 0);
    for server in [identity, rooms] {
        server.shutdown.cancel();
        server.task.await.expect("server task").expect("clean stop");
    }
}
