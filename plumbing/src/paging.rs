//! Paging of list answers (proto/README.md): `page_size` defaults and limits, and opaque page
//! tokens that carry a position and are valid only for the method, the caller and the parent
//! and filter they were issued for.
//!
//! A token's scope is the list of request fields that decide what is listed — usually
//! `[parent, filter]`; the method and the caller come from the request being handled
//! ([`binding`]). Every token is signed ([`token`]), so a token is refused when it was altered
//! or forged, or when the method, the caller or any scope field changes between pages.

pub mod binding;
pub mod token;

pub use binding::{BindPageTokensLayer, CallerSource};
pub use token::install_key;

use crate::status::FieldError;

/// The largest offset an offset token may carry; well past any list a service holds in one
/// answer, and far from overflowing any arithmetic on it.
pub const MAX_OFFSET: u64 = 1 << 40;

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
/// described by `scope`, bound to the method and caller of the request being handled.
pub fn encode(scope: &[&str], position: &str) -> String {
    token::seal(&bound_to(scope), position)
}

/// The position carried by `token`, which must have been issued by this service for the same
/// method, caller and `scope`; an empty token is the start of the list (`None`). A malformed,
/// altered or foreign token is a [`FieldError`] naming `page_token`.
pub fn decode(scope: &[&str], token: &str) -> Result<Option<String>, FieldError> {
    if token.is_empty() {
        return Ok(None);
    }
    token::open(&bound_to(scope), token)
        .map(Some)
        .ok_or_else(|| {
            FieldError::new(
                "page_token",
                "not a token of this list with this filter for this caller",
            )
        })
}

/// The offset carried by an offset token (see [`decode`]); 0 for an empty token.
pub fn decode_offset(scope: &[&str], token: &str) -> Result<u64, FieldError> {
    match decode(scope, token)? {
        None => Ok(0),
        Some(position) => position
            .parse()
            .ok()
            .filter(|offset| *offset <= MAX_OFFSET)
            .ok_or_else(|| FieldError::new("page_token", "not a token of this list")),
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

/// Everything a token of `scope` is bound to: the request's method and caller, then `scope`.
fn bound_to(scope: &[&str]) -> Vec<String> {
    let request = binding::current();
    let mut parts = Vec::with_capacity(scope.len() + 2);
    parts.push(request.method);
    parts.push(request.caller);
    parts.extend(scope.iter().map(|s| (*s).to_owned()));
    parts
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

    fn request(method: &str, caller: &str) -> binding::RequestBinding {
        binding::RequestBinding {
            method: method.to_owned(),
            caller: caller.to_owned(),
        }
    }

    #[tokio::test]
    async fn tokens_are_bound_to_method_and_caller() {
        let scope: &[&str] = &["customers/c", ""];
        let ana = request("/mtm.rooms.v1.Rooms/ListRooms", "tenants/t/users/ana");
        let token = binding::scope(ana.clone(), async { encode(scope, "40") }).await;
        let used_by = |who: binding::RequestBinding| {
            let token = token.clone();
            binding::scope(who, async move { decode_offset(scope, &token) })
        };
        assert_eq!(used_by(ana.clone()).await, Ok(40));
        let bob = request("/mtm.rooms.v1.Rooms/ListRooms", "tenants/t/users/bob");
        let anonymous = request("/mtm.rooms.v1.Rooms/ListRooms", "");
        let other_list = request("/mtm.rooms.v1.Rooms/ListRoomGroups", "tenants/t/users/ana");
        for other in [bob, anonymous, other_list] {
            let refused = used_by(other).await.expect_err("foreign token");
            assert_eq!(refused.field, "page_token");
        }
        assert!(decode_offset(scope, &token).is_err(), "outside the request");
    }

    #[test]
    fn forged_and_huge_offsets_are_refused() {
        let scope: &[&str] = &["p", ""];
        let forged = hex::encode(format!("{}|18446744073709551615", "0".repeat(16)));
        assert!(decode_offset(scope, &forged).is_err());
        let huge = encode(scope, &u64::MAX.to_string());
        assert!(decode_offset(scope, &huge).is_err());
        assert!(page((0..5).collect::<Vec<_>>(), i32::MAX, &huge, scope).is_err());
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
