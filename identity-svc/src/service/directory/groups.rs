//! Security groups and their members.

use std::collections::HashMap;

use mtm_plumbing::paging;
use mtm_plumbing::status::Violations;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::identity::v1::{
    AddGroupMemberRequest, AddGroupMemberResponse, CreateGroupRequest, CreateGroupResponse,
    DeleteGroupRequest, DeleteGroupResponse, GetGroupRequest, GetGroupResponse, Group, GroupMember,
    ListGroupMembersRequest, ListGroupMembersResponse, ListGroupsRequest, ListGroupsResponse,
    MemberKind, RemoveGroupMemberRequest, RemoveGroupMemberResponse, UpdateGroupRequest,
    UpdateGroupResponse,
};
use sea_orm::ConnectionTrait;
use tonic::Request;

use super::guard;
use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::entity::group;
use crate::store::{groups, idempotency, timestamp, users};

async fn message(db: &impl ConnectionTrait, row: &group::Model) -> Result<Group> {
    let count = groups::member_count(db, &row.name).await?;
    Ok(Group {
        name: row.name.clone(),
        display_name: row.display_name.clone(),
        description: row.description.clone(),
        member_count: i32::try_from(count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: row.version.to_string(),
    })
}

/// `CreateGroup`.
pub async fn create(
    state: &State,
    request: Request<CreateGroupRequest>,
) -> Result<CreateGroupResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    let caller = guard::admin(state, &request, &tenant, &body.parent).await?;
    let given = body.group.clone().unwrap_or_default();
    let mut violations = Violations::new();
    violations.check(
        given.display_name.trim().is_empty(),
        "group.display_name",
        "is required",
    );
    violations.check(
        !body.group_id.is_empty() && !names::valid_id(&body.group_id),
        "group_id",
        "must match [a-z0-9][a-z0-9-]{0,62}",
    );
    violations.into_result().map_err(Error::Invalid)?;
    let key = idempotency::Key::of(
        "CreateGroup",
        &body.request_id,
        &CreateGroupRequest {
            request_id: String::new(),
            ..body.clone()
        },
    )?;
    let id = names::chosen_or_new_id(&body.group_id, "group_id")?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    if let Some(previous) = idempotency::previous(&txn, key.as_ref()).await? {
        let row = groups::in_tenant(&txn, &tenant, &previous).await?;
        return Ok(CreateGroupResponse {
            group: Some(message(&txn, &row).await?),
        });
    }
    let row = groups::insert(
        &txn,
        &tenant,
        &id,
        given.display_name.trim(),
        &given.description,
    )
    .await?;
    caller
        .audit(
            &txn,
            AuditCategory::SecurityGroup,
            "create",
            &row.name,
            &row.display_name,
        )
        .await?;
    idempotency::remember(&txn, key, &row.name).await?;
    txn.commit().await?;
    Ok(CreateGroupResponse {
        group: Some(message(&state.db, &row).await?),
    })
}

/// `GetGroup`.
pub async fn get(state: &State, request: Request<GetGroupRequest>) -> Result<GetGroupResponse> {
    let name = request.get_ref().name.clone();
    let (tenant, _) = names::parse_child(&name, "groups", "name")?;
    guard::caller(state, &request, &tenant, &name).await?;
    let row = groups::in_tenant(&state.db, &tenant, &name).await?;
    Ok(GetGroupResponse {
        group: Some(message(&state.db, &row).await?),
    })
}

