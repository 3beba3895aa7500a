//! The peer allow-list: a tower layer that admits a request only when the client certificate
//! presented on the mTLS connection names an allowed identity (a SPIFFE URI SAN) and the call
//! graph (mtm-callgraph) lets that identity's service call the request's method with what it
//! attaches. The admitted identity reaches handlers as a [`PeerIdentity`] request extension,
//! the call graph's grant as an [`Admitted`] one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mtm_callgraph::{Context as CallContextGrant, Decision, Service};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use x509_parser::extensions::GeneralName;

use crate::config::AllowedPeer;
use crate::context::CALL_CONTEXT_KEY;

/// The verified identity of the calling service, e.g. `spiffe://mtm/gateway`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity(pub String);

/// The first `spiffe://` URI SAN of a DER certificate.
pub fn spiffe_identity(cert_der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::URI(uri) if uri.starts_with("spiffe://") => Some((*uri).to_owned()),
        _ => None,
    })
}

/// What the peer layer established for an admitted call, as a request extension: the service
/// the caller speaks as and the call context it may attach to this method.
/// [`crate::context::extract`] reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The calling service.
    pub caller: Service,
    /// What it may attach as call context to this method.
    pub context: CallContextGrant,
}

/// Admits a call only when the client certificate names an allowed identity and the call graph
/// lets that identity's service call this method of `backend` (health and reflection are open
/// to every allowed identity); refuses a call context the call graph does not grant.
#[derive(Clone, Debug)]
pub struct AllowedPeersLayer {
    backend: Service,
    allowed: Arc<[AllowedPeer]>,
}

impl AllowedPeersLayer {
    /// A layer in front of `backend` admitting exactly these identities.
    pub fn new(backend: Service, allowed: impl IntoIterator<Item = AllowedPeer>) -> Self {
        Self {
            backend,
            allowed: allowed.into_iter().collect(),
        }
    }
}

impl<S> tower::Layer<S> for AllowedPeersLayer {
    type Service = AllowedPeers<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AllowedPeers {
            inner,
            backend: self.backend,
            allowed: self.allowed.clone(),
        }
    }
}

/// The service made by [`AllowedPeersLayer`].
#[derive(Clone, Debug)]
pub struct AllowedPeers<S> {
    inner: S,
    backend: Service,
    allowed: Arc<[AllowedPeer]>,
}

/// At most this many characters of a refused path are quoted back.
const QUOTED_PATH_CHARS: usize = 120;

impl<S> AllowedPeers<S> {
    fn admit<B>(
        &self,
        request: &http::Request<B>,
    ) -> Result<(PeerIdentity, Admitted), tonic::Status> {
        let certs = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs)
            .ok_or_else(|| tonic::Status::unauthenticated("a client certificate is required"))?;
        let identity = certs
            .first()
            .and_then(|cert| spiffe_identity(cert))
            .ok_or_else(|| {
                tonic::Status::unauthenticated("the client certificate names no spiffe identity")
            })?;
        let Some(peer) = self.allowed.iter().find(|p| p.identity == identity) else {
            tracing::warn!(peer = %identity, "refused a caller outside the allow-list");
            return Err(tonic::Status::permission_denied(format!(
                "caller {identity} is not allowed to call this service"
            )));
        };
        let caller = peer.service;
        let path = request.uri().path();
        let context = match mtm_callgraph::decide(self.backend, path, caller) {
            Decision::Open => CallContextGrant::Refused,
            Decision::Granted(context) => context,
            Decision::Refused => {
                let quoted: String = path.chars().take(QUOTED_PATH_CHARS).collect();
                tracing::warn!(peer = %identity, %caller, path = %quoted, "refused a call outside the call graph");
                return Err(tonic::Status::permission_denied(format!(
                    "{caller} may not call {quoted} on {}",
                    self.backend
                )));
            }
        };
        if context == CallContextGrant::Refused && request.headers().contains_key(CALL_CONTEXT_KEY)
        {
            tracing::warn!(peer = %identity, %caller, "refused a call context from a caller that may attach none");
            return Err(tonic::Status::permission_denied(format!(
                "{caller} may not attach a call context to this method"
            )));
        }
        Ok((PeerIdentity(identity), Admitted { caller, context }))
    }
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for AllowedPeers<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.admit(&request) {
            Ok((identity, admitted)) => {
                request.extensions_mut().insert(identity);
                request.extensions_mut().insert(admitted);
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { inner.call(request).await })
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}

#[cfg(test)]
mod tests;
