//! The peer allow-list: a tower layer that admits a request only when the client certificate
//! presented on the mTLS connection names an allowed identity (a SPIFFE URI SAN).
//! The admitted identity reaches handlers as a [`PeerIdentity`] request extension.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use x509_parser::extensions::GeneralName;

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

/// Admits only callers whose certificate names one of the allowed identities.
#[derive(Clone, Debug)]
pub struct AllowedPeersLayer {
    allowed: Arc<[String]>,
}

impl AllowedPeersLayer {
    /// A layer admitting exactly these identities.
    pub fn new(allowed: impl IntoIterator<Item = String>) -> Self {
        Self {
            allowed: allowed.into_iter().collect(),
        }
    }
}

impl<S> tower::Layer<S> for AllowedPeersLayer {
    type Service = AllowedPeers<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AllowedPeers {
            inner,
            allowed: self.allowed.clone(),
        }
    }
}

/// The service made by [`AllowedPeersLayer`].
#[derive(Clone, Debug)]
pub struct AllowedPeers<S> {
    inner: S,
    allowed: Arc<[String]>,
}

impl<S> AllowedPeers<S> {
    fn admit<B>(&self, request: &http::Request<B>) -> Result<PeerIdentity, tonic::Status> {
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
        if self.allowed.contains(&identity) {
            Ok(PeerIdentity(identity))
        } else {
            tracing::warn!(peer = %identity, "refused a caller outside the allow-list");
            Err(tonic::Status::permission_denied(format!(
                "caller {identity} is not allowed to call this service"
            )))
        }
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
            Ok(identity) => {
                request.extensions_mut().insert(identity);
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { inner.call(request).await })
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
