//! Signed page tokens: a position (an offset or the key of the last item returned) with an
//! HMAC-SHA256 over it and everything the token is bound to (the method, the caller and the
//! request fields that decide what is listed), so a token cannot be forged, altered or used
//! with another list, filter or caller.
//!
//! The key comes from [`install_key`] (the servers' `--page-token-key-file`); a process that
//! installs none signs with a random key of its own, so its tokens are valid only until it
//! restarts and only on itself.

use std::sync::OnceLock;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Domain separation for the MAC, and the token format's version.
const CONTEXT: &[u8] = b"mtm page token v1";

/// Length of the MAC carried in a token (the full HMAC-SHA256 output).
const MAC_LEN: usize = 32;

/// The longest position a token may carry, so a huge forged token is refused before any
/// work is done on it.
pub const MAX_POSITION_BYTES: usize = 4096;

static KEY: OnceLock<hmac::Key> = OnceLock::new();

/// Why a page-token key could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file is too short to be a secret.
    #[error("a page token key needs at least 32 bytes, the file has {0}")]
    TooShort(usize),
    /// A different key was already installed in this process.
    #[error("another page token key is already in use in this process")]
    AlreadyInstalled,
}

/// Installs the key every page token of this process is signed with (all replicas of a
/// service must share it). Installing the same key again is a no-op.
pub fn install_key(secret: &[u8]) -> Result<(), KeyError> {
    if secret.len() < 32 {
        return Err(KeyError::TooShort(secret.len()));
    }
    let wanted = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let installed = KEY.get_or_init(|| wanted.clone());
    let probe = b"mtm page token key probe";
    if hmac::sign(installed, probe).as_ref() == hmac::sign(&wanted, probe).as_ref() {
        Ok(())
    } else {
        Err(KeyError::AlreadyInstalled)
    }
}

/// The installed key, or a random one for this process when none was installed.
fn key() -> &'static hmac::Key {
    KEY.get_or_init(|| {
        let mut secret = [0u8; 32];
        if SystemRandom::new().fill(&mut secret).is_err() {
            // No system randomness: fall back to a key no client can know either (the
            // process's address-space layout and start time).
            let seed = format!("{:p}{:?}", &secret, std::time::SystemTime::now());
            let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
            secret.copy_from_slice(digest.as_ref());
        }
        tracing::warn!(
            "no page token key configured: page tokens are valid on this process only, until it restarts"
        );
        hmac::Key::new(hmac::HMAC_SHA256, &secret)
    })
}

/// The message the MAC covers: every part length-prefixed, so no two bindings collide.
fn message<S: AsRef<str>>(bound_to: &[S], position: &str) -> Vec<u8> {
    let mut message = CONTEXT.to_vec();
    for part in bound_to.iter().map(AsRef::as_ref).chain([position]) {
        message.extend_from_slice(&(part.len() as u64).to_be_bytes());
        message.extend_from_slice(part.as_bytes());
    }
    message
}

/// A token carrying `position`, bound to `bound_to`.
pub fn seal<S: AsRef<str>>(bound_to: &[S], position: &str) -> String {
    let tag = hmac::sign(key(), &message(bound_to, position));
    let mut bytes = position.as_bytes().to_vec();
    bytes.extend_from_slice(tag.as_ref());
    hex::encode(bytes)
}

/// The position in `token` when it was sealed with this process's key for `bound_to`.
pub fn open<S: AsRef<str>>(bound_to: &[S], token: &str) -> Option<String> {
    if token.len() > 2 * (MAX_POSITION_BYTES + MAC_LEN) {
        return None;
    }
    let bytes = hex::decode(token).ok()?;
    let split = bytes.len().checked_sub(MAC_LEN)?;
    let (position, tag) = bytes.split_at(split);
    let position = std::str::from_utf8(position).ok()?;
    hmac::verify(key(), &message(bound_to, position), tag).ok()?;
    Some(position.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_positions_open_only_with_their_binding() {
        let token = seal(&["m", "c", "customers/a", ""], "40");
        assert_eq!(
            open(&["m", "c", "customers/a", ""], &token).as_deref(),
            Some("40")
        );
        assert_eq!(open(&["m", "c", "customers/a", "x"], &token), None);
        assert_eq!(open(&["m", "c", "customers/a"], &token), None);
        assert_eq!(open(&["m", "c", "customers/", "a"], &token), None);
        assert_eq!(open(&["m2", "c", "customers/a", ""], &token), None);
        assert_eq!(open(&["m", "d", "customers/a", ""], &token), None);
    }

    #[test]
    fn every_changed_character_is_refused() {
        let bound: &[&str] = &["m", "", "p", ""];
        let token = seal(bound, "12");
        for at in 0..token.len() {
            let mut changed = token.clone().into_bytes();
            changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(changed).expect("ascii");
            assert_eq!(open(bound, &changed), None, "changed at {at}");
        }
        assert_eq!(open(bound, ""), None);
        assert_eq!(open(bound, "zz"), None);
        assert_eq!(open(bound, &"0".repeat(1 << 20)), None);
        let forged = hex::encode(format!("{}|999999999999", "0".repeat(16)));
        assert_eq!(open(bound, &forged), None);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(install_key(b"short"), Err(KeyError::TooShort(5))));
    }
}
