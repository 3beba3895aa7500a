//! The in-memory decision index: every customer's relationships, roles and assignments,
//! arranged for decisions without I/O (SPEC §5–§7a). Writers rebuild one customer at a time
//! from the store; decisions only read.

mod decide;
pub mod scope;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::catalogue::PermSet;
pub use decide::{Accessible, Decision, Deny, Resolved, RoomAt, Target, Who};
pub use scope::Scope;

/// A relationship as the index needs it.
#[derive(Clone, Debug)]
pub struct RelationshipData {
    /// `customers/{c}/partnerRelationships/{r}`.
    pub name: String,
    /// The partner tenant id (`p` of `partners/p`).
    pub partner: String,
    /// The delegated scope.
    pub scope: Scope,
    /// Whether the state is ACTIVE.
    pub active: bool,
    /// End time in Unix seconds; from then on it grants nothing (R30).
    pub end_time: Option<i64>,
}

/// A role as the index needs it.
#[derive(Clone, Debug)]
pub struct RoleData {
    /// Resource name.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Its permissions.
    pub permissions: PermSet,
}

/// An assignment as the index needs it.
#[derive(Clone, Debug)]
pub struct AssignmentData {
    /// Resource name.
    pub name: String,
    /// The role's resource name.
    pub role: String,
    /// Users and groups (`tenants/{t}/users/{u}`, `tenants/{t}/groups/{g}`).
    pub members: Vec<String>,
    /// The assignment's own scope (before clipping to the relationship scope).
    pub scope: Scope,
    /// For partner assignments, the relationship's resource name.
    pub relationship: Option<String>,
}

/// Everything the index knows of one customer.
#[derive(Clone, Debug, Default)]
pub struct CustomerData {
    /// The customer's tenant id (`c` of `customers/c`).
    pub id: String,
    /// Its relationships (terminated ones are not kept).
    pub relationships: Vec<RelationshipData>,
    /// Its customer and partner roles.
    pub roles: Vec<RoleData>,
    /// Its customer and partner assignments.
    pub assignments: Vec<AssignmentData>,
}

#[derive(Debug)]
struct Rel {
    name: Arc<str>,
    partner: Box<str>,
    scope: Scope,
    active: bool,
    end_time: Option<i64>,
}

impl Rel {
    #[inline]
    fn usable(&self, now: i64) -> bool {
        self.active && self.end_time.is_none_or(|end| now < end)
    }
}

#[derive(Debug)]
struct Asg {
    name: Arc<str>,
    role: Arc<str>,
    role_display: Arc<str>,
    perms: PermSet,
    scope: Scope,
    rel: Option<u32>,
}

/// Assignment ids of one member, inline when there is one (the common case), so a lookup
/// touches one allocation less.
#[derive(Debug)]
enum Ids {
    One(u32),
    Many(Box<[u32]>),
}

impl Ids {
    #[inline]
    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

/// One customer, arranged for decisions.
#[derive(Debug, Default)]
struct CustomerIx {
    assignments: Vec<Asg>,
    by_member: HashMap<Box<str>, Ids>,
    rels: Vec<Rel>,
    rels_of_partner: HashMap<Box<str>, Vec<u32>>,
}

impl CustomerIx {
    fn build(data: &CustomerData) -> CustomerIx {
        let mut ix = CustomerIx::default();
        let mut rel_ids: HashMap<&str, u32> = HashMap::new();
        for rel in &data.relationships {
            let id = ix.rels.len() as u32;
            rel_ids.insert(rel.name.as_str(), id);
            ix.rels.push(Rel {
                name: rel.name.as_str().into(),
                partner: rel.partner.as_str().into(),
                scope: rel.scope.clone(),
                active: rel.active,
                end_time: rel.end_time,
            });
            ix.rels_of_partner
                .entry(rel.partner.as_str().into())
                .or_default()
                .push(id);
        }
        let mut by_member: HashMap<&str, Vec<u32>> = HashMap::new();
        let roles: HashMap<&str, &RoleData> =
            data.roles.iter().map(|r| (r.name.as_str(), r)).collect();
        for a in &data.assignments {
            let rel = match &a.relationship {
                Some(name) => match rel_ids.get(name.as_str()) {
                    Some(id) => Some(*id),
                    None => continue,
                },
                None => None,
            };
            let (perms, display) = roles
                .get(a.role.as_str())
                .map_or((PermSet::EMPTY, ""), |r| {
                    (r.permissions, r.display_name.as_str())
                });
            let id = ix.assignments.len() as u32;
            ix.assignments.push(Asg {
                name: a.name.as_str().into(),
                role: a.role.as_str().into(),
                role_display: display.into(),
                perms,
                scope: a.scope.clone(),
                rel,
            });
            let mut members: Vec<&str> = a.members.iter().map(String::as_str).collect();
            members.sort_unstable();
            members.dedup();
            for m in members {
                by_member.entry(m).or_default().push(id);
            }
        }
        ix.by_member = by_member
            .into_iter()
            .map(|(m, ids)| {
                let ids = match ids.as_slice() {
                    [one] => Ids::One(*one),
                    _ => Ids::Many(ids.into_boxed_slice()),
                };
                (Box::from(m), ids)
            })
            .collect();
        ix
    }
}

/// The decision index of every customer, at one revision.
#[derive(Debug, Default)]
pub struct Index {
    customers: HashMap<Box<str>, CustomerIx>,
    customers_of_partner: HashMap<Box<str>, BTreeSet<Box<str>>>,
    revision: i64,
}

impl Index {
    /// An empty index at revision 0.
    pub fn new() -> Index {
        Index::default()
    }

