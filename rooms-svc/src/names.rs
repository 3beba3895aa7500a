//! Resource names of the rooms API (`customers/{customer}/rooms/{room}`, ...) and the strict
//! checks on the ids inside them, done before an id reaches a file path or a database name.

use crate::error::Error;

/// A customer id that passed [`valid_customer_id`]: safe in a path and in a database name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(String);

impl CustomerId {
    /// Checks `id` strictly.
    pub fn new(id: &str) -> Option<Self> {
        valid_customer_id(id).then(|| Self(id.to_owned()))
    }

    /// The bare id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `customers/{customer}`.
    pub fn name(&self) -> String {
        format!("customers/{}", self.0)
    }

    /// `tenants/{customer}`.
    pub fn tenant(&self) -> String {
        format!("tenants/{}", self.0)
    }

    /// `customers/{customer}/{collection}/{id}`.
    pub fn child(&self, collection: &str, id: &str) -> String {
        format!("customers/{}/{collection}/{id}", self.0)
    }
}

impl std::fmt::Display for CustomerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant id as tenancy-svc issues them (`[a-z][a-z0-9-]{2,62}` or a lower-case UUID):
/// 3 to 63 characters of `a-z`, `0-9` and `-`, starting with a letter or digit and not ending
/// with `-`. Nothing else may reach a path or a database name.
pub fn valid_customer_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && !bytes[0].is_ascii_uppercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// A client-chosen id of a room, group or ring: `[a-z0-9][a-z0-9-]{0,62}`.
pub use mtm_plumbing::names::valid_id as valid_resource_id;

/// Parses `customers/{customer}` given in `field`.
pub fn parse_customer(field: &str, name: &str) -> Result<CustomerId, Error> {
    name.strip_prefix("customers/")
        .and_then(CustomerId::new)
        .ok_or_else(|| Error::invalid(field, "must be customers/{customer} with a valid id"))
}

/// Parses `customers/{customer}/{collection}/{id}` given in `field`.
pub fn parse_child(
    field: &str,
    name: &str,
    collection: &str,
) -> Result<(CustomerId, String), Error> {
    split_child(name, collection).ok_or_else(|| {
        Error::invalid(
            field,
            format!("must be customers/{{customer}}/{collection}/{{id}}"),
        )
    })
}

/// `customers/{customer}/{collection}/{id}` split, or `None` when malformed.
pub fn split_child(name: &str, collection: &str) -> Option<(CustomerId, String)> {
    let rest = name.strip_prefix("customers/")?;
    let (customer, rest) = rest.split_once('/')?;
    let id = rest.strip_prefix(collection)?.strip_prefix('/')?;
    let customer = CustomerId::new(customer)?;
    (!id.is_empty() && id.len() <= 64 && !id.contains('/')).then(|| (customer, id.to_owned()))
}

/// Parses a child name in `field` that must belong to `customer`; a name in another customer
/// is the caller's mistake (INVALID_ARGUMENT), never a lookup elsewhere.
pub fn parse_child_of(
    customer: &CustomerId,
    field: &str,
    name: &str,
    collection: &str,
) -> Result<String, Error> {
    let (owner, id) = parse_child(field, name, collection)?;
    if &owner != customer {
        return Err(Error::invalid(
            field,
            "names a resource of another customer",
        ));
    }
    Ok(id)
}

/// Parses a singleton name `customers/{customer}/{singleton}`.
pub fn parse_singleton(field: &str, name: &str, singleton: &str) -> Result<CustomerId, Error> {
    name.strip_prefix("customers/")
        .and_then(|rest| rest.strip_suffix(singleton))
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(CustomerId::new)
        .ok_or_else(|| Error::invalid(field, format!("must be customers/{{customer}}/{singleton}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_checked_strictly() {
        for good in ["contoso", "c01", "0195c2a4-7b1e-7c3d-9f00-123456789abc"] {
            assert!(valid_customer_id(good), "{good}");
        }
        for bad in [
            "",
            "ab",
            "Contoso",
            "../etc",
            "a/b",
            "a b",
            "a_b",
            "con-",
            "-con",
            "a\"b",
            "x.db",
            &"a".repeat(64),
        ] {
            assert!(!valid_customer_id(bad), "{bad}");
        }
    }

    #[test]
    fn child_names_are_split_and_owned() {
        let (customer, id) = split_child("customers/contoso/rooms/r-1", "rooms").expect("name");
        assert_eq!((customer.as_str(), id.as_str()), ("contoso", "r-1"));
        assert!(split_child("customers/contoso/roomGroups/g", "rooms").is_none());
        assert!(split_child("customers/../rooms/r", "rooms").is_none());
        assert!(split_child("customers/contoso/rooms/a/b", "rooms").is_none());
        let contoso = CustomerId::new("contoso").expect("id");
        assert!(parse_child_of(&contoso, "room", "customers/fabrikam/rooms/r", "rooms").is_err());
        assert_eq!(
            parse_singleton("name", "customers/contoso/settings", "settings").ok(),
            Some(contoso)
        );
        assert!(valid_resource_id("berlin-4"));
        assert!(!valid_resource_id("Berlin"));
        assert!(!valid_resource_id("-x"));
    }
}
