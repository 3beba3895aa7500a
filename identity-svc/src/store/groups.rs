//! Security groups and their membership graph: users and nested groups of one tenant, never
//! a cycle.

use std::collections::{BTreeSet, HashMap, VecDeque};

use mtm_proto::mtm::identity::v1::MemberKind;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use super::entity::{group, group_member};
use super::{is_unique_violation, now_micros};
use crate::error::{Error, Result};
use crate::names;

/// The group `name` if it is in `tenant`, else NOT_FOUND.
pub async fn in_tenant(
    db: &impl ConnectionTrait,
    tenant: &str,
    name: &str,
) -> Result<group::Model> {
    group::Entity::find_by_id(name)
        .one(db)
        .await?
        .filter(|g| g.tenant_id == tenant)
        .ok_or_else(|| Error::NotFound(name.to_owned()))
}

/// Every group of `tenant`, by display name.
pub async fn list(db: &impl ConnectionTrait, tenant: &str) -> Result<Vec<group::Model>> {
    Ok(group::Entity::find()
        .filter(group::Column::TenantId.eq(tenant))
        .order_by_asc(group::Column::DisplayName)
        .order_by_asc(group::Column::Name)
        .all(db)
        .await?)
}

/// ALREADY_EXISTS unless `display_name` is free in `tenant` (ignoring group `except`).
pub async fn check_display_name(
    db: &impl ConnectionTrait,
    tenant: &str,
    display_name: &str,
    except: Option<&str>,
) -> Result<()> {
    let taken = group::Entity::find()
        .filter(group::Column::TenantId.eq(tenant))
        .filter(group::Column::DisplayName.eq(display_name))
        .one(db)
        .await?
        .is_some_and(|g| Some(g.name.as_str()) != except);
    if taken {
        return Err(Error::AlreadyExists(format!(
            "a group named {display_name} already exists"
        )));
    }
    Ok(())
}

/// Creates an empty group.
pub async fn insert(
    db: &impl ConnectionTrait,
    tenant: &str,
    id: &str,
    display_name: &str,
    description: &str,
) -> Result<group::Model> {
    let name = names::child_name(tenant, "groups", id);
    if group::Entity::find_by_id(name.as_str())
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::AlreadyExists(format!("{name} already exists")));
    }
    check_display_name(db, tenant, display_name, None).await?;
    let now = now_micros();
    let row = group::Model {
        name,
        tenant_id: tenant.to_owned(),
        display_name: display_name.to_owned(),
        description: description.to_owned(),
        create_time: now,
        update_time: now,
        version: 1,
    };
    group::ActiveModel::from(row.clone())
        .insert(db)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::AlreadyExists(format!("a group named {display_name} already exists"))
            } else {
                Error::Database(e)
            }
        })?;
    Ok(row)
}

/// Saves a changed group, bumping its version and update time.
pub async fn save(db: &impl ConnectionTrait, mut row: group::Model) -> Result<group::Model> {
    row.version += 1;
    row.update_time = now_micros();
    let active = ActiveModelTrait::reset_all(group::ActiveModel::from(row.clone()));
    active.update(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists(format!("a group named {} already exists", row.display_name))
        } else {
            Error::Database(e)
        }
    })?;
    Ok(row)
}

/// Deletes a group: it leaves every group it was in, and its own memberships go with it.
pub async fn delete(db: &impl ConnectionTrait, name: &str) -> Result<()> {
    remove_from_all_groups(db, name).await?;
    group_member::Entity::delete_many()
        .filter(group_member::Column::GroupName.eq(name))
        .exec(db)
        .await?;
    group::Entity::delete_by_id(name).exec(db).await?;
    Ok(())
}

/// Removes `member` (a user or a group) from every group.
pub async fn remove_from_all_groups(db: &impl ConnectionTrait, member: &str) -> Result<()> {
    group_member::Entity::delete_many()
        .filter(group_member::Column::MemberName.eq(member))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every membership edge of a tenant.
pub async fn delete_memberships_of_tenant(db: &impl ConnectionTrait, tenant: &str) -> Result<()> {
    group_member::Entity::delete_many()
        .filter(group_member::Column::TenantId.eq(tenant))
        .exec(db)
        .await?;
    Ok(())
}

/// The direct members of a group.
pub async fn direct_members(
    db: &impl ConnectionTrait,
    group: &str,
) -> Result<Vec<group_member::Model>> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::GroupName.eq(group))
        .all(db)
        .await?)
}