    /// The newest revision applied.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Records that every change up to `revision` is applied.
    pub fn set_revision(&mut self, revision: i64) {
        self.revision = self.revision.max(revision);
    }

    /// Number of customers known.
    pub fn customer_count(&self) -> usize {
        self.customers.len()
    }

    /// Replaces everything known of one customer.
    pub fn put_customer(&mut self, data: &CustomerData) {
        self.remove_customer(&data.id);
        let ix = CustomerIx::build(data);
        for rel in &ix.rels {
            self.customers_of_partner
                .entry(rel.partner.clone())
                .or_default()
                .insert(data.id.as_str().into());
        }
        self.customers.insert(data.id.as_str().into(), ix);
    }

    /// An estimate of the heap bytes the index holds (table capacities, entries and the
    /// strings they own), for capacity planning and the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        fn scope(s: &Scope) -> usize {
            (s.groups.capacity() + s.rooms.capacity()) * size_of::<Box<str>>()
                + s.groups
                    .iter()
                    .chain(&s.rooms)
                    .map(|n| n.len())
                    .sum::<usize>()
        }
        let mut total = self.customers.capacity() * size_of::<(Box<str>, CustomerIx)>();
        for (id, cx) in &self.customers {
            total += id.len();
            total += cx.assignments.capacity() * size_of::<Asg>();
            for a in &cx.assignments {
                total += a.name.len() + a.role.len() + a.role_display.len() + scope(&a.scope);
            }
            total += cx.by_member.capacity() * size_of::<(Box<str>, Ids)>();
            for (member, ids) in &cx.by_member {
                total += member.len()
                    + match ids {
                        Ids::One(_) => 0,
                        Ids::Many(ids) => ids.len() * size_of::<u32>(),
                    };
            }
            total += cx.rels.capacity() * size_of::<Rel>();
            for r in &cx.rels {
                total += r.name.len() + r.partner.len() + scope(&r.scope);
            }
            total += cx.rels_of_partner.capacity() * size_of::<(Box<str>, Vec<u32>)>();
            for (partner, ids) in &cx.rels_of_partner {
                total += partner.len() + ids.capacity() * size_of::<u32>();
            }
        }
        total += self.customers_of_partner.capacity() * size_of::<(Box<str>, BTreeSet<Box<str>>)>();
        for (partner, customers) in &self.customers_of_partner {
            total += partner.len()
                + customers.len() * (size_of::<Box<str>>() + 8)
                + customers.iter().map(|c| c.len()).sum::<usize>();
        }
        total
    }

    /// Forgets a customer.
    pub fn remove_customer(&mut self, id: &str) {
        if let Some(old) = self.customers.remove(id) {
            for partner in old.rels_of_partner.keys() {
                if let Some(set) = self.customers_of_partner.get_mut(partner) {
                    set.remove(id);
                    if set.is_empty() {
                        self.customers_of_partner.remove(partner);
                    }
                }
            }
        }
    }
}
