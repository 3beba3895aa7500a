//! Resource names of tenancy-svc and the ids inside them.

use crate::error::{Error, Result};

/// Whether `id` is a valid tenant id: `[a-z][a-z0-9-]{2,62}` or a UUID.
pub fn valid_tenant_id(id: &str) -> bool {
    let slug = (3..=63).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    slug || uuid::Uuid::parse_str(id).is_ok()
}

/// The id in `{collection}/{id}`, or INVALID_ARGUMENT naming `field`.
pub fn single(name: &str, collection: &str, field: &str) -> Result<String> {
    match name.split_once('/') {
        Some((c, id)) if c == collection && valid_tenant_id(id) => Ok(id.to_owned()),
        _ => Err(Error::invalid(
            field,
            format!("must be {collection}/{{id}} with a valid tenant id"),
        )),
    }
}

/// The id in `tenants/{id}`, `customers/{id}` or `partners/{id}`.
pub fn any_tenant(name: &str) -> Option<String> {
    let (collection, id) = name.split_once('/')?;
    (matches!(collection, "tenants" | "customers" | "partners") && valid_tenant_id(id))
        .then(|| id.to_owned())
}

/// The two ids in `{first}/{a}/{second}/{b}`, or INVALID_ARGUMENT naming `field`.
pub fn pair(name: &str, first: &str, second: &str, field: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [f, a, s, b] if *f == first && *s == second && valid_tenant_id(a) && !b.is_empty() => {
            Ok(((*a).to_owned(), (*b).to_owned()))
        }
        _ => Err(Error::invalid(
            field,
            format!("must be {first}/{{id}}/{second}/{{id}}"),
        )),
    }
}

/// The ids in a primary admin's name
/// `customers/{c}/partnerRelationships/{r}/primaryAdmins/{p}`.
pub fn primary_admin(name: &str) -> Result<(String, String, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [
            "customers",
            c,
            "partnerRelationships",
            r,
            "primaryAdmins",
            p,
        ] if valid_tenant_id(c) && !r.is_empty() && !p.is_empty() => {
            Ok(((*c).to_owned(), (*r).to_owned(), (*p).to_owned()))
        }
        _ => Err(Error::invalid(
            "name",
            "must be customers/{customer}/partnerRelationships/{relationship}/primaryAdmins/{id}",
        )),
    }
}

/// `customers/{c}/invitations/{i}`.
pub fn invitation(customer: &str, id: &str) -> String {
    format!("customers/{customer}/invitations/{id}")
}

/// `customers/{c}/partnerRelationships/{r}`.
pub fn relationship(customer: &str, id: &str) -> String {
    format!("customers/{customer}/partnerRelationships/{id}")
}

/// Whether `member` names a user or group of tenant `tenant`; returns true for groups.
pub fn member_of(member: &str, tenant: &str) -> Option<bool> {
    let parts: Vec<&str> = member.split('/').collect();
    match parts.as_slice() {
        ["tenants", t, kind, id] if *t == tenant && !id.is_empty() => match *kind {
            "users" => Some(false),
            "groups" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_slugs_or_uuids() {
        assert!(valid_tenant_id("contoso"));
        assert!(valid_tenant_id("0190f5d6-7c4a-7b1e-8c3d-1234567890ab"));
        assert!(!valid_tenant_id("Contoso"));
        assert!(!valid_tenant_id("ab"));
        assert!(!valid_tenant_id("a/b"));
    }

    #[test]
    fn names_parse_and_refuse_other_shapes() {
        assert_eq!(
            pair(
                "customers/contoso/invitations/x",
                "customers",
                "invitations",
                "name"
            )
            .expect("valid"),
            ("contoso".to_owned(), "x".to_owned())
        );
        assert!(
            pair(
                "partners/contoso/invitations/x",
                "customers",
                "invitations",
                "name"
            )
            .is_err()
        );
        assert_eq!(member_of("tenants/fab/groups/g", "fab"), Some(true));
        assert_eq!(member_of("tenants/fab/users/u", "fab"), Some(false));
        assert_eq!(member_of("tenants/other/users/u", "fab"), None);
    }
}
