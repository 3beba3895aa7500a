//! `mtm.identity.v1.AuthService`: password sign-in, own-domain sign-in through a trusted
//! external issuer (R2), the JWKS, and operator-only key rotation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mtm_proto::mtm::identity::v1::auth_service_server::AuthService;
use mtm_proto::mtm::identity::v1::signing_key::State as KeyState;
use mtm_proto::mtm::identity::v1::{
    DeleteSigningKeyRequest, DeleteSigningKeyResponse, ExchangeExternalTokenRequest,
    ExchangeExternalTokenResponse, GetJwksRequest, GetJwksResponse, RotateSigningKeyRequest,
    RotateSigningKeyResponse, SignInRequest, SignInResponse, SigningKey,
};
use tonic::{Request, Response, Status};

use super::reply;
use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::entity::{signing_key, user};
use crate::store::{keys, providers, timestamp, users};
use mtm_token::{AMR_PASSWORD, AccessClaims, Algorithm, KeySet, jwks_json};

/// The operator's `sub` claim.
pub const OPERATOR_SUBJECT: &str = "operator";

/// The handlers of `AuthService`.
#[derive(Clone)]
pub struct AuthHandlers {
    state: State,
}

/// A signed token and its claims.
struct Issued {
    token: String,
    claims: AccessClaims,
}

impl AuthHandlers {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    async fn issue(
        &self,
        sub: &str,
        tid: &str,
        upn: &str,
        amr: Vec<String>,
        operator: bool,
        max_exp: Option<i64>,
    ) -> Result<Issued> {
        let key = keys::active(&self.state.db)
            .await?
            .ok_or_else(|| Error::Crypto("there is no active signing key".into()))?;
        let now = chrono::Utc::now().timestamp();
        let lifetime = i64::try_from(self.state.tokens.lifetime.as_secs()).unwrap_or(i64::MAX);
        let mut exp = now.saturating_add(lifetime);
        if let Some(max) = max_exp {
            exp = exp.min(max);
        }
        let claims = AccessClaims {
            iss: self.state.tokens.issuer.clone(),
            aud: self.state.tokens.audience.clone(),
            sub: sub.to_owned(),
            tid: tid.to_owned(),
            upn: upn.to_owned(),
            amr,
            exp,
            iat: now,
            nbf: now,
            operator,
        };
        let token = keys::material(&key, &self.state.keks)?
            .sign(&claims)
            .map_err(|e| Error::Crypto(e.to_string()))?;
        Ok(Issued { token, claims })
    }

