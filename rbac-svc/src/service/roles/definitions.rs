//! `RoleService` role definitions: create, get, list, update, delete.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rbac::v1 as pb;
use prost::Message;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, Set};
use tonic::{Request, Response, Status};

use super::assignments::members_tenant;
use super::{Roles, caller, check_etag, mask_paths};
use crate::audit::{self, Acting, Change};
use crate::catalogue::{BuiltIn, PermSet};
use crate::error::Error;
use crate::index::Scope;
use crate::names::{self, Parent};
use crate::roles::escalation::{self, Write};
use crate::roles::filter::Filter;
use crate::roles::{choose_id, convert, next_token, page};
use crate::state::{Effect, now};
use crate::store::entity::role;
use crate::store::write::new_etag;
use crate::store::{lines, requests, roles as q, scope_of};

/// Checks a role's display name, description and permissions; partner roles hold a subset
/// of the *Primary admins* permissions (R20).
fn validate(role: &pb::Role, partner: bool, paths: &[String]) -> Result<PermSet, Error> {
    let mut violations = Vec::new();
    let has = |p: &str| paths.iter().any(|x| x == p);
    if has("display_name") && (role.display_name.trim().is_empty() || role.display_name.len() > 100)
    {
        violations.push(("role.display_name".into(), "1 to 100 characters".into()));
    }
    if has("description") && role.description.len() > 1000 {
        violations.push(("role.description".into(), "at most 1000 characters".into()));
    }
    let mut perms = PermSet::EMPTY;
    if has("permissions") {
        if role.permissions.is_empty() {
            violations.push(("role.permissions".into(), "at least one permission".into()));
        }
        for (i, name) in role.permissions.iter().enumerate() {
            match crate::catalogue::Perm::parse(name) {
                Some(p) => perms = perms.with(p),
                None => violations.push((
                    format!("role.permissions[{i}]"),
                    "not in the catalogue".into(),
                )),
            }
        }
        if partner && !perms.is_subset(BuiltIn::PrimaryAdmins.permissions()) {
            violations.push((
                "role.permissions".into(),
                "a partner role holds only permissions of the Primary admins (R20)".into(),
            ));
        }
    }
    if violations.is_empty() {
        Ok(perms)
    } else {
        Err(Error::Invalid(violations))
    }
}

fn parse_name(name: &str) -> Result<(Parent, &str), Error> {
    names::child(name, "roles").ok_or_else(|| {
        Error::invalid(
            "name",
            "must be customers/{customer}/roles/{role} or customers/{customer}/partnerRelationships/{relationship}/roles/{role}",
        )
    })
}

fn perms_of(row: &role::Model) -> PermSet {
    crate::store::split(&row.permissions)
        .iter()
        .filter_map(|n| crate::catalogue::Perm::parse(n))
        .fold(PermSet::EMPTY, PermSet::with)
}

/// The assignments of `role` (under `parent`) by name and effective scope: what changing or
/// deleting the role affects (R36).
async fn effective_assignments(
    txn: &DatabaseTransaction,
    parent: &Parent,
    role: &str,
) -> Result<Vec<(String, Scope)>, Error> {
    let (_, relationship) = members_tenant(txn, parent).await?;
    Ok(q::assignments_under(txn, parent)
        .await?
        .into_iter()
        .filter(|a| a.role == role)
        .map(|a| {
            let scope = scope_of(a.all_rooms, &a.room_groups, &a.rooms);
            (a.name, scope.effective(relationship.as_ref()))
        })
        .collect())
}

