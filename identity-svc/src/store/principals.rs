//! What a user is at request time: its groups (transitively, through nesting) and roles.

use std::collections::{BTreeSet, HashMap, VecDeque};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::{group_member, user};
use super::users;
use crate::error::Result;

/// The resolved facts about one user.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The user row.
    pub user: user::Model,
    /// Every group the user is in, directly or through nested groups, sorted.
    pub groups: Vec<String>,
    /// Directory roles, as numbers, sorted.
    pub roles: Vec<i32>,
    /// The *all tickets* preference.
    pub all_tickets_view_enabled: bool,
}

/// Every membership edge of a tenant, as member → containing groups.
pub async fn parents_in_tenant(
    db: &impl ConnectionTrait,
    tenant: &str,
) -> Result<HashMap<String, Vec<String>>> {
    let edges = group_member::Entity::find()
        .filter(group_member::Column::TenantId.eq(tenant))
        .all(db)
        .await?;
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for edge in edges {
        parents
            .entry(edge.member_name)
            .or_default()
            .push(edge.group_name);
    }
    Ok(parents)
}

/// The groups reachable upwards from `start` (excluding `start`).
pub fn ancestors(parents: &HashMap<String, Vec<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([start.to_owned()]);
    while let Some(node) = queue.pop_front() {
        for parent in parents.get(&node).into_iter().flatten() {
            if seen.insert(parent.clone()) {
                queue.push_back(parent.clone());
            }
        }
    }
    seen.remove(start);
    seen
}

/// Resolves `user` to its groups, roles and preference.
pub async fn resolve(db: &impl ConnectionTrait, user: user::Model) -> Result<Resolved> {
    let parents = parents_in_tenant(db, &user.tenant_id).await?;
    let groups = ancestors(&parents, &user.name).into_iter().collect();
    let roles = users::roles_of(db, &user.name)
        .await?
        .into_iter()
        .map(|g| g.role)
        .collect();
    let all_tickets_view_enabled = users::preferences(db, &user.name)
        .await?
        .is_some_and(|p| p.all_tickets_view_enabled);
    Ok(Resolved {
        user,
        groups,
        roles,
        all_tickets_view_enabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_follow_nesting_and_survive_cycles() {
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        parents.insert("u".into(), vec!["g1".into()]);
        parents.insert("g1".into(), vec!["g2".into()]);
        parents.insert("g2".into(), vec!["g1".into(), "g3".into()]);
        let found: Vec<String> = ancestors(&parents, "u").into_iter().collect();
        assert_eq!(found, ["g1", "g2", "g3"]);
    }
}
