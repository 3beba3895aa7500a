//! The in-memory decision index: every customer's relationships, roles and assignments,
//! arranged for decisions without I/O (SPEC §5–§7a). Writers rebuild one customer at a time
//! from the store; decisions only read.
//!
//! A decision hashes the names it is asked about once, finds the customer in one hash table,
//! then reads only that customer's small flat tables (members, assignment ids, assignments,
//! scope keys sorted by hash, relationships) and confirms each hash match against the
//! customer's text of names. Names for answers and listings are kept apart.

mod decide;
pub mod scope;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

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
    /// The assignment's own scope (before intersecting with the relationship scope).
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

/// Where a name's bytes are in its customer's text.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// A name to look up: its hash, then where its bytes are (to confirm a hash match).
#[derive(Clone, Copy, Debug)]
struct Key {
    hash: u64,
    name: Span,
}

/// A run of entries in one of a customer's tables.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    start: u32,
    len: u32,
}

impl Run {
    #[inline]
    fn of<T>(self, table: &[T]) -> &[T] {
        &table[self.start as usize..(self.start + self.len) as usize]
    }
}

/// A scope as decisions read it: group and room names as runs of keys sorted by hash.
#[derive(Clone, Copy, Debug, Default)]
struct HotScope {
    all: bool,
    groups: Run,
    rooms: Run,
}

/// A name the decision is about, hashed once.
#[derive(Clone, Copy, Debug)]
struct Probe<'a> {
    hash: u64,
    name: &'a str,
}

/// A member (user or group) and the ids of the assignments naming it.
#[derive(Clone, Copy, Debug)]
struct Member {
    key: Key,
    grants: Run,
}

/// What decisions read of a relationship.
#[derive(Debug)]
struct Rel {
    name: Arc<str>,
    partner: Key,
    active: bool,
    end_time: Option<i64>,
    scope: HotScope,
}

impl Rel {
    #[inline]
    fn usable(&self, now: i64) -> bool {
        self.active && self.end_time.is_none_or(|end| now < end)
    }
}

/// What decisions read of an assignment; assignment ids follow the names' order, so the
/// first granting assignment by name is the lowest id.
#[derive(Debug)]
struct Asg {
    perms: PermSet,
    /// The relationship's id, or [`NO_REL`].
    rel: u32,
    scope: HotScope,
}

const NO_REL: u32 = u32::MAX;

/// What answers and listings need of an assignment besides the decision itself: its name and
/// its role (a role's names are shared by its assignments).
#[derive(Debug)]
struct AsgNames {
    name: Arc<str>,
    role: Arc<str>,
    role_display: Arc<str>,
}

/// One customer, arranged for decisions: small flat tables of integers and hashes, with
/// every name a decision compares in one text, so a decision touches few cache lines.
#[derive(Debug)]
struct CustomerIx {
    /// The customer id, then member, partner, room and group names.
    text: Box<str>,
    id: Span,
    /// Sorted by hash.
    members: Box<[Member]>,
    /// Assignment ids of each member, ascending.
    grants: Box<[u32]>,
    /// Scope names; each scope's groups and rooms are runs sorted by hash.
    keys: Box<[Key]>,
    assignments: Box<[Asg]>,
    /// Sorted by partner (hash, then name), so a partner's relationships are one run.
    rels: Box<[Rel]>,
    /// Per assignment, its names.
    asg_names: Box<[AsgNames]>,
}

/// Collects the names and keys of one customer while it is built; each distinct name is
/// written to the text once.
struct Builder<'h> {
    hasher: &'h DefaultHashBuilder,
    text: String,
    /// Where each name already written is, by its hash.
    spans: HashTable<Span>,
    keys: Vec<Key>,
}

