//! The decision functions of the index (SPEC §7a): `check`, `resolve_scope`, `accessible` and
//! `held`, pure reads of the in-memory state.

use super::{Asg, CustomerIx, Index, NO_REL, Probe, Rel, Run, Scope};
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

/// The outcome of [`Index::check`], naming assignments and relationships by the index's own
/// strings: no reference count is touched, so concurrent decisions write no shared line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'i> {
    /// Whether it is allowed.
    pub allowed: bool,
    /// The granting assignment first by name, when allowed.
    pub granting: Option<&'i str>,
    /// A partner user's relationship with the customer.
    pub relationship: Option<&'i str>,
    /// For a ticket: positions of the rooms the principal may see.
    pub visible_rooms: Vec<usize>,
    /// Whether the principal may see the target (R37).
    pub target_visible: bool,
    /// Why it denied.
    pub deny: Option<Deny>,
}

impl<'i> Decision<'i> {
    fn denied(deny: Deny, relationship: Option<&'i str>) -> Decision<'i> {
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
pub struct Resolved<'i> {
    /// Whether any assignment grants the permission.
    pub allowed: bool,
    /// The union of the granting assignments' effective scopes.
    pub scope: Scope,
    /// A partner user's relationship with the customer.
    pub relationship: Option<&'i str>,
}

/// A customer where the principal holds a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accessible<'i> {
    /// The customer id.
    pub customer: &'i str,
    /// For a partner user, the relationship.
    pub relationship: Option<&'i str>,
    /// The roles held, by resource name with their display names, sorted by name.
    pub roles: Vec<(&'i str, &'i str)>,
}

/// The principal's standing at one customer: which assignments apply to it.
struct Standing<'i> {
    cx: &'i CustomerIx,
    /// For a partner user: the run of its relationships with the customer.
    partner: Option<Run>,
    now: i64,
}

impl<'i> Standing<'i> {
    /// The relationship through which `a` applies, or `Err` when it does not apply.
    #[inline]
    fn applies(&self, a: &Asg) -> Result<Option<&'i Rel>, ()> {
        match (self.partner, a.rel) {
            (None, NO_REL) => Ok(None),
            (Some(own), r) if r != NO_REL => {
                let rel = &self.cx.rels[r as usize];
                if (own.start..own.start + own.len).contains(&r) && rel.usable(self.now) {
                    Ok(Some(rel))
                } else {
                    Err(())
                }
            }
            _ => Err(()),
        }
    }

    /// Every assignment that applies to `who` (with its id and relationship), possibly
    /// repeated when the principal is named several times.
    #[inline]
    fn each(&self, members: &[Probe<'_>], mut f: impl FnMut(u32, &'i Asg, Option<&'i Rel>)) {
        for member in members {
            for &id in self.cx.grants_of(member) {
                let a = &self.cx.assignments[id as usize];
                if let Ok(rel) = self.applies(a) {
                    f(id, a, rel);
                }
            }
        }
    }

    /// Whether `a`'s effective scope covers the room: for a partner assignment, the room is
    /// in both `a.scope` and the relationship's scope ([`Scope::intersect`]: a room named on
    /// one side and its current group on the other is in), the scope `ResolveScope` answers
    /// and `RoleAssignment.effective_scope` shows, so the three always agree (R20, R21, R32,
    /// R34).
    #[inline]
    fn covers_room(&self, a: &Asg, rel: Option<&Rel>, room: &(Probe<'_>, Probe<'_>)) -> bool {
        let (room, group) = room;
        self.cx.covers_room(&a.scope, room, group)
            && rel.is_none_or(|r| self.cx.covers_room(&r.scope, room, group))
    }

    #[inline]
    fn covers_group(&self, a: &Asg, rel: Option<&Rel>, group: &Probe<'_>) -> bool {
        self.cx.covers_group(&a.scope, group)
            && rel.is_none_or(|r| self.cx.covers_group(&r.scope, group))
    }

    fn covers_target(&self, a: &Asg, rel: Option<&Rel>, target: &Probed<'_>) -> bool {
        match target {
            Probed::None => true,
            Probed::Room(room) => self.covers_room(a, rel, room),
            Probed::Ticket(rooms) => rooms.iter().any(|room| self.covers_room(a, rel, room)),
            Probed::Group(group) => self.covers_group(a, rel, group),
        }
    }
}

/// A target with its names hashed once.
enum Probed<'a> {
    None,
    /// A room and its group.
    Room((Probe<'a>, Probe<'a>)),
    /// A ticket's rooms, each with its group.
    Ticket(Vec<(Probe<'a>, Probe<'a>)>),
    Group(Probe<'a>),
}

