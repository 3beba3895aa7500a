//! Authentication, once per request: [`AuthenticateLayer`] verifies the bearer token (a local
//! signature check) and puts the outcome into the request's extensions as [`Authenticated`];
//! the caller's principal is resolved with identity-svc the first time someone asks for it and
//! kept there, so the rate limit and the handlers never authenticate a request again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mtm_token::AccessClaims;
use tokio::sync::OnceCell;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::auth::{Caller, TokenAuth, bearer};

/// Requests that carry no credentials to look at (the standard health service).
const EXEMPT_PREFIX: &str = "/grpc.health.v1.Health/";

/// The authentication of one request: its verified token claims (or why there are none) and
/// its caller, resolved at most once.
#[derive(Clone)]
pub struct Authenticated(Arc<State>);

struct State {
    claims: Result<AccessClaims, Status>,
    caller: OnceCell<Result<Caller, Status>>,
    auth: Arc<TokenAuth>,
}

impl Authenticated {
    /// Verifies the bearer token of `metadata` (UNAUTHENTICATED without one).
    pub async fn verify(auth: Arc<TokenAuth>, metadata: &MetadataMap) -> Self {
        let claims = match bearer(metadata) {
            Ok(token) => auth.verify(token).await,
            Err(status) => Err(status),
        };
        Self(Arc::new(State {
            claims,
            caller: OnceCell::new(),
            auth,
        }))
    }

    /// The verified claims, or why the request is not authenticated.
    pub fn claims(&self) -> Result<&AccessClaims, &Status> {
        self.0.claims.as_ref()
    }

    /// The caller: the principal identity-svc resolves for the token's user now (once per
    /// request), or UNAUTHENTICATED.
    pub async fn caller(&self) -> Result<Caller, Status> {
        let state = &self.0;
        state
            .caller
            .get_or_init(|| async {
                match &state.claims {
                    Ok(claims) => state.auth.resolve(claims).await,
                    Err(status) => Err(status.clone()),
                }
            })
            .await
            .clone()
    }
}

/// The caller of a request that passed [`AuthenticateLayer`]; UNAUTHENTICATED for one that did
/// not (which no public route allows).
pub async fn caller(extensions: &http::Extensions) -> Result<Caller, Status> {
    match extensions.get::<Authenticated>() {
        Some(authenticated) => authenticated.caller().await,
        None => Err(Status::unauthenticated("the request was not authenticated")),
    }
}

/// Authenticates every public request (see the module).
#[derive(Clone)]
pub struct AuthenticateLayer {
    auth: Arc<TokenAuth>,
}

impl AuthenticateLayer {
    /// Authentication with `auth`.
    pub fn new(auth: Arc<TokenAuth>) -> Self {
        Self { auth }
    }
}

impl<S> tower::Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service of [`AuthenticateLayer`].
#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    auth: Arc<TokenAuth>,
}

impl<S, B> tower::Service<http::Request<B>> for Authenticate<S>
where
    S: tower::Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let auth = self.auth.clone();
        Box::pin(async move {
            if !request.uri().path().starts_with(EXEMPT_PREFIX) {
                let mut headers = http::HeaderMap::new();
                if let Some(value) = request.headers().get(http::header::AUTHORIZATION) {
                    headers.insert(http::header::AUTHORIZATION, value.clone());
                }
                let metadata = MetadataMap::from_headers(headers);
                let authenticated = Authenticated::verify(auth, &metadata).await;
                request.extensions_mut().insert(authenticated);
            }
            inner.call(request).await
        })
    }
}