impl Builder<'_> {
    fn name(&mut self, name: &str) -> Span {
        self.span(name, self.hasher.hash_one(name))
    }

    /// Where `name`, whose hash is `hash`, is in the text, writing it there the first time.
    fn span(&mut self, name: &str, hash: u64) -> Span {
        let Builder {
            hasher,
            text,
            spans,
            ..
        } = self;
        if let Some(span) = spans.find(hash, |s| &text[s.range()] == name) {
            return *span;
        }
        let span = Span {
            start: text.len() as u32,
            len: name.len() as u32,
        };
        text.push_str(name);
        spans.insert_unique(hash, span, |s| hasher.hash_one(&text[s.range()]));
        span
    }

    fn key(&mut self, name: &str) -> Key {
        let hash = self.hasher.hash_one(name);
        Key {
            hash,
            name: self.span(name, hash),
        }
    }

    fn run(&mut self, names: &[Box<str>]) -> Run {
        let mut keys: Vec<Key> = names.iter().map(|n| self.key(n)).collect();
        keys.sort_by_key(|k| k.hash);
        let run = Run {
            start: self.keys.len() as u32,
            len: keys.len() as u32,
        };
        self.keys.extend(keys);
        run
    }

    fn scope(&mut self, scope: &Scope) -> HotScope {
        if scope.all {
            return HotScope {
                all: true,
                ..HotScope::default()
            };
        }
        HotScope {
            all: false,
            groups: self.run(&scope.groups),
            rooms: self.run(&scope.rooms),
        }
    }
}

impl CustomerIx {
    fn build(data: &CustomerData, hasher: &DefaultHashBuilder) -> CustomerIx {
        let key_count = data
            .relationships
            .iter()
            .map(|r| &r.scope)
            .chain(data.assignments.iter().map(|a| &a.scope))
            .map(|s| s.groups.len() + s.rooms.len())
            .sum();
        let mut b = Builder {
            hasher,
            text: String::new(),
            spans: HashTable::new(),
            keys: Vec::with_capacity(key_count),
        };
        let id = b.name(&data.id);

        let mut rel_order: Vec<(u64, &RelationshipData)> = data
            .relationships
            .iter()
            .map(|r| (hasher.hash_one(r.partner.as_str()), r))
            .collect();
        rel_order.sort_by(|x, y| (x.0, &x.1.partner).cmp(&(y.0, &y.1.partner)));
        let rel_ids: HashMap<&str, u32> = rel_order
            .iter()
            .enumerate()
            .map(|(id, (_, r))| (r.name.as_str(), id as u32))
            .collect();

        let mut kept: Vec<(&AssignmentData, u32)> = Vec::new();
        for a in &data.assignments {
            let rel = match &a.relationship {
                Some(name) => match rel_ids.get(name.as_str()) {
                    Some(id) => *id,
                    None => continue,
                },
                None => NO_REL,
            };
            kept.push((a, rel));
        }
        kept.sort_by(|x, y| x.0.name.cmp(&y.0.name));

        let mut by_member: HashMap<&str, Vec<u32>> = HashMap::new();
        for (id, (a, _)) in kept.iter().enumerate() {
            for m in &a.members {
                let ids = by_member.entry(m.as_str()).or_default();
                if ids.last() != Some(&(id as u32)) {
                    ids.push(id as u32);
                }
            }
        }
        let mut by_member: Vec<(&str, Vec<u32>)> = by_member.into_iter().collect();
        by_member.sort_unstable_by_key(|(m, _)| *m);
        let mut members = Vec::with_capacity(by_member.len());
        let mut grants = Vec::with_capacity(by_member.iter().map(|(_, ids)| ids.len()).sum());
        for (member, ids) in by_member {
            members.push(Member {
                key: b.key(member),
                grants: Run {
                    start: grants.len() as u32,
                    len: ids.len() as u32,
                },
            });
            grants.extend(ids);
        }
        members.sort_by_key(|m| m.key.hash);

        let rels: Vec<Rel> = rel_order
            .iter()
            .map(|(_, rel)| Rel {
                name: rel.name.as_str().into(),
                partner: b.key(&rel.partner),
                active: rel.active,
                end_time: rel.end_time,
                scope: b.scope(&rel.scope),
            })
            .collect();

        let mut roles: HashMap<&str, (PermSet, Arc<str>, Arc<str>)> = data
            .roles
            .iter()
            .map(|r| {
                let role: Arc<str> = r.name.as_str().into();
                let display: Arc<str> = r.display_name.as_str().into();
                (r.name.as_str(), (r.permissions, role, display))
            })
            .collect();
        let mut assignments = Vec::with_capacity(kept.len());
        let mut asg_names = Vec::with_capacity(kept.len());
        for (a, rel) in kept {
            let (perms, role, role_display) = roles
                .entry(a.role.as_str())
                .or_insert_with(|| (PermSet::EMPTY, a.role.as_str().into(), "".into()));
            asg_names.push(AsgNames {
                name: a.name.as_str().into(),
                role: role.clone(),
                role_display: role_display.clone(),
            });
            assignments.push(Asg {
                perms: *perms,
                rel,
                scope: b.scope(&a.scope),
            });
        }

        CustomerIx {
            text: b.text.into_boxed_str(),
            id,
            members: members.into_boxed_slice(),
            grants: grants.into_boxed_slice(),
            keys: b.keys.into_boxed_slice(),
            assignments: assignments.into_boxed_slice(),
            rels: rels.into_boxed_slice(),
            asg_names: asg_names.into_boxed_slice(),
        }
    }

