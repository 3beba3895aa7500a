//! `RoleService` assignments: create, get, list, update, delete (R18, R21, R22, R33, R36).

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rbac::v1 as pb;
use prost::Message;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, Set};
use tonic::{Request, Response, Status};

use super::{Roles, caller, check_etag, mask_paths};
use crate::audit::{self, Acting, Change};
use crate::catalogue::{Perm, PermSet};
use crate::error::Error;
use crate::index::Scope;
use crate::names::{self, Parent};
use crate::roles::escalation::{self, Write};
use crate::roles::filter::Filter;
use crate::roles::{choose_id, convert, next_token, page};
use crate::state::{Effect, now};
use crate::store::entity::assignment;
use crate::store::write::{insert_assignment, new_etag};
use crate::store::{lines, requests, roles as q, scope_of, split};

fn parse_name(name: &str) -> Result<(Parent, &str), Error> {
    names::child(name, "roleAssignments").ok_or_else(|| {
        Error::invalid(
            "name",
            "must be customers/{customer}/roleAssignments/{assignment} or under a relationship",
        )
    })
}

/// The tenant whose users and groups may be members under `parent`, and for partner
/// assignments the relationship scope (NOT_FOUND for an unknown relationship).
pub(super) async fn members_tenant(
    txn: &impl sea_orm::ConnectionTrait,
    parent: &Parent,
) -> Result<(String, Option<Scope>), Error> {
    match parent.relationship() {
        None => Ok((parent.customer().to_owned(), None)),
        Some(rel) => {
            let row = q::relationship(txn, &rel)
                .await?
                .ok_or_else(|| Error::NotFound(rel.clone()))?;
            let scope = scope_of(row.all_rooms, &row.room_groups, &row.rooms);
            Ok((row.partner, Some(scope)))
        }
    }
}

/// The permissions of `role`, which must hang under `parent`.
async fn role_perms(
    txn: &DatabaseTransaction,
    parent: &Parent,
    role: &str,
) -> Result<PermSet, Error> {
    let under = names::child(role, "roles").is_some_and(|(p, _)| p == *parent);
    if !under {
        return Err(Error::invalid(
            "role_assignment.role",
            "must be a role of the same parent",
        ));
    }
    let row = q::role(txn, role)
        .await?
        .ok_or_else(|| Error::invalid("role_assignment.role", "no such role"))?;
    Ok(split(&row.permissions)
        .iter()
        .filter_map(|n| Perm::parse(n))
        .fold(PermSet::EMPTY, PermSet::with))
}

fn check_display_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(Error::invalid(
            "role_assignment.display_name",
            "1 to 100 characters",
        ));
    }
    Ok(())
}

fn check_scope(
    customer: &str,
    scope: Option<&mtm_proto::mtm::common::v1::RoomScope>,
) -> Result<Scope, Error> {
    let scope = scope.ok_or_else(|| Error::invalid("role_assignment.scope", "is required"))?;
    let mut violations = Vec::new();
    names::check_scope(customer, scope, "role_assignment.scope", &mut violations);
    if violations.is_empty() {
        Ok(Scope::from_proto(scope))
    } else {
        Err(Error::Invalid(violations))
    }
}

/// R33: refuses a change that leaves no member in an all-rooms `mmr-admin` assignment.
async fn keep_an_mmr_admin(txn: &DatabaseTransaction, customer: &str) -> Result<(), Error> {
    if q::mmr_admin_remains(txn, customer).await? {
        Ok(())
    } else {
        Err(Error::FailedPrecondition(
            "the customer must keep at least one MMR admin over all rooms (R33)".into(),
        ))
    }
}

/// How an assignment row's role, members and scope read in an audit record.
fn assignment_details(row: &assignment::Model) -> Vec<(String, String)> {
    vec![
        ("role".into(), row.role.clone()),
        ("members".into(), split(&row.members).join(",")),
        ("all_rooms".into(), row.all_rooms.to_string()),
        ("room_groups".into(), split(&row.room_groups).join(",")),
        ("rooms".into(), split(&row.rooms).join(",")),
    ]
}

