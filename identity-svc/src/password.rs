//! Argon2id password hashing, run off the async runtime. Verification of an unknown user
//! still does the full hashing work against a decoy hash, so timing reveals nothing. At most a
//! configured number of hashes run at once (the rest wait their turn), which also bounds the
//! memory they take: that number times the Argon2 memory cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;

/// Hashes and verifies passwords with one set of Argon2id parameters.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    decoy: Arc<String>,
    permits: Arc<Semaphore>,
    verifications: Arc<AtomicU64>,
}

impl Passwords {
    /// Argon2id with `memory_kib` of memory and `iterations` passes, at most `concurrency`
    /// hashes at once (0: one per available CPU).
    pub fn new(memory_kib: u32, iterations: u32, concurrency: usize) -> Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| Error::Crypto(format!("argon2 parameters: {e}")))?;
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        } else {
            concurrency
        };
        let mut passwords = Self {
            params,
            decoy: Arc::new(String::new()),
            permits: Arc::new(Semaphore::new(concurrency)),
            verifications: Arc::default(),
        };
        passwords.decoy = Arc::new(passwords.hash_now(&random_password())?);
        Ok(passwords)
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| Error::Crypto(format!("argon2: {e}")))
    }

    /// How many verifications have run since start (including against the decoy).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Waits for a hashing slot; held until the hash is done, even if the caller goes away.
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Crypto(format!("hashing slots: {e}")))
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let this = self.clone();
        let password = password.to_owned();
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.hash_now(&password)
        })
        .await
        .map_err(|e| Error::Crypto(format!("hashing task: {e}")))?
    }

    /// Whether `password` matches `hash`; with no hash, does the same work and answers false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let this = self.clone();
        let password = password.to_owned();
        let known = hash.is_some();
        let hash = hash.map_or_else(|| this.decoy.as_str().to_owned(), str::to_owned);
        let permit = self.permit().await?;
        let matched = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.verifications.fetch_add(1, Ordering::Relaxed);
            let parsed =
                PasswordHash::new(&hash).map_err(|e| Error::Crypto(format!("stored hash: {e}")))?;
            Ok::<_, Error>(
                this.argon()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .map_err(|e| Error::Crypto(format!("hashing task: {e}")))??;
        Ok(known && matched)
    }
}

/// Checks a new password's length.
pub fn check_new(password: &str, field: &str) -> Result<()> {
    if password.chars().count() < MIN_LENGTH {
        return Err(Error::invalid(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    Ok(())
}

/// A random 20-character password from an unambiguous alphabet.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password_and_never_without_a_hash() {
        let passwords = Passwords::new(1024, 1, 2).expect("params");
        let hash = passwords.hash("correct horse battery").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            passwords
                .verify("correct horse battery", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !passwords
                .verify("wrong", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !passwords
                .verify("correct horse battery", None)
                .await
                .expect("verify")
        );
    }
}
