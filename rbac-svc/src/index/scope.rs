//! Room scopes: all rooms, or room groups plus individual rooms, as sorted name lists.

use mtm_proto::mtm::common::v1::RoomScope;

/// A set of rooms of one customer. Names are full resource names; both lists are sorted and
/// free of duplicates, so membership is a binary search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Every room, now and later.
    pub all: bool,
    /// Room groups in scope (`customers/{c}/roomGroups/{g}`), sorted.
    pub groups: Vec<Box<str>>,
    /// Individual rooms in scope (`customers/{c}/rooms/{r}`), sorted.
    pub rooms: Vec<Box<str>>,
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
        if all {
            return Scope::all_rooms();
        }
        Scope {
            all: false,
            groups: sorted(groups.into_iter().map(Into::into).collect()),
            rooms: sorted(rooms.into_iter().map(Into::into).collect()),
        }
    }

    /// From the protobuf message.
    pub fn from_proto(scope: &RoomScope) -> Scope {
        Scope::new(
            scope.all_rooms,
            scope.room_groups.iter().map(String::as_str),
            scope.rooms.iter().map(String::as_str),
        )
    }

    /// As the protobuf message.
    pub fn to_proto(&self) -> RoomScope {
        RoomScope {
            all_rooms: self.all,
            room_groups: self.groups.iter().map(|g| g.to_string()).collect(),
            rooms: self.rooms.iter().map(|r| r.to_string()).collect(),
        }
    }

    /// Whether it covers no room at all.
    pub fn is_empty(&self) -> bool {
        !self.all && self.groups.is_empty() && self.rooms.is_empty()
    }

    /// Whether it covers `room`, which is in `group` now.
    #[inline]
    pub fn covers_room(&self, room: &str, group: &str) -> bool {
        self.all || has(&self.rooms, room) || has(&self.groups, group)
    }

    /// Whether it covers the room group `group` (all rooms, or the group named).
    #[inline]
    pub fn covers_group(&self, group: &str) -> bool {
        self.all || has(&self.groups, group)
    }

    /// Whether every room of `other` is certainly in `self`, judged by names only: a room
    /// named in `other` counts when `self` names it (its group is not known here).
    pub fn contains(&self, other: &Scope) -> bool {
        if self.all {
            return true;
        }
        !other.all
            && other.groups.iter().all(|g| has(&self.groups, g))
            && other.rooms.iter().all(|r| has(&self.rooms, r))
    }

    /// The part of `self ∩ other` that can be written as a scope without knowing which group
    /// each room is in: all rooms only if both are; otherwise the groups both name, and the
    /// rooms one names that the other names or covers entirely. A room named by one side whose
    /// group (and not the room) is named by the other is left out: rbac-svc does not know
    /// which group a room is in outside a `Check`, so the clipped scope is decided by names,
    /// by `Check` as by `ResolveScope`, and never covers a room outside either scope.
    pub fn clip(&self, other: &Scope) -> Scope {
        if self.all {
            return other.clone();
        }
        if other.all {
            return self.clone();
        }
        Scope {
            all: false,
            groups: self
                .groups
                .iter()
                .filter(|g| has(&other.groups, g))
                .cloned()
                .collect(),
            rooms: self
                .rooms
                .iter()
                .filter(|r| has(&other.rooms, r))
                .cloned()
                .collect(),
        }
    }

    /// The scope an assignment with this scope decides with: its own for a customer
    /// assignment, clipped to the relationship's scope for a partner assignment (R18, R21).
    /// `Check`, `ResolveScope` and `RoleAssignment.effective_scope` all use this one.
    pub fn effective(&self, relationship: Option<&Scope>) -> Scope {
        match relationship {
            None => self.clone(),
            Some(rel) => self.clip(rel),
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
        self.groups = sorted(
            groups
                .into_iter()
                .chain(other.groups.iter().cloned())
                .collect(),
        );
        self.rooms = sorted(
            rooms
                .into_iter()
                .chain(other.rooms.iter().cloned())
                .collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(groups: &[&str], rooms: &[&str]) -> Scope {
        Scope::new(false, groups.iter().copied(), rooms.iter().copied())
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
    fn r18_clip_never_widens() {
        let a = scope(&["g1", "g2"], &["r1", "r2"]);
        let b = scope(&["g2"], &["r2", "r3"]);
        assert_eq!(a.clip(&b), scope(&["g2"], &["r2"]));
        assert_eq!(Scope::all_rooms().clip(&b), b);
        assert_eq!(a.clip(&Scope::all_rooms()), a);
        assert!(scope(&[], &[]).is_empty());
    }

    #[test]
    fn containment_and_union() {
        let a = scope(&["g1"], &["r1"]);
        assert!(Scope::all_rooms().contains(&a));
        assert!(!a.contains(&Scope::all_rooms()));
        assert!(a.contains(&scope(&["g1"], &[])));
        assert!(!a.contains(&scope(&[], &["r2"])));
        let mut u = a.clone();
        u.union_with(&scope(&["g0"], &["r1", "r5"]));
        assert_eq!(u, scope(&["g0", "g1"], &["r1", "r5"]));
        u.union_with(&Scope::all_rooms());
        assert!(u.all);
    }
}
