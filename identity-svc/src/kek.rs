//! Key-encryption keys (KEKs): the token-signing private keys are stored sealed with
//! AES-256-GCM under a KEK that lives outside the store (a file, in Kubernetes a Secret), so a
//! copy of the database alone cannot mint tokens.
//!
//! The KEK file holds one or more keys, one per line, each 32 random bytes in standard base64
//! (`head -c 32 /dev/urandom | base64`) or as 64 hex digits; blank lines and lines starting
//! with `#` are ignored.
//! The first key is the primary: it seals every new signing key and, at start-up, every stored
//! one that is still plain text or sealed by another KEK. The other keys only open, which is
//! how a KEK is rotated without downtime (README: "Keys at rest").
//!
//! A sealed value reads `kek1.<kek id>.<base64url(nonce ‖ ciphertext ‖ tag)>`: the KEK id (a
//! hash of the KEK, not the KEK) says which KEK opens it, a fresh random nonce is drawn for
//! every seal, and the signing key's `kid` is the associated data, so a sealed value copied
//! onto another key's row does not open.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// The prefix of every sealed value (format version 1).
pub const SEALED_PREFIX: &str = "kek1.";

/// The length of a KEK in bytes.
pub const KEK_LEN: usize = 32;

/// Label hashed with a KEK to name it.
const ID_LABEL: &[u8] = b"mtm-identity-kek-id|";

/// Label prefixed to the `kid` in the associated data.
const AAD_LABEL: &[u8] = b"mtm-identity-signing-key|";

/// One KEK and its id.
struct Kek {
    id: String,
    key: LessSafeKey,
}

/// The configured KEKs, primary first. Cheap to clone; its `Debug` shows only the ids.
#[derive(Clone)]
pub struct KeyEncryptionKeys {
    keys: Arc<[Kek]>,
    random: SystemRandom,
}

impl std::fmt::Debug for KeyEncryptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEncryptionKeys")
            .field("ids", &self.ids())
            .finish()
    }
}

/// Where a stored signing key stands with respect to the configured KEKs.
#[derive(Debug, PartialEq, Eq)]
pub enum Sealing {
    /// Sealed by the primary KEK.
    Primary,
    /// Sealed by another configured KEK: re-seal under the primary.
    Secondary,
    /// Plain text (stored before keys were sealed): seal it.
    Plaintext,
}

