//! Sealing enrolment keys at rest: AES-256-GCM under a service secret kept outside the
//! customer stores, bound to the customer and key version, plus a SHA-256 hash used to check
//! keys presented by devices. The same secret, under its own label, signs page tokens.

use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;
use crate::names::CustomerId;

/// Seals and unseals enrolment keys.
pub struct Sealer {
    key: LessSafeKey,
    page_tokens: ring::hmac::Key,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// Reads the 32-byte secret at `path`, creating it (owner-only) when it is missing.
    pub fn load_or_create(path: &Path) -> Result<Self, Error> {
        let io = |context: String| move |source| Error::Io { context, source };
        let random = SystemRandom::new();
        let secret = match std::fs::read(path) {
            Ok(secret) => secret,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                random
                    .fill(&mut secret)
                    .map_err(|_| Error::Sealing("no randomness"))?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(io(format!("creating {}", dir.display())))?;
                }
                write_private(path, &secret).map_err(io(format!("writing {}", path.display())))?;
                secret.to_vec()
            }
            Err(source) => {
                return Err(Error::Io {
                    context: format!("reading {}", path.display()),
                    source,
                });
            }
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &secret)
            .map_err(|_| Error::Sealing("the sealing secret must be exactly 32 bytes"))?;
        let mut labelled = b"mtm-rooms-page-tokens|".to_vec();
        labelled.extend_from_slice(&secret);
        let page_tokens = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            ring::digest::digest(&ring::digest::SHA256, &labelled).as_ref(),
        );
        Ok(Self {
            key: LessSafeKey::new(unbound),
            page_tokens,
            random,
        })
    }

    /// The key that signs page tokens, derived from the secret under its own label so it
    /// never equals the sealing key.
    pub fn page_token_key(&self) -> ring::hmac::Key {
        self.page_tokens.clone()
    }

    /// A new random enrolment key (256 bits, hex).
    pub fn new_key(&self) -> Result<String, Error> {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| Error::Sealing("no randomness"))?;
        Ok(hex::encode(bytes))
    }

    /// Seals `key` for `customer`'s key version `version`: nonce then ciphertext and tag.
    pub fn seal(&self, customer: &CustomerId, version: i32, key: &str) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| Error::Sealing("no randomness"))?;
        let mut data = key.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(customer, version)),
                &mut data,
            )
            .map_err(|_| Error::Sealing("sealing failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend(data);
        Ok(sealed)
    }

    /// Unseals what [`Sealer::seal`] made for the same customer and version.
    pub fn unseal(
        &self,
        customer: &CustomerId,
        version: i32,
        sealed: &[u8],
    ) -> Result<String, Error> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Sealing("sealed key too short"));
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::Sealing("bad nonce"))?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(customer, version)), &mut data)
            .map_err(|_| Error::Sealing("the sealed key does not open with this secret"))?;
        String::from_utf8(plain.to_vec()).map_err(|_| Error::Sealing("sealed key is not text"))
    }
}

fn aad(customer: &CustomerId, version: i32) -> Vec<u8> {
    format!("mtm-enrolment-key|{customer}|{version}").into_bytes()
}

/// The SHA-256 of a key, hex.
pub fn hash_key(key: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref())
}

/// Whether `presented` is the key whose hash is `hash`, compared in constant time.
pub fn matches(presented: &str, hash: &str) -> bool {
    let presented = hash_key(presented);
    presented.len() == hash.len()
        && presented
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn write_private(path: &Path, secret: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(secret)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_seal_per_customer_and_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sealer = Sealer::load_or_create(&dir.path().join("k")).expect("sealer");
        let again = Sealer::load_or_create(&dir.path().join("k")).expect("reload");
        let contoso = CustomerId::new("contoso").expect("id");
        let fabrikam = CustomerId::new("fabrikam").expect("id");
        let key = sealer.new_key().expect("key");
        let sealed = sealer.seal(&contoso, 1, &key).expect("seal");
        assert!(!sealed.windows(key.len()).any(|w| w == key.as_bytes()));
        assert_eq!(again.unseal(&contoso, 1, &sealed).expect("unseal"), key);
        assert!(sealer.unseal(&fabrikam, 1, &sealed).is_err());
        assert!(sealer.unseal(&contoso, 2, &sealed).is_err());
        assert!(matches(&key, &hash_key(&key)));
        assert!(!matches("guess", &hash_key(&key)));
    }
}
