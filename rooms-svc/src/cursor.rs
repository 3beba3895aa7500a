//! Opaque cursor page tokens for the keyset-paged lists (rooms, room groups, update rings).
//!
//! A token carries the sort key of the last item returned, so the next page starts strictly
//! after it and pages neither skip nor repeat items when others are inserted or deleted in
//! between. It is an [`mtm_plumbing::paging`] token bound to the request fields that decide
//! what is listed and to the list's order, and it is signed with a key only this service
//! holds: a token used with another filter, another list or another order, or altered in any
//! way, is INVALID_ARGUMENT naming `page_token`.

use ring::hmac;
use sea_orm::{ColumnTrait, Condition, Value};

use crate::error::Error;
use mtm_plumbing::paging;

/// Signs and checks page tokens.
pub struct Cursors {
    key: hmac::Key,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors(..)")
    }
}

/// What a token is valid for: the list's order (which also names the list) and the request
/// fields that decide what is listed, usually `[parent, filter]`.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    /// The list and its order, e.g. `rooms by display_name, id`.
    pub order: &'a str,
    /// The request fields that select the items.
    pub fields: &'a [&'a str],
}

impl Binding<'_> {
    fn scope(&self) -> Vec<&str> {
        let mut scope = Vec::with_capacity(self.fields.len() + 1);
        scope.push(self.order);
        scope.extend_from_slice(self.fields);
        scope
    }
}

/// INVALID_ARGUMENT for a page token that does not belong to the list it is used with.
pub fn refused() -> Error {
    Error::invalid(
        "page_token",
        "not a token of this list with this filter and order",
    )
}

impl Cursors {
    /// Cursors signed with `key`.
    pub fn new(key: hmac::Key) -> Self {
        Self { key }
    }

    fn signature(&self, scope: &[&str], key: &str) -> String {
        let mut message = scope.join("\u{0}");
        message.push('\u{0}');
        message.push_str(key);
        hex::encode(hmac::sign(&self.key, message.as_bytes()).as_ref())
    }

    /// The token of the position after the item whose sort key is `key`.
    pub fn encode(&self, binding: Binding<'_>, key: &[String]) -> String {
        let scope = binding.scope();
        let key = serde_json::to_string(key).unwrap_or_default();
        let position = format!("{}.{key}", self.signature(&scope, &key));
        paging::encode(&scope, &position)
    }

    /// The sort key carried by `token` (`None` for the first page), which must have been
    /// issued for `binding`, be unaltered and hold exactly `parts` values.
    pub fn decode(
        &self,
        binding: Binding<'_>,
        token: &str,
        parts: usize,
    ) -> Result<Option<Vec<String>>, Error> {
        let scope = binding.scope();
        let Some(position) = paging::decode(&scope, token).map_err(|_| refused())? else {
            return Ok(None);
        };
        let (signature, key) = position.split_once('.').ok_or_else(refused)?;
        let expected = hex::decode(signature).map_err(|_| refused())?;
        let mut message = scope.join("\u{0}");
        message.push('\u{0}');
        message.push_str(key);
        hmac::verify(&self.key, message.as_bytes(), &expected).map_err(|_| refused())?;
        let values: Vec<String> = serde_json::from_str(key).map_err(|_| refused())?;
        if values.len() != parts {
            return Err(refused());
        }
        Ok(Some(values))
    }
}

/// One page of a keyset-paged list.
#[derive(Debug)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The sort key of the last item when more follow.
    pub next: Option<Vec<String>>,
    /// Items matching over all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// The page of `rows` fetched with one row more than `limit` (so a longer answer means
    /// more follow), with each row's sort key from `key_of`.
    pub fn cut(
        mut rows: Vec<T>,
        limit: u64,
        total: u64,
        key_of: impl Fn(&T) -> Vec<String>,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(key_of) } else { None };
        Self {
            items: rows,
            next,
            total,
        }
    }

    /// The token for the next page under `binding`; empty on the last page.
    pub fn next_token(&self, cursors: &Cursors, binding: Binding<'_>) -> String {
        self.next
            .as_ref()
            .map(|key| cursors.encode(binding, key))
            .unwrap_or_default()
    }
}

/// A sort key value that must be a whole number.
pub fn number(value: &str) -> Result<i32, Error> {
    value.parse().map_err(|_| refused())
}

/// The rows strictly after `key` in ascending order of `columns` (one value per column).
pub fn after<C: ColumnTrait>(columns: &[C], key: Vec<Value>) -> Condition {
    columns
        .iter()
        .zip(key)
        .rev()
        .fold(None, |later: Option<Condition>, (column, value)| {
            let mut condition = Condition::any().add(column.gt(value.clone()));
            if let Some(later) = later {
                condition = condition.add(Condition::all().add(column.eq(value)).add(later));
            }
            Some(condition)
        })
        .unwrap_or_else(Condition::all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursors(secret: &[u8]) -> Cursors {
        Cursors::new(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    const ROOMS: Binding<'static> = Binding {
        order: "rooms by display_name, id",
        fields: &["customers/c", ""],
    };

    #[test]
    fn tokens_carry_the_key_for_their_binding_only() {
        let cursors = cursors(b"secret");
        let key = vec!["Room | 1 \"a\"".to_owned(), "r1".to_owned()];
        let token = cursors.encode(ROOMS, &key);
        assert_eq!(cursors.decode(ROOMS, &token, 2).expect("ok"), Some(key));
        assert_eq!(cursors.decode(ROOMS, "", 2).expect("ok"), None);
        let other_filter = Binding {
            fields: &["customers/c", "size = \"LARGE\""],
            ..ROOMS
        };
        let other_order = Binding {
            order: "groups by display_name, id",
            ..ROOMS
        };
        for (binding, token) in [
            (other_filter, token.as_str()),
            (other_order, token.as_str()),
            (ROOMS, "zz"),
            (ROOMS, "00"),
        ] {
            assert!(cursors.decode(binding, token, 2).is_err());
        }
        assert!(cursors.decode(ROOMS, &token, 3).is_err(), "wrong shape");
        assert!(
            self::cursors(b"another").decode(ROOMS, &token, 2).is_err(),
            "signed by another key"
        );
    }

    #[test]
    fn altered_positions_are_refused() {
        let cursors = cursors(b"secret");
        let token = cursors.encode(ROOMS, &["Room 1".to_owned(), "r1".to_owned()]);
        let forged = token.replace(&hex::encode("r1"), &hex::encode("r0"));
        assert_ne!(forged, token);
        let error = cursors.decode(ROOMS, &forged, 2).expect_err("forged");
        assert!(matches!(error, Error::Invalid(ref v) if v[0].0 == "page_token"));
    }
}
