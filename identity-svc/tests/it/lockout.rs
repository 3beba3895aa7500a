//! Sign-in guess limiting: reserved before the password is verified, so parallel guesses
//! cannot overtake the limit; per (account, source), so an attacker's lockout does not keep
//! the real user out from elsewhere.

use identity_svc::service::auth::AuthHandlers;
use mtm_plumbing::context::CLIENT_ADDRESS_KEY;
use mtm_proto::mtm::identity::v1::SignInRequest;
use mtm_proto::mtm::identity::v1::auth_service_server::AuthService;
use tonic::Code;

use crate::on_both_stores;
use crate::support::{ADMIN_PASSWORD, Harness, OPERATOR_PASSWORD, Store, assert_code};

const LIMIT: u32 = 5;
const PARALLEL: usize = 100;

fn wrong_guess(upn: &str) -> SignInRequest {
    SignInRequest {
        upn: upn.into(),
        password: "wrong-password-guess".into(),
    }
}

/// A sign-in as the gateway forwards it from the client at `address`.
fn from(address: &str, upn: &str, password: &str) -> tonic::Request<SignInRequest> {
    let mut request = tonic::Request::new(SignInRequest {
        upn: upn.into(),
        password: password.into(),
    });
    request
        .metadata_mut()
        .insert(CLIENT_ADDRESS_KEY, address.parse().expect("ascii"));
    request
}

async fn r2_parallel_guesses_never_exceed_the_limit_on(store: Store) {
    let h = Harness::start_with(store, |c| c.sign_in_max_failures = LIMIT).await;
    h.create_tenant("contoso", "contoso.com").await;

    // Through the service: 100 guesses at once, exactly LIMIT are taken as guesses.
    let answers = futures_join(
        (0..PARALLEL)
            .map(|_| {
                let mut client = h.auth();
                async move { client.sign_in(wrong_guess("admin@contoso.com")).await }
            })
            .collect(),
    )
    .await;
    let refused = |code| {
        answers
            .iter()
            .filter(|a| matches!(a, Err(s) if s.code() == code))
            .count()
    };
    assert_eq!(
        refused(Code::Unauthenticated),
        LIMIT as usize,
        "guesses verified"
    );
    assert_eq!(refused(Code::ResourceExhausted), PARALLEL - LIMIT as usize);
    assert_code(
        h.sign_in("admin@contoso.com", ADMIN_PASSWORD).await,
        Code::ResourceExhausted,
    );

    // In process, counting the Argon2 verifications themselves.
    let state = identity_svc::prepare(&h.config).await.expect("state");
    let handlers = AuthHandlers::new(state.clone());
    let answers = futures_join(
        (0..PARALLEL)
            .map(|_| {
                let handlers = handlers.clone();
                async move {
                    AuthService::sign_in(
                        &handlers,
                        tonic::Request::new(wrong_guess("admin@contoso.com")),
                    )
                    .await
                }
            })
            .collect(),
    )
    .await;
    assert_eq!(state.passwords.verifications(), u64::from(LIMIT));
    assert_eq!(
        answers.iter().filter(|a| a.is_err()).count(),
        PARALLEL,
        "every guess is refused"
    );
    h.stop().await;
}
on_both_stores!(
    r2_parallel_guesses_never_exceed_the_limit,
    r2_parallel_guesses_never_exceed_the_limit_postgres,
    r2_parallel_guesses_never_exceed_the_limit_on
);

async fn r2_a_lockout_from_one_source_leaves_other_sources_in_on(store: Store) {
    let h = Harness::start_with(store, |c| c.sign_in_max_failures = LIMIT).await;
    h.create_tenant("contoso", "contoso.com").await;
    let attacker = "198.51.100.66:40001";
    for account in ["admin@contoso.com", "operator"] {
        for _ in 0..LIMIT {
            assert_code(
                h.auth()
                    .sign_in(from(attacker, account, "wrong-guess-x"))
                    .await,
                Code::Unauthenticated,
            );
        }
        // The attacker's address is blocked, even with the right password; another port of
        // the same address is the same source.
        let right = if account == "operator" {
            OPERATOR_PASSWORD
        } else {
            ADMIN_PASSWORD
        };
        assert_code(
            h.auth().sign_in(from(attacker, account, right)).await,
            Code::ResourceExhausted,
        );
        assert_code(
            h.auth()
                .sign_in(from("198.51.100.66:40002", account, right))
                .await,
            Code::ResourceExhausted,
        );
        // The real user, elsewhere, still signs in.
        h.auth()
            .sign_in(from("203.0.113.10:51000", account, right))
            .await
            .expect("the right password from another source");
    }
    h.stop().await;
}
on_both_stores!(
    r2_a_lockout_from_one_source_leaves_other_sources_in,
    r2_a_lockout_from_one_source_leaves_other_sources_in_postgres,
    r2_a_lockout_from_one_source_leaves_other_sources_in_on
);

/// Runs `futures` concurrently and returns their outputs in order.
async fn futures_join<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(tasks.len());
    for task in tasks {
        outputs.push(task.await.expect("task"));
    }
    outputs
}
