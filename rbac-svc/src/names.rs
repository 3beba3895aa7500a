//! Resource names of rbac-svc and the names it receives: parsing and validation.

use crate::error::Error;

/// Whether `segment` can be one path segment of a resource name.
pub fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 128
        && segment
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\')
}

fn segments<'a>(name: &'a str, pattern: &[&str]) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() != pattern.len() {
        return None;
    }
    let mut ids = Vec::new();
    for (part, expected) in parts.iter().zip(pattern) {
        if *expected == "*" {
            if !valid_segment(part) {
                return None;
            }
            ids.push(*part);
        } else if part != expected {
            return None;
        }
    }
    Some(ids)
}

/// `customers/{c}` → `c`.
pub fn customer(name: &str) -> Option<&str> {
    segments(name, &["customers", "*"]).map(|ids| ids[0])
}

/// Whether `name` is `customers/{customer}/{collection}/{id}`: a room or group of that very
/// customer.
pub fn of_customer(name: &str, collection: &str, customer: &str) -> bool {
    segments(name, &["customers", "*", collection, "*"]).is_some_and(|ids| ids[0] == customer)
}

/// `tenants/{t}` → `t`.
pub fn tenant(name: &str) -> Option<&str> {
    segments(name, &["tenants", "*"]).map(|ids| ids[0])
}

/// `partners/{p}` → `p`.
pub fn partner(name: &str) -> Option<&str> {
    segments(name, &["partners", "*"]).map(|ids| ids[0])
}

/// `customers/{c}/partnerRelationships/{r}` → `(c, r)`.
pub fn relationship(name: &str) -> Option<(&str, &str)> {
    segments(name, &["customers", "*", "partnerRelationships", "*"])
        .filter(|ids| ids[1] != "-")
        .map(|ids| (ids[0], ids[1]))
}

/// The tenant of a member (`tenants/{t}/users/{u}` or `tenants/{t}/groups/{g}`).
pub fn member_tenant(name: &str) -> Option<&str> {
    segments(name, &["tenants", "*", "users", "*"])
        .or_else(|| segments(name, &["tenants", "*", "groups", "*"]))
        .map(|ids| ids[0])
}

/// What roles and assignments hang under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parent {
    /// `customers/{c}`: customer roles.
    Customer(String),
    /// `customers/{c}/partnerRelationships/{r}`: one relationship's partner roles.
    Relationship(String, String),
    /// `customers/{c}/partnerRelationships/-`: every relationship (lists only).
    AnyRelationship(String),
}

impl Parent {
    /// Parses a parent; `wildcard` allows the `-` relationship.
    pub fn parse(name: &str, wildcard: bool) -> Option<Parent> {
        if let Some(c) = customer(name) {
            return Some(Parent::Customer(c.to_owned()));
        }
        let parts: Vec<&str> = name.split('/').collect();
        if wildcard
            && parts.len() == 4
            && parts[0] == "customers"
            && valid_segment(parts[1])
            && parts[2] == "partnerRelationships"
            && parts[3] == "-"
        {
            return Some(Parent::AnyRelationship(parts[1].to_owned()));
        }
        relationship(name).map(|(c, r)| Parent::Relationship(c.to_owned(), r.to_owned()))
    }

    /// The customer id.
    pub fn customer(&self) -> &str {
        match self {
            Parent::Customer(c) | Parent::Relationship(c, _) | Parent::AnyRelationship(c) => c,
        }
    }

    /// The parent's resource name.
    pub fn name(&self) -> String {
        match self {
            Parent::Customer(c) => format!("customers/{c}"),
            Parent::Relationship(c, r) => format!("customers/{c}/partnerRelationships/{r}"),
            Parent::AnyRelationship(c) => format!("customers/{c}/partnerRelationships/-"),
        }
    }

    /// The relationship's resource name, for a relationship parent.
    pub fn relationship(&self) -> Option<String> {
        match self {
            Parent::Relationship(..) => Some(self.name()),
            _ => None,
        }
    }
}

/// Splits `{parent}/{collection}/{id}` into the parent and the id.
pub fn child<'a>(name: &'a str, collection: &str) -> Option<(Parent, &'a str)> {
    let (parent, rest) = name.rsplit_once('/')?;
    let (parent, kind) = parent.rsplit_once('/')?;
    if kind != collection || !valid_segment(rest) {
        return None;
    }
    Some((Parent::parse(parent, false)?, rest))
}

/// Checks that every group and room of a scope belongs to `customer`; `field` prefixes the
/// violations.
pub fn check_scope(
    customer: &str,
    scope: &mtm_proto::mtm::common::v1::RoomScope,
    field: &str,
    violations: &mut Vec<(String, String)>,
) {
    for (i, g) in scope.room_groups.iter().enumerate() {
        if segments(g, &["customers", "*", "roomGroups", "*"]).is_none_or(|ids| ids[0] != customer)
        {
            violations.push((
                format!("{field}.room_groups[{i}]"),
                format!("must be a room group of customers/{customer}"),
            ));
        }
    }
    for (i, r) in scope.rooms.iter().enumerate() {
        if segments(r, &["customers", "*", "rooms", "*"]).is_none_or(|ids| ids[0] != customer) {
            violations.push((
                format!("{field}.rooms[{i}]"),
                format!("must be a room of customers/{customer}"),
            ));
        }
    }
    if !scope.rooms_in_groups.is_empty() {
        violations.push((
            format!("{field}.rooms_in_groups"),
            "is output only: name rooms or room groups".to_owned(),
        ));
    }
    if !scope.all_rooms && scope.room_groups.is_empty() && scope.rooms.is_empty() {
        violations.push((field.to_owned(), "must not be empty".to_owned()));
    }
}

/// Checks members: at least one, each a user or group of `tenant`.
pub fn check_members(tenant: &str, members: &[String], field: &str) -> Result<(), Error> {
    let mut violations = Vec::new();
    if members.is_empty() {
        violations.push((
            field.to_owned(),
            "at least one member is required".to_owned(),
        ));
    }
    for (i, m) in members.iter().enumerate() {
        if member_tenant(m) != Some(tenant) {
            violations.push((
                format!("{field}[{i}]"),
                format!("must be a user or group of tenants/{tenant}"),
            ));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!(customer("customers/contoso"), Some("contoso"));
        assert_eq!(customer("customers/a/b"), None);
        assert_eq!(
            relationship("customers/c/partnerRelationships/r1"),
            Some(("c", "r1"))
        );
        assert_eq!(member_tenant("tenants/p/groups/help"), Some("p"));
        assert_eq!(member_tenant("tenants/p/roles/x"), None);
        let (parent, id) =
            child("customers/c/partnerRelationships/r/roles/helpdesk", "roles").expect("role");
        assert_eq!(parent, Parent::Relationship("c".into(), "r".into()));
        assert_eq!(id, "helpdesk");
        assert_eq!(
            Parent::parse("customers/c/partnerRelationships/-", true),
            Some(Parent::AnyRelationship("c".into()))
        );
        assert_eq!(
            Parent::parse("customers/c/partnerRelationships/-", false),
            None
        );
    }
}
