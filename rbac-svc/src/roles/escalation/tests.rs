//! R36 over random worlds: random role-management writes by random callers, each decided as
//! the handlers decide it (`Caller::see`, `may_change` / `need`, then [`permit`]); no
//! accepted write lets anyone gain a (permission, room) pair the caller could not have
//! granted, nor lose one outside the caller's `roles.modify` scope.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::catalogue::{BuiltIn, CATALOGUE};
use crate::index::tests::reference::{
    CUSTOMERS, NOW, PARTNERS, Rng, members, placement, random_perms, random_scope, world,
};
use crate::index::{AssignmentData, CustomerData, Index, Who};
use crate::names::Parent;

/// A role-management request, as the handlers receive it.
#[derive(Clone, Debug)]
enum Request {
    UpdateRole {
        role: String,
        permissions: PermSet,
    },
    DeleteRole {
        role: String,
    },
    CreateAssignment(AssignmentData),
    UpdateAssignment {
        name: String,
        members: Option<Vec<String>>,
        scope: Option<Scope>,
    },
    DeleteAssignment {
        name: String,
    },
}

/// A user, its home tenant id and its groups.
type Person = (String, String, Vec<String>);

/// Who may be affected: five users of each tenant, each in some of its groups.
fn population(rng: &mut Rng, tenants: &[&str]) -> Vec<Person> {
    let mut out = Vec::new();
    for tenant in tenants {
        for u in 0..5 {
            let groups = (0..4)
                .filter(|_| rng.chance(30))
                .map(|g| format!("tenants/{tenant}/groups/g{g}"))
                .collect();
            out.push((
                format!("tenants/{tenant}/users/u{u}"),
                (*tenant).to_owned(),
                groups,
            ));
        }
    }
    out
}

fn built_in(role: &str) -> bool {
    role.rsplit('/')
        .next()
        .is_some_and(|id| BuiltIn::from_id(id).is_some())
}

fn parent_of(name: &str, collection: &str) -> Parent {
    crate::names::child(name, collection)
        .expect("a valid name")
        .0
}

fn relationship_scope<'d>(data: &'d CustomerData, parent: &Parent) -> Option<&'d Scope> {
    let rel = parent.relationship()?;
    data.relationships
        .iter()
        .find(|r| r.name == rel)
        .map(|r| &r.scope)
}

fn perms_of(data: &CustomerData, role: &str) -> PermSet {
    data.roles
        .iter()
        .find(|r| r.name == role)
        .map_or(PermSet::EMPTY, |r| r.permissions)
}

/// A random request; half of its permissions and scopes are drawn from what `caller` holds,
/// so that many requests are accepted.
fn random_request(rng: &mut Rng, data: &CustomerData, caller: &Caller) -> Option<Request> {
    let c = data.id.as_str();
    let random_scope = |rng: &mut Rng, c: &str| {
        if rng.chance(50) {
            caller.modify_scope.clone()
        } else {
            random_scope(rng, c)
        }
    };
    let parents: Vec<(String, String)> = std::iter::once((format!("customers/{c}"), c.to_owned()))
        .chain(
            data.relationships
                .iter()
                .map(|r| (r.name.clone(), r.partner.clone())),
        )
        .collect();
    Some(match rng.below(5) {
        0 => {
            let role = rng.pick(&data.roles);
            let within = if role.name.contains("/partnerRelationships/") {
                BuiltIn::PrimaryAdmins.permissions()
            } else {
                BuiltIn::MmrAdmin.permissions()
            };
            let within = if rng.chance(50) {
                PermSet(within.0 & caller.held.0)
            } else {
                within
            };
            Request::UpdateRole {
                role: role.name.clone(),
                permissions: random_perms(rng, within),
            }
        }
        1 => Request::DeleteRole {
            role: rng.pick(&data.roles).name.clone(),
        },
        2 => {
            let (parent, tenant) = rng.pick(&parents).clone();
            let roles: Vec<&str> = data
                .roles
                .iter()
                .filter(|r| parent_of(&r.name, "roles").name() == parent)
                .map(|r| r.name.as_str())
                .collect();
            let role = (*rng.pick(&roles)).to_owned();
            Request::CreateAssignment(AssignmentData {
                name: format!("{parent}/roleAssignments/new{}", rng.below(1000)),
                role,
                members: members(rng, &tenant),
                scope: random_scope(rng, c),
                relationship: parent.contains("/partnerRelationships/").then_some(parent),
            })
        }
        3 | 4 if data.assignments.is_empty() => return None,
        3 => {
            let a = rng.pick(&data.assignments);
            let tenant = match &a.relationship {
                None => c.to_owned(),
                Some(rel) => data
                    .relationships
                    .iter()
                    .find(|r| &r.name == rel)
                    .map(|r| r.partner.clone())?,
            };
            let new_members = rng.chance(50).then(|| members(rng, &tenant));
            let new_scope = (new_members.is_none() || rng.chance(50)).then(|| random_scope(rng, c));
            Request::UpdateAssignment {
                name: a.name.clone(),
                members: new_members,
                scope: new_scope,
            }
        }
        _ => Request::DeleteAssignment {
            name: rng.pick(&data.assignments).name.clone(),
        },
    })
}

