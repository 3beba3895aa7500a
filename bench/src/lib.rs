//! One generated MTM authorization scenario, decided three ways: rbac-svc's decision index,
//! `cedar-policy` (the same model as Cedar policies and entities) and `casbin` (RBAC with
//! domains), so the benchmarks compare like with like. [`load`] is the load generator for the
//! running suite (the `mtm-load` command).

pub mod load;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use rbac_svc::catalogue::{BuiltIn, Perm, PermSet};
use rbac_svc::index::{
    AssignmentData, CustomerData, Index, RelationshipData, RoleData, RoomAt, Scope, Target, Who,
};

/// Rooms per customer (room `r{j}` is in group `s{j % GROUPS}`).
pub const ROOMS: usize = 16;
/// Room groups per customer.
pub const GROUPS: usize = 4;
/// Customers per partner.
pub const CUSTOMERS_PER_PARTNER: usize = 10;

/// A principal of the scenario.
#[derive(Clone, Debug)]
pub struct Person {
    /// `tenants/{t}/users/{u}`.
    pub user: String,
    /// Home tenant id.
    pub home: String,
    /// Its groups (transitively).
    pub groups: Vec<String>,
}

/// One decision to make.
#[derive(Clone, Debug)]
pub struct Query {
    /// Who.
    pub person: Person,
    /// Customer id.
    pub customer: String,
    /// Permission name (room-scoped).
    pub permission: &'static str,
    /// Room name.
    pub room: String,
    /// Its group.
    pub group: String,
}

/// The generated world and the queries.
pub struct Scenario {
    /// Everything the index holds.
    pub customers: Vec<CustomerData>,
    /// The principals that appear in each customer (for the Cedar and casbin stores).
    pub people: HashMap<String, Vec<Person>>,
    /// The decisions to make, in order.
    pub queries: Vec<Query>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn groups(c: &str, ids: &[usize]) -> Vec<String> {
    ids.iter()
        .map(|g| format!("customers/{c}/roomGroups/s{g}"))
        .collect()
}

fn person(tenant: &str, user: &str, groups: &[&str]) -> Person {
    Person {
        user: format!("tenants/{tenant}/users/{user}"),
        home: tenant.to_owned(),
        groups: groups
            .iter()
            .map(|g| format!("tenants/{tenant}/groups/{g}"))
            .collect(),
    }
}

/// Role names and permissions of the scenario's helpdesk partner role.
pub const HELPDESK: [&str; 3] = ["rooms.view", "tickets.view", "tickets.update"];
/// The permissions queried.
pub const QUERIED: [&str; 4] = [
    "rooms.view",
    "rooms.modify",
    "tickets.update",
    "rooms.unenroll",
];

impl Scenario {
    /// `customers` customers, each with three customer assignments and a partner
    /// relationship (scope: two of four groups) with two partner assignments; `queries`
    /// random room-scoped checks by customer users, the partner's users and other partners'.
    pub fn generate(customers: usize, queries: usize) -> Scenario {
        let partners = customers.div_ceil(CUSTOMERS_PER_PARTNER).max(1);
        let mut out = Scenario {
            customers: Vec::new(),
            people: HashMap::new(),
            queries: Vec::new(),
        };
        for i in 0..customers {
            let c = format!("c{i}");
            let p = format!("p{}", i / CUSTOMERS_PER_PARTNER);
            let rel = format!("customers/{c}/partnerRelationships/{p}");
            let mut data = CustomerData {
                id: c.clone(),
                relationships: vec![RelationshipData {
                    name: rel.clone(),
                    partner: p.clone(),
                    scope: Scope::new(false, groups(&c, &[0, 1]), Vec::<String>::new()),
                    active: true,
                    end_time: None,
                }],
                ..CustomerData::default()
            };
            for b in [BuiltIn::MmrAdmin, BuiltIn::SiteLead, BuiltIn::SiteTech] {
                data.roles.push(RoleData {
                    name: format!("customers/{c}/roles/{}", b.id()),
                    display_name: b.display_name().into(),
                    permissions: b.permissions(),
                });
            }
            data.roles.push(RoleData {
                name: format!("{rel}/roles/primary-admins"),
                display_name: "Primary admins".into(),
                permissions: BuiltIn::PrimaryAdmins.permissions(),
            });
            data.roles.push(RoleData {
                name: format!("{rel}/roles/helpdesk"),
                display_name: "Helpdesk".into(),
                permissions: PermSet::parse(&HELPDESK).unwrap_or_default(),
            });
            let assignment =
                |name: String, role: String, member: String, scope: Scope, rel: Option<&str>| {
                    AssignmentData {
                        name,
                        role,
                        members: vec![member],
                        scope,
                        relationship: rel.map(str::to_owned),
                    }
                };
            data.assignments = vec![
                assignment(
                    format!("customers/{c}/roleAssignments/initial-mmr-admin"),
                    format!("customers/{c}/roles/mmr-admin"),
                    format!("tenants/{c}/users/admin"),
                    Scope::all_rooms(),
                    None,
                ),
                assignment(
                    format!("customers/{c}/roleAssignments/techs"),
                    format!("customers/{c}/roles/site-tech"),
                    format!("tenants/{c}/groups/techs"),
                    Scope::new(false, groups(&c, &[0]), Vec::<String>::new()),
                    None,
                ),
                assignment(
                    format!("customers/{c}/roleAssignments/lead"),
                    format!("customers/{c}/roles/site-lead"),
                    format!("tenants/{c}/users/lead"),
                    Scope::new(
                        false,
                        groups(&c, &[1, 2]),
                        vec![format!("customers/{c}/rooms/r3")],
                    ),
                    None,
                ),
                assignment(
                    format!("{rel}/roleAssignments/primary-admins"),
                    format!("{rel}/roles/primary-admins"),
                    format!("tenants/{p}/groups/admins"),
                    Scope::all_rooms(),
                    Some(&rel),
                ),
                assignment(
                    format!("{rel}/roleAssignments/helpdesk"),
                    format!("{rel}/roles/helpdesk"),
                    format!("tenants/{p}/groups/helpdesk"),
                    Scope::new(false, groups(&c, &[0]), Vec::<String>::new()),
                    Some(&rel),
                ),
            ];
            out.people.insert(
                c.clone(),
                vec![
                    person(&c, "tom", &["techs", "staff"]),
                    person(&c, "lead", &["staff"]),
                    person(&p, "hal", &["helpdesk", "staff"]),
                    person(&p, "pia", &["admins"]),
                ],
            );
            out.customers.push(data);
        }
        let mut rng = Rng(42);
        for _ in 0..queries {
            let i = rng.below(customers);
            let c = format!("c{i}");
            let mut who = out.people[&c][rng.below(4)].clone();
            if rng.below(8) == 0 {
                // A partner user of another partner (R23: no rights here).
                let other = format!("p{}", (i / CUSTOMERS_PER_PARTNER + 1) % (partners + 1));
                who = person(&other, "pia", &["admins"]);
            }
            let j = rng.below(ROOMS);
            out.queries.push(Query {
                person: who,
                customer: c.clone(),
                permission: QUERIED[rng.below(QUERIED.len())],
                room: format!("customers/{c}/rooms/r{j}"),
                group: format!("customers/{c}/roomGroups/s{}", j % GROUPS),
            });
        }
        out
    }

