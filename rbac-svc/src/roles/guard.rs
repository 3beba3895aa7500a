//! Who may read and change which roles and assignments (R22, R23, R31, R37), decided from
//! the index for the caller of a `RoleService` call; what a write may give is
//! [`super::escalation`]'s (R36).

use crate::catalogue::{Perm, PermSet};
use crate::error::Error;
use crate::index::{Index, Scope, Who};
use crate::names::Parent;

/// The caller's standing at one customer.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The customer id.
    pub customer: String,
    /// For a partner user, its (ACTIVE, unexpired) relationship with the customer.
    pub relationship: Option<String>,
    /// Every permission it holds there, in any assignment.
    pub held: PermSet,
    /// Whether it holds any role there.
    pub any: bool,
    /// Where it holds `roles.modify` (R36 bounds assignment scopes by it).
    pub modify_scope: Scope,
    /// Where it holds each permission, by catalogue position (R36 bounds what it gives by
    /// it).
    pub scopes: Vec<Scope>,
}

fn perm(name: &str) -> Perm {
    Perm::parse(name).unwrap_or(Perm(0))
}

impl Caller {
    /// The caller's standing at `customer`, from the index at time `now`.
    pub fn resolve(index: &Index, who: &Who<'_>, customer: &str, now: i64) -> Caller {
        let (held, any) = index.held(who, customer, now);
        let resolved = index.resolve_scope(who, customer, perm("roles.modify"), now);
        let scopes = Perm::all()
            .map(|p| {
                if held.contains(p) {
                    index.resolve_scope(who, customer, p, now).scope
                } else {
                    Scope::default()
                }
            })
            .collect();
        Caller {
            customer: customer.to_owned(),
            relationship: resolved.relationship.map(|r| r.to_string()),
            held,
            any,
            modify_scope: resolved.scope,
            scopes,
        }
    }

    /// Where the caller holds `permission` (the union of its granting assignments'
    /// effective scopes, as `ResolveScope` answers).
    pub fn holds(&self, permission: Perm) -> &Scope {
        static NOWHERE: Scope = Scope {
            all: false,
            groups: Vec::new(),
            rooms: Vec::new(),
            bound: Vec::new(),
        };
        self.scopes.get(permission.0 as usize).unwrap_or(&NOWHERE)
    }

    /// NOT_FOUND (as for a missing `name`) unless the caller may see what hangs under
    /// `parent`: customer users see their customer's roles and every partner role (R22);
    /// partner users only their own relationship's (R23, R37).
    pub fn see(&self, parent: &Parent, name: &str) -> Result<(), Error> {
        let visible = self.any
            && match (&self.relationship, parent) {
                (None, _) => true,
                (Some(own), Parent::Relationship(..)) => parent.name() == *own,
                (Some(_), _) => false,
            };
        if visible {
            Ok(())
        } else {
            Err(Error::NotFound(name.to_owned()))
        }
    }

    /// PERMISSION_DENIED unless the caller holds `permission` (R31).
    pub fn need(&self, permission: &str) -> Result<(), Error> {
        if self.held.contains(perm(permission)) {
            Ok(())
        } else {
            Err(Error::PermissionDenied {
                permission: permission.to_owned(),
                message: format!("{permission} is required for customers/{}", self.customer),
            })
        }
    }

    /// Whether the caller may create or change roles and assignments under `parent`:
    /// `roles.modify`, and customer users never create or change partner roles (R22).
    pub fn may_change(&self, parent: &Parent) -> Result<(), Error> {
        self.need("roles.modify")?;
        if self.relationship.is_none() && matches!(parent, Parent::Relationship(..)) {
            return Err(Error::PermissionDenied {
                permission: "roles.modify".to_owned(),
                message:
                    "customers may read and delete partner roles, not create or change them (R22)"
                        .to_owned(),
            });
        }
        Ok(())
    }
}
