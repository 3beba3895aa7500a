//! The store writes behind `RbacInternalService`: provisioning customers, mirroring
//! relationships and the *Primary admins* membership. Each takes the open transaction and
//! says whether it changed anything, and records the roles and assignments it creates,
//! changes or removes in the customer's audit log (R28).

use mtm_proto::mtm::audit::v1::AuditCategory;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};

use super::entity::{assignment, customer, relationship, role};
use super::lines;
use crate::audit::{self, Acting, Change};
use crate::catalogue::BuiltIn;
use crate::error::Error;
use crate::index::Scope;
use crate::state::Effect;

/// The etag of a new version.
pub fn new_etag() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Inserts a built-in role under `parent` unless it exists.
pub async fn ensure_built_in_role(
    txn: &DatabaseTransaction,
    by: &Acting,
    customer: &str,
    parent: &str,
    relationship: Option<&str>,
    built_in: BuiltIn,
    micros: i64,
) -> Result<bool, Error> {
    let name = format!("{parent}/roles/{}", built_in.id());
    if role::Entity::find_by_id(name.as_str())
        .one(txn)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let row = role::ActiveModel {
        name: Set(name),
        customer: Set(customer.to_owned()),
        relationship: Set(relationship.map(str::to_owned)),
        display_name: Set(built_in.display_name().to_owned()),
        description: Set(built_in.description().to_owned()),
        permissions: Set(lines(&built_in.permissions().names())),
        built_in: Set(true),
        etag: Set(new_etag()),
        create_time: Set(micros),
        update_time: Set(micros),
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        by,
        Change {
            customer,
            category: AuditCategory::Role,
            operation: "create",
            object_id: &row.name,
            object_name: &row.display_name,
            details: vec![
                ("built_in".into(), "true".into()),
                (
                    "permissions".into(),
                    built_in.permissions().names().join(","),
                ),
            ],
        },
    )
    .await?;
    Ok(true)
}

/// Inserts an assignment row.
#[allow(clippy::too_many_arguments)]
pub async fn insert_assignment(
    txn: &DatabaseTransaction,
    customer: &str,
    relationship: Option<&str>,
    name: String,
    display_name: &str,
    role: &str,
    members: &[String],
    scope: &Scope,
    built_in: bool,
    micros: i64,
) -> Result<assignment::Model, Error> {
    Ok(assignment::ActiveModel {
        name: Set(name),
        customer: Set(customer.to_owned()),
        relationship: Set(relationship.map(str::to_owned)),
        display_name: Set(display_name.to_owned()),
        role: Set(role.to_owned()),
        members: Set(lines(members)),
        all_rooms: Set(scope.all),
        room_groups: Set(lines(&scope.groups)),
        rooms: Set(lines(&scope.rooms)),
        built_in: Set(built_in),
        etag: Set(new_etag()),
        create_time: Set(micros),
        update_time: Set(micros),
    }
    .insert(txn)
    .await?)
}

/// Creates the customer with its built-in roles and the `initial-mmr-admin` assignment (R33).
pub async fn provision_customer(
    txn: &DatabaseTransaction,
    by: &Acting,
    id: &str,
    first_admin: &str,
    micros: i64,
) -> Result<bool, Error> {
    if customer::Entity::find_by_id(id).one(txn).await?.is_some() {
        return Ok(false);
    }
    customer::ActiveModel {
        id: Set(id.to_owned()),
        first_admin: Set(first_admin.to_owned()),
        create_time: Set(micros),
    }
    .insert(txn)
    .await?;
    let parent = format!("customers/{id}");
    for built_in in [BuiltIn::MmrAdmin, BuiltIn::SiteLead, BuiltIn::SiteTech] {
        ensure_built_in_role(txn, by, id, &parent, None, built_in, micros).await?;
    }
    let assignment = insert_assignment(
        txn,
        id,
        None,
        format!("{parent}/roleAssignments/initial-mmr-admin"),
        "Initial MMR admin",
        &format!("{parent}/roles/mmr-admin"),
        &[first_admin.to_owned()],
        &Scope::all_rooms(),
        false,
        micros,
    )
    .await?;
    record_assignment(txn, by, "create", &assignment, Vec::new()).await?;
    Ok(true)
}

