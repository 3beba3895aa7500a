//! The scenario as casbin RBAC with domains (one domain per customer): `p` rules give an
//! assignment's holder each permission on the assignment's scope, `g` puts members in
//! holders and users in groups, `g2` puts rooms in groups and groups/rooms in scopes.

use casbin::prelude::*;

use crate::{GROUPS, Query, ROOMS, Scenario, memberships};

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _
g2 = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.dom == p.dom && r.act == p.act && g(r.sub, p.sub, r.dom) && g2(r.obj, p.obj, r.dom)
"#;

/// One enforcer over every customer.
pub struct CasbinEngine {
    enforcer: Enforcer,
}

impl CasbinEngine {
    /// Writes the scenario as casbin policies.
    pub async fn build(scenario: &Scenario) -> CasbinEngine {
        let model = DefaultModel::from_str(MODEL)
            .await
            .unwrap_or_else(|e| panic!("model: {e}"));
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap_or_else(|e| panic!("enforcer: {e}"));
        enforcer.enable_auto_build_role_links(false);
        let (mut p, mut g, mut g2) = (Vec::new(), Vec::new(), Vec::new());
        for (customer, a, scope, perms) in scenario.effective() {
            let holder = format!("holder:{}", a.name);
            let scope_id = format!("scope:{}", a.name);
            for perm in perms.iter() {
                p.push(vec![
                    holder.clone(),
                    customer.to_owned(),
                    scope_id.clone(),
                    perm.name().to_owned(),
                ]);
            }
            for m in &a.members {
                g.push(vec![m.clone(), holder.clone(), customer.to_owned()]);
            }
            for gi in 0..GROUPS {
                let group = format!("customers/{customer}/roomGroups/s{gi}");
                if scope.covers_group(&group) {
                    g2.push(vec![group, scope_id.clone(), customer.to_owned()]);
                }
            }
            for r in &scope.rooms {
                g2.push(vec![r.to_string(), scope_id.clone(), customer.to_owned()]);
            }
        }
        for c in &scenario.customers {
            for j in 0..ROOMS {
                g2.push(vec![
                    format!("customers/{}/rooms/r{j}", c.id),
                    format!("customers/{}/roomGroups/s{}", c.id, j % GROUPS),
                    c.id.clone(),
                ]);
            }
            for (user, group) in memberships(&scenario.people[&c.id]) {
                g.push(vec![user.to_owned(), group.to_owned(), c.id.clone()]);
            }
        }
        enforcer
            .add_policies(p)
            .await
            .unwrap_or_else(|e| panic!("p: {e}"));
        enforcer
            .add_grouping_policies(g)
            .await
            .unwrap_or_else(|e| panic!("g: {e}"));
        enforcer
            .add_named_grouping_policies("g2", g2)
            .await
            .unwrap_or_else(|e| panic!("g2: {e}"));
        enforcer
            .build_role_links()
            .unwrap_or_else(|e| panic!("links: {e}"));
        CasbinEngine { enforcer }
    }

    /// Decides a query.
    pub fn check(&self, q: &Query) -> bool {
        self.enforcer
            .enforce((
                q.person.user.as_str(),
                q.customer.as_str(),
                q.room.as_str(),
                q.permission,
            ))
            .unwrap_or(false)
    }
}
