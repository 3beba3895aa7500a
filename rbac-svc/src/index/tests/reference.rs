//! A plain reference evaluator written from SPEC §5–§7a, random worlds to try it on (also
//! used by the other property tests of the crate), and a property test comparing the index
//! with it over random worlds.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::super::*;
use crate::catalogue::{BuiltIn, CATALOGUE, Kind, Perm, PermSet};

pub(crate) const NOW: i64 = 1_000;
pub(crate) const CUSTOMERS: [&str; 4] = ["c0", "c1", "c2", "c3"];
pub(crate) const PARTNERS: [&str; 3] = ["p0", "p1", "p2"];

/// SplitMix64, enough to build a world from one seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub(crate) fn room_name(c: &str, i: usize) -> String {
    format!("customers/{c}/rooms/r{i}")
}
pub(crate) fn group_name(c: &str, i: usize) -> String {
    format!("customers/{c}/roomGroups/s{i}")
}

/// Where every room of customer `c` is now: rooms `r0`..`r7`, each in one of the groups
/// `s0`..`s3` (random scopes name `s0`..`s2`, so some rooms are in a group no scope names).
pub(crate) fn placement(rng: &mut Rng, c: &str) -> Vec<(String, String)> {
    (0..8)
        .map(|i| (room_name(c, i), group_name(c, rng.below(4))))
        .collect()
}

pub(crate) fn random_scope(rng: &mut Rng, c: &str) -> Scope {
    if rng.chance(30) {
        return Scope::all_rooms();
    }
    let groups: Vec<String> = (0..3)
        .filter(|_| rng.chance(35))
        .map(|i| group_name(c, i))
        .collect();
    let rooms: Vec<String> = (0..8)
        .filter(|_| rng.chance(20))
        .map(|i| room_name(c, i))
        .collect();
    Scope::new(false, groups, rooms)
}

pub(crate) fn members(rng: &mut Rng, tenant: &str) -> Vec<String> {
    let tenant = if rng.chance(5) {
        *rng.pick(&["c0", "p0", "p1"])
    } else {
        tenant
    };
    (0..1 + rng.below(3))
        .map(|_| {
            if rng.chance(50) {
                format!("tenants/{tenant}/users/u{}", rng.below(5))
            } else {
                format!("tenants/{tenant}/groups/g{}", rng.below(4))
            }
        })
        .collect()
}

pub(crate) fn random_perms(rng: &mut Rng, within: PermSet) -> PermSet {
    PermSet((rng.next() as u32) & within.0)
}

pub(crate) fn world(rng: &mut Rng) -> Vec<CustomerData> {
    let mut out = Vec::new();
    for c in CUSTOMERS {
        let mut data = CustomerData {
            id: c.into(),
            ..CustomerData::default()
        };
        for b in [BuiltIn::MmrAdmin, BuiltIn::SiteLead, BuiltIn::SiteTech] {
            data.roles.push(RoleData {
                name: format!("customers/{c}/roles/{}", b.id()),
                display_name: b.display_name().into(),
                permissions: b.permissions(),
            });
        }
        for k in 0..rng.below(3) {
            data.roles.push(RoleData {
                name: format!("customers/{c}/roles/custom{k}"),
                display_name: format!("Custom {k}"),
                permissions: random_perms(rng, BuiltIn::MmrAdmin.permissions()),
            });
        }
        let customer_roles: Vec<String> = data.roles.iter().map(|r| r.name.clone()).collect();
        for k in 0..rng.below(7) {
            data.assignments.push(AssignmentData {
                name: format!("customers/{c}/roleAssignments/a{k}"),
                role: rng.pick(&customer_roles).clone(),
                members: members(rng, c),
                scope: random_scope(rng, c),
                relationship: None,
            });
        }
        for p in PARTNERS {
            for n in 0..[0, 1, 1, 2][rng.below(4)] {
                let rel = format!("customers/{c}/partnerRelationships/{p}-{n}");
                data.relationships.push(RelationshipData {
                    name: rel.clone(),
                    partner: p.into(),
                    scope: random_scope(rng, c),
                    active: rng.chance(80),
                    end_time: rng.chance(30).then(|| 990 + rng.below(20) as i64),
                });
                let mut rel_roles = vec![format!("{rel}/roles/primary-admins")];
                data.roles.push(RoleData {
                    name: rel_roles[0].clone(),
                    display_name: "Primary admins".into(),
                    permissions: BuiltIn::PrimaryAdmins.permissions(),
                });
                for k in 0..rng.below(3) {
                    let name = format!("{rel}/roles/helpdesk{k}");
                    data.roles.push(RoleData {
                        name: name.clone(),
                        display_name: format!("Helpdesk {k}"),
                        permissions: random_perms(rng, BuiltIn::PrimaryAdmins.permissions()),
                    });
                    rel_roles.push(name);
                }
                for k in 0..rng.below(5) {
                    data.assignments.push(AssignmentData {
                        name: format!("{rel}/roleAssignments/a{k}"),
                        role: rng.pick(&rel_roles).clone(),
                        members: members(rng, p),
                        scope: random_scope(rng, c),
                        relationship: Some(rel.clone()),
                    });
                }
            }
        }
        out.push(data);
    }
    out
}

