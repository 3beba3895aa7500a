//! The opaque page token of the *all tickets* view: the last ticket returned (which fixes
//! every customer's position in the merged order, see [`super::order`]), bound to the filter
//! it was issued for and valid for 24 hours.
//!
//! Encoding: URL-safe base64 of a small protobuf message followed by an 8-byte FNV-1a checksum
//! of it, so a changed character is refused instead of silently moving the position.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mtm_plumbing::status::FieldError;
use prost::Message;

use super::order::Position;

/// How long a page token stays valid.
pub const LIFETIME_SECS: i64 = 24 * 60 * 60;

/// Where the next page starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last ticket of the previous page.
    pub last: Position,
    /// When the listing's first token was issued (Unix seconds).
    pub issued_at: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Wire {
    #[prost(string, tag = "1")]
    filter: String,
    #[prost(int64, tag = "2")]
    issued_at: i64,
    #[prost(int64, tag = "3")]
    update_micros: i64,
    #[prost(string, tag = "4")]
    ticket: String,
}

fn checksum(bytes: &[u8]) -> [u8; 8] {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash.to_be_bytes()
}

fn invalid(why: &str) -> FieldError {
    FieldError::new("page_token", why)
}

impl Cursor {
    /// The token for this cursor, valid with `filter` only.
    pub fn encode(&self, filter: &str) -> String {
        let mut bytes = Wire {
            filter: filter.to_owned(),
            issued_at: self.issued_at,
            update_micros: self.last.update_micros,
            ticket: self.last.ticket.clone(),
        }
        .encode_to_vec();
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor in `token`, which must have been issued for `filter` less than
    /// [`LIFETIME_SECS`] before `now` (Unix seconds); an empty token is the first page.
    pub fn decode(token: &str, filter: &str, now: i64) -> Result<Option<Self>, FieldError> {
        if token.is_empty() {
            return Ok(None);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid("not a page token of this list"))?;
        let (payload, sum) = bytes
            .split_at_checked(bytes.len().saturating_sub(8))
            .ok_or_else(|| invalid("not a page token of this list"))?;
        if sum.len() != 8 || checksum(payload) != sum {
            return Err(invalid("not a page token of this list"));
        }
        let wire = Wire::decode(payload).map_err(|_| invalid("not a page token of this list"))?;
        if wire.filter != filter {
            return Err(invalid("issued for another filter"));
        }
        if now.saturating_sub(wire.issued_at) > LIFETIME_SECS || wire.issued_at > now + 300 {
            return Err(invalid("expired: page tokens are valid for 24 hours"));
        }
        let last = Position::parse(wire.update_micros, &wire.ticket)
            .ok_or_else(|| invalid("not a page token of this list"))?;
        Ok(Some(Self {
            last,
            issued_at: wire.issued_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    fn cursor() -> Cursor {
        Cursor {
            last: Position::parse(1_789_999_000_000_123, "customers/acme/tickets/t-1")
                .expect("position"),
            issued_at: NOW - 60,
        }
    }

    #[test]
    fn a_token_round_trips_with_its_filter() {
        let token = cursor().encode("status = \"NEEDS_ACTION\"");
        assert_eq!(
            Cursor::decode(&token, "status = \"NEEDS_ACTION\"", NOW).expect("decodes"),
            Some(cursor())
        );
        assert_eq!(Cursor::decode("", "", NOW).expect("first page"), None);
    }

    #[test]
    fn a_token_is_refused_with_another_filter_when_changed_or_when_expired() {
        let token = cursor().encode("");
        assert!(Cursor::decode(&token, "severity = \"WARNING\"", NOW).is_err());
        for at in 0..token.len() {
            let mut changed = token.clone().into_bytes();
            changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).expect("ascii");
            assert!(
                Cursor::decode(&changed, "", NOW).is_err(),
                "changed at {at}"
            );
        }
        assert!(Cursor::decode("not base64!", "", NOW).is_err());
        assert!(Cursor::decode(&token, "", NOW + LIFETIME_SECS).is_err());
    }
}