    /// Signs in with a password. The guess is reserved with the limiter before the Argon2
    /// verification (so parallel guesses cannot overtake the count) and settled after it.
    async fn sign_in(&self, request: SignInRequest, source: &str) -> Result<SignInResponse> {
        let key = request.upn.trim().to_ascii_lowercase();
        let attempt = self.state.limiter.reserve(&key, source).map_err(|wait| {
            Error::ResourceExhausted(format!(
                "too many failed sign-ins for this name from here; try again in {} s",
                wait.as_secs().max(1)
            ))
        })?;
        if let Some(operator) = self
            .state
            .operator
            .as_ref()
            .filter(|op| op.name.eq_ignore_ascii_case(&key))
        {
            let ok = self
                .state
                .passwords
                .verify(&request.password, Some(&operator.password_hash))
                .await?;
            if !ok {
                attempt.failed();
                return Err(Error::Unauthenticated);
            }
            attempt.succeeded();
            let issued = self
                .issue(
                    OPERATOR_SUBJECT,
                    "",
                    &operator.name,
                    vec![AMR_PASSWORD.into()],
                    true,
                    None,
                )
                .await?;
            return Ok(sign_in_response(issued, String::new(), String::new()));
        }
        let user = match names::normalize_upn(&key, "upn") {
            Ok((upn, _)) => users::by_upn(&self.state.db, &upn).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let matched = self.state.passwords.verify(&request.password, hash).await?;
        let user = match user {
            Some(user) if matched && user.enabled => user,
            _ => {
                attempt.failed();
                return Err(Error::Unauthenticated);
            }
        };
        attempt.succeeded();
        let tenant = names::tenant_name(&user.tenant_id);
        let issued = self
            .issue(
                &user.name,
                &tenant,
                &user.upn,
                vec![AMR_PASSWORD.into()],
                false,
                None,
            )
            .await?;
        Ok(sign_in_response(issued, user.name, tenant))
    }

    async fn exchange(
        &self,
        request: ExchangeExternalTokenRequest,
    ) -> Result<ExchangeExternalTokenResponse> {
        let issuer = unverified_issuer(&request.id_token).ok_or(Error::Unauthenticated)?;
        let canonical = crate::issuer::normalize(&issuer).map_err(|_| Error::Unauthenticated)?;
        let provider = providers::by_issuer(&self.state.db, &canonical)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let keys = KeySet::from_json(
            &provider.jwks_json,
            &[Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256],
        )
        .map_err(|_| Error::Unauthenticated)?;
        let claims: serde_json::Map<String, serde_json::Value> = keys
            .verify(
                &request.id_token,
                // The token's own spelling, which is the provider's issuer in canonical form.
                &issuer,
                &provider.audience,
                self.state.tokens.leeway_secs,
            )
            .map_err(|error| {
                tracing::info!(%error, issuer = %provider.issuer, "external token refused");
                Error::Unauthenticated
            })?;
        let user = external_user(
            &self.state,
            &provider.tenant_id,
            &provider.upn_claim,
            &claims,
        )
        .await?
        .ok_or(Error::Unauthenticated)?;
        let amr: Vec<String> = match claims.get("amr") {
            Some(serde_json::Value::Array(values)) => values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => vec!["ext".to_owned()],
        };
        let max_exp = claims.get("exp").and_then(serde_json::Value::as_i64);
        let tenant = names::tenant_name(&user.tenant_id);
        let issued = self
            .issue(&user.name, &tenant, &user.upn, amr.clone(), false, max_exp)
            .await?;
        Ok(ExchangeExternalTokenResponse {
            access_token: issued.token,
            token_type: "Bearer".into(),
            expire_time: Some(timestamp(issued.claims.exp.saturating_mul(1_000_000))),
            user: user.name,
            tenant,
            identity_provider: provider.name,
            amr,
        })
    }

    async fn jwks(&self) -> Result<GetJwksResponse> {
        let all = keys::all(&self.state.db).await?;
        Ok(GetJwksResponse {
            jwks_json: jwks_json(all.iter().map(|k| (k.kid.as_str(), k.public_x.as_str()))),
            keys: all.iter().map(signing_key_message).collect(),
            issuer: self.state.tokens.issuer.clone(),
            audience: self.state.tokens.audience.clone(),
        })
    }

    async fn rotate(
        &self,
        request: Request<RotateSigningKeyRequest>,
    ) -> Result<RotateSigningKeyResponse> {
        require_operator(&request)?;
        let request_id = request.into_inner().request_id;
        let request_id = if request_id.is_empty() {
            None
        } else {
            uuid::Uuid::parse_str(&request_id)
                .map_err(|_| Error::invalid("request_id", "must be a UUID"))?;
            Some(request_id)
        };
        let (active, retired) = keys::rotate(&self.state.db, &self.state.keks, request_id).await?;
        Ok(RotateSigningKeyResponse {
            active_key: Some(signing_key_message(&active)),
            retired_key: Some(signing_key_message(&retired)),
        })
    }

    async fn delete_key(
        &self,
        request: Request<DeleteSigningKeyRequest>,
    ) -> Result<DeleteSigningKeyResponse> {
        require_operator(&request)?;
        let name = request.into_inner().name;
        let kid = name
            .strip_prefix("signingKeys/")
            .filter(|kid| !kid.is_empty() && !kid.contains('/'))
            .ok_or_else(|| Error::invalid("name", "must be signingKeys/{kid}"))?;
        keys::delete(&self.state.db, kid).await?;
        Ok(DeleteSigningKeyResponse {})
    }
}

/// PERMISSION_DENIED unless the call context names the operator.
fn require_operator<T>(request: &Request<T>) -> Result<()> {
    let context = mtm_plumbing::context::extract(request).map_err(Error::Invalid)?;
    if context.principal.is_some_and(|p| p.operator) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(
            "only the operator may manage signing keys".into(),
        ))
    }
}