/// Records a change of `row` with its role and members and `details`.
async fn record_assignment(
    txn: &DatabaseTransaction,
    by: &Acting,
    operation: &str,
    row: &assignment::Model,
    mut details: Vec<(String, String)>,
) -> Result<(), Error> {
    details.push(("role".into(), row.role.clone()));
    details.push(("members".into(), super::split(&row.members).join(",")));
    audit::record(
        txn,
        by,
        Change {
            customer: &row.customer,
            category: AuditCategory::Assignment,
            operation,
            object_id: &row.name,
            object_name: &row.display_name,
            details,
        },
    )
    .await
}

/// Deletes everything of a customer.
pub async fn deprovision_customer(txn: &DatabaseTransaction, id: &str) -> Result<bool, Error> {
    let a = assignment::Entity::delete_many()
        .filter(assignment::Column::Customer.eq(id))
        .exec(txn)
        .await?;
    let r = role::Entity::delete_many()
        .filter(role::Column::Customer.eq(id))
        .exec(txn)
        .await?;
    let l = relationship::Entity::delete_many()
        .filter(relationship::Column::Customer.eq(id))
        .exec(txn)
        .await?;
    let c = customer::Entity::delete_by_id(id).exec(txn).await?;
    Ok(a.rows_affected + r.rows_affected + l.rows_affected + c.rows_affected > 0)
}

/// What `PutRelationship` stores.
pub struct RelationshipPut<'a> {
    /// Resource name.
    pub name: &'a str,
    /// Customer id.
    pub customer: &'a str,
    /// Partner tenant id.
    pub partner: &'a str,
    /// Its scope.
    pub scope: &'a Scope,
    /// `RelationshipState` value (not TERMINATED).
    pub state: i32,
    /// End time, Unix seconds.
    pub end_time: Option<i64>,
}

/// Creates or replaces a relationship; the first put creates the *Primary admins* role and
/// its (empty) assignment (R19). Says whether anything changed and what the put does to
/// access: a new relationship grants nothing yet ([`Effect::Grants`]); a put over an existing
/// one may narrow its scope, end it or change its state ([`Effect::Revokes`], also when this
/// put changes nothing, so a retried narrowing waits for the barrier again).
pub async fn put_relationship(
    txn: &DatabaseTransaction,
    by: &Acting,
    put: &RelationshipPut<'_>,
    micros: i64,
) -> Result<(bool, Effect), Error> {
    if customer::Entity::find_by_id(put.customer)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(Error::FailedPrecondition(format!(
            "customers/{} is not provisioned in rbac-svc",
            put.customer
        )));
    }
    let existing = relationship::Entity::find_by_id(put.name).one(txn).await?;
    let row = relationship::ActiveModel {
        name: Set(put.name.to_owned()),
        customer: Set(put.customer.to_owned()),
        partner: Set(put.partner.to_owned()),
        all_rooms: Set(put.scope.all),
        room_groups: Set(lines(&put.scope.groups)),
        rooms: Set(lines(&put.scope.rooms)),
        state: Set(put.state),
        end_time: Set(put.end_time),
        update_time: Set(micros),
    };
    match existing {
        Some(old) => {
            if old.partner != put.partner || old.customer != put.customer {
                return Err(Error::FailedPrecondition(format!(
                    "{} belongs to other parties",
                    put.name
                )));
            }
            let same = old.all_rooms == put.scope.all
                && old.room_groups == lines(&put.scope.groups)
                && old.rooms == lines(&put.scope.rooms)
                && old.state == put.state
                && old.end_time == put.end_time;
            if same {
                return Ok((false, Effect::Revokes));
            }
            row.update(txn).await?;
            Ok((true, Effect::Revokes))
        }
        None => {
            row.insert(txn).await?;
            ensure_built_in_role(
                txn,
                by,
                put.customer,
                put.name,
                Some(put.name),
                BuiltIn::PrimaryAdmins,
                micros,
            )
            .await?;
            let assignment = insert_assignment(
                txn,
                put.customer,
                Some(put.name),
                primary_admins(put.name),
                "Primary admins",
                &format!("{}/roles/primary-admins", put.name),
                &[],
                &Scope::all_rooms(),
                true,
                micros,
            )
            .await?;
            record_assignment(txn, by, "create", &assignment, Vec::new()).await?;
            Ok((true, Effect::Grants))
        }
    }
}

