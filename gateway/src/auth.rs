//! Who is calling: the bearer token verified locally against identity-svc's published keys
//! (kept fresh by [`keys`]), then the principal resolved by identity-svc at request time, so a
//! removal from a group or a disabled user counts on the very next request (R2).

pub mod keys;

use std::sync::Arc;

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::identity::v1::ResolvePrincipalRequest;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_token::AccessClaims;
use tonic::Status;
use tonic::metadata::MetadataMap;

use keys::{KeyArgs, Keys};

/// Verifies bearer tokens and resolves the caller with identity-svc.
pub struct TokenAuth {
    identity: ServiceChannel,
    keys: Arc<Keys>,
}

impl TokenAuth {
    /// Authentication backed by identity-svc on `identity`, its keys refreshed as `settings`
    /// say.
    pub fn new(identity: ServiceChannel, settings: KeyArgs) -> Self {
        Self {
            keys: Keys::start(identity.clone(), settings),
            identity,
        }
    }

    /// The claims of `token`, or UNAUTHENTICATED.
    pub(crate) async fn verify(&self, token: &str) -> Result<AccessClaims, Status> {
        self.keys.verify(token).await
    }
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
    /// The caller holding the verified `claims`, with its preferences, or UNAUTHENTICATED.
    pub async fn resolve(&self, claims: &AccessClaims) -> Result<Caller, Status> {
        let claims = claims.clone();
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