fn sign_in_response(issued: Issued, user: String, tenant: String) -> SignInResponse {
    SignInResponse {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expire_time: Some(timestamp(issued.claims.exp.saturating_mul(1_000_000))),
        user,
        tenant,
    }
}

/// The `iss` of a compact JWS, read before verification to pick the provider.
fn unverified_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// The enabled user of `tenant` named by the token's UPN claim: the provider's `upn_claim`
/// when it names one, else `upn`, else a verified `email`. An `email` claim counts only with
/// `email_verified: true` (also when it is the configured claim), since many issuers let users
/// type in any address; `preferred_username` is never read unless the provider's `upn_claim`
/// names it (its administrator vouching that the issuer verifies it).
async fn external_user(
    state: &State,
    tenant: &str,
    upn_claim: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<user::Model>> {
    let candidates: &[&str] = if upn_claim.is_empty() {
        &["upn", "email"]
    } else {
        &[upn_claim]
    };
    let email_verified = claims.get("email_verified") == Some(&serde_json::Value::Bool(true));
    let upn = candidates
        .iter()
        .filter(|claim| **claim != "email" || email_verified)
        .find_map(|claim| claims.get(*claim).and_then(serde_json::Value::as_str));
    let Some(Ok((upn, _))) = upn.map(|u| names::normalize_upn(u, "upn")) else {
        return Ok(None);
    };
    Ok(users::by_upn(&state.db, &upn)
        .await?
        .filter(|u| u.tenant_id == tenant && u.enabled))
}

fn signing_key_message(key: &signing_key::Model) -> SigningKey {
    SigningKey {
        name: format!("signingKeys/{}", key.kid),
        kid: key.kid.clone(),
        alg: "EdDSA".into(),
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: key.public_x.clone(),
        state: if key.state == KeyState::Active as i32 {
            KeyState::Active as i32
        } else {
            KeyState::Retired as i32
        },
        create_time: Some(timestamp(key.create_time)),
        retire_time: key.retire_time.map(timestamp),
    }
}

#[tonic::async_trait]
impl AuthService for AuthHandlers {
    async fn sign_in(
        &self,
        request: Request<SignInRequest>,
    ) -> Result<Response<SignInResponse>, Status> {
        let source = super::source::of(&request);
        let outcome = AuthHandlers::sign_in(self, request.into_inner(), &source).await;
        crate::metrics::sign_in(&outcome);
        reply(outcome)
    }

    async fn exchange_external_token(
        &self,
        request: Request<ExchangeExternalTokenRequest>,
    ) -> Result<Response<ExchangeExternalTokenResponse>, Status> {
        reply(self.exchange(request.into_inner()).await)
    }

    async fn get_jwks(
        &self,
        _request: Request<GetJwksRequest>,
    ) -> Result<Response<GetJwksResponse>, Status> {
        reply(self.jwks().await)
    }

    async fn rotate_signing_key(
        &self,
        request: Request<RotateSigningKeyRequest>,
    ) -> Result<Response<RotateSigningKeyResponse>, Status> {
        reply(self.rotate(request).await)
    }

    async fn delete_signing_key(
        &self,
        request: Request<DeleteSigningKeyRequest>,
    ) -> Result<Response<DeleteSigningKeyResponse>, Status> {
        reply(self.delete_key(request).await)
    }
}