/// The name of a relationship's *Primary admins* assignment.
pub fn primary_admins(relationship: &str) -> String {
    format!("{relationship}/roleAssignments/primary-admins")
}

/// Removes a relationship with every partner role and assignment of it (R17). Returns the
/// customer it belonged to, when it existed.
pub async fn remove_relationship(
    txn: &DatabaseTransaction,
    by: &Acting,
    name: &str,
) -> Result<Option<String>, Error> {
    let Some(row) = relationship::Entity::find_by_id(name).one(txn).await? else {
        return Ok(None);
    };
    let removed = || vec![("relationship_removed".into(), name.to_owned())];
    for assignment in assignment::Entity::find()
        .filter(assignment::Column::Relationship.eq(name))
        .all(txn)
        .await?
    {
        record_assignment(txn, by, "delete", &assignment, removed()).await?;
    }
    for role in role::Entity::find()
        .filter(role::Column::Relationship.eq(name))
        .all(txn)
        .await?
    {
        audit::record(
            txn,
            by,
            Change {
                customer: &role.customer,
                category: AuditCategory::Role,
                operation: "delete",
                object_id: &role.name,
                object_name: &role.display_name,
                details: removed(),
            },
        )
        .await?;
    }
    assignment::Entity::delete_many()
        .filter(assignment::Column::Relationship.eq(name))
        .exec(txn)
        .await?;
    role::Entity::delete_many()
        .filter(role::Column::Relationship.eq(name))
        .exec(txn)
        .await?;
    relationship::Entity::delete_by_id(name).exec(txn).await?;
    Ok(Some(row.customer))
}

/// How `SetPrimaryAdmins` and friends change the member list.
#[derive(Clone, Copy, Debug)]
pub enum MemberChange {
    /// Replace the list.
    Set,
    /// Add the members missing.
    Add,
    /// Remove the members present.
    Remove,
}

/// Changes the members of a relationship's *Primary admins* assignment; NOT_FOUND for an
/// unknown relationship. Returns the customer when something changed.
pub async fn change_primary_admins(
    txn: &DatabaseTransaction,
    by: &Acting,
    relationship_name: &str,
    change: MemberChange,
    members: &[String],
    micros: i64,
) -> Result<Option<String>, Error> {
    let Some(rel) = relationship::Entity::find_by_id(relationship_name)
        .one(txn)
        .await?
    else {
        return Err(Error::NotFound(relationship_name.to_owned()));
    };
    if !matches!(change, MemberChange::Remove) {
        crate::names::check_members(&rel.partner, members, "members")?;
    }
    let Some(row) = assignment::Entity::find_by_id(primary_admins(relationship_name))
        .one(txn)
        .await?
    else {
        return Err(Error::NotFound(primary_admins(relationship_name)));
    };
    let old = super::split(&row.members);
    let mut new: Vec<String> = match change {
        MemberChange::Set => members.to_vec(),
        MemberChange::Add => old.iter().chain(members).cloned().collect(),
        MemberChange::Remove => old
            .iter()
            .filter(|m| !members.contains(m))
            .cloned()
            .collect(),
    };
    new.sort();
    new.dedup();
    let mut old_sorted = old.clone();
    old_sorted.sort();
    if new == old_sorted {
        return Ok(None);
    }
    let added: Vec<&str> = new
        .iter()
        .filter(|m| !old.contains(m))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = old
        .iter()
        .filter(|m| !new.contains(m))
        .map(String::as_str)
        .collect();
    let mut active = row.into_active_model();
    active.members = Set(lines(&new));
    active.etag = Set(new_etag());
    active.update_time = Set(micros);
    let row = active.update(txn).await?;
    let details = vec![
        ("fields".into(), "members".into()),
        ("added".into(), added.join(",")),
        ("removed".into(), removed.join(",")),
    ];
    record_assignment(txn, by, "update", &row, details).await?;
    Ok(Some(rel.customer))
}