/// A principal of `tenant`: user `u{n}` with every group it is in through random nesting.
pub(crate) fn principal(rng: &mut Rng, tenant: &str) -> (String, Vec<String>) {
    let user = rng.below(5);
    // group i may contain group j > i; the user is directly in some groups.
    let mut direct: BTreeSet<usize> = (0..4).filter(|_| rng.chance(25)).collect();
    let edges: Vec<(usize, usize)> = (0..4)
        .flat_map(|i| (i + 1..4).map(move |j| (i, j)))
        .filter(|_| rng.chance(30))
        .collect();
    loop {
        let before = direct.len();
        for &(outer, inner) in &edges {
            if direct.contains(&inner) {
                direct.insert(outer);
            }
        }
        if direct.len() == before {
            break;
        }
    }
    (
        format!("tenants/{tenant}/users/u{user}"),
        direct
            .into_iter()
            .map(|g| format!("tenants/{tenant}/groups/g{g}"))
            .collect(),
    )
}

/// What SPEC §7a says, evaluated the plain way.
#[allow(clippy::too_many_arguments)]
fn reference<'w>(
    world: &'w [CustomerData],
    user: &str,
    home: &str,
    groups: &[String],
    customer: &str,
    perm: Perm,
    target: &Target<'_>,
    requested: Option<Kind>,
) -> Decision<'w> {
    let deny = |d: Deny, rel: Option<&'w str>| Decision {
        allowed: false,
        granting: None,
        relationship: rel,
        visible_rooms: vec![],
        target_visible: false,
        deny: Some(d),
    };
    let partner = home != customer;
    let Some(data) = world.iter().find(|c| c.id == customer) else {
        return deny(
            if partner {
                Deny::NoRelationship
            } else {
                Deny::NoGrant
            },
            None,
        );
    };
    let usable =
        |r: &RelationshipData| r.active && r.end_time.is_none_or(|e| NOW < e) && r.partner == home;
    let relationship: Option<&str> = if partner {
        match data.relationships.iter().find(|r| usable(r)) {
            Some(r) => Some(r.name.as_str()),
            None => return deny(Deny::NoRelationship, None),
        }
    } else {
        None
    };
    let kinds = CATALOGUE[perm.0 as usize].kinds;
    let kind = match requested {
        Some(k) if kinds.contains(&k) => Some(k),
        Some(_) => None,
        None => match target {
            Target::Room(_) | Target::Ticket(_) => kinds
                .contains(&Kind::RoomScoped)
                .then_some(Kind::RoomScoped),
            Target::Group(_) => kinds
                .contains(&Kind::GroupScoped)
                .then_some(Kind::GroupScoped),
            Target::None => {
                if kinds.contains(&Kind::CustomerWide) {
                    Some(Kind::CustomerWide)
                } else if kinds.contains(&Kind::AnyAssignment) {
                    Some(Kind::AnyAssignment)
                } else {
                    None
                }
            }
        },
    };
    let fits = matches!(
        (kind, target),
        (Some(Kind::RoomScoped), Target::Room(_) | Target::Ticket(_))
            | (Some(Kind::GroupScoped), Target::Group(_))
            | (Some(Kind::CustomerWide | Kind::AnyAssignment), Target::None)
    );
    if !fits {
        return deny(Deny::Invalid, relationship);
    }
    let kind = kind.expect("fits");
    // The assignments of the principal there, with the relationship scope that bounds them.
    let mine: Vec<(&AssignmentData, Option<&Scope>)> = data
        .assignments
        .iter()
        .filter(|a| a.members.iter().any(|m| m == user || groups.contains(m)))
        .filter_map(|a| match &a.relationship {
            None if !partner => Some((a, None)),
            Some(rel) if partner => data
                .relationships
                .iter()
                .find(|r| &r.name == rel && usable(r))
                .map(|r| (a, Some(&r.scope))),
            _ => None,
        })
        .collect();
    let perms_of = |a: &AssignmentData| {
        data.roles
            .iter()
            .find(|r| r.name == a.role)
            .map_or(PermSet::EMPTY, |r| r.permissions)
    };
    let in_scope = |s: &Scope, room: &str, group: &str| {
        s.all || s.rooms.iter().any(|r| &**r == room) || s.groups.iter().any(|g| &**g == group)
    };
    // A partner assignment covers a room in both its own scope and the relationship's
    // (R18, R20): the intersection of the two as sets of rooms.
    let room_ok = |a: &AssignmentData, rel: Option<&Scope>, r: &RoomAt<'_>| {
        in_scope(&a.scope, r.room, r.group) && rel.is_none_or(|s| in_scope(s, r.room, r.group))
    };
    let group_ok = |a: &AssignmentData, rel: Option<&Scope>, g: &str| {
        (a.scope.all || a.scope.groups.iter().any(|x| &**x == g))
            && rel.is_none_or(|s| s.all || s.groups.iter().any(|x| &**x == g))
    };
    let covers = |a: &AssignmentData, rel: Option<&Scope>| match (kind, target) {
        (Kind::RoomScoped, Target::Room(r)) => room_ok(a, rel, r),
        (Kind::RoomScoped, Target::Ticket(rooms)) => rooms.iter().any(|r| room_ok(a, rel, r)),
        (Kind::GroupScoped, Target::Group(g)) => group_ok(a, rel, g),
        (Kind::CustomerWide, _) => a.scope.all && rel.is_none_or(|s| s.all),
        _ => true,
    };
    let granting: Vec<&(&AssignmentData, Option<&Scope>)> = mine
        .iter()
        .filter(|(a, _)| perms_of(a).contains(perm))
        .collect();
    let allowing: BTreeSet<&str> = granting
        .iter()
        .filter(|(a, rel)| covers(a, *rel))
        .map(|(a, _)| a.name.as_str())
        .collect();
    let allowed = !allowing.is_empty();
    let visible = allowed
        || match target {
            Target::None => !mine.is_empty(),
            Target::Room(r) => mine.iter().any(|(a, rel)| {
                perms_of(a).contains(Perm::parse("rooms.view").expect("p")) && room_ok(a, *rel, r)
            }),
            Target::Ticket(rooms) => mine.iter().any(|(a, rel)| {
                perms_of(a).contains(Perm::parse("tickets.view").expect("p"))
                    && rooms.iter().any(|r| room_ok(a, *rel, r))
            }),
            Target::Group(g) => mine.iter().any(|(a, rel)| {
                perms_of(a).contains(Perm::parse("groups.view").expect("p")) && group_ok(a, *rel, g)
            }),
        };
    let visible_rooms = match target {
        Target::Ticket(rooms) if allowed => (0..rooms.len())
            .filter(|&i| granting.iter().any(|(a, rel)| room_ok(a, *rel, &rooms[i])))
            .collect(),
        _ => vec![],
    };
    Decision {
        allowed,
        granting: allowing.iter().next().copied(),
        relationship,
        visible_rooms,
        target_visible: visible,
        deny: if allowed {
            None
        } else if granting.is_empty() {
            Some(Deny::NoGrant)
        } else if kind == Kind::CustomerWide {
            Some(Deny::NotCustomerWide)
        } else {
            Some(Deny::OutOfScope)
        },
    }
}

