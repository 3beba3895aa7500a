//! identity-svc's published token keys as the gateway holds them: fetched again every
//! [`KeyArgs::jwks_refresh_ms`] in the background and at once (rate limited) when a token names
//! an unknown key, so a deleted key stops verifying on every replica within one interval (plus
//! the fetch). Keys not refreshed for [`KeyArgs::jwks_max_age_ms`] are no longer trusted: every
//! token is refused (UNAVAILABLE) until a fetch succeeds again, never verified with old keys.

use std::sync::{Arc, Weak};
use std::time::Duration;

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::identity::v1::GetJwksRequest;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_token::{AccessClaims, TokenError, Verifier};
use tokio::sync::{Mutex, RwLock};
use tokio::time::{Instant, MissedTickBehavior};
use tonic::Status;

/// Seconds of clock skew tolerated on `exp` and `nbf` (README, configuration).
pub const LEEWAY_SECS: u64 = 5;

/// How the gateway keeps the token keys fresh.
#[derive(Clone, Debug, clap::Args)]
pub struct KeyArgs {
    /// Milliseconds between fetches of identity-svc's token keys: a deleted signing key stops
    /// verifying on every gateway replica within this time.
    #[arg(
        long,
        env = "MTM_JWKS_REFRESH_MS",
        default_value_t = 5000,
        value_parser = clap::value_parser!(u64).range(10..=300_000)
    )]
    pub jwks_refresh_ms: u64,

    /// Milliseconds the last fetched keys are trusted while identity-svc cannot be reached;
    /// after that every token is refused until a fetch succeeds.
    #[arg(
        long,
        env = "MTM_JWKS_MAX_AGE_MS",
        default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(10..=3_600_000)
    )]
    pub jwks_max_age_ms: u64,
}

impl Default for KeyArgs {
    fn default() -> Self {
        Self {
            jwks_refresh_ms: 5000,
            jwks_max_age_ms: 30_000,
        }
    }
}

impl KeyArgs {
    fn refresh(&self) -> Duration {
        Duration::from_millis(self.jwks_refresh_ms)
    }

    /// Never shorter than one refresh interval, or every interval would end in a refusal.
    fn max_age(&self) -> Duration {
        Duration::from_millis(self.jwks_max_age_ms).max(self.refresh() * 2)
    }

    /// Unknown keys trigger a fetch at most this often.
    fn unknown_key_gap(&self) -> Duration {
        self.refresh().min(Duration::from_secs(1))
    }
}

/// The keys and when they were fetched.
#[derive(Clone)]
struct Fetched {
    verifier: Verifier,
    at: Instant,
}

/// The token keys, kept fresh.
pub struct Keys {
    identity: ServiceChannel,
    settings: KeyArgs,
    current: RwLock<Option<Fetched>>,
    /// When a fetch was last tried; held while fetching, so fetches never overlap.
    last_try: Mutex<Option<Instant>>,
}

impl Keys {
    /// Keys fetched from identity-svc on `identity`, refreshed in the background for as long
    /// as the returned handle lives.
    pub fn start(identity: ServiceChannel, settings: KeyArgs) -> Arc<Self> {
        let keys = Arc::new(Self {
            identity,
            settings,
            current: RwLock::new(None),
            last_try: Mutex::new(None),
        });
        tokio::spawn(refresh_loop(Arc::downgrade(&keys)));
        keys
    }

    /// Fetches the keys now and keeps them when usable.
    async fn fetch(&self) -> Result<Fetched, Status> {
        let mut last_try = self.last_try.lock().await;
        self.fetch_holding(&mut last_try).await
    }

    /// Fetches the keys while holding the fetch lock.
    async fn fetch_holding(&self, last_try: &mut Option<Instant>) -> Result<Fetched, Status> {
        *last_try = Some(Instant::now());
        let jwks = AuthServiceClient::new(self.identity.clone())
            .get_jwks(GetJwksRequest {})
            .await
            .map_err(|status| {
                tracing::warn!(%status, "the token keys could not be fetched");
                unavailable()
            })?
            .into_inner();
        let verifier =
            Verifier::from_jwks_json(&jwks.jwks_json, &jwks.issuer, &jwks.audience, LEEWAY_SECS)
                .map_err(|error| {
                    tracing::error!(%error, "identity-svc published an unusable key set");
                    unavailable()
                })?;
        let fetched = Fetched {
            verifier,
            at: Instant::now(),
        };
        *self.current.write().await = Some(fetched.clone());
        Ok(fetched)
    }

    /// Keys fetched after `seen`, for a token naming a key `seen` lacks: another request's
    /// fetch when one finished meanwhile, otherwise a fetch of its own once the last one is
    /// [`KeyArgs::unknown_key_gap`] old (so unknown keys cost at most one fetch per gap).
    async fn newer_than(&self, seen: Instant) -> Result<Fetched, Status> {
        let mut last_try = self.last_try.lock().await;
        if let Some(fetched) = self.current.read().await.clone()
            && fetched.at > seen
        {
            return Ok(fetched);
        }
        if let Some(at) = *last_try {
            let wait = self.settings.unknown_key_gap().saturating_sub(at.elapsed());
            tokio::time::sleep(wait).await;
        }
        self.fetch_holding(&mut last_try).await
    }

    /// The keys to verify with now: the kept ones while younger than the maximum age,
    /// otherwise fetched afresh, or UNAVAILABLE.
    async fn usable(&self) -> Result<Fetched, Status> {
        let kept = self.current.read().await.clone();
        match kept {
            Some(fetched) if fetched.at.elapsed() < self.settings.max_age() => Ok(fetched),
            _ => self.fetch().await,
        }
    }

    /// The claims of `token`, or UNAUTHENTICATED (UNAVAILABLE when no trusted keys are at
    /// hand).
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, Status> {
        let fetched = self.usable().await?;
        match fetched.verifier.verify(token) {
            Ok(claims) => Ok(claims),
            Err(TokenError::UnknownKey) => self
                .newer_than(fetched.at)
                .await?
                .verifier
                .verify(token)
                .map_err(|e| refused(&e)),
            Err(error) => Err(refused(&error)),
        }
    }
}

/// Fetches the keys every interval until the keys are dropped.
async fn refresh_loop(keys: Weak<Keys>) {
    let Some(period) = keys.upgrade().map(|k| k.settings.refresh()) else {
        return;
    };
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(keys) = keys.upgrade() else {
            return;
        };
        // A failure is logged by `fetch`; the kept keys age out on their own.
        let _ = keys.fetch().await;
    }
}

fn unavailable() -> Status {
    Status::unavailable("token keys are unavailable")
}

fn refused(error: &TokenError) -> Status {
    Status::unauthenticated(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_age_is_never_shorter_than_two_intervals() {
        let settings = KeyArgs {
            jwks_refresh_ms: 1000,
            jwks_max_age_ms: 100,
        };
        assert_eq!(settings.max_age(), Duration::from_secs(2));
        assert_eq!(KeyArgs::default().max_age(), Duration::from_secs(30));
        assert_eq!(KeyArgs::default().unknown_key_gap(), Duration::from_secs(1));
    }
}