impl Roles {
    pub(super) async fn create_role_impl(
        &self,
        request: Request<pb::CreateRoleRequest>,
    ) -> Result<Response<pb::CreateRoleResponse>, Status> {
        let body = request.get_ref();
        let parent = Parent::parse(&body.parent, false).ok_or_else(|| {
            Error::invalid("parent", "must be customers/{customer} or a relationship")
        })?;
        let role = body
            .role
            .as_ref()
            .ok_or_else(|| Error::invalid("role", "is required"))?;
        let all = [
            "display_name".to_owned(),
            "description".to_owned(),
            "permissions".to_owned(),
        ];
        let perms = validate(role, parent.relationship().is_some(), &all)?;
        let id = choose_id(&body.role_id, "role_id")?;
        requests::check_id(&body.request_id)?;
        let fingerprint = requests::fingerprint(
            "CreateRole",
            &pb::CreateRoleRequest {
                request_id: String::new(),
                ..body.clone()
            }
            .encode_to_vec(),
        );
        let (_, micros) = now();
        let write = self.state.get()?.begin().await?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &body.parent)?;
        caller.may_change(&parent)?;
        escalation::permit(&caller, &Write::create_role(perms))?;
        if let Some(rel) = parent.relationship() {
            q::relationship(&write.txn, &rel)
                .await?
                .ok_or_else(|| Error::NotFound(rel.clone()))?;
        }
        if let Some(name) =
            requests::replay(&write.txn, &body.request_id, &fingerprint, micros).await?
        {
            let row = q::role(&write.txn, &name)
                .await?
                .ok_or_else(|| Error::NotFound(name.clone()))?;
            let count = q::assignment_count(&write.txn, &name).await?;
            let revision = write.commit(None, Effect::Grants).await?;
            return Ok(Response::new(pb::CreateRoleResponse {
                role: Some(convert::role(&row, count)),
                revision,
            }));
        }
        let name = format!("{}/roles/{id}", parent.name());
        if q::role(&write.txn, &name).await?.is_some() {
            return Err(Error::AlreadyExists(name).into());
        }
        if q::role_name_taken(&write.txn, &parent, &role.display_name, "").await? {
            return Err(
                Error::AlreadyExists(format!("a role named `{}`", role.display_name)).into(),
            );
        }
        let (_, micros) = now();
        let row = role::ActiveModel {
            name: Set(name),
            customer: Set(parent.customer().to_owned()),
            relationship: Set(parent.relationship()),
            display_name: Set(role.display_name.trim().to_owned()),
            description: Set(role.description.clone()),
            permissions: Set(lines(&perms.names())),
            built_in: Set(false),
            etag: Set(new_etag()),
            create_time: Set(micros),
            update_time: Set(micros),
        }
        .insert(&write.txn)
        .await
        .map_err(Error::from)?;
        audit::record(
            &write.txn,
            &Acting::of(&request),
            Change {
                customer: parent.customer(),
                category: AuditCategory::Role,
                operation: "create",
                object_id: &row.name,
                object_name: &row.display_name,
                details: vec![("permissions".into(), perms.names().join(","))],
            },
        )
        .await?;
        requests::remember(
            &write.txn,
            &body.request_id,
            &fingerprint,
            &row.name,
            micros,
        )
        .await?;
        let revision = write
            .commit(Some(parent.customer()), Effect::Grants)
            .await?;
        Ok(Response::new(pb::CreateRoleResponse {
            role: Some(convert::role(&row, 0)),
            revision,
        }))
    }

    pub(super) async fn get_role_impl(
        &self,
        request: Request<pb::GetRoleRequest>,
    ) -> Result<Response<pb::GetRoleResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (parent, _) = parse_name(&name)?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &name)?;
        caller.need("roles.view")?;
        let db = self.state.get()?.db();
        let row = q::role(db, &name)
            .await?
            .ok_or_else(|| Error::NotFound(name.clone()))?;
        let count = q::assignment_count(db, &name).await?;
        Ok(Response::new(pb::GetRoleResponse {
            role: Some(convert::role(&row, count)),
        }))
    }

    pub(super) async fn list_roles_impl(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let body = request.get_ref();
        let parent = Parent::parse(&body.parent, true).ok_or_else(|| {
            Error::invalid(
                "parent",
                "must be customers/{customer} or a relationship (or -)",
            )
        })?;
        let filter = Filter::parse(&body.filter, &["built_in", "permission", "relationship"])?;
        let built_in = filter.boolean("built_in")?;
        let (size, offset) = page(body.page_size, &body.page_token, &body.parent, &body.filter)?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &body.parent)?;
        caller.need("roles.view")?;
        let db = self.state.get()?.db();
        let mut rows: Vec<role::Model> = q::roles_under(db, &parent)
            .await?
            .into_iter()
            .filter(|r| built_in.is_none_or(|b| r.built_in == b))
            .filter(|r| {
                filter
                    .get("permission")
                    .is_none_or(|p| crate::store::split(&r.permissions).iter().any(|x| x == p))
            })
            .filter(|r| {
                filter
                    .get("relationship")
                    .is_none_or(|rel| r.relationship.as_deref() == Some(rel))
            })
            .collect();
        rows.sort_by(|a, b| {
            (!a.built_in, &a.display_name, &a.name).cmp(&(!b.built_in, &b.display_name, &b.name))
        });
        let counts = q::assignment_counts(db, parent.customer()).await?;
        let total = rows.len();
        let roles = rows
            .iter()
            .skip(offset)
            .take(size)
            .map(|r| convert::role(r, counts.get(&r.name).copied().unwrap_or(0)))
            .collect();
        Ok(Response::new(pb::ListRolesResponse {
            roles,
            next_page_token: next_token(offset + size, total, &body.parent, &body.filter),
            total_size: total as i32,
        }))
    }

    pub(super) async fn update_role_impl(
        &self,
        request: Request<pb::UpdateRoleRequest>,
    ) -> Result<Response<pb::UpdateRoleResponse>, Status> {
        let body = request.get_ref();
        let role = body
            .role
            .as_ref()
            .ok_or_else(|| Error::invalid("role", "is required"))?;
        let (parent, _) = names::child(&role.name, "roles")
            .ok_or_else(|| Error::invalid("role.name", "must be a role name"))?;
        let paths = mask_paths(
            body.update_mask.as_ref(),
            &["display_name", "description", "permissions"],
        )?;
        let perms = validate(role, parent.relationship().is_some(), &paths)?;
        let write = self.state.get()?.begin().await?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &role.name)?;
        caller.may_change(&parent)?;
        let row = q::role(&write.txn, &role.name)
            .await?
            .ok_or_else(|| Error::NotFound(role.name.clone()))?;
        if row.built_in {
            return Err(Error::FailedPrecondition(format!(
                "{} is built in and cannot be edited (R31)",
                row.name
            ))
            .into());
        }
        check_etag(&role.etag, &row.etag, &row.name)?;
        let has = |p: &str| paths.iter().any(|x| x == p);
        let old = perms_of(&row);
        if has("permissions") {
            let assignments = effective_assignments(&write.txn, &parent, &row.name).await?;
            let named: Vec<(&str, Scope)> = assignments
                .iter()
                .map(|(name, scope)| (name.as_str(), scope.clone()))
                .collect();
            escalation::permit(&caller, &Write::update_role(old, perms, &named))?;
        }
        if has("display_name")
            && q::role_name_taken(&write.txn, &parent, role.display_name.trim(), &row.name).await?
        {
            return Err(
                Error::AlreadyExists(format!("a role named `{}`", role.display_name)).into(),
            );
        }
        let (_, micros) = now();
        let mut active = row.into_active_model();
        if has("display_name") {
            active.display_name = Set(role.display_name.trim().to_owned());
        }
        if has("description") {
            active.description = Set(role.description.clone());
        }
        if has("permissions") {
            active.permissions = Set(lines(&perms.names()));
        }
        active.etag = Set(new_etag());
        active.update_time = Set(micros);
        let row = active.update(&write.txn).await.map_err(Error::from)?;
        let mut details = vec![("fields".into(), paths.join(","))];
        if has("permissions") {
            details.push(("permissions".into(), perms.names().join(",")));
        }
        audit::record(
            &write.txn,
            &Acting::of(&request),
            Change {
                customer: parent.customer(),
                category: AuditCategory::Role,
                operation: "update",
                object_id: &row.name,
                object_name: &row.display_name,
                details,
            },
        )
        .await?;
        let count = q::assignment_count(&write.txn, &row.name).await?;
        let revision = write
            .commit(Some(parent.customer()), Effect::Revokes)
            .await?;
        Ok(Response::new(pb::UpdateRoleResponse {
            role: Some(convert::role(&row, count)),
            revision,
        }))
    }

    pub(super) async fn delete_role_impl(
        &self,
        request: Request<pb::DeleteRoleRequest>,
    ) -> Result<Response<pb::DeleteRoleResponse>, Status> {
        let body = request.get_ref();
        let (parent, _) = parse_name(&body.name)?;
        let write = self.state.get()?.begin().await?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &body.name)?;
        caller.need("roles.modify")?;
        let row = q::role(&write.txn, &body.name)
            .await?
            .ok_or_else(|| Error::NotFound(body.name.clone()))?;
        if row.built_in {
            return Err(Error::FailedPrecondition(format!(
                "{} is built in and cannot be deleted (R31)",
                row.name
            ))
            .into());
        }
        check_etag(&body.etag, &row.etag, &row.name)?;
        let by = Acting::of(&request);
        if q::assignment_count(&write.txn, &row.name).await? > 0 {
            if !body.force {
                return Err(Error::FailedPrecondition(format!(
                    "{} still has assignments; delete them or pass force",
                    row.name
                ))
                .into());
            }
            let assignments = effective_assignments(&write.txn, &parent, &row.name).await?;
            let named: Vec<(&str, Scope)> = assignments
                .iter()
                .map(|(name, scope)| (name.as_str(), scope.clone()))
                .collect();
            escalation::permit(&caller, &Write::delete_role(&named))?;
            for assignment in q::delete_assignments_of(&write.txn, &row.name).await? {
                audit::record(
                    &write.txn,
                    &by,
                    Change {
                        customer: parent.customer(),
                        category: AuditCategory::Assignment,
                        operation: "delete",
                        object_id: &assignment.name,
                        object_name: &assignment.display_name,
                        details: vec![("deleted_with_role".into(), row.name.clone())],
                    },
                )
                .await?;
            }
        }
        role::Entity::delete_by_id(row.name.as_str())
            .exec(&write.txn)
            .await
            .map_err(Error::from)?;
        audit::record(
            &write.txn,
            &by,
            Change {
                customer: parent.customer(),
                category: AuditCategory::Role,
                operation: "delete",
                object_id: &row.name,
                object_name: &row.display_name,
                details: vec![("force".into(), body.force.to_string())],
            },
        )
        .await?;
        let revision = write
            .commit(Some(parent.customer()), Effect::Revokes)
            .await?;
        Ok(Response::new(pb::DeleteRoleResponse { revision }))
    }
}