    /// The decision index of the scenario.
    pub fn index(&self) -> Index {
        let mut index = Index::new();
        for c in &self.customers {
            index.put_customer(c);
        }
        index
    }

    /// Number of assignments.
    pub fn assignment_count(&self) -> usize {
        self.customers.iter().map(|c| c.assignments.len()).sum()
    }

    /// Every assignment with its customer, effective scope (intersected with the relationship) and
    /// permissions.
    pub fn effective(&self) -> Vec<(&str, &AssignmentData, Scope, PermSet)> {
        let mut out = Vec::new();
        for c in &self.customers {
            let roles: HashMap<&str, PermSet> = c
                .roles
                .iter()
                .map(|r| (r.name.as_str(), r.permissions))
                .collect();
            for a in &c.assignments {
                let scope = match &a.relationship {
                    None => a.scope.clone(),
                    Some(rel) => {
                        let rel = c
                            .relationships
                            .iter()
                            .find(|r| &r.name == rel)
                            .map(|r| r.scope.clone())
                            .unwrap_or_default();
                        a.scope.intersect(&rel)
                    }
                };
                out.push((
                    c.id.as_str(),
                    a,
                    scope,
                    roles.get(a.role.as_str()).copied().unwrap_or_default(),
                ));
            }
        }
        out
    }
}

/// A cyclic chain through the cache lines of a buffer in random order: following it reads
/// one line at a time, each read waiting for the last, so one step costs the machine's
/// latency for random reads over a working set of that size (the memory an index of the
/// same size would be read from).
pub struct Chase {
    /// Per cache line (`LINE_WORDS` words), the first word names the next line.
    words: Vec<u32>,
}

/// `u32` words per 64-byte cache line.
const LINE_WORDS: usize = 16;

impl Chase {
    /// A chain over `bytes` bytes (at least one line), in a random single cycle.
    pub fn new(bytes: usize) -> Chase {
        let lines = (bytes / (LINE_WORDS * 4)).max(1);
        let mut order: Vec<u32> = (0..lines as u32).collect();
        let mut rng = Rng(7);
        // Sattolo's algorithm: a uniformly random permutation with exactly one cycle.
        for i in (1..lines).rev() {
            order.swap(i, rng.below(i));
        }
        let mut words = vec![0u32; lines * LINE_WORDS];
        for (i, &line) in order.iter().enumerate() {
            words[line as usize * LINE_WORDS] = order[(i + 1) % lines];
        }
        Chase { words }
    }

    /// The line after `line`.
    #[inline]
    pub fn next(&self, line: u32) -> u32 {
        self.words[line as usize * LINE_WORDS]
    }
}

/// Decides a query with the index.
pub fn index_check(index: &Index, q: &Query, perm: Perm) -> bool {
    let who = Who {
        user: &q.person.user,
        home_tenant: &q.person.home,
        groups: &q.person.groups,
    };
    let target = Target::Room(RoomAt {
        room: &q.room,
        group: &q.group,
    });
    index
        .check(&who, &q.customer, perm, &target, None, 0)
        .allowed
}

pub mod casbin_engine;
pub mod cedar_engine;

/// Names of every group a scenario's people hold, per customer (for building stores).
pub fn memberships(people: &[Person]) -> HashSet<(&str, &str)> {
    people
        .iter()
        .flat_map(|p| p.groups.iter().map(move |g| (p.user.as_str(), g.as_str())))
        .collect()
}

/// Parses a Cedar entity type name that is known to be valid.
pub fn cedar_type(name: &str) -> cedar_policy::EntityTypeName {
    cedar_policy::EntityTypeName::from_str(name)
        .unwrap_or_else(|e| panic!("entity type {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Chase;

    #[test]
    fn the_chase_visits_every_line_once_per_cycle() {
        let chase = Chase::new(64 * 1000);
        let mut seen = vec![false; 1000];
        let mut line = 0;
        for _ in 0..1000 {
            assert!(!seen[line as usize], "line {line} visited twice");
            seen[line as usize] = true;
            line = chase.next(line);
        }
        assert_eq!(line, 0);
        assert!(seen.iter().all(|&s| s));
    }
}
