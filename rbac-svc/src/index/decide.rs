//! The decision functions of the index (SPEC §7a): `check`, `resolve_scope`, `accessible` and
//! `held`, pure reads of the in-memory state.

use std::sync::Arc;

use super::{Asg, CustomerIx, Index, Rel, Scope};
use crate::catalogue::{Kind, Perm, PermSet, TargetShape};

/// Who asks: the principal's user, home tenant id and every group it is in (transitively).
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    /// `tenants/{t}/users/{u}`.
    pub user: &'a str,
    /// The home tenant id (`t` of `tenants/t`).
    pub home_tenant: &'a str,
    /// `tenants/{t}/groups/{g}`, nested groups included.
    pub groups: &'a [String],
}

impl<'a> Who<'a> {
    fn members(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let user = (!self.user.is_empty()).then_some(self.user);
        user.into_iter()
            .chain(self.groups.iter().map(String::as_str))
    }
}

/// A room and its current group.
#[derive(Clone, Copy, Debug)]
pub struct RoomAt<'a> {
    /// `customers/{c}/rooms/{r}`.
    pub room: &'a str,
    /// `customers/{c}/roomGroups/{g}`.
    pub group: &'a str,
}

/// What a permission is decided on.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Nothing: a customer-level decision.
    None,
    /// One room.
    Room(RoomAt<'a>),
    /// A ticket's rooms: in scope when one of them is.
    Ticket(&'a [RoomAt<'a>]),
    /// A room group.
    Group(&'a str),
}

impl Target<'_> {
    fn shape(&self) -> TargetShape {
        match self {
            Target::None => TargetShape::None,
            Target::Room(_) | Target::Ticket(_) => TargetShape::Room,
            Target::Group(_) => TargetShape::Group,
        }
    }
}

/// Why a decision denied (mirrors `mtm.rbac.v1.DenyReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deny {
    /// No assignment grants the permission.
    NoGrant,
    /// Granted, but not on the target.
    OutOfScope,
    /// Granted, but by no all-rooms assignment.
    NotCustomerWide,
    /// A partner user without an ACTIVE, unexpired relationship.
    NoRelationship,
    /// A target of the wrong kind for the permission.
    Invalid,
}

/// The outcome of [`Index::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether it is allowed.
    pub allowed: bool,
    /// The granting assignment first by name, when allowed.
    pub granting: Option<Arc<str>>,
    /// A partner user's relationship with the customer.
    pub relationship: Option<Arc<str>>,
    /// For a ticket: positions of the rooms the principal may see.
    pub visible_rooms: Vec<usize>,
    /// Whether the principal may see the target (R37).
    pub target_visible: bool,
    /// Why it denied.
    pub deny: Option<Deny>,
}

impl Decision {
    fn denied(deny: Deny, relationship: Option<Arc<str>>) -> Decision {
        Decision {
            allowed: false,
            granting: None,
            relationship,
            visible_rooms: Vec::new(),
            target_visible: false,
            deny: Some(deny),
        }
    }
}

/// The outcome of [`Index::resolve_scope`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Whether any assignment grants the permission.
    pub allowed: bool,
    /// The union of the granting assignments' effective scopes.
    pub scope: Scope,
    /// A partner user's relationship with the customer.
    pub relationship: Option<Arc<str>>,
}

/// A customer where the principal holds a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accessible {
    /// The customer id.
    pub customer: Box<str>,
    /// For a partner user, the relationship.
    pub relationship: Option<Arc<str>>,
    /// The roles held, by resource name with their display names, sorted by name.
    pub roles: Vec<(Arc<str>, Arc<str>)>,
}

/// The principal's standing at one customer: which assignments apply to it.
struct Standing<'i> {
    cx: &'i CustomerIx,
    /// For a partner user: the ids of its relationships with the customer.
    partner: Option<&'i [u32]>,
    now: i64,
}

