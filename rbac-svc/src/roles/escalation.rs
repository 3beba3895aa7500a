//! R36, no escalation: the one rule every role-management write passes. A write may only
//! give permissions the caller holds itself, over every assignment it affects, and may only
//! touch assignments whose effective scope lies inside the caller's own `roles.modify`
//! scope. Pure: decided from the caller's standing (read from the index) and the assignments
//! the write affects (read from the store by the handler).

use crate::catalogue::{Perm, PermSet};
use crate::error::Error;
use crate::index::Scope;
use crate::roles::guard::Caller;

/// One assignment a write affects, by effective scope (a partner assignment's scope clipped
/// to its relationship's, [`Scope::effective`]).
#[derive(Clone, Debug)]
pub struct Affected<'a> {
    /// The assignment's resource name (for the error message).
    pub name: &'a str,
    /// Its effective scope before the write; `None` when the write creates it.
    pub before: Option<Scope>,
    /// Its effective scope after the write; `None` when the write deletes it.
    pub after: Option<Scope>,
    /// The permissions its members may hold after the write that they may not have held
    /// before (every permission of its role when members or scope change).
    pub gives: PermSet,
}

/// What a role-management write does to grants.
#[derive(Clone, Debug, Default)]
pub struct Write<'a> {
    /// Permissions the write puts into a role: held by the caller somewhere at least.
    pub gives: PermSet,
    /// Every assignment whose grants change.
    pub affected: Vec<Affected<'a>>,
}

impl<'a> Write<'a> {
    /// Creating a role with `perms` (it has no assignments yet).
    pub fn create_role(perms: PermSet) -> Write<'a> {
        Write {
            gives: perms,
            affected: Vec::new(),
        }
    }

    /// Changing a role's permissions from `old` to `new`; `assignments` are its assignments
    /// by name and effective scope.
    pub fn update_role(old: PermSet, new: PermSet, assignments: &[(&'a str, Scope)]) -> Write<'a> {
        let added = PermSet(new.0 & !old.0);
        if old == new {
            return Write::default();
        }
        Write {
            gives: added,
            affected: assignments
                .iter()
                .map(|(name, scope)| Affected {
                    name,
                    before: Some(scope.clone()),
                    after: Some(scope.clone()),
                    gives: added,
                })
                .collect(),
        }
    }

    /// Deleting a role with its `assignments` (by name and effective scope).
    pub fn delete_role(assignments: &[(&'a str, Scope)]) -> Write<'a> {
        Write {
            gives: PermSet::EMPTY,
            affected: assignments
                .iter()
                .map(|(name, scope)| Affected {
                    name,
                    before: Some(scope.clone()),
                    after: None,
                    gives: PermSet::EMPTY,
                })
                .collect(),
        }
    }

    /// Creating assignment `name` of a role with `perms` over effective scope `scope`.
    pub fn create_assignment(name: &'a str, perms: PermSet, scope: Scope) -> Write<'a> {
        Write {
            gives: perms,
            affected: vec![Affected {
                name,
                before: None,
                after: Some(scope),
                gives: perms,
            }],
        }
    }

    /// Changing assignment `name` of a role with `perms` from effective scope `before` to
    /// `after`; `regrants` when its members or scope change (then every permission of the
    /// role may reach someone new).
    pub fn update_assignment(
        name: &'a str,
        perms: PermSet,
        before: Scope,
        after: Scope,
        regrants: bool,
    ) -> Write<'a> {
        let gives = if regrants { perms } else { PermSet::EMPTY };
        Write {
            gives,
            affected: vec![Affected {
                name,
                before: Some(before),
                after: Some(after),
                gives,
            }],
        }
    }

    /// Deleting assignment `name` with effective scope `scope`.
    pub fn delete_assignment(name: &'a str, scope: Scope) -> Write<'a> {
        Write::delete_role(&[(name, scope)])
    }
}

fn denied(permission: Perm, message: String) -> Error {
    Error::PermissionDenied {
        permission: permission.name().to_owned(),
        message,
    }
}

/// R36: whether `caller` may make `write`. PERMISSION_DENIED naming the first permission or
/// assignment that reaches beyond the caller's own rights otherwise.
pub fn permit(caller: &Caller, write: &Write<'_>) -> Result<(), Error> {
    if let Some(missing) = write.gives.iter().find(|p| !caller.held.contains(*p)) {
        return Err(denied(
            missing,
            format!(
                "cannot give {}: the caller does not hold it (R36)",
                missing.name()
            ),
        ));
    }
    let modify = Perm::parse("roles.modify").unwrap_or(Perm(0));
    for affected in &write.affected {
        for scope in [&affected.before, &affected.after].into_iter().flatten() {
            if !caller.modify_scope.contains(scope) {
                return Err(denied(
                    modify,
                    format!(
                        "{} reaches beyond the caller's own roles.modify scope (R36)",
                        affected.name
                    ),
                ));
            }
        }
        let Some(after) = &affected.after else {
            continue;
        };
        if let Some(missing) = affected
            .gives
            .iter()
            .find(|p| !caller.holds(*p).contains(after))
        {
            return Err(denied(
                missing,
                format!(
                    "cannot give {} over the scope of {}: the caller does not hold it there (R36)",
                    missing.name(),
                    affected.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