    /// Reads a word from each cache line of the decision tables (a few lines per table) and
    /// returns them combined. The loads do not depend on one another, so their cache misses
    /// overlap, instead of each following the last along the lookup; pass the result to
    /// [`std::hint::black_box`] so that they are kept.
    #[inline]
    fn warm(&self) -> u64 {
        fn lines<T>(table: &[T], word: impl Fn(&T) -> u64) -> u64 {
            let per_line = (LINE / std::mem::size_of::<T>().max(1)).max(1);
            table
                .iter()
                .step_by(per_line)
                .take(WARM_LINES)
                .fold(0, |acc, x| acc ^ word(x))
        }
        lines(self.text.as_bytes(), |b| u64::from(*b))
            ^ lines(&self.members, |m| m.key.hash)
            ^ lines(&self.grants, |g| u64::from(*g))
            ^ lines(&self.keys, |k| k.hash)
            ^ lines(&self.assignments, |a| u64::from(a.perms.0))
            ^ lines(&self.rels, |r| r.partner.hash)
    }

    /// The scope `scope` stands for, rebuilt from the names.
    fn scope(&self, scope: &HotScope) -> Scope {
        let names = |run: Run| run.of(&self.keys).iter().map(|k| self.text(k.name));
        Scope::new(scope.all, names(scope.groups), names(scope.rooms))
    }

    /// The partner of relationship `rel`.
    fn partner(&self, rel: &Rel) -> &str {
        self.text(rel.partner.name)
    }