/// Decides `request` as the handlers do; on acceptance, the customer's data after it.
fn decide(caller: &Caller, data: &CustomerData, request: &Request) -> Option<CustomerData> {
    let mut after = data.clone();
    match request {
        Request::UpdateRole { role, permissions } => {
            let parent = parent_of(role, "roles");
            caller.see(&parent, role).ok()?;
            caller.may_change(&parent).ok()?;
            if built_in(role) {
                return None;
            }
            let rel = relationship_scope(data, &parent);
            let affected: Vec<(&str, Scope)> = data
                .assignments
                .iter()
                .filter(|a| &a.role == role)
                .map(|a| (a.name.as_str(), a.scope.effective(rel)))
                .collect();
            let old = perms_of(data, role);
            permit(caller, &Write::update_role(old, *permissions, &affected)).ok()?;
            for r in after.roles.iter_mut().filter(|r| &r.name == role) {
                r.permissions = *permissions;
            }
        }
        Request::DeleteRole { role } => {
            let parent = parent_of(role, "roles");
            caller.see(&parent, role).ok()?;
            caller.need("roles.modify").ok()?;
            if built_in(role) {
                return None;
            }
            let rel = relationship_scope(data, &parent);
            let affected: Vec<(&str, Scope)> = data
                .assignments
                .iter()
                .filter(|a| &a.role == role)
                .map(|a| (a.name.as_str(), a.scope.effective(rel)))
                .collect();
            permit(caller, &Write::delete_role(&affected)).ok()?;
            after.roles.retain(|r| &r.name != role);
            after.assignments.retain(|a| &a.role != role);
        }
        Request::CreateAssignment(new) => {
            let parent = parent_of(&new.name, "roleAssignments");
            caller.see(&parent, &parent.name()).ok()?;
            caller.may_change(&parent).ok()?;
            let rel = relationship_scope(data, &parent);
            let perms = perms_of(data, &new.role);
            let write = Write::create_assignment(&new.name, perms, new.scope.effective(rel));
            permit(caller, &write).ok()?;
            after.assignments.push(new.clone());
        }
        Request::UpdateAssignment {
            name,
            members,
            scope,
        } => {
            let parent = parent_of(name, "roleAssignments");
            caller.see(&parent, name).ok()?;
            caller.may_change(&parent).ok()?;
            let rel = relationship_scope(data, &parent);
            let row = data.assignments.iter().find(|a| &a.name == name)?;
            let before = row.scope.effective(rel);
            let new_scope = scope.clone().unwrap_or_else(|| row.scope.clone());
            let write = Write::update_assignment(
                name,
                perms_of(data, &row.role),
                before,
                new_scope.effective(rel),
                true,
            );
            permit(caller, &write).ok()?;
            for a in after.assignments.iter_mut().filter(|a| &a.name == name) {
                if let Some(m) = members {
                    a.members = m.clone();
                }
                a.scope = new_scope.clone();
            }
        }
        Request::DeleteAssignment { name } => {
            let parent = parent_of(name, "roleAssignments");
            caller.see(&parent, name).ok()?;
            caller.need("roles.modify").ok()?;
            let rel = relationship_scope(data, &parent);
            let row = data.assignments.iter().find(|a| &a.name == name)?;
            permit(
                caller,
                &Write::delete_assignment(name, row.scope.effective(rel)),
            )
            .ok()?;
            after.assignments.retain(|a| &a.name != name);
        }
    }
    Some(after)
}