impl<'i> Standing<'i> {
    /// The relationship through which `a` applies, or `Err` when it does not apply.
    #[inline]
    fn applies(&self, a: &Asg) -> Result<Option<&'i Rel>, ()> {
        match (self.partner, a.rel) {
            (None, None) => Ok(None),
            (Some(own), Some(r)) => {
                let rel = &self.cx.rels[r as usize];
                if own.contains(&r) && rel.usable(self.now) {
                    Ok(Some(rel))
                } else {
                    Err(())
                }
            }
            _ => Err(()),
        }
    }

    /// Every assignment that applies to `who`, with its relationship (possibly repeated when
    /// the principal is named several times).
    fn each<'w>(&self, who: &Who<'w>, mut f: impl FnMut(&'i Asg, Option<&'i Rel>)) {
        for member in who.members() {
            if let Some(ids) = self.cx.by_member.get(member) {
                for &id in ids.as_slice() {
                    let a = &self.cx.assignments[id as usize];
                    if let Ok(rel) = self.applies(a) {
                        f(a, rel);
                    }
                }
            }
        }
    }
}

#[inline]
fn covers_room(a: &Asg, rel: Option<&Rel>, room: &RoomAt<'_>) -> bool {
    a.scope.covers_room(room.room, room.group)
        && rel.is_none_or(|r| r.scope.covers_room(room.room, room.group))
}

#[inline]
fn covers_group(a: &Asg, rel: Option<&Rel>, group: &str) -> bool {
    a.scope.covers_group(group) && rel.is_none_or(|r| r.scope.covers_group(group))
}

fn covers_target(a: &Asg, rel: Option<&Rel>, target: &Target<'_>) -> bool {
    match target {
        Target::None => true,
        Target::Room(room) => covers_room(a, rel, room),
        Target::Ticket(rooms) => rooms.iter().any(|room| covers_room(a, rel, room)),
        Target::Group(group) => covers_group(a, rel, group),
    }
}

fn view_permission(target: &Target<'_>) -> Option<Perm> {
    let name = match target {
        Target::None => return None,
        Target::Room(_) => "rooms.view",
        Target::Ticket(_) => "tickets.view",
        Target::Group(_) => "groups.view",
    };
    Perm::parse(name)
}

