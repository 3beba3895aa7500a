//! Integration tests of identity-svc: the real service on `127.0.0.1:0` over mTLS.

mod account;
mod audit;
mod auth;
mod concurrency;
mod directory;
mod groups;
mod internal;
mod keys;
mod lockout;
mod providers;
mod seed;
mod support;

use identity_svc::DEFAULT_CALLERS;
use mtm_plumbing::testing::assert_introspectable;
use support::{Harness, Store};

#[tokio::test]
async fn serves_health_and_reflection_to_its_callers_over_mtls() {
    let harness = Harness::start(Store::sqlite()).await;
    for caller in DEFAULT_CALLERS {
        assert_introspectable(
            harness.server.addr,
            &harness.pki.material(caller),
            support::SERVICES,
        )
        .await;
    }
    harness.stop().await;
}

#[tokio::test]
async fn an_unusable_store_url_stops_the_service_with_an_error() {
    let pki = mtm_plumbing::testing::TestPki::new();
    let config =
        identity_svc::Config::for_test(pki.server_args("identity-svc"), "mysql://x/y".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let outcome = identity_svc::serve(
        config,
        listener,
        None,
        mtm_plumbing::CancellationToken::new(),
    )
    .await;
    assert!(outcome.is_err());
}

mod refusals {
    //! A backend refuses every caller that is not an allowed service of the suite.

    use super::*;
    use mtm_plumbing::testing::{TestPki, health_of, mtls_channel};
    use mtm_plumbing::tls::TlsMaterial;

    #[tokio::test]
    async fn plaintext_client_is_refused() {
        let harness = Harness::start(Store::sqlite()).await;
        let outcome = async {
            let channel =
                tonic::transport::Channel::from_shared(format!("http://{}", harness.server.addr))
                    .expect("url")
                    .connect()
                    .await
                    .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            health_of(channel, "").await
        }
        .await;
        assert!(outcome.is_err(), "plaintext call answered {outcome:?}");
        harness.stop().await;
    }

    #[tokio::test]
    async fn client_certificate_from_another_ca_is_refused() {
        let harness = Harness::start(Store::sqlite()).await;
        let foreign = TestPki::new();
        let paths = foreign.paths("gateway");
        let cert = std::fs::read_to_string(paths.cert).expect("cert");
        let key = std::fs::read_to_string(paths.key).expect("key");
        // Trusts the real CA, so only the client side of the handshake is wrong.
        let impostor = TlsMaterial::from_pem(&cert, &key, &harness.pki.ca_pem());
        let outcome = match mtls_channel(harness.server.addr, &impostor).await {
            Ok(channel) => health_of(channel, "").await.map(|_| ()),
            Err(error) => Err(tonic::Status::unavailable(error.to_string())),
        };
        let status = outcome.expect_err("a foreign client certificate was accepted");
        assert_ne!(status.code(), tonic::Code::Ok);
        harness.stop().await;
    }

    #[tokio::test]
    async fn valid_certificate_with_an_identity_outside_the_allow_list_is_refused() {
        let harness = Harness::start(Store::sqlite()).await;
        for stranger in [
            harness.pki.stranger("intruder"),
            harness.pki.material("rooms-svc"),
        ] {
            let channel = mtls_channel(harness.server.addr, &stranger)
                .await
                .expect("handshake");
            let status = health_of(channel, "").await.expect_err("not allowed");
            assert_eq!(status.code(), tonic::Code::PermissionDenied);
        }
        harness.stop().await;
    }
}
