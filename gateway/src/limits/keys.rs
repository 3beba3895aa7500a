//! Which buckets a request draws on: its principal's (the verified token's user, as admission
//! put it in the request's extensions, or the client address without a valid token) and its
//! principal's home tenant's.

use std::net::IpAddr;

use tonic::body::Body;

use crate::admission::Authenticated;
use crate::forward::client_address::connection_ip;

/// The key of a principal's bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum PrincipalKey {
    /// A verified token's subject: `tenants/{tenant}/users/{user}`, or `operator`.
    User(String),
    /// The client address of a call without a valid token (`None` when the connection does not
    /// say).
    Address(Option<IpAddr>),
}

impl std::fmt::Display for PrincipalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(user) => f.write_str(user),
            Self::Address(Some(ip)) => write!(f, "address {ip}"),
            Self::Address(None) => f.write_str("an unknown address"),
        }
    }
}

/// The buckets one request draws on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Keys {
    /// The principal's bucket.
    pub principal: PrincipalKey,
    /// The home tenant's bucket (`tenants/{tenant}`); none for the operator and for calls
    /// without a valid token.
    pub tenant: Option<String>,
}

impl Keys {
    /// The keys of `request`.
    pub(super) fn of(request: &http::Request<Body>) -> Self {
        let extensions = request.extensions();
        match extensions
            .get::<Authenticated>()
            .and_then(|a| a.claims().ok())
        {
            Some(claims) => Self {
                principal: PrincipalKey::User(claims.sub.clone()),
                tenant: (!claims.operator && !claims.tid.is_empty()).then(|| claims.tid.clone()),
            },
            None => Self {
                principal: PrincipalKey::Address(connection_ip(extensions.get(), extensions.get())),
                tenant: None,
            },
        }
    }
}
