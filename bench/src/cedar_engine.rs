//! The scenario as Cedar: per customer, one policy per assignment
//! (`permit(principal in Holder::"a", action in [...], resource in Scope::"a")`) and an
//! entity store where users are in their groups, members in their assignment's `Holder`,
//! rooms in their group and groups/rooms in the `Scope` of every assignment covering them.

use std::collections::{HashMap, HashSet};

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityUid, PolicySet, Request,
};

use crate::{GROUPS, Query, ROOMS, Scenario, cedar_type, memberships};

fn uid(kind: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(cedar_type(kind), EntityId::new(id))
}

/// One policy set and entity store per customer.
pub struct CedarEngine {
    stores: HashMap<String, (PolicySet, Entities)>,
    authorizer: Authorizer,
}

impl CedarEngine {
    /// Writes the scenario as Cedar.
    pub fn build(scenario: &Scenario) -> CedarEngine {
        let mut per_customer: HashMap<&str, (String, HashMap<EntityUid, HashSet<EntityUid>>)> =
            HashMap::new();
        for (customer, a, scope, perms) in scenario.effective() {
            let (policies, parents) = per_customer.entry(customer).or_default();
            let actions: Vec<String> = perms
                .iter()
                .map(|p| format!("Action::\"{}\"", p.name()))
                .collect();
            policies.push_str(&format!(
                "permit(principal in Holder::\"{0}\", action in [{1}], resource in Scope::\"{0}\");\n",
                a.name,
                actions.join(", ")
            ));
            let holder = uid("Holder", &a.name);
            let scope_uid = uid("Scope", &a.name);
            parents.entry(holder.clone()).or_default();
            parents.entry(scope_uid.clone()).or_default();
            for m in &a.members {
                let kind = if m.contains("/groups/") {
                    "Group"
                } else {
                    "User"
                };
                parents
                    .entry(uid(kind, m))
                    .or_default()
                    .insert(holder.clone());
            }
            for g in 0..GROUPS {
                let group = format!("customers/{customer}/roomGroups/s{g}");
                if scope.covers_group(&group) {
                    parents
                        .entry(uid("RoomGroup", &group))
                        .or_default()
                        .insert(scope_uid.clone());
                }
            }
            for r in &scope.rooms {
                parents
                    .entry(uid("Room", r))
                    .or_default()
                    .insert(scope_uid.clone());
            }
        }
        let mut stores = HashMap::new();
        for (customer, (policies, mut parents)) in per_customer {
            for j in 0..ROOMS {
                let room = uid("Room", &format!("customers/{customer}/rooms/r{j}"));
                let group = uid(
                    "RoomGroup",
                    &format!("customers/{customer}/roomGroups/s{}", j % GROUPS),
                );
                parents.entry(group.clone()).or_default();
                parents.entry(room).or_default().insert(group);
            }
            for (user, group) in memberships(&scenario.people[customer]) {
                let group = uid("Group", group);
                parents.entry(group.clone()).or_default();
                parents.entry(uid("User", user)).or_default().insert(group);
            }
            let entities = Entities::from_entities(
                parents
                    .into_iter()
                    .map(|(uid, parents)| Entity::new_no_attrs(uid, parents)),
                None,
            )
            .unwrap_or_else(|e| panic!("entities of {customer}: {e}"));
            let policies: PolicySet = policies
                .parse()
                .unwrap_or_else(|e| panic!("policies of {customer}: {e}"));
            stores.insert(customer.to_owned(), (policies, entities));
        }
        CedarEngine {
            stores,
            authorizer: Authorizer::new(),
        }
    }

    /// The request for a query (built once, outside the timed loop).
    pub fn request(q: &Query) -> Request {
        Request::new(
            uid("User", &q.person.user),
            uid("Action", q.permission),
            uid("Room", &q.room),
            Context::empty(),
            None,
        )
        .unwrap_or_else(|e| panic!("request: {e}"))
    }

    /// Decides a prepared request at `customer`.
    pub fn check(&self, customer: &str, request: &Request) -> bool {
        let Some((policies, entities)) = self.stores.get(customer) else {
            return false;
        };
        self.authorizer
            .is_authorized(request, policies, entities)
            .decision()
            == Decision::Allow
    }
}
