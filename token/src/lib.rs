//! MTM access tokens: their claims, signing with an Ed25519 key, JWKS documents, and local
//! verification from a JWKS document. identity-svc signs and publishes the keys; the gateway
//! verifies every request's token with [`Verifier`] and nothing else of identity-svc.
//!
//! A token is refused when its signature does not verify, when it is expired or not yet
//! valid, when `iss` or `aud` differ from what is expected, when its header names an
//! algorithm other than the key's (including `none`), or when its `kid` is not in the JWKS.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The signature algorithms a [`KeySet`] can accept.
pub use jsonwebtoken::Algorithm;

/// The `amr` value of a password sign-in.
pub const AMR_PASSWORD: &str = "pwd";

/// The claims of an MTM access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user: `tenants/{tenant}/users/{user}`, or `operator` for the operator.
    pub sub: String,
    /// The home tenant: `tenants/{tenant}`; empty for the operator.
    pub tid: String,
    /// The user's lower-cased UPN, or the operator name.
    pub upn: String,
    /// Authentication methods (`pwd`, `mfa`, ...).
    pub amr: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: i64,
    /// Not valid before, seconds since the Unix epoch.
    pub nbf: i64,
    /// True only in the operator's tokens.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub operator: bool,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS with a readable header.
    #[error("the token is malformed")]
    Malformed,
    /// The header names an algorithm that is not accepted (for example `none`).
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    /// No key of the JWKS has the token's `kid`.
    #[error("the token's key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    Signature,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` has not come yet.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `aud` is not the expected audience.
    #[error("the token is for another audience")]
    Audience,
    /// `iss` is not the expected issuer.
    #[error("the token is from another issuer")]
    Issuer,
    /// A required claim is missing or has the wrong type.
    #[error("the token's claims are invalid")]
    Claims,
    /// The JWKS document cannot be used.
    #[error("the key set is invalid: {0}")]
    KeySet(String),
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => Self::Algorithm,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => Self::Claims,
            _ => Self::Malformed,
        }
    }
}

/// A key set with the algorithm each key verifies.
#[derive(Clone)]
pub struct KeySet {
    keys: HashMap<String, (Algorithm, DecodingKey)>,
}

impl KeySet {
    /// Parses a JWKS document, keeping keys whose type is among `accepted`. Keys need a `kid`.
    pub fn from_json(json: &str, accepted: &[Algorithm]) -> Result<Self, TokenError> {
        let set: JwkSet =
            serde_json::from_str(json).map_err(|e| TokenError::KeySet(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk
                .common
                .key_id
                .clone()
                .ok_or_else(|| TokenError::KeySet("a key has no kid".into()))?;
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
                AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                _ => {
                    return Err(TokenError::KeySet(format!(
                        "key {kid} is not an OKP, EC or RSA public key"
                    )));
                }
            };
            if !accepted.contains(&algorithm) {
                return Err(TokenError::KeySet(format!(
                    "key {kid} uses {algorithm:?}, which is not accepted"
                )));
            }
            let key = DecodingKey::from_jwk(jwk).map_err(|e| TokenError::KeySet(e.to_string()))?;
            keys.insert(kid, (algorithm, key));
        }
        Ok(Self { keys })
    }

    /// Verifies `token` and returns its claims: signature by the key its `kid` names, with
    /// that key's algorithm, `exp` and `nbf` within `leeway_secs`, `iss` and `aud` as given.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        leeway_secs: u64,
    ) -> Result<T, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let (algorithm, key) = self.keys.get(kid).ok_or(TokenError::UnknownKey)?;
        if header.alg != *algorithm {
            return Err(TokenError::Algorithm);
        }
        let mut validation = Validation::new(*algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.validate_nbf = true;
        validation.leeway = leeway_secs;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Ok(jsonwebtoken::decode::<T>(token, key, &validation)?.claims)
    }
}

/// Why a header did not parse: an algorithm jsonwebtoken does not know (such as `none`), or
/// anything else.
fn header_error(token: &str) -> TokenError {
    let alg = token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|header| header.get("alg").cloned());
    match alg {
        Some(_) => TokenError::Algorithm,
        None => TokenError::Malformed,
    }
}

/// Verifies MTM access tokens locally, from identity-svc's JWKS (see `AuthService.GetJwks`).
#[derive(Clone)]
pub struct Verifier {
    keys: KeySet,
    issuer: String,
    audience: String,
    leeway_secs: u64,
}

impl Verifier {
    /// A verifier for tokens of `issuer` for `audience`, signed by a key of `jwks_json`
    /// (Ed25519 keys only), allowing `leeway_secs` of clock skew.
    pub fn from_jwks_json(
        jwks_json: &str,
        issuer: &str,
        audience: &str,
        leeway_secs: u64,
    ) -> Result<Self, TokenError> {
        Ok(Self {
            keys: KeySet::from_json(jwks_json, &[Algorithm::EdDSA])?,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway_secs,
        })
    }

    /// The claims of `token` when every check passes.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let claims: AccessClaims =
            self.keys
                .verify(token, &self.issuer, &self.audience, self.leeway_secs)?;
        if claims.sub.is_empty() {
            return Err(TokenError::Claims);
        }
        Ok(claims)
    }
}

/// An Ed25519 signing key: its id, private seed and public key (JWK `x`).
#[derive(Clone)]
pub struct KeyMaterial {
    /// The key id.
    pub kid: String,
    /// The private seed, base64url without padding.
    pub seed: String,
    /// The public key, base64url without padding.
    pub x: String,
}

impl KeyMaterial {
    /// A fresh random key with a UUIDv7 key id. Panics if the operating system's random source
    /// fails.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .expect("the operating system's random source");
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        Self {
            kid: uuid::Uuid::now_v7().simple().to_string(),
            seed: URL_SAFE_NO_PAD.encode(seed),
            x: URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes()),
        }
    }

    /// The 32 bytes of a base64url private seed.
    pub fn seed_bytes_of(seed: &str) -> Result<[u8; 32], TokenError> {
        URL_SAFE_NO_PAD
            .decode(seed)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| TokenError::KeySet("the private seed is corrupt".into()))
    }

    /// The 32 bytes of this key's private seed.
    pub fn seed_bytes(&self) -> Result<[u8; 32], TokenError> {
        Self::seed_bytes_of(&self.seed)
    }

    /// Signs `claims` as a compact JWS with `alg: EdDSA` and this key's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        let seed = self.seed_bytes()?;
        let der = ed25519_dalek::SigningKey::from_bytes(&seed)
            .to_pkcs8_der()
            .map_err(|e| TokenError::KeySet(e.to_string()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes()))
            .map_err(|e| TokenError::KeySet(e.to_string()))
    }
}

/// The JWK of a public Ed25519 key.
pub fn jwk_json(kid: &str, x: &str) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": x,
    })
}

/// A JWKS document of public Ed25519 keys given as `(kid, x)`.
pub fn jwks_json<'a>(keys: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let keys: Vec<_> = keys.into_iter().map(|(kid, x)| jwk_json(kid, x)).collect();
    serde_json::json!({ "keys": keys }).to_string()
}

#[cfg(test)]
mod tests;
