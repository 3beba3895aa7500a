//! The opaque page token of the *all tickets* view: the last ticket returned (which fixes
//! every customer's position in the merged order, see [`super::order`]), valid for 24 hours.
//!
//! The position travels as a [`mtm_plumbing::paging`] token: signed, and bound to the method,
//! the filter and the calling user, so a token that was altered, forged, or issued to another
//! caller or for another filter is INVALID_ARGUMENT naming `page_token`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mtm_plumbing::paging;
use mtm_plumbing::status::FieldError;
use prost::Message;

use super::order::Position;

/// How long a page token stays valid.
pub const LIFETIME_SECS: i64 = 24 * 60 * 60;

/// How far in the future an issue time may lie (clock skew between gateway replicas).
const SKEW_SECS: i64 = 300;

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
    #[prost(int64, tag = "2")]
    issued_at: i64,
    #[prost(int64, tag = "3")]
    update_micros: i64,
    #[prost(string, tag = "4")]
    ticket: String,
}

fn invalid(why: &str) -> FieldError {
    FieldError::new("page_token", why)
}

impl Cursor {
    /// The token for this cursor, valid with `filter` for `caller` (the principal's user)
    /// only.
    pub fn encode(&self, filter: &str, caller: &str) -> String {
        let bytes = Wire {
            issued_at: self.issued_at,
            update_micros: self.last.update_micros,
            ticket: self.last.ticket.clone(),
        }
        .encode_to_vec();
        paging::encode(&[filter, caller], &URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The cursor in `token`, which must have been issued for `filter` and `caller` less than
    /// [`LIFETIME_SECS`] before `now` (Unix seconds); an empty token is the first page.
    pub fn decode(
        token: &str,
        filter: &str,
        caller: &str,
        now: i64,
    ) -> Result<Option<Self>, FieldError> {
        let Some(position) = paging::decode(&[filter, caller], token)? else {
            return Ok(None);
        };
        let wire = URL_SAFE_NO_PAD
            .decode(position)
            .ok()
            .and_then(|bytes| Wire::decode(bytes.as_slice()).ok())
            .ok_or_else(|| invalid("not a page token of this list"))?;
        if now.saturating_sub(wire.issued_at) > LIFETIME_SECS
            || wire.issued_at > now.saturating_add(SKEW_SECS)
        {
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

    const ANA: &str = "tenants/t/users/ana";

    #[test]
    fn a_token_round_trips_with_its_filter_and_caller() {
        let token = cursor().encode("status = \"NEEDS_ACTION\"", ANA);
        assert_eq!(
            Cursor::decode(&token, "status = \"NEEDS_ACTION\"", ANA, NOW).expect("decodes"),
            Some(cursor())
        );
        assert_eq!(Cursor::decode("", "", ANA, NOW).expect("first page"), None);
    }

    #[test]
    fn a_token_is_refused_with_another_filter_or_caller_when_changed_or_when_expired() {
        let token = cursor().encode("", ANA);
        assert!(Cursor::decode(&token, "severity = \"WARNING\"", ANA, NOW).is_err());
        assert!(Cursor::decode(&token, "", "tenants/t/users/bob", NOW).is_err());
        assert!(Cursor::decode(&token, "", "", NOW).is_err());
        for at in 0..token.len() {
            let mut changed = token.clone().into_bytes();
            changed[at] = if changed[at] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(changed).expect("ascii");
            assert!(
                Cursor::decode(&changed, "", ANA, NOW).is_err(),
                "changed at {at}"
            );
        }
        assert!(Cursor::decode("not a token!", "", ANA, NOW).is_err());
        assert!(Cursor::decode(&token, "", ANA, NOW + LIFETIME_SECS).is_err());
        let future = Cursor {
            issued_at: i64::MAX,
            ..cursor()
        }
        .encode("", ANA);
        assert!(Cursor::decode(&future, "", ANA, NOW).is_err());
    }
}