/// The effective scope of an assignment row: a partner assignment's is intersected with the
/// relationship (R18, R21).
fn effective_of(row: &assignment::Model, relationship: Option<&Scope>) -> Scope {
    scope_of(row.all_rooms, &row.room_groups, &row.rooms).effective(relationship)
}

impl Roles {
    pub(super) async fn create_assignment_impl(
        &self,
        request: Request<pb::CreateRoleAssignmentRequest>,
    ) -> Result<Response<pb::CreateRoleAssignmentResponse>, Status> {
        let body = request.get_ref();
        let parent = Parent::parse(&body.parent, false).ok_or_else(|| {
            Error::invalid("parent", "must be customers/{customer} or a relationship")
        })?;
        let ra = body
            .role_assignment
            .as_ref()
            .ok_or_else(|| Error::invalid("role_assignment", "is required"))?;
        check_display_name(&ra.display_name)?;
        let scope = check_scope(parent.customer(), ra.scope.as_ref())?;
        let id = choose_id(&body.role_assignment_id, "role_assignment_id")?;
        requests::check_id(&body.request_id)?;
        let fingerprint = requests::fingerprint(
            "CreateRoleAssignment",
            &pb::CreateRoleAssignmentRequest {
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
        let (tenant, rel_scope) = members_tenant(&write.txn, &parent).await?;
        names::check_members(&tenant, &ra.members, "role_assignment.members")?;
        let perms = role_perms(&write.txn, &parent, &ra.role).await?;
        let name = format!("{}/roleAssignments/{id}", parent.name());
        escalation::permit(
            &caller,
            &Write::create_assignment(&name, perms, scope.effective(rel_scope.as_ref())),
        )?;
        if let Some(name) =
            requests::replay(&write.txn, &body.request_id, &fingerprint, micros).await?
        {
            let row = q::assignment(&write.txn, &name)
                .await?
                .ok_or_else(|| Error::NotFound(name.clone()))?;
            let revision = write.commit(None, Effect::Grants).await?;
            return Ok(Response::new(pb::CreateRoleAssignmentResponse {
                role_assignment: Some(convert::assignment(&row, rel_scope.as_ref())),
                revision,
            }));
        }
        if q::assignment(&write.txn, &name).await?.is_some() {
            return Err(Error::AlreadyExists(name).into());
        }
        if q::assignment_name_taken(&write.txn, &parent, ra.display_name.trim(), "").await? {
            return Err(
                Error::AlreadyExists(format!("an assignment named `{}`", ra.display_name)).into(),
            );
        }
        let mut members = ra.members.clone();
        members.sort();
        members.dedup();
        let row = insert_assignment(
            &write.txn,
            parent.customer(),
            parent.relationship().as_deref(),
            name,
            ra.display_name.trim(),
            &ra.role,
            &members,
            &scope,
            false,
            micros,
        )
        .await?;
        audit::record(
            &write.txn,
            &Acting::of(&request),
            Change {
                customer: parent.customer(),
                category: AuditCategory::Assignment,
                operation: "create",
                object_id: &row.name,
                object_name: &row.display_name,
                details: assignment_details(&row),
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
        Ok(Response::new(pb::CreateRoleAssignmentResponse {
            role_assignment: Some(convert::assignment(&row, rel_scope.as_ref())),
            revision,
        }))
    }

    pub(super) async fn get_assignment_impl(
        &self,
        request: Request<pb::GetRoleAssignmentRequest>,
    ) -> Result<Response<pb::GetRoleAssignmentResponse>, Status> {
        let name = request.get_ref().name.clone();
        let (parent, _) = parse_name(&name)?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &name)?;
        caller.need("roles.view")?;
        let db = self.state.get()?.db();
        let row = q::assignment(db, &name)
            .await?
            .ok_or_else(|| Error::NotFound(name.clone()))?;
        let (_, rel_scope) = members_tenant(db, &parent).await?;
        Ok(Response::new(pb::GetRoleAssignmentResponse {
            role_assignment: Some(convert::assignment(&row, rel_scope.as_ref())),
        }))
    }

    pub(super) async fn list_assignments_impl(
        &self,
        request: Request<pb::ListRoleAssignmentsRequest>,
    ) -> Result<Response<pb::ListRoleAssignmentsResponse>, Status> {
        let body = request.get_ref();
        let parent = Parent::parse(&body.parent, true).ok_or_else(|| {
            Error::invalid(
                "parent",
                "must be customers/{customer} or a relationship (or -)",
            )
        })?;
        let filter = Filter::parse(
            &body.filter,
            &["role", "member", "relationship", "built_in"],
        )?;
        let built_in = filter.boolean("built_in")?;
        let (size, offset) = page(body.page_size, &body.page_token, &body.parent, &body.filter)?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &body.parent)?;
        caller.need("roles.view")?;
        let db = self.state.get()?.db();
        let mut rows: Vec<assignment::Model> = q::assignments_under(db, &parent)
            .await?
            .into_iter()
            .filter(|a| built_in.is_none_or(|b| a.built_in == b))
            .filter(|a| filter.get("role").is_none_or(|r| a.role == r))
            .filter(|a| {
                filter
                    .get("member")
                    .is_none_or(|m| split(&a.members).iter().any(|x| x == m))
            })
            .filter(|a| {
                filter
                    .get("relationship")
                    .is_none_or(|r| a.relationship.as_deref() == Some(r))
            })
            .collect();
        rows.sort_by(|a, b| (&a.display_name, &a.name).cmp(&(&b.display_name, &b.name)));
        let scopes = q::relationship_scopes(db, parent.customer()).await?;
        let total = rows.len();
        let role_assignments = rows
            .iter()
            .skip(offset)
            .take(size)
            .map(|a| convert::assignment(a, a.relationship.as_ref().and_then(|r| scopes.get(r))))
            .collect();
        Ok(Response::new(pb::ListRoleAssignmentsResponse {
            role_assignments,
            next_page_token: next_token(offset + size, total, &body.parent, &body.filter),
            total_size: total as i32,
        }))
    }

    pub(super) async fn update_assignment_impl(
        &self,
        request: Request<pb::UpdateRoleAssignmentRequest>,
    ) -> Result<Response<pb::UpdateRoleAssignmentResponse>, Status> {
        let body = request.get_ref();
        let ra = body
            .role_assignment
            .as_ref()
            .ok_or_else(|| Error::invalid("role_assignment", "is required"))?;
        let (parent, _) = names::child(&ra.name, "roleAssignments")
            .ok_or_else(|| Error::invalid("role_assignment.name", "must be an assignment name"))?;
        let paths = mask_paths(
            body.update_mask.as_ref(),
            &["display_name", "members", "scope"],
        )?;
        let has = |p: &str| paths.iter().any(|x| x == p);
        if has("display_name") {
            check_display_name(&ra.display_name)?;
        }
        let scope = if has("scope") {
            Some(check_scope(parent.customer(), ra.scope.as_ref())?)
        } else {
            None
        };
        let write = self.state.get()?.begin().await?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &ra.name)?;
        caller.may_change(&parent)?;
        let row = q::assignment(&write.txn, &ra.name)
            .await?
            .ok_or_else(|| Error::NotFound(ra.name.clone()))?;
        if row.built_in {
            return Err(Error::FailedPrecondition(
                "the Primary admins assignment changes only through RelationshipService (R14)"
                    .into(),
            )
            .into());
        }
        check_etag(&ra.etag, &row.etag, &row.name)?;
        let (tenant, rel_scope) = members_tenant(&write.txn, &parent).await?;
        if has("members") {
            names::check_members(&tenant, &ra.members, "role_assignment.members")?;
        }
        let before = effective_of(&row, rel_scope.as_ref());
        let after = scope
            .as_ref()
            .map_or_else(|| before.clone(), |s| s.effective(rel_scope.as_ref()));
        escalation::permit(
            &caller,
            &Write::update_assignment(
                &row.name,
                role_perms(&write.txn, &parent, &row.role).await?,
                before,
                after,
                has("members") || has("scope"),
            ),
        )?;
        if has("display_name")
            && q::assignment_name_taken(&write.txn, &parent, ra.display_name.trim(), &row.name)
                .await?
        {
            return Err(
                Error::AlreadyExists(format!("an assignment named `{}`", ra.display_name)).into(),
            );
        }
        let (_, micros) = now();
        let mut active = row.into_active_model();
        if has("display_name") {
            active.display_name = Set(ra.display_name.trim().to_owned());
        }
        if has("members") {
            let mut members = ra.members.clone();
            members.sort();
            members.dedup();
            active.members = Set(lines(&members));
        }
        if let Some(scope) = &scope {
            active.all_rooms = Set(scope.all);
            active.room_groups = Set(lines(&scope.groups));
            active.rooms = Set(lines(&scope.rooms));
        }
        active.etag = Set(new_etag());
        active.update_time = Set(micros);
        let row = active.update(&write.txn).await.map_err(Error::from)?;
        keep_an_mmr_admin(&write.txn, parent.customer()).await?;
        let mut details = vec![("fields".into(), paths.join(","))];
        details.extend(assignment_details(&row));
        audit::record(
            &write.txn,
            &Acting::of(&request),
            Change {
                customer: parent.customer(),
                category: AuditCategory::Assignment,
                operation: "update",
                object_id: &row.name,
                object_name: &row.display_name,
                details,
            },
        )
        .await?;
        let revision = write
            .commit(Some(parent.customer()), Effect::Revokes)
            .await?;
        Ok(Response::new(pb::UpdateRoleAssignmentResponse {
            role_assignment: Some(convert::assignment(&row, rel_scope.as_ref())),
            revision,
        }))
    }

    pub(super) async fn delete_assignment_impl(
        &self,
        request: Request<pb::DeleteRoleAssignmentRequest>,
    ) -> Result<Response<pb::DeleteRoleAssignmentResponse>, Status> {
        let body = request.get_ref();
        let (parent, _) = parse_name(&body.name)?;
        let write = self.state.get()?.begin().await?;
        let caller = caller(&request, &*self.state.get()?.index()?, parent.customer())?;
        caller.see(&parent, &body.name)?;
        caller.need("roles.modify")?;
        let row = q::assignment(&write.txn, &body.name)
            .await?
            .ok_or_else(|| Error::NotFound(body.name.clone()))?;
        if row.built_in {
            return Err(Error::FailedPrecondition(
                "the Primary admins assignment changes only through RelationshipService (R14)"
                    .into(),
            )
            .into());
        }
        check_etag(&body.etag, &row.etag, &row.name)?;
        let (_, rel_scope) = members_tenant(&write.txn, &parent).await?;
        escalation::permit(
            &caller,
            &Write::delete_assignment(&row.name, effective_of(&row, rel_scope.as_ref())),
        )?;
        assignment::Entity::delete_by_id(row.name.as_str())
            .exec(&write.txn)
            .await
            .map_err(Error::from)?;
        keep_an_mmr_admin(&write.txn, parent.customer()).await?;
        audit::record(
            &write.txn,
            &Acting::of(&request),
            Change {
                customer: parent.customer(),
                category: AuditCategory::Assignment,
                operation: "delete",
                object_id: &row.name,
                object_name: &row.display_name,
                details: assignment_details(&row),
            },
        )
        .await?;
        let revision = write
            .commit(Some(parent.customer()), Effect::Revokes)
            .await?;
        Ok(Response::new(pb::DeleteRoleAssignmentResponse { revision }))
    }
}