/// `ListGroups`.
pub async fn list(
    state: &State,
    request: Request<ListGroupsRequest>,
) -> Result<ListGroupsResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    guard::caller(state, &request, &tenant, &body.parent).await?;
    let terms =
        mtm_plumbing::filter::parse(&body.filter, &[("display_name", false), ("member", false)])
            .map_err(Error::Invalid)?;
    let display_name = mtm_plumbing::filter::equal(&terms, "display_name");
    let containing = match mtm_plumbing::filter::equal(&terms, "member") {
        Some(member) => Some(groups::containing(&state.db, member).await?),
        None => None,
    };
    let rows: Vec<_> = groups::list(&state.db, &tenant)
        .await?
        .into_iter()
        .filter(|g| display_name.is_none_or(|d| g.display_name == d))
        .filter(|g| containing.as_ref().is_none_or(|c| c.contains(&g.name)))
        .collect();
    let page = paging::page(
        rows,
        body.page_size,
        &body.page_token,
        &[&body.parent, &body.filter],
    )?;
    let mut messages = Vec::with_capacity(page.items.len());
    for row in &page.items {
        messages.push(message(&state.db, row).await?);
    }
    Ok(ListGroupsResponse {
        groups: messages,
        next_page_token: page.next_page_token,
        total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
    })
}

/// `UpdateGroup`.
pub async fn update(
    state: &State,
    request: Request<UpdateGroupRequest>,
) -> Result<UpdateGroupResponse> {
    let body = request.get_ref();
    let given = body.group.clone().unwrap_or_default();
    let (tenant, _) = names::parse_child(&given.name, "groups", "group.name")?;
    let caller = guard::admin(state, &request, &tenant, &given.name).await?;
    let paths = guard::mask_paths(body.update_mask.as_ref(), &["display_name", "description"])?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let mut row = groups::in_tenant(&txn, &tenant, &given.name).await?;
    guard::check_etag(&given.etag, row.version)?;
    for path in &paths {
        if path == "display_name" {
            let display_name = given.display_name.trim();
            if display_name.is_empty() {
                return Err(Error::invalid("group.display_name", "is required"));
            }
            groups::check_display_name(&txn, &tenant, display_name, Some(&row.name)).await?;
            row.display_name = display_name.to_owned();
        } else {
            row.description.clone_from(&given.description);
        }
    }
    let row = groups::save(&txn, row).await?;
    caller
        .audit(
            &txn,
            AuditCategory::SecurityGroup,
            "update",
            &row.name,
            &row.display_name,
        )
        .await?;
    let group = message(&txn, &row).await?;
    txn.commit().await?;
    Ok(UpdateGroupResponse { group: Some(group) })
}

/// `DeleteGroup`.
pub async fn delete(
    state: &State,
    request: Request<DeleteGroupRequest>,
) -> Result<DeleteGroupResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.name, "groups", "name")?;
    let caller = guard::admin(state, &request, &tenant, &body.name).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let row = groups::in_tenant(&txn, &tenant, &body.name).await?;
    guard::check_etag(&body.etag, row.version)?;
    groups::delete(&txn, &row.name).await?;
    caller
        .audit(
            &txn,
            AuditCategory::SecurityGroup,
            "delete",
            &row.name,
            &row.display_name,
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(DeleteGroupResponse {})
}

/// The kind, display name and UPN of a member of `tenant`, else NOT_FOUND.
async fn member_of_tenant(
    db: &impl ConnectionTrait,
    tenant: &str,
    member: &str,
) -> Result<(MemberKind, String, String)> {
    if names::parse_child(member, "users", "member").is_ok() {
        let user = users::in_tenant(db, tenant, member).await?;
        Ok((MemberKind::User, user.display_name, user.upn))
    } else if names::parse_child(member, "groups", "member").is_ok() {
        let group = groups::in_tenant(db, tenant, member).await?;
        Ok((MemberKind::Group, group.display_name, String::new()))
    } else {
        Err(Error::invalid(
            "member",
            "must be tenants/{tenant}/users/{user} or tenants/{tenant}/groups/{group}",
        ))
    }
}

