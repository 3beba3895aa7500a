//! Resource-name conventions shared by every MTM API (proto/README.md): the grammar of
//! client-chosen resource ids.

/// Whether `id` is a valid client-chosen resource id, `[a-z0-9][a-z0-9-]{0,62}`, so it can be
/// used in resource names, paths and database keys without escaping.
pub fn valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    (1..=63).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lower_case_letters_digits_and_dashes() {
        assert!(valid_id("berlin-4"));
        assert!(valid_id("0"));
        assert!(valid_id(&"a".repeat(63)));
        assert!(!valid_id(&"a".repeat(64)));
        assert!(!valid_id(""));
        assert!(!valid_id("Berlin"));
        assert!(!valid_id("-x"));
        assert!(!valid_id("a_b"));
    }
}
