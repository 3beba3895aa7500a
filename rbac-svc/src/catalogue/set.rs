//! Sets of permissions as a bitset over the catalogue's positions.

use super::Perm;

/// A set of permissions as a bitset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermSet(pub u32);

impl PermSet {
    /// No permission.
    pub const EMPTY: PermSet = PermSet(0);

    /// Whether `perm` is in the set.
    #[inline]
    pub fn contains(self, perm: Perm) -> bool {
        self.0 & (1 << perm.0) != 0
    }

    /// The set plus `perm`.
    pub fn with(self, perm: Perm) -> PermSet {
        PermSet(self.0 | (1 << perm.0))
    }

    /// Whether every permission of `self` is in `other`.
    pub fn is_subset(self, other: PermSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The union.
    pub fn union(self, other: PermSet) -> PermSet {
        PermSet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Perm> {
        Perm::all().filter(move |p| self.contains(*p))
    }

    /// The names of the permissions, in catalogue order.
    pub fn names(self) -> Vec<String> {
        self.iter().map(|p| p.name().to_owned()).collect()
    }

    /// Parses permission names; `Err` carries the index of the first unknown one.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<PermSet, usize> {
        let mut set = PermSet::EMPTY;
        for (i, name) in names.iter().enumerate() {
            set = set.with(Perm::parse(name.as_ref()).ok_or(i)?);
        }
        Ok(set)
    }
}