type Pairs = BTreeSet<(String, u8, String)>;

/// Every (principal, permission, room) of `customer` in `index`.
fn pairs(index: &Index, customer: &str, people: &[Person], rooms: &[(String, String)]) -> Pairs {
    let mut out = BTreeSet::new();
    for (user, home, groups) in people {
        let who = Who {
            user,
            home_tenant: home,
            groups,
        };
        for perm in Perm::all() {
            let scope = index.resolve_scope(&who, customer, perm, NOW).scope;
            for (room, group) in rooms {
                if scope.covers_room(room, group) {
                    out.insert((user.clone(), perm.0, room.clone()));
                }
            }
        }
    }
    out
}

const REQUESTS_PER_WORLD: usize = 30;

/// Runs random requests on one random world; returns (accepted, refused).
fn run_world(seed: u64) -> Result<(usize, usize), TestCaseError> {
    let mut rng = Rng(seed);
    let world = world(&mut rng);
    let placements: Vec<Vec<(String, String)>> =
        CUSTOMERS.iter().map(|c| placement(&mut rng, c)).collect();
    let mut index = Index::new();
    for customer in &world {
        index.put_customer(customer);
    }
    let mut tenants: Vec<&str> = CUSTOMERS.to_vec();
    tenants.extend(PARTNERS);
    let people = population(&mut rng, &tenants);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..REQUESTS_PER_WORLD {
        let c = rng.below(CUSTOMERS.len());
        let (customer, data, rooms) = (CUSTOMERS[c], &world[c], &placements[c]);
        // Mostly callers holding roles.modify there, some holding nothing.
        let modify = Perm::parse("roles.modify").expect("known");
        let candidates: Vec<(&Person, Caller)> = people
            .iter()
            .map(|p| {
                let who = Who {
                    user: &p.0,
                    home_tenant: &p.1,
                    groups: &p.2,
                };
                (p, Caller::resolve(&index, &who, customer, NOW))
            })
            .filter(|(_, caller)| caller.held.contains(modify) || rng.chance(10))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let ((user, _, _), caller) = rng.pick(&candidates);
        let Some(request) = random_request(&mut rng, data, caller) else {
            continue;
        };
        let Some(after) = decide(caller, data, &request) else {
            refused += 1;
            continue;
        };
        accepted += 1;
        let mut changed = Index::new();
        for other in &world {
            changed.put_customer(if other.id == customer { &after } else { other });
        }
        let before = pairs(&index, customer, &people, rooms);
        let now = pairs(&changed, customer, &people, rooms);
        let covers = |scope: &Scope, room: &str| {
            rooms
                .iter()
                .any(|(r, g)| r == room && scope.covers_room(r, g))
        };
        for (who_gains, perm, room) in now.difference(&before) {
            let perm = Perm(*perm);
            prop_assert!(
                covers(caller.holds(perm), room) && covers(&caller.modify_scope, room),
                "seed {seed}: {request:?} by {user} gave {who_gains} {} at {room}",
                CATALOGUE[perm.0 as usize].name
            );
        }
        for (who_loses, perm, room) in before.difference(&now) {
            prop_assert!(
                covers(&caller.modify_scope, room),
                "seed {seed}: {request:?} by {user} took {} at {room} from {who_loses}",
                CATALOGUE[*perm as usize].name
            );
        }
    }
    Ok((accepted, refused))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0036),
        ..ProptestConfig::default()
    })]

    /// 32 random worlds × 30 random writes: no accepted write widens anyone beyond the
    /// caller's own rights, nor reaches beyond its roles.modify scope.
    #[test]
    fn r36_no_accepted_role_write_gives_a_right_the_caller_could_not_grant(seed in any::<u64>()) {
        run_world(seed)?;
    }
}

/// The property test above is not vacuous: its worlds accept and refuse many writes.
#[test]
fn r36_the_random_writes_are_both_accepted_and_refused() {
    let (mut accepted, mut refused) = (0, 0);
    for seed in 0..16 {
        let (a, r) = run_world(seed).expect("the property holds");
        accepted += a;
        refused += r;
    }
    assert!(
        accepted >= 40 && refused >= 40,
        "{accepted} accepted, {refused} refused"
    );
}
