//! Role management rules (SPEC §5–§6, R19–R22, R31, R33, R36): who may read and change which
//! roles and assignments, list filters and pages, and the API shapes of roles and assignments.

pub mod convert;
pub mod escalation;
pub mod filter;
pub mod guard;

use mtm_plumbing::paging;

use crate::error::Error;

/// Page size and offset of a list call; the token is valid only with the same parent and
/// filter.
pub fn page(
    page_size: i32,
    token: &str,
    parent: &str,
    filter: &str,
) -> Result<(usize, usize), Error> {
    let size = paging::standard_page_size(page_size)?;
    let offset = paging::decode_offset(&[parent, filter], token)?;
    Ok((to_usize(size), to_usize(offset)))
}

/// The token of the page starting at `offset`.
pub fn next_token(offset: usize, total: usize, parent: &str, filter: &str) -> String {
    if offset >= total {
        return String::new();
    }
    paging::encode(&[parent, filter], &offset.to_string())
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// A valid client-chosen id (`[a-z][a-z0-9-]{2,62}`, not a built-in id), or a server-assigned
/// one when empty.
pub fn choose_id(id: &str, field: &str) -> Result<String, Error> {
    if id.is_empty() {
        return Ok(format!("x{}", uuid::Uuid::now_v7().simple()));
    }
    let bytes = id.as_bytes();
    let valid = (3..=63).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if !valid {
        return Err(Error::invalid(field, "must match [a-z][a-z0-9-]{2,62}"));
    }
    if crate::catalogue::BuiltIn::from_id(id).is_some() || id == "initial-mmr-admin" {
        return Err(Error::invalid(field, "is reserved for a built-in"));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_bind_parent_and_filter() {
        let token = next_token(50, 120, "customers/a", "");
        assert_eq!(page(0, &token, "customers/a", "").expect("ok"), (50, 50));
        assert!(page(0, &token, "customers/b", "").is_err());
        assert!(page(-1, "", "customers/a", "").is_err());
        assert_eq!(page(9999, "", "p", "").expect("ok"), (500, 0));
        assert_eq!(next_token(120, 120, "p", ""), "");
    }

    #[test]
    fn ids_are_checked() {
        assert_eq!(choose_id("helpdesk", "role_id").expect("ok"), "helpdesk");
        assert!(choose_id("mmr-admin", "role_id").is_err());
        assert!(choose_id("Bad", "role_id").is_err());
        assert!(choose_id("", "role_id").expect("assigned").starts_with('x'));
    }
}
