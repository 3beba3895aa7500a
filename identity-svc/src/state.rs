//! The shared state of the handlers: store, password hashing, sign-in limiter, principal
//! cache and token settings. Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::cache::PrincipalCache;
use crate::kek::KeyEncryptionKeys;
use crate::password::Passwords;
use crate::ratelimit::SignInLimiter;

/// How access tokens are issued.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// `iss` of every token.
    pub issuer: String,
    /// `aud` of every token.
    pub audience: String,
    /// Lifetime of every token.
    pub lifetime: Duration,
    /// Clock skew allowed when checking external tokens.
    pub leeway_secs: u64,
}

/// The operator's bootstrap credential.
#[derive(Clone)]
pub struct Operator {
    /// The name the operator signs in with (compared case-insensitively).
    pub name: String,
    /// Argon2id hash of the operator password.
    pub password_hash: String,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct State {
    /// The store.
    pub db: DatabaseConnection,
    /// Password hashing.
    pub passwords: Passwords,
    /// Sign-in guesses per (account, source) and per account.
    pub limiter: SignInLimiter,
    /// Resolved principals.
    pub cache: PrincipalCache,
    /// Token issue settings.
    pub tokens: Arc<TokenSettings>,
    /// The operator credential, when configured.
    pub operator: Option<Arc<Operator>>,
    /// Whether a claimed domain is verified at once instead of by its DNS TXT record.
    pub trust_domain_claims: bool,
    /// The key-encryption keys that seal signing keys at rest.
    pub keks: KeyEncryptionKeys,
}