/// `AddGroupMember`: cycles are FAILED_PRECONDITION; takes effect on the next request (R2).
pub async fn add_member(
    state: &State,
    request: Request<AddGroupMemberRequest>,
) -> Result<AddGroupMemberResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.group, "groups", "group")?;
    let caller = guard::admin(state, &request, &tenant, &body.group).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let group = groups::in_tenant(&txn, &tenant, &body.group).await?;
    let (kind, display_name, upn) = member_of_tenant(&txn, &tenant, &body.member).await?;
    groups::add_member(&txn, &tenant, &body.group, &body.member, kind).await?;
    caller
        .audit(
            &txn,
            AuditCategory::SecurityGroup,
            "add_member",
            &body.member,
            &group.display_name,
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(AddGroupMemberResponse {
        member: Some(GroupMember {
            member: body.member.clone(),
            kind: kind as i32,
            display_name,
            upn,
            direct: true,
        }),
    })
}

/// `RemoveGroupMember`: takes effect on the member's next request (R2).
pub async fn remove_member(
    state: &State,
    request: Request<RemoveGroupMemberRequest>,
) -> Result<RemoveGroupMemberResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.group, "groups", "group")?;
    let caller = guard::admin(state, &request, &tenant, &body.group).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let group = groups::in_tenant(&txn, &tenant, &body.group).await?;
    groups::remove_member(&txn, &body.group, &body.member).await?;
    caller
        .audit(
            &txn,
            AuditCategory::SecurityGroup,
            "remove_member",
            &body.member,
            &group.display_name,
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(RemoveGroupMemberResponse {})
}

/// `ListGroupMembers`, direct or transitive.
pub async fn list_members(
    state: &State,
    request: Request<ListGroupMembersRequest>,
) -> Result<ListGroupMembersResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.group, "groups", "group")?;
    guard::caller(state, &request, &tenant, &body.group).await?;
    let terms =
        mtm_plumbing::filter::parse(&body.filter, &[("kind", false)]).map_err(Error::Invalid)?;
    let kind = match mtm_plumbing::filter::equal(&terms, "kind") {
        None => None,
        Some("USER") => Some(MemberKind::User as i32),
        Some("GROUP") => Some(MemberKind::Group as i32),
        Some(_) => return Err(Error::invalid("filter", "kind is \"USER\" or \"GROUP\"")),
    };
    groups::in_tenant(&state.db, &tenant, &body.group).await?;
    let children = groups::children_in_tenant(&state.db, &tenant).await?;
    let found: Vec<(String, i32, bool)> = if body.transitive {
        groups::transitive_members(&children, &body.group)
    } else {
        children
            .get(&body.group)
            .into_iter()
            .flatten()
            .map(|(name, kind)| (name.clone(), *kind, true))
            .collect()
    };
    let user_rows: HashMap<String, _> = users::list(&state.db, &tenant)
        .await?
        .into_iter()
        .map(|u| (u.name.clone(), u))
        .collect();
    let group_rows: HashMap<String, _> = groups::list(&state.db, &tenant)
        .await?
        .into_iter()
        .map(|g| (g.name.clone(), g))
        .collect();
    let mut members: Vec<GroupMember> = found
        .into_iter()
        .filter(|(_, k, _)| kind.is_none_or(|want| *k == want))
        .map(|(name, kind, direct)| {
            let (display_name, upn) = match (user_rows.get(&name), group_rows.get(&name)) {
                (Some(u), _) => (u.display_name.clone(), u.upn.clone()),
                (None, Some(g)) => (g.display_name.clone(), String::new()),
                (None, None) => (String::new(), String::new()),
            };
            GroupMember {
                member: name,
                kind,
                display_name,
                upn,
                direct,
            }
        })
        .collect();
    members.sort_by(|a, b| {
        (a.kind, &a.display_name, &a.member).cmp(&(b.kind, &b.display_name, &b.member))
    });
    let transitive = body.transitive.to_string();
    let scope = [
        body.group.as_str(),
        transitive.as_str(),
        body.filter.as_str(),
    ];
    let page = paging::page(members, body.page_size, &body.page_token, &scope)?;
    Ok(ListGroupMembersResponse {
        members: page.items,
        next_page_token: page.next_page_token,
    })
}