impl Index {
    fn standing<'i>(
        &'i self,
        who: &Who<'_>,
        customer: &str,
        now: i64,
    ) -> Result<(Standing<'i>, Option<Arc<str>>), Deny> {
        let partner = who.home_tenant != customer;
        let Some(cx) = self.customers.get(customer) else {
            return Err(if partner {
                Deny::NoRelationship
            } else {
                Deny::NoGrant
            });
        };
        if !partner {
            return Ok((
                Standing {
                    cx,
                    partner: None,
                    now,
                },
                None,
            ));
        }
        let own = cx
            .rels_of_partner
            .get(who.home_tenant)
            .map_or(&[][..], Vec::as_slice);
        let rel = own
            .iter()
            .map(|&id| &cx.rels[id as usize])
            .find(|rel| rel.usable(now))
            .ok_or(Deny::NoRelationship)?;
        Ok((
            Standing {
                cx,
                partner: Some(own),
                now,
            },
            Some(rel.name.clone()),
        ))
    }

    /// Decides `perm` on `target` for `who` at `customer` (an id) at time `now` (Unix
    /// seconds), with the kind `requested` or the one the target calls for (SPEC §7a).
    pub fn check(
        &self,
        who: &Who<'_>,
        customer: &str,
        perm: Perm,
        target: &Target<'_>,
        requested: Option<Kind>,
        now: i64,
    ) -> Decision {
        let (standing, relationship) = match self.standing(who, customer, now) {
            Ok(found) => found,
            Err(deny) => return Decision::denied(deny, None),
        };
        let Some(kind) = perm.kind_for(target.shape(), requested) else {
            return Decision::denied(Deny::Invalid, relationship);
        };
        let fits = matches!(
            (kind, target),
            (Kind::RoomScoped, Target::Room(_) | Target::Ticket(_))
                | (Kind::GroupScoped, Target::Group(_))
                | (Kind::CustomerWide | Kind::AnyAssignment, Target::None)
        );
        if !fits {
            return Decision::denied(Deny::Invalid, relationship);
        }
        let view = view_permission(target);
        let mut seen = match target {
            Target::Ticket(rooms) => vec![false; rooms.len()],
            _ => Vec::new(),
        };
        let mut granted = false;
        let mut visible = false;
        let mut best: Option<&Arc<str>> = None;
        standing.each(who, |a, rel| {
            if !visible {
                visible = match view {
                    None => true,
                    Some(view) => a.perms.contains(view) && covers_target(a, rel, target),
                };
            }
            if !a.perms.contains(perm) {
                return;
            }
            granted = true;
            let ok = match (kind, target) {
                (Kind::RoomScoped, Target::Room(room)) => covers_room(a, rel, room),
                (Kind::RoomScoped, Target::Ticket(rooms)) => {
                    let mut any = false;
                    for (i, room) in rooms.iter().enumerate() {
                        if covers_room(a, rel, room) {
                            seen[i] = true;
                            any = true;
                        }
                    }
                    any
                }
                (Kind::GroupScoped, Target::Group(group)) => covers_group(a, rel, group),
                (Kind::CustomerWide, _) => a.scope.all && rel.is_none_or(|r| r.scope.all),
                (Kind::AnyAssignment, _) => true,
                _ => false,
            };
            if ok && best.is_none_or(|b| a.name < *b) {
                best = Some(&a.name);
            }
        });
        let allowed = best.is_some();
        let deny = if allowed {
            None
        } else if !granted {
            Some(Deny::NoGrant)
        } else if kind == Kind::CustomerWide {
            Some(Deny::NotCustomerWide)
        } else {
            Some(Deny::OutOfScope)
        };
        Decision {
            allowed,
            granting: best.cloned(),
            relationship,
            visible_rooms: if allowed {
                seen.iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.then_some(i))
                    .collect()
            } else {
                Vec::new()
            },
            target_visible: allowed || visible,
            deny,
        }
    }

    /// The rooms where `who` holds `perm` at `customer`: the union of the granting
    /// assignments' effective scopes (partner scopes clipped with [`Scope::clip`]).
    pub fn resolve_scope(&self, who: &Who<'_>, customer: &str, perm: Perm, now: i64) -> Resolved {
        let mut resolved = Resolved {
            allowed: false,
            scope: Scope::default(),
            relationship: None,
        };
        let Ok((standing, relationship)) = self.standing(who, customer, now) else {
            return resolved;
        };
        resolved.relationship = relationship;
        standing.each(who, |a, rel| {
            if !a.perms.contains(perm) {
                return;
            }
            resolved.allowed = true;
            match rel {
                None => resolved.scope.union_with(&a.scope),
                Some(rel) => resolved.scope.union_with(&a.scope.clip(&rel.scope)),
            }
        });
        resolved
    }

    /// The union of the permissions `who` holds at `customer` in any assignment, and whether
    /// it holds any role there at all.
    pub fn held(&self, who: &Who<'_>, customer: &str, now: i64) -> (PermSet, bool) {
        let Ok((standing, _)) = self.standing(who, customer, now) else {
            return (PermSet::EMPTY, false);
        };
        let mut perms = PermSet::EMPTY;
        let mut any = false;
        standing.each(who, |a, _| {
            any = true;
            perms = perms.union(a.perms);
        });
        (perms, any)
    }

    /// The customers where `who` holds any role (its home tenant's customer roles, or partner
    /// roles of ACTIVE, unexpired relationships), ordered by customer id (R23, R24).
    pub fn accessible(&self, who: &Who<'_>, now: i64) -> Vec<Accessible> {
        let mut candidates: Vec<&str> = self
            .customers_of_partner
            .get(who.home_tenant)
            .into_iter()
            .flatten()
            .map(|c| &**c)
            .collect();
        if self.customers.contains_key(who.home_tenant) {
            candidates.push(who.home_tenant);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = Vec::new();
        for customer in candidates {
            let Ok((standing, relationship)) = self.standing(who, customer, now) else {
                continue;
            };
            let mut roles: Vec<(Arc<str>, Arc<str>)> = Vec::new();
            standing.each(who, |a, _| {
                roles.push((a.role.clone(), a.role_display.clone()))
            });
            if roles.is_empty() {
                continue;
            }
            roles.sort();
            roles.dedup();
            out.push(Accessible {
                customer: customer.into(),
                relationship,
                roles,
            });
        }
        out
    }
}
