//! Resource names (`tenants/{tenant}/users/{user}` and friends), ids, UPNs and DNS names:
//! parsing, validation and formatting.

pub use mtm_plumbing::names::valid_id;

use crate::error::{Error, Result};

/// A client-chosen id, or a new UUIDv7 when empty.
pub fn chosen_or_new_id(id: &str, field: &str) -> Result<String> {
    if id.is_empty() {
        Ok(uuid::Uuid::now_v7().to_string())
    } else if valid_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::invalid(field, "must match [a-z0-9][a-z0-9-]{0,62}"))
    }
}

/// Splits `tenants/{tenant}` into the tenant id.
pub fn parse_tenant(name: &str, field: &str) -> Result<String> {
    match name.strip_prefix("tenants/") {
        Some(id) if valid_id(id) => Ok(id.to_owned()),
        _ => Err(Error::invalid(field, "must be tenants/{tenant}")),
    }
}

/// Splits `tenants/{tenant}/{collection}/{id}` into the tenant id and the id.
pub fn parse_child(name: &str, collection: &str, field: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["tenants", tenant, c, id] if *c == collection && valid_id(tenant) && valid_id(id) => {
            Ok(((*tenant).to_owned(), (*id).to_owned()))
        }
        _ => Err(Error::invalid(
            field,
            format!("must be tenants/{{tenant}}/{collection}/{{id}}"),
        )),
    }
}

/// `tenants/{tenant}`.
pub fn tenant_name(tenant: &str) -> String {
    format!("tenants/{tenant}")
}

/// `tenants/{tenant}/{collection}/{id}`.
pub fn child_name(tenant: &str, collection: &str, id: &str) -> String {
    format!("tenants/{tenant}/{collection}/{id}")
}

/// The tenant id in a user, group or provider name already stored.
pub fn tenant_of(name: &str) -> &str {
    name.split('/').nth(1).unwrap_or_default()
}

/// A lower-cased, validated DNS name.
pub fn normalize_domain(domain: &str, field: &str) -> Result<String> {
    let lower = domain.trim().to_ascii_lowercase();
    let labels_ok = lower.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if lower.len() <= 253 && lower.contains('.') && labels_ok {
        Ok(lower)
    } else {
        Err(Error::invalid(
            field,
            "must be a DNS name such as contoso.com",
        ))
    }
}

/// A lower-cased, validated UPN and its domain.
pub fn normalize_upn(upn: &str, field: &str) -> Result<(String, String)> {
    let lower = upn.trim().to_ascii_lowercase();
    let Some((local, domain)) = lower.split_once('@') else {
        return Err(Error::invalid(
            field,
            "must be a UPN such as ana@contoso.com",
        ));
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+'".contains(&b));
    if !local_ok || domain.contains('@') {
        return Err(Error::invalid(
            field,
            "must be a UPN such as ana@contoso.com",
        ));
    }
    let domain = normalize_domain(domain, field)?;
    Ok((lower, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upns_are_lower_cased_and_split() {
        let (upn, domain) = normalize_upn("Ana@Contoso-Partner.COM", "upn").expect("valid");
        assert_eq!(upn, "ana@contoso-partner.com");
        assert_eq!(domain, "contoso-partner.com");
        for bad in [
            "ana",
            "@contoso.com",
            "ana@",
            "a@b@c.com",
            "ana@localhost",
            "a b@c.com",
        ] {
            assert!(normalize_upn(bad, "upn").is_err(), "{bad}");
        }
    }

    #[test]
    fn child_names_parse_only_their_collection() {
        assert_eq!(
            parse_child("tenants/t1/users/u1", "users", "name").expect("valid"),
            ("t1".to_owned(), "u1".to_owned())
        );
        assert!(parse_child("tenants/t1/groups/u1", "users", "name").is_err());
        assert!(parse_child("tenants/T1/users/u1", "users", "name").is_err());
        assert!(parse_tenant("tenants/", "parent").is_err());
    }
}