    #[inline]
    fn text(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    fn id(&self) -> &str {
        self.text(self.id)
    }

    /// Whether `probe` is one of `keys` (sorted by hash).
    #[inline]
    fn has(&self, keys: &[Key], probe: &Probe<'_>) -> bool {
        let from = keys.partition_point(|k| k.hash < probe.hash);
        keys[from..]
            .iter()
            .take_while(|k| k.hash == probe.hash)
            .any(|k| self.text(k.name) == probe.name)
    }

    /// Whether `scope` covers `room`, which is in `group` now.
    #[inline]
    fn covers_room(&self, scope: &HotScope, room: &Probe<'_>, group: &Probe<'_>) -> bool {
        scope.all
            || self.has(scope.rooms.of(&self.keys), room)
            || self.has(scope.groups.of(&self.keys), group)
    }

    /// Whether `scope` covers the room group `group`.
    #[inline]
    fn covers_group(&self, scope: &HotScope, group: &Probe<'_>) -> bool {
        scope.all || self.has(scope.groups.of(&self.keys), group)
    }

    /// The assignment ids naming `member`.
    #[inline]
    fn grants_of(&self, member: &Probe<'_>) -> &[u32] {
        let from = self.members.partition_point(|m| m.key.hash < member.hash);
        self.members[from..]
            .iter()
            .take_while(|m| m.key.hash == member.hash)
            .find(|m| self.text(m.key.name) == member.name)
            .map_or(&[][..], |m| m.grants.of(&self.grants))
    }

    /// The run of relationship ids with `partner`.
    fn rels_of(&self, partner: &Probe<'_>) -> Run {
        let from = self.rels.partition_point(|r| r.partner.hash < partner.hash);
        let len = self.rels[from..]
            .iter()
            .take_while(|r| r.partner.hash == partner.hash)
            .position(|r| self.text(r.partner.name) == partner.name);
        match len {
            None => Run::default(),
            Some(skip) => {
                let start = from + skip;
                let len = self.rels[start..]
                    .iter()
                    .take_while(|r| {
                        r.partner.hash == partner.hash && self.text(r.partner.name) == partner.name
                    })
                    .count();
                Run {
                    start: start as u32,
                    len: len as u32,
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let mut total = self.text.len()
            + self.members.len() * size_of::<Member>()
            + self.grants.len() * size_of::<u32>()
            + self.keys.len() * size_of::<Key>()
            + self.assignments.len() * size_of::<Asg>()
            + self.rels.len() * size_of::<Rel>()
            + self.asg_names.len() * size_of::<AsgNames>();
        for a in &self.asg_names {
            total += a.name.len() + ARC_HEADER;
        }
        for r in &self.rels {
            total += r.name.len() + ARC_HEADER;
        }
        // A role's names are shared by its assignments; count each role once.
        let mut roles: Vec<&AsgNames> = self.asg_names.iter().collect();
        roles.sort_by_key(|r| Arc::as_ptr(&r.role));
        roles.dedup_by_key(|r| Arc::as_ptr(&r.role));
        for r in roles {
            total += r.role.len() + r.role_display.len() + 2 * ARC_HEADER;
        }
        total
    }
}

/// The size of a cache line.
const LINE: usize = 64;

/// At most this many cache lines of each table are read ahead by [`CustomerIx::warm`].
const WARM_LINES: usize = 8;

/// The reference counts in front of an `Arc<str>`'s bytes.
const ARC_HEADER: usize = 2 * std::mem::size_of::<usize>();

/// The decision index of every customer, at one revision.
#[derive(Default)]
pub struct Index {
    hasher: DefaultHashBuilder,
    customers: HashTable<CustomerIx>,
    customers_of_partner: HashMap<Box<str>, BTreeSet<Box<str>>>,
    revision: i64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("customers", &self.customers.len())
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
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

    /// The name hashed as every table of this index hashes it.
    #[inline]
    fn probe<'a>(&self, name: &'a str) -> Probe<'a> {
        Probe {
            hash: self.hasher.hash_one(name),
            name,
        }
    }

    #[inline]
    fn customer(&self, id: &str) -> Option<&CustomerIx> {
        self.customers
            .find(self.hasher.hash_one(id), |cx| cx.id() == id)
    }

    /// Replaces everything known of one customer.
    pub fn put_customer(&mut self, data: &CustomerData) {
        self.remove_customer(&data.id);
        let ix = CustomerIx::build(data, &self.hasher);
        for rel in &ix.rels {
            self.customers_of_partner
                .entry(ix.partner(rel).into())
                .or_default()
                .insert(data.id.as_str().into());
        }
        let hasher = &self.hasher;
        self.customers
            .insert_unique(hasher.hash_one(data.id.as_str()), ix, |cx| {
                hasher.hash_one(cx.id())
            });
    }

    /// Number of assignments held, across customers.
    pub fn assignment_count(&self) -> usize {
        self.customers.iter().map(|cx| cx.assignments.len()).sum()
    }

    /// An estimate of the heap bytes the index holds (table capacities, entries and the
    /// strings they own), for capacity planning and the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let mut total = self.customers.capacity() * (size_of::<CustomerIx>() + 1);
        for cx in &self.customers {
            total += cx.heap_bytes();
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
        let found = self
            .customers
            .find_entry(self.hasher.hash_one(id), |cx| cx.id() == id);
        let Ok(entry) = found else {
            return;
        };
        let (old, _) = entry.remove();
        for rel in &old.rels {
            let partner = old.partner(rel);
            if let Some(set) = self.customers_of_partner.get_mut(partner) {
                set.remove(id);
                if set.is_empty() {
                    self.customers_of_partner.remove(partner);
                }
            }
        }
    }
}