/// At most this many members are hashed on the stack; more spill to the heap.
const INLINE_MEMBERS: usize = 8;

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
    /// The principal's user and groups, hashed; calls `f` with them.
    #[inline]
    fn with_members<R>(&self, who: &Who<'_>, f: impl FnOnce(&[Probe<'_>]) -> R) -> R {
        let count = who.members().count();
        if count <= INLINE_MEMBERS {
            let mut probes = [Probe { hash: 0, name: "" }; INLINE_MEMBERS];
            for (slot, member) in probes.iter_mut().zip(who.members()) {
                *slot = self.probe(member);
            }
            f(&probes[..count])
        } else {
            let probes: Vec<Probe<'_>> = who.members().map(|m| self.probe(m)).collect();
            f(&probes)
        }
    }

    fn probed<'a>(&self, target: &Target<'a>) -> Probed<'a> {
        let pair = |room: &RoomAt<'a>| (self.probe(room.room), self.probe(room.group));
        match target {
            Target::None => Probed::None,
            Target::Room(room) => Probed::Room(pair(room)),
            Target::Ticket(rooms) => Probed::Ticket(rooms.iter().map(pair).collect()),
            Target::Group(group) => Probed::Group(self.probe(group)),
        }
    }

    /// Finds `customer` and starts reading its tables (see [`CustomerIx::warm`]), so that
    /// their cache misses overlap with hashing the request's names.
    #[inline]
    fn locate(&self, customer: &str) -> Option<&CustomerIx> {
        let cx = self.customer(customer)?;
        std::hint::black_box(cx.warm());
        Some(cx)
    }

    /// The standing of `who` at `customer`.
    fn standing<'i>(
        &'i self,
        who: &Who<'_>,
        customer: &str,
        now: i64,
    ) -> Result<(Standing<'i>, Option<&'i str>), Deny> {
        self.standing_in(self.locate(customer), who, customer, now)
    }

    /// The standing of `who` at `customer`, already found by [`Index::locate`].
    fn standing_in<'i>(
        &'i self,
        found: Option<&'i CustomerIx>,
        who: &Who<'_>,
        customer: &str,
        now: i64,
    ) -> Result<(Standing<'i>, Option<&'i str>), Deny> {
        let partner = who.home_tenant != customer;
        let Some(cx) = found else {
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
        let own = cx.rels_of(&self.probe(who.home_tenant));
        let usable = (own.start..own.start + own.len)
            .find(|&id| cx.rels[id as usize].usable(now))
            .ok_or(Deny::NoRelationship)?;
        Ok((
            Standing {
                cx,
                partner: Some(own),
                now,
            },
            Some(&*cx.rels[usable as usize].name),
        ))
    }

    /// Decides `perm` on `target` for `who` at `customer` (an id) at time `now` (Unix
    /// seconds), with the kind `requested` or the one the target calls for (SPEC §7a).
    pub fn check<'i>(
        &'i self,
        who: &Who<'_>,
        customer: &str,
        perm: Perm,
        target: &Target<'_>,
        requested: Option<Kind>,
        now: i64,
    ) -> Decision<'i> {
        let found = self.locate(customer);
        let probed = self.probed(target);
        let (standing, relationship) = match self.standing_in(found, who, customer, now) {
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
        let mut best: Option<u32> = None;
        self.with_members(who, |members| {
            standing.each(members, |id, a, rel| {
                if !visible {
                    visible = match view {
                        None => true,
                        Some(view) => {
                            a.perms.contains(view) && standing.covers_target(a, rel, &probed)
                        }
                    };
                }
                if !a.perms.contains(perm) {
                    return;
                }
                granted = true;
                let ok = match (kind, &probed) {
                    (Kind::RoomScoped, Probed::Room(room)) => standing.covers_room(a, rel, room),
                    (Kind::RoomScoped, Probed::Ticket(rooms)) => {
                        let mut any = false;
                        for (i, room) in rooms.iter().enumerate() {
                            if standing.covers_room(a, rel, room) {
                                seen[i] = true;
                                any = true;
                            }
                        }
                        any
                    }
                    (Kind::GroupScoped, Probed::Group(group)) => {
                        standing.covers_group(a, rel, group)
                    }
                    (Kind::CustomerWide, _) => a.scope.all && rel.is_none_or(|r| r.scope.all),
                    (Kind::AnyAssignment, _) => true,
                    _ => false,
                };
                if ok && best.is_none_or(|b| id < b) {
                    best = Some(id);
                }
            })
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
            granting: best.map(|id| &*standing.cx.asg_names[id as usize].name),
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
    /// assignments' effective scopes (partner scopes intersected with [`Scope::intersect`]).
    pub fn resolve_scope<'i>(
        &'i self,
        who: &Who<'_>,
        customer: &str,
        perm: Perm,
        now: i64,
    ) -> Resolved<'i> {
        let mut resolved = Resolved {
            allowed: false,
            scope: Scope::default(),
            relationship: None,
        };
        let Ok((standing, relationship)) = self.standing(who, customer, now) else {
            return resolved;
        };
        resolved.relationship = relationship;
        let cx = standing.cx;
        self.with_members(who, |members| {
            standing.each(members, |_, a, rel| {
                if !a.perms.contains(perm) {
                    return;
                }
                resolved.allowed = true;
                let rel = rel.map(|r| cx.scope(&r.scope));
                resolved
                    .scope
                    .union_with(&cx.scope(&a.scope).effective(rel.as_ref()));
            })
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
        self.with_members(who, |members| {
            standing.each(members, |_, a, _| {
                any = true;
                perms = perms.union(a.perms);
            })
        });
        (perms, any)
    }

    /// The customers where `who` holds any role (its home tenant's customer roles, or partner
    /// roles of ACTIVE, unexpired relationships), ordered by customer id (R23, R24).
    pub fn accessible<'i>(&'i self, who: &Who<'_>, now: i64) -> Vec<Accessible<'i>> {
        let mut candidates: Vec<&'i str> = self
            .customers_of_partner
            .get(who.home_tenant)
            .into_iter()
            .flatten()
            .map(|c| &**c)
            .collect();
        if let Some(home) = self.customer(who.home_tenant) {
            candidates.push(home.id());
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = Vec::new();
        for customer in candidates {
            let Ok((standing, relationship)) = self.standing(who, customer, now) else {
                continue;
            };
            let held = &standing.cx.asg_names;
            let mut roles: Vec<(&'i str, &'i str)> = Vec::new();
            self.with_members(who, |members| {
                standing.each(members, |id, _, _| {
                    let a = &held[id as usize];
                    roles.push((&*a.role, &*a.role_display))
                })
            });
            if roles.is_empty() {
                continue;
            }
            roles.sort();
            roles.dedup();
            out.push(Accessible {
                customer,
                relationship,
                roles,
            });
        }
        out
    }
}
