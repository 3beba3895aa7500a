//! Room scopes: all rooms, or room groups plus individual rooms plus rooms bound to groups
//! (in scope only while in one of their groups), as sorted name lists.

use mtm_proto::mtm::common::v1::{GroupBoundRoom, RoomScope};

/// A room that is in a scope only while its current group is one of `groups`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bound {
    /// `customers/{c}/rooms/{r}`.
    pub room: Box<str>,
    /// `customers/{c}/roomGroups/{g}`, sorted, at least one.
    pub groups: Vec<Box<str>>,
}

/// A set of rooms of one customer. Names are full resource names; every list is sorted and
/// free of duplicates, so membership is a binary search. The form is canonical: a bound room
/// is neither named in `rooms` nor bound to a group of `groups`, and has at least one group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Every room, now and later.
    pub all: bool,
    /// Room groups in scope (`customers/{c}/roomGroups/{g}`), sorted.
    pub groups: Vec<Box<str>>,
    /// Individual rooms in scope (`customers/{c}/rooms/{r}`), sorted.
    pub rooms: Vec<Box<str>>,
    /// Rooms in scope only while in one of their groups, sorted by room. Only computed
    /// scopes have them (a partner assignment's effective scope, `ResolveScope`); the scopes
    /// clients write (assignments, relationships) never do.
    pub bound: Vec<Bound>,
}

/// Which groups a room counts in for one scope: any group, or only these (sorted).
enum RoomIn<'s> {
    Any,
    Only(Vec<&'s str>),
}

fn sorted(mut names: Vec<Box<str>>) -> Vec<Box<str>> {
    names.sort_unstable();
    names.dedup();
    names
}

fn has(list: &[Box<str>], name: &str) -> bool {
    list.binary_search_by(|n| (**n).cmp(name)).is_ok()
}

impl Scope {
    /// Every room.
    pub fn all_rooms() -> Scope {
        Scope {
            all: true,
            ..Scope::default()
        }
    }

    /// Groups plus rooms (sorted and deduplicated here). With `all`, the lists are dropped.
    pub fn new<G, R>(all: bool, groups: G, rooms: R) -> Scope
    where
        G: IntoIterator,
        G::Item: Into<Box<str>>,
        R: IntoIterator,
        R::Item: Into<Box<str>>,
    {
        Scope::with_bound(all, groups, rooms, Vec::new())
    }

    /// Groups plus rooms plus group-bound rooms, brought to the canonical form.
    pub fn with_bound<G, R>(all: bool, groups: G, rooms: R, bound: Vec<Bound>) -> Scope
    where
        G: IntoIterator,
        G::Item: Into<Box<str>>,
        R: IntoIterator,
        R::Item: Into<Box<str>>,
    {
        if all {
            return Scope::all_rooms();
        }
        let groups = sorted(groups.into_iter().map(Into::into).collect());
        let rooms = sorted(rooms.into_iter().map(Into::into).collect());
        let mut bound = bound;
        bound.sort_by(|a, b| a.room.cmp(&b.room));
        let mut merged: Vec<Bound> = Vec::with_capacity(bound.len());
        for b in bound {
            if has(&rooms, &b.room) {
                continue;
            }
            match merged.last_mut() {
                Some(last) if last.room == b.room => last.groups.extend(b.groups),
                _ => merged.push(b),
            }
        }
        for b in &mut merged {
            let names = std::mem::take(&mut b.groups);
            b.groups = sorted(names.into_iter().filter(|g| !has(&groups, g)).collect());
        }
        merged.retain(|b| !b.groups.is_empty());
        Scope {
            all: false,
            groups,
            rooms,
            bound: merged,
        }
    }

    /// From the protobuf message.
    pub fn from_proto(scope: &RoomScope) -> Scope {
        Scope::with_bound(
            scope.all_rooms,
            scope.room_groups.iter().map(String::as_str),
            scope.rooms.iter().map(String::as_str),
            scope
                .rooms_in_groups
                .iter()
                .map(|b| Bound {
                    room: b.room.as_str().into(),
                    groups: b.room_groups.iter().map(|g| g.as_str().into()).collect(),
                })
                .collect(),
        )
    }

    /// As the protobuf message.
    pub fn to_proto(&self) -> RoomScope {
        RoomScope {
            all_rooms: self.all,
            room_groups: self.groups.iter().map(|g| g.to_string()).collect(),
            rooms: self.rooms.iter().map(|r| r.to_string()).collect(),
            rooms_in_groups: self
                .bound
                .iter()
                .map(|b| GroupBoundRoom {
                    room: b.room.to_string(),
                    room_groups: b.groups.iter().map(|g| g.to_string()).collect(),
                })
                .collect(),
        }
    }

