//! Who is calling: the bearer token verified locally against identity-svc's published keys
//! (fetched once, refreshed when a token names an unknown key), then the principal resolved
//! by identity-svc at request time, so a removal from a group or a disabled user counts on the
//! very next request (R2).

use std::time::{Duration, Instant};

use identity_svc::token::{AccessClaims, TokenError, Verifier};
use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_proto::mtm::identity::v1::{GetJwksRequest, ResolvePrincipalRequest};
use tokio::sync::RwLock;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::forward::service::Authenticate;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;
/// The keys are fetched again for an unknown `kid` at most this often.
const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Verifies bearer tokens and resolves the caller with identity-svc.
pub struct TokenAuth {
    identity: ServiceChannel,
    keys: RwLock<Option<(Verifier, Instant)>>,
}

impl TokenAuth {
    /// Authentication backed by identity-svc on `identity`.
    pub fn new(identity: ServiceChannel) -> Self {
        Self {
            identity,
            keys: RwLock::new(None),
        }
    }

    /// Fetches the current keys from identity-svc.
    async fn fetch(&self) -> Result<Verifier, Status> {
        let jwks = AuthServiceClient::new(self.identity.clone())
            .get_jwks(GetJwksRequest {})
            .await?
            .into_inner();
        Verifier::from_jwks_json(&jwks.jwks_json, &jwks.issuer, &jwks.audience, LEEWAY_SECS)
            .map_err(|error| {
                tracing::error!(%error, "identity-svc published an unusable key set");
                Status::unavailable("token keys are unavailable")
            })
    }

    /// The claims of `token`, refreshing the keys once when it names an unknown one.
    pub(crate) async fn verify(&self, token: &str) -> Result<AccessClaims, Status> {
        let cached = self.keys.read().await.clone();
        let outcome = match &cached {
            Some((verifier, _)) => verifier.verify(token),
            None => Err(TokenError::UnknownKey),
        };
        match outcome {
            Ok(claims) => Ok(claims),
            Err(TokenError::UnknownKey) => {
                let recently = cached.is_some_and(|(_, at)| at.elapsed() < REFRESH_INTERVAL);
                if recently {
                    return Err(refused(&TokenError::UnknownKey));
                }
                let verifier = self.fetch().await?;
                let outcome = verifier.verify(token);
                *self.keys.write().await = Some((verifier, Instant::now()));
                outcome.map_err(|e| refused(&e))
            }
            Err(error) => Err(refused(&error)),
        }
    }
}

fn refused(error: &TokenError) -> Status {
    Status::unauthenticated(error.to_string())
}

pub(crate) fn bearer(metadata: &MetadataMap) -> Result<&str, Status> {
    metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Status::unauthenticated("a bearer token is required"))
}

/// A verified caller with the per-user preferences the gateway itself acts on.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The principal.
    pub principal: Principal,
    /// Whether the user turned on the *all tickets* view (R25); never for the operator.
    pub all_tickets_view_enabled: bool,
}

impl TokenAuth {
    /// The caller of a request with its preferences, or UNAUTHENTICATED.
    pub async fn caller(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        let claims = self.verify(bearer(metadata)?).await?;
        if claims.operator {
            return Ok(Caller {
                principal: Principal {
                    user: claims.sub,
                    upn: claims.upn,
                    amr: claims.amr,
                    operator: true,
                    ..Default::default()
                },
                all_tickets_view_enabled: false,
            });
        }
        let resolved = PrincipalInternalServiceClient::new(self.identity.clone())
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(UserRef::User(claims.sub.clone())),
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => {
                    Status::unauthenticated("the token's user no longer exists")
                }
                _ => status,
            })?
            .into_inner();
        if !resolved.enabled {
            return Err(Status::unauthenticated("the user is disabled"));
        }
        let mut principal = resolved.principal.unwrap_or_default();
        principal.amr = claims.amr;
        Ok(Caller {
            principal,
            all_tickets_view_enabled: resolved.all_tickets_view_enabled,
        })
    }
}

#[tonic::async_trait]
impl Authenticate for TokenAuth {
    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal, Status> {
        Ok(self.caller(metadata).await?.principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut metadata = MetadataMap::new();
        assert_eq!(
            bearer(&metadata).expect_err("none").code(),
            tonic::Code::Unauthenticated
        );
        metadata.insert(
            "authorization",
            "Bearer abc.def.ghi".parse().expect("value"),
        );
        assert_eq!(bearer(&metadata).expect("token"), "abc.def.ghi");
        metadata.insert("authorization", "Basic xyz".parse().expect("value"));
        assert!(bearer(&metadata).is_err());
    }
}