const CHECKS_PER_WORLD: usize = 1_000;

fn run_world(seed: u64) -> Result<(), TestCaseError> {
    let mut rng = Rng(seed);
    let world = world(&mut rng);
    let mut index = Index::new();
    for customer in &world {
        index.put_customer(customer);
    }
    let tenants = ["c0", "c1", "c2", "c3", "p0", "p1", "p2", "zz"];
    for _ in 0..CHECKS_PER_WORLD {
        let home = *rng.pick(&tenants);
        let (user, groups) = principal(&mut rng, home);
        let customer = *rng.pick(&["c0", "c1", "c2", "c3", "c9"]);
        let perm = Perm(rng.below(CATALOGUE.len()) as u8);
        let names: Vec<(String, String)> = (0..3)
            .map(|_| {
                (
                    room_name(customer, rng.below(8)),
                    group_name(customer, rng.below(4)),
                )
            })
            .collect();
        let rooms: Vec<RoomAt<'_>> = names
            .iter()
            .map(|(r, g)| RoomAt { room: r, group: g })
            .collect();
        let ticket_len = 1 + rng.below(3);
        let target = match rng.below(4) {
            0 => Target::None,
            1 => Target::Room(rooms[0]),
            2 => Target::Ticket(&rooms[..ticket_len]),
            _ => Target::Group(&names[0].1),
        };
        let requested = if rng.chance(15) {
            Some(*rng.pick(&[
                Kind::RoomScoped,
                Kind::GroupScoped,
                Kind::CustomerWide,
                Kind::AnyAssignment,
            ]))
        } else {
            None
        };
        let who = Who {
            user: &user,
            home_tenant: home,
            groups: &groups,
        };
        let got = index.check(&who, customer, perm, &target, requested, NOW);
        let want = reference(
            &world, &user, home, &groups, customer, perm, &target, requested,
        );
        prop_assert_eq!(
            &got,
            &want,
            "seed {} {} {:?} {:?} {:?}",
            seed,
            user,
            groups,
            customer,
            perm
        );
        // ResolveScope agrees on whether any assignment grants, and never covers a room
        // that Check denies.
        let resolved = index.resolve_scope(&who, customer, perm, NOW);
        let any = reference(
            &world,
            &user,
            home,
            &groups,
            customer,
            perm,
            &Target::None,
            Some(Kind::AnyAssignment),
        );
        if CATALOGUE[perm.0 as usize]
            .kinds
            .contains(&Kind::AnyAssignment)
        {
            prop_assert_eq!(resolved.allowed, any.allowed);
        }
        let room = rooms[0];
        if resolved.scope.covers_room(room.room, room.group) {
            let at_room = reference(
                &world,
                &user,
                home,
                &groups,
                customer,
                perm,
                &Target::Room(room),
                Some(Kind::RoomScoped),
            );
            let room_scoped = CATALOGUE[perm.0 as usize].kinds.contains(&Kind::RoomScoped);
            prop_assert!(
                !room_scoped || at_room.allowed,
                "resolved scope covers a denied room"
            );
        }
        let accessible: Vec<&str> = index
            .accessible(&who, NOW)
            .into_iter()
            .map(|a| a.customer)
            .collect();
        let download = Perm::parse("rooms.download_key").expect("known");
        let expected: Vec<&str> = CUSTOMERS
            .iter()
            .filter(|c| {
                reference(
                    &world,
                    &user,
                    home,
                    &groups,
                    c,
                    download,
                    &Target::None,
                    None,
                )
                .target_visible
            })
            .copied()
            .collect();
        prop_assert_eq!(accessible, expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 100,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0032),
        ..ProptestConfig::default()
    })]

    /// 100 random worlds × 1,000 random checks = 100,000 decisions, zero differences.
    #[test]
    fn r32_r34_r35_index_equals_the_reference_evaluator(seed in any::<u64>()) {
        run_world(seed)?;
    }
}