/// Number of direct members of a group.
pub async fn member_count(db: &impl ConnectionTrait, group: &str) -> Result<u64> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::GroupName.eq(group))
        .count(db)
        .await?)
}

/// The groups that contain `member` directly.
pub async fn containing(db: &impl ConnectionTrait, member: &str) -> Result<BTreeSet<String>> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::MemberName.eq(member))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.group_name)
        .collect())
}

/// Every edge of a tenant as group → direct members (with kinds).
pub async fn children_in_tenant(
    db: &impl ConnectionTrait,
    tenant: &str,
) -> Result<HashMap<String, Vec<(String, i32)>>> {
    let mut children: HashMap<String, Vec<(String, i32)>> = HashMap::new();
    for edge in group_member::Entity::find()
        .filter(group_member::Column::TenantId.eq(tenant))
        .all(db)
        .await?
    {
        children
            .entry(edge.group_name)
            .or_default()
            .push((edge.member_name, edge.member_kind));
    }
    Ok(children)
}

/// Every member below `group`, each once, with whether it is a direct member.
pub fn transitive_members(
    children: &HashMap<String, Vec<(String, i32)>>,
    group: &str,
) -> Vec<(String, i32, bool)> {
    let mut seen: HashMap<String, (i32, bool)> = HashMap::new();
    let mut queue = VecDeque::from([(group.to_owned(), true)]);
    while let Some((node, top)) = queue.pop_front() {
        for (member, kind) in children.get(&node).into_iter().flatten() {
            if member == group {
                continue;
            }
            match seen.get_mut(member) {
                Some(entry) => entry.1 |= top,
                None => {
                    seen.insert(member.clone(), (*kind, top));
                    if *kind == MemberKind::Group as i32 {
                        queue.push_back((member.clone(), false));
                    }
                }
            }
        }
    }
    seen.into_iter()
        .map(|(name, (kind, direct))| (name, kind, direct))
        .collect()
}

/// Adds `member` to `group` (both of `tenant`). Adding an existing member is a no-op; a
/// group that would end up inside itself is FAILED_PRECONDITION naming the member.
pub async fn add_member(
    db: &impl ConnectionTrait,
    tenant: &str,
    group: &str,
    member: &str,
    kind: MemberKind,
) -> Result<()> {
    let existing = group_member::Entity::find_by_id((group.to_owned(), member.to_owned()))
        .one(db)
        .await?;
    if existing.is_some() {
        return Ok(());
    }
    if kind == MemberKind::Group {
        let children = children_in_tenant(db, tenant).await?;
        let below = transitive_members(&children, member);
        if member == group || below.iter().any(|(name, _, _)| name == group) {
            return Err(Error::FailedPrecondition(format!(
                "adding {member} to {group} would make a cycle: {group} is already inside {member}"
            )));
        }
    }
    group_member::ActiveModel::from(group_member::Model {
        group_name: group.to_owned(),
        member_name: member.to_owned(),
        member_kind: kind as i32,
        tenant_id: tenant.to_owned(),
    })
    .insert(db)
    .await?;
    Ok(())
}

/// Removes a direct member; NOT_FOUND when it is not one.
pub async fn remove_member(db: &impl ConnectionTrait, group: &str, member: &str) -> Result<()> {
    let removed = group_member::Entity::delete_by_id((group.to_owned(), member.to_owned()))
        .exec(db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(Error::NotFound(format!(
            "{member} as a direct member of {group}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitive_members_are_listed_once_and_marked_direct() {
        let user = MemberKind::User as i32;
        let grp = MemberKind::Group as i32;
        let mut children: HashMap<String, Vec<(String, i32)>> = HashMap::new();
        children.insert("g1".into(), vec![("u1".into(), user), ("g2".into(), grp)]);
        children.insert("g2".into(), vec![("u1".into(), user), ("u2".into(), user)]);
        let mut found = transitive_members(&children, "g1");
        found.sort();
        assert_eq!(
            found,
            [
                ("g2".to_owned(), grp, true),
                ("u1".to_owned(), user, true),
                ("u2".to_owned(), user, false)
            ]
        );
    }
}