impl KeyEncryptionKeys {
    /// The KEKs of a KEK file's text; `source` names it in errors.
    pub fn from_text(text: &str, source: &str) -> Result<Self> {
        let mut keys: Vec<Kek> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bytes = decode_line(line).ok_or_else(|| {
                Error::Config(format!(
                    "{source} line {}: a key-encryption key must be {KEK_LEN} random bytes in \
                     base64 or hex",
                    number + 1
                ))
            })?;
            if bytes.len() != KEK_LEN {
                return Err(Error::Config(format!(
                    "{source} line {}: a key-encryption key must be {KEK_LEN} bytes, not {}",
                    number + 1,
                    bytes.len()
                )));
            }
            let kek = Kek::new(&bytes)?;
            if keys.iter().any(|k| k.id == kek.id) {
                return Err(Error::Config(format!(
                    "{source} line {}: key-encryption key {} is listed twice",
                    number + 1,
                    kek.id
                )));
            }
            keys.push(kek);
        }
        if keys.is_empty() {
            return Err(Error::Config(format!(
                "{source} holds no key-encryption key"
            )));
        }
        Ok(Self {
            keys: keys.into(),
            random: SystemRandom::new(),
        })
    }

    /// The KEKs of the file at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "reading the key-encryption key file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_text(&text, &path.display().to_string())
    }

    /// One fresh random KEK as a line of a KEK file (what `mtm-local` and tests write).
    pub fn new_line() -> Result<String> {
        let mut bytes = [0u8; KEK_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Crypto("no randomness".into()))?;
        Ok(STANDARD.encode(bytes))
    }

    /// A single fresh random KEK (tests and embedding).
    pub fn generate() -> Result<Self> {
        Self::from_text(&Self::new_line()?, "a generated key")
    }

    /// The ids of the configured KEKs, primary first.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    fn primary(&self) -> &Kek {
        &self.keys[0]
    }

    /// `secret` (the private key of signing key `kid`) sealed under the primary KEK.
    pub fn seal(&self, kid: &str, secret: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| Error::Crypto("no randomness".into()))?;
        let primary = self.primary();
        let mut sealed = secret.to_vec();
        primary
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kid)),
                &mut sealed,
            )
            .map_err(|_| Error::Crypto("sealing a signing key failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}.{}",
            primary.id,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// The private key of signing key `kid` from its stored form. A value sealed by an
    /// unknown KEK, or that does not open (wrong KEK, tampering, moved to another `kid`), is
    /// an error naming the cause but never the key.
    pub fn open(&self, kid: &str, stored: &str) -> Result<Vec<u8>> {
        let (kek_id, blob) = parse(stored).ok_or_else(|| {
            Error::Crypto(format!(
                "signing key {kid} is not sealed by a key-encryption key"
            ))
        })?;
        let kek = self.keys.iter().find(|k| k.id == kek_id).ok_or_else(|| {
            Error::Crypto(format!(
                "signing key {kid} is sealed by key-encryption key {kek_id}, which is not \
                 configured (configured: {})",
                self.ids().join(", ")
            ))
        })?;
        let mut blob = URL_SAFE_NO_PAD
            .decode(blob)
            .ok()
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(|| {
                Error::Crypto(format!("signing key {kid}: the sealed value is corrupt"))
            })?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&blob[..NONCE_LEN]);
        let opened = kek
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kid)),
                &mut blob[NONCE_LEN..],
            )
            .map_err(|_| {
                Error::Crypto(format!(
                    "signing key {kid} does not open with key-encryption key {kek_id}: the \
                     key-encryption key is not the one it was sealed with, or the row was altered"
                ))
            })?;
        Ok(opened.to_vec())
    }

    /// Whether a stored value is sealed by the primary KEK, by another one, or plain text.
    /// A value sealed by a KEK that is not configured counts as `Secondary`; `open` then
    /// names the missing KEK.
    pub fn sealing(&self, stored: &str) -> Sealing {
        match parse(stored) {
            Some((id, _)) if id == self.primary().id => Sealing::Primary,
            Some(_) => Sealing::Secondary,
            None if stored.starts_with(SEALED_PREFIX) => Sealing::Secondary,
            None => Sealing::Plaintext,
        }
    }
}

impl Kek {
    fn new(bytes: &[u8]) -> Result<Self> {
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| Error::Config("a key-encryption key is unusable".into()))?;
        let mut labelled = ID_LABEL.to_vec();
        labelled.extend_from_slice(bytes);
        let digest = ring::digest::digest(&ring::digest::SHA256, &labelled);
        Ok(Self {
            id: hex_prefix(digest.as_ref()),
            key: LessSafeKey::new(key),
        })
    }
}

/// A KEK line's bytes: 64 hex digits, else standard base64.
fn decode_line(line: &str) -> Option<Vec<u8>> {
    if line.len() == 2 * KEK_LEN && line.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..KEK_LEN)
            .map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).ok())
            .collect();
    }
    STANDARD.decode(line).ok()
}

/// The first 8 bytes of `digest` in hex.
fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn aad(kid: &str) -> Vec<u8> {
    let mut aad = AAD_LABEL.to_vec();
    aad.extend_from_slice(kid.as_bytes());
    aad
}

/// `(kek id, blob)` of a sealed value.
fn parse(stored: &str) -> Option<(&str, &str)> {
    let rest = stored.strip_prefix(SEALED_PREFIX)?;
    let (id, blob) = rest.split_once('.')?;
    (!id.is_empty() && !blob.is_empty()).then_some((id, blob))
}

#[cfg(test)]
mod tests;