    /// Whether it covers no room at all.
    pub fn is_empty(&self) -> bool {
        !self.all && self.groups.is_empty() && self.rooms.is_empty() && self.bound.is_empty()
    }

    /// The groups `room` is bound to here (empty when it is not bound).
    fn bound_to(&self, room: &str) -> &[Box<str>] {
        self.bound
            .binary_search_by(|b| (*b.room).cmp(room))
            .map_or(&[], |i| &self.bound[i].groups)
    }

    /// Whether it covers `room`, which is in `group` now.
    #[inline]
    pub fn covers_room(&self, room: &str, group: &str) -> bool {
        self.all
            || has(&self.rooms, room)
            || has(&self.groups, group)
            || (!self.bound.is_empty() && has(self.bound_to(room), group))
    }

    /// Whether it covers the room group `group` as a whole (all rooms, or the group named).
    #[inline]
    pub fn covers_group(&self, group: &str) -> bool {
        self.all || has(&self.groups, group)
    }

    /// The groups `room` counts in here (not all rooms).
    fn room_in(&self, room: &str) -> RoomIn<'_> {
        if has(&self.rooms, room) {
            return RoomIn::Any;
        }
        let mut groups: Vec<&str> = self
            .groups
            .iter()
            .chain(self.bound_to(room))
            .map(|g| &**g)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        RoomIn::Only(groups)
    }

    /// Whether every room of `other` is certainly in `self`, whichever group each room is in:
    /// a room named in `other` counts when `self` names it, a room bound in `other` when
    /// `self` covers it in each of its groups.
    pub fn contains(&self, other: &Scope) -> bool {
        if self.all {
            return true;
        }
        !other.all
            && other.groups.iter().all(|g| has(&self.groups, g))
            && other.rooms.iter().all(|r| has(&self.rooms, r))
            && other.bound.iter().all(|b| {
                has(&self.rooms, &b.room)
                    || b.groups
                        .iter()
                        .all(|g| has(&self.groups, g) || has(self.bound_to(&b.room), g))
            })
    }

    /// `self ∩ other`, exactly, as sets of rooms: all rooms only if both are; otherwise the
    /// groups both name, the rooms both name, and every room one side names or binds, bound
    /// to the groups in which the other side covers it too (a room named on one side whose
    /// group is named on the other is in while it stays in that group).
    pub fn intersect(&self, other: &Scope) -> Scope {
        if self.all {
            return other.clone();
        }
        if other.all {
            return self.clone();
        }
        let groups: Vec<Box<str>> = self
            .groups
            .iter()
            .filter(|g| has(&other.groups, g))
            .cloned()
            .collect();
        let mut candidates: Vec<&str> = Vec::new();
        for s in [self, other] {
            candidates.extend(s.rooms.iter().map(|r| &**r));
            candidates.extend(s.bound.iter().map(|b| &*b.room));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut rooms: Vec<Box<str>> = Vec::new();
        let mut bound = Vec::new();
        for room in candidates {
            let only = match (self.room_in(room), other.room_in(room)) {
                (RoomIn::Any, RoomIn::Any) => {
                    rooms.push(room.into());
                    continue;
                }
                (RoomIn::Any, RoomIn::Only(gs)) | (RoomIn::Only(gs), RoomIn::Any) => gs,
                (RoomIn::Only(a), RoomIn::Only(b)) => a
                    .into_iter()
                    .filter(|g| b.binary_search(g).is_ok())
                    .collect(),
            };
            if !only.is_empty() {
                bound.push(Bound {
                    room: room.into(),
                    groups: only.into_iter().map(Into::into).collect(),
                });
            }
        }
        Scope::with_bound(false, groups, rooms, bound)
    }

    /// The scope an assignment with this scope decides with: its own for a customer
    /// assignment, its intersection with the relationship's scope for a partner assignment
    /// (R18, R20, R21). `Check`, `ResolveScope` and `RoleAssignment.effective_scope` all
    /// decide by this one set of rooms.
    pub fn effective(&self, relationship: Option<&Scope>) -> Scope {
        match relationship {
            None => self.clone(),
            Some(rel) => self.intersect(rel),
        }
    }

    /// Adds every room of `other` to `self`.
    pub fn union_with(&mut self, other: &Scope) {
        if self.all {
            return;
        }
        if other.all {
            *self = Scope::all_rooms();
            return;
        }
        let groups = std::mem::take(&mut self.groups);
        let rooms = std::mem::take(&mut self.rooms);
        let mut bound = std::mem::take(&mut self.bound);
        bound.extend(other.bound.iter().cloned());
        *self = Scope::with_bound(
            false,
            groups.into_iter().chain(other.groups.iter().cloned()),
            rooms.into_iter().chain(other.rooms.iter().cloned()),
            bound,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(groups: &[&str], rooms: &[&str]) -> Scope {
        Scope::new(false, groups.iter().copied(), rooms.iter().copied())
    }

    fn bound(room: &str, groups: &[&str]) -> Bound {
        Bound {
            room: room.into(),
            groups: groups.iter().map(|g| (*g).into()).collect(),
        }
    }

    #[test]
    fn covers_rooms_by_name_or_current_group() {
        let s = scope(&["g1"], &["r9"]);
        assert!(s.covers_room("r1", "g1"));
        assert!(s.covers_room("r9", "g2"));
        assert!(!s.covers_room("r1", "g2"));
        assert!(s.covers_group("g1") && !s.covers_group("g2"));
        assert!(Scope::all_rooms().covers_group("any"));
    }

    #[test]
    fn r18_intersect_never_widens() {
        let a = scope(&["g1", "g2"], &["r1", "r2"]);
        let b = scope(&["g2"], &["r2", "r3"]);
        let both = a.intersect(&b);
        assert_eq!(
            both,
            Scope::with_bound(false, ["g2"], ["r2"], vec![bound("r3", &["g1"])])
        );
        assert_eq!(Scope::all_rooms().intersect(&b), b);
        assert_eq!(a.intersect(&Scope::all_rooms()), a);
        assert!(scope(&[], &[]).is_empty());
    }

    #[test]
    fn r20_a_room_named_on_one_side_and_its_group_on_the_other_is_bound_to_that_group() {
        let assignment = scope(&[], &["r1"]);
        let relationship = scope(&["g1"], &[]);
        for effective in [
            assignment.intersect(&relationship),
            relationship.intersect(&assignment),
        ] {
            assert_eq!(effective.bound, vec![bound("r1", &["g1"])]);
            assert!(effective.groups.is_empty() && effective.rooms.is_empty());
            assert!(effective.covers_room("r1", "g1"));
            assert!(!effective.covers_room("r1", "g2"));
            assert!(!effective.covers_room("r2", "g1"));
            assert!(!effective.covers_group("g1"));
            let back = Scope::from_proto(&effective.to_proto());
            assert_eq!(back, effective);
        }
    }

    #[test]
    fn bound_rooms_intersect_and_join_exactly() {
        let a = Scope::with_bound(false, ["g1"], ["r1"], vec![bound("r2", &["g2", "g3"])]);
        let b = Scope::with_bound(
            false,
            ["g3"],
            Vec::<&str>::new(),
            vec![bound("r1", &["g2"])],
        );
        let both = a.intersect(&b);
        for room in ["r1", "r2", "r3"] {
            for group in ["g1", "g2", "g3", "g4"] {
                assert_eq!(
                    both.covers_room(room, group),
                    a.covers_room(room, group) && b.covers_room(room, group),
                    "{room} in {group}"
                );
            }
        }
        let mut u = a.clone();
        u.union_with(&b);
        for room in ["r1", "r2", "r3"] {
            for group in ["g1", "g2", "g3", "g4"] {
                assert_eq!(
                    u.covers_room(room, group),
                    a.covers_room(room, group) || b.covers_room(room, group)
                );
            }
        }
        assert_eq!(u.bound, vec![bound("r2", &["g2"])]);
    }

    #[test]
    fn containment_and_union() {
        let a = scope(&["g1"], &["r1"]);
        assert!(Scope::all_rooms().contains(&a));
        assert!(!a.contains(&Scope::all_rooms()));
        assert!(a.contains(&scope(&["g1"], &[])));
        assert!(!a.contains(&scope(&[], &["r2"])));
        let r2_in_g1 = Scope::with_bound(
            false,
            Vec::<&str>::new(),
            Vec::<&str>::new(),
            vec![bound("r2", &["g1"])],
        );
        assert!(a.contains(&r2_in_g1));
        assert!(!r2_in_g1.contains(&scope(&[], &["r2"])));
        assert!(r2_in_g1.contains(&r2_in_g1));
        let mut u = a.clone();
        u.union_with(&scope(&["g0"], &["r1", "r5"]));
        assert_eq!(u, scope(&["g0", "g1"], &["r1", "r5"]));
        u.union_with(&Scope::all_rooms());
        assert!(u.all);
    }
}
