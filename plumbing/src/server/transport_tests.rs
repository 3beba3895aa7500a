//! Transport limits of every server: a message over the size limit is RESOURCE_EXHAUSTED, and
//! oversized metadata fails only its own request, on a connection that goes on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use super::*;
use crate::devcerts::DevCa;

struct Public {
    /// Where clients connect: a TCP relay in front of the server that counts connections.
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    ca_pem: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

/// The gateway's kind of server (TLS without client certificates, nothing mounted besides
/// health and reflection), reached through a relay that counts the connections made to it.
async fn serve_public() -> Public {
    let ca = DevCa::generate("transport CA").expect("CA");
    let issued = ca.issue("gateway").expect("certificate");
    let tls = TlsMaterial::from_pem(&issued.cert_pem, &issued.key_pem, &ca.ca_pem());
    let settings = ServerArgs::for_test("cert".into(), "key".into(), "ca".into());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        Assembly::new()
            .serve(&settings, &tls, Access::Public, listener, None, token)
            .await
    });
    let relay = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = relay.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = relay.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(server).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    Public {
        addr,
        connections,
        ca_pem: ca.ca_pem(),
        shutdown,
        task,
    }
}

impl Public {
    async fn channel(&self) -> Channel {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .domain_name("localhost");
        Channel::from_shared(format!("https://{}", self.addr))
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
            .expect("connect")
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.expect("server task").expect("clean stop");
    }
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_resource_exhausted() {
    let server = serve_public().await;
    let mut health = HealthClient::new(server.channel().await);
    let status = health
        .check(HealthCheckRequest {
            service: "x".repeat(5 * 1024 * 1024),
        })
        .await
        .expect_err("over the 4 MiB limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn oversized_metadata_fails_only_its_request_and_the_connection_goes_on() {
    let server = serve_public().await;
    let mut health = HealthClient::new(server.channel().await);
    let healthy = HealthCheckRequest::default();
    health.check(healthy.clone()).await.expect("a first call");
    for size in [100 * 1024, 1024 * 1024] {
        let mut request = tonic::Request::new(healthy.clone());
        let bearer = format!("Bearer {}", "a".repeat(size));
        request
            .metadata_mut()
            .insert("authorization", bearer.parse().expect("ascii"));
        let status = health.check(request).await.expect_err("too much metadata");
        assert_eq!(
            status.code(),
            Code::ResourceExhausted,
            "{size} bytes: {status:?}"
        );
        health
            .check(healthy.clone())
            .await
            .expect("the next call on the same channel");
    }
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "every call went over the one connection"
    );
    server.stop().await;
}
