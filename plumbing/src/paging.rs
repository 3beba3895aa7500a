//! Paging of list answers (proto/README.md): `page_size` defaults and limits, and opaque page
//! tokens that carry a position and are valid only with the parent and filter they were issued
//! for.
//!
//! A token's scope is the list of request fields that decide what is listed — usually
//! `[parent, filter]` — so a token is refused when any of them changes between pages.

use crate::status::FieldError;

/// The page size most lists use when `page_size` is 0.
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// The largest page most lists return; larger requests are lowered to it.
pub const MAX_PAGE_SIZE: u64 = 500;

/// The page size to use for a requested `page_size`: `default` for 0, at most `max`; negative is
/// a [`FieldError`] naming `page_size`.
pub fn page_size(requested: i32, default: u64, max: u64) -> Result<u64, FieldError> {
    match u64::try_from(requested) {
        Err(_) => Err(FieldError::new("page_size", "must not be negative")),
        Ok(0) => Ok(default),
        Ok(n) => Ok(n.min(max)),
    }
}

/// The page size for a requested `page_size` with the usual [`DEFAULT_PAGE_SIZE`] and
/// [`MAX_PAGE_SIZE`] (see [`page_size`]).
pub fn standard_page_size(requested: i32) -> Result<u64, FieldError> {
    page_size(requested, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// A token carrying `position` (an offset, or a key of the last item returned) for the list
/// described by `scope`.
pub fn encode(scope: &[&str], position: &str) -> String {
    hex::encode(format!("{}|{position}", binding(scope)))
}

/// The position carried by `token`, which must have been issued for the same `scope`; an empty
/// token is the start of the list (`None`). A malformed or foreign token is a [`FieldError`]
/// naming `page_token`.
pub fn decode(scope: &[&str], token: &str) -> Result<Option<String>, FieldError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || FieldError::new("page_token", "not a token of this list with this filter");
    let text = hex::decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let (bound, position) = text.split_once('|').ok_or_else(invalid)?;
    if bound != binding(scope) {
        return Err(invalid());
    }
    Ok(Some(position.to_owned()))
}

/// The offset carried by an offset token (see [`decode`]); 0 for an empty token.
pub fn decode_offset(scope: &[&str], token: &str) -> Result<u64, FieldError> {
    match decode(scope, token)? {
        None => Ok(0),
        Some(position) => position
            .parse()
            .map_err(|_| FieldError::new("page_token", "not a token of this list")),
    }
}

/// One page of a list held in memory, and the token for the next one.
#[derive(Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Token for the next page; empty on the last page.
    pub next_page_token: String,
    /// Number of items over all pages.
    pub total: usize,
}

/// Cuts the page that `page_size` and `page_token` ask for out of `items` (already filtered
/// and ordered), with offset tokens bound to `scope` and the default and maximum page sizes.
pub fn page<T>(
    items: Vec<T>,
    page_size: i32,
    page_token: &str,
    scope: &[&str],
) -> Result<Page<T>, FieldError> {
    let size = standard_page_size(page_size)?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let offset = usize::try_from(decode_offset(scope, page_token)?).unwrap_or(usize::MAX);
    let total = items.len();
    let next = offset.saturating_add(size);
    let items: Vec<T> = items.into_iter().skip(offset).take(size).collect();
    let next_page_token = if next < total {
        encode(scope, &next.to_string())
    } else {
        String::new()
    };
    Ok(Page {
        items,
        next_page_token,
        total,
    })
}

/// The first 8 bytes of SHA-256 over the scope's fields, in hex.
fn binding(scope: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, scope.join("\u{0}").as_bytes());
    hex::encode(&digest.as_ref()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_scope() {
        let token = encode(&["customers/c", "a = \"b\""], "40");
        assert_eq!(decode_offset(&["customers/c", "a = \"b\""], &token), Ok(40));
        assert!(decode_offset(&["customers/d", "a = \"b\""], &token).is_err());
        assert!(decode_offset(&["customers/c", ""], &token).is_err());
        assert!(decode_offset(&["customers/c", ""], "zz").is_err());
        assert_eq!(decode_offset(&["customers/c", ""], ""), Ok(0));
        let keyed = encode(&["customers/c", ""], "1700000000|t-1");
        assert_eq!(
            decode(&["customers/c", ""], &keyed),
            Ok(Some("1700000000|t-1".to_owned()))
        );
        let refused = decode_offset(&["customers/c", ""], &keyed).expect_err("not an offset");
        assert_eq!(refused.field, "page_token");
    }

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        assert_eq!(page_size(0, 50, 500), Ok(50));
        assert_eq!(page_size(7, 50, 500), Ok(7));
        assert_eq!(page_size(900, 50, 500), Ok(500));
        assert_eq!(standard_page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(standard_page_size(i32::MAX), Ok(MAX_PAGE_SIZE));
        assert_eq!(
            page_size(-1, 50, 500).map_err(|e| e.field),
            Err("page_size".to_owned())
        );
    }

    #[test]
    fn pages_walk_an_in_memory_list() {
        let scope: &[&str] = &["a", ""];
        let first = page((0..5).collect(), 2, "", scope).expect("page");
        assert_eq!(first.items, [0, 1]);
        assert_eq!(first.total, 5);
        let second = page((0..5).collect(), 2, &first.next_page_token, scope).expect("page");
        assert_eq!(second.items, [2, 3]);
        let last = page((0..5).collect(), 2, &second.next_page_token, scope).expect("page");
        assert_eq!(last.items, [4]);
        assert!(last.next_page_token.is_empty());
        assert!(
            page(
                (0..5).collect::<Vec<_>>(),
                2,
                &first.next_page_token,
                &["b", ""]
            )
            .is_err()
        );
        assert!(page((0..5).collect::<Vec<_>>(), -1, "", scope).is_err());
        assert_eq!(
            page((0..60).collect::<Vec<_>>(), 0, "", scope)
                .expect("page")
                .items
                .len(),
            50
        );
    }
}
