//! ResolveScope ≡ Check (R20, R21, R32, R34, R35): over random worlds where every room is in
//! one group, the rooms of the scope `ResolveScope` answers (group-bound rooms counted while
//! in one of their groups) are exactly the rooms on which `Check`, given the room's group,
//! allows; its groups exactly the groups `Check` allows, it is all rooms exactly when a
//! customer-wide `Check` allows, and it is the union of the granting assignments'
//! `effective_scope`.

use proptest::prelude::*;

use super::reference::{CUSTOMERS, NOW, Rng, placement, principal, world};
use crate::catalogue::{Kind, Perm};
use crate::index::{AssignmentData, CustomerData, Index, RoomAt, Scope, Target, Who};

/// The union of the `effective_scope`s of the assignments granting `perm` to the principal,
/// read straight from the world's data.
fn union_of_effective(
    data: &CustomerData,
    user: &str,
    home: &str,
    groups: &[String],
    perm: Perm,
) -> (bool, Scope) {
    let partner = home != data.id;
    let mut any = false;
    let mut union = Scope::default();
    let names_me = |a: &AssignmentData| a.members.iter().any(|m| m == user || groups.contains(m));
    for a in data.assignments.iter().filter(|a| names_me(a)) {
        let rel = match (&a.relationship, partner) {
            (None, false) => None,
            (Some(rel), true) => {
                let usable = data.relationships.iter().find(|r| {
                    &r.name == rel
                        && r.partner == home
                        && r.active
                        && r.end_time.is_none_or(|e| NOW < e)
                });
                match usable {
                    Some(r) => Some(&r.scope),
                    None => continue,
                }
            }
            _ => continue,
        };
        let holds = data
            .roles
            .iter()
            .any(|r| r.name == a.role && r.permissions.contains(perm));
        if holds {
            any = true;
            union.union_with(&a.scope.effective(rel));
        }
    }
    (any, union)
}

/// The rooms of `scope` given where each room is: named, in a named group, or bound to the
/// group it is in.
fn rooms_of<'a>(scope: &Scope, placement: &'a [(String, String)]) -> Vec<&'a str> {
    placement
        .iter()
        .filter(|(room, group)| scope.covers_room(room, group))
        .map(|(room, _)| room.as_str())
        .collect()
}

const PRINCIPALS_PER_WORLD: usize = 60;

/// Runs one world; answers how many allowed rooms were in scope only as group-bound rooms.
fn run_world(seed: u64) -> Result<usize, TestCaseError> {
    let mut through_bound = 0;
    let mut rng = Rng(seed);
    let world = world(&mut rng);
    let placements: Vec<Vec<(String, String)>> =
        CUSTOMERS.iter().map(|c| placement(&mut rng, c)).collect();
    let mut index = Index::new();
    for customer in &world {
        index.put_customer(customer);
    }
    let tenants = ["c0", "c1", "c2", "c3", "p0", "p1", "p2"];
    for _ in 0..PRINCIPALS_PER_WORLD {
        let home = *rng.pick(&tenants);
        let (user, groups) = principal(&mut rng, home);
        let c = rng.below(CUSTOMERS.len());
        let (customer, data, placement) = (CUSTOMERS[c], &world[c], &placements[c]);
        let who = Who {
            user: &user,
            home_tenant: home,
            groups: &groups,
        };
        let group_names: Vec<&str> = {
            let mut g: Vec<&str> = placement.iter().map(|(_, g)| g.as_str()).collect();
            g.sort_unstable();
            g.dedup();
            g
        };
        for perm in Perm::all() {
            let resolved = index.resolve_scope(&who, customer, perm, NOW);
            let (any, union) = union_of_effective(data, &user, home, &groups, perm);
            prop_assert_eq!(
                resolved.allowed,
                any,
                "seed {} {} {}",
                seed,
                user,
                perm.name()
            );
            prop_assert_eq!(&resolved.scope, &union, "seed {} {}", seed, perm.name());
            let kinds = perm.spec().kinds;
            let decide = |target: &Target<'_>, kind: Kind| {
                index
                    .check(&who, customer, perm, target, Some(kind), NOW)
                    .allowed
            };
            if kinds.contains(&Kind::RoomScoped) {
                let allowed: Vec<&str> = placement
                    .iter()
                    .filter(|(room, group)| {
                        decide(&Target::Room(RoomAt { room, group }), Kind::RoomScoped)
                    })
                    .map(|(room, _)| room.as_str())
                    .collect();
                let unbound = Scope {
                    bound: Vec::new(),
                    ..resolved.scope.clone()
                };
                through_bound += allowed.len() - rooms_of(&unbound, placement).len();
                prop_assert_eq!(
                    rooms_of(&resolved.scope, placement),
                    allowed,
                    "seed {} {} {:?} {}",
                    seed,
                    user,
                    groups,
                    perm.name()
                );
            }
            if kinds.contains(&Kind::GroupScoped) {
                for group in &group_names {
                    prop_assert_eq!(
                        resolved.scope.covers_group(group),
                        decide(&Target::Group(group), Kind::GroupScoped),
                        "seed {} {}",
                        seed,
                        perm.name()
                    );
                }
            }
            if kinds.contains(&Kind::CustomerWide) {
                prop_assert_eq!(
                    resolved.scope.all,
                    decide(&Target::None, Kind::CustomerWide)
                );
            }
            if kinds.contains(&Kind::AnyAssignment) {
                prop_assert_eq!(resolved.allowed, decide(&Target::None, Kind::AnyAssignment));
            }
        }
    }
    Ok(through_bound)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0034),
        ..ProptestConfig::default()
    })]

    /// 64 random worlds × 60 principals × every permission: ResolveScope, Check and
    /// effective_scope name the same rooms, groups and customer-wide standing.
    #[test]
    fn r21_r32_r34_resolve_scope_names_exactly_the_rooms_check_allows(seed in any::<u64>()) {
        run_world(seed)?;
    }
}

/// The worlds are not vacuous: rooms named on one side and in a group named on the other are
/// allowed, and only through their group-bound entry.
#[test]
fn r20_the_worlds_allow_rooms_only_through_their_group_bound_entry() {
    let total: usize = (0..16u64)
        .map(|seed| run_world(seed * 0x9e37).expect("agreement"))
        .sum();
    assert!(total > 0, "no room was allowed through a group-bound entry");
}
