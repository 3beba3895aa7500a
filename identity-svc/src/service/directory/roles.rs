//! Directory roles: grant, revoke (never the last Global admin) and list.

use mtm_plumbing::paging;
use std::collections::HashMap;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::common::v1::DirectoryRole;
use mtm_proto::mtm::identity::v1::{
    GrantDirectoryRoleRequest, GrantDirectoryRoleResponse, ListDirectoryRoleHoldersRequest,
    ListDirectoryRoleHoldersResponse, RevokeDirectoryRoleRequest, RevokeDirectoryRoleResponse,
};
use tonic::Request;

use super::guard;
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::users;

/// A role by its filter name (`GLOBAL_ADMIN`, `MANAGED_SERVICE_ADMIN`).
pub fn parse_role_name(value: &str) -> Result<DirectoryRole> {
    match value {
        "GLOBAL_ADMIN" => Ok(DirectoryRole::GlobalAdmin),
        "MANAGED_SERVICE_ADMIN" => Ok(DirectoryRole::ManagedServiceAdmin),
        _ => Err(Error::invalid(
            "filter",
            "a directory role is GLOBAL_ADMIN or MANAGED_SERVICE_ADMIN",
        )),
    }
}

fn role_of(value: i32) -> Result<DirectoryRole> {
    match DirectoryRole::try_from(value) {
        Ok(role) if role != DirectoryRole::Unspecified => Ok(role),
        _ => Err(Error::invalid(
            "role",
            "must be GLOBAL_ADMIN or MANAGED_SERVICE_ADMIN",
        )),
    }
}

/// `GrantDirectoryRole`.
pub async fn grant(
    state: &State,
    request: Request<GrantDirectoryRoleRequest>,
) -> Result<GrantDirectoryRoleResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.user, "users", "user")?;
    let role = role_of(body.role)?;
    let caller = guard::admin(state, &request, &tenant, &body.user).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let user = users::in_tenant(&txn, &tenant, &body.user).await?;
    let grant = users::grant_role(&txn, &user, role).await?;
    caller
        .audit(
            &txn,
            AuditCategory::User,
            "grant_directory_role",
            &user.name,
            role.as_str_name(),
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(GrantDirectoryRoleResponse {
        holder: Some(convert::holder(&user, &grant)),
    })
}

/// `RevokeDirectoryRole`; the tenant's last Global admin keeps the role.
pub async fn revoke(
    state: &State,
    request: Request<RevokeDirectoryRoleRequest>,
) -> Result<RevokeDirectoryRoleResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.user, "users", "user")?;
    let role = role_of(body.role)?;
    let caller = guard::admin(state, &request, &tenant, &body.user).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let user = users::in_tenant(&txn, &tenant, &body.user).await?;
    if role == DirectoryRole::GlobalAdmin
        && user.enabled
        && users::holds(&txn, &user.name, role).await?
        && users::enabled_global_admins(&txn, &tenant).await? <= 1
    {
        return Err(Error::FailedPrecondition(
            "the tenant's last Global admin keeps the role".into(),
        ));
    }
    if !users::revoke_role(&txn, &user.name, role).await? {
        return Err(Error::NotFound(format!(
            "{} holding {}",
            user.name,
            role.as_str_name()
        )));
    }
    caller
        .audit(
            &txn,
            AuditCategory::User,
            "revoke_directory_role",
            &user.name,
            role.as_str_name(),
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(RevokeDirectoryRoleResponse {})
}

/// `ListDirectoryRoleHolders`, by role then UPN.
pub async fn list(
    state: &State,
    request: Request<ListDirectoryRoleHoldersRequest>,
) -> Result<ListDirectoryRoleHoldersResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    guard::caller(state, &request, &tenant, &body.parent).await?;
    let terms = mtm_plumbing::filter::parse(&body.filter, &[("role", false), ("user", false)])
        .map_err(Error::Invalid)?;
    let role = mtm_plumbing::filter::equal(&terms, "role")
        .map(parse_role_name)
        .transpose()?;
    let user_filter = mtm_plumbing::filter::equal(&terms, "user");
    let people: HashMap<String, _> = users::list(&state.db, &tenant)
        .await?
        .into_iter()
        .map(|u| (u.name.clone(), u))
        .collect();
    let mut holders: Vec<_> = users::grants_in_tenant(&state.db, &tenant)
        .await?
        .into_iter()
        .filter(|g| role.is_none_or(|r| g.role == r as i32))
        .filter(|g| user_filter.is_none_or(|u| g.user_name == u))
        .filter_map(|g| people.get(&g.user_name).map(|u| convert::holder(u, &g)))
        .collect();
    holders.sort_by(|a, b| (a.role, &a.upn).cmp(&(b.role, &b.upn)));
    let page = paging::page(
        holders,
        body.page_size,
        &body.page_token,
        &[&body.parent, &body.filter],
    )?;
    Ok(ListDirectoryRoleHoldersResponse {
        holders: page.items,
        next_page_token: page.next_page_token,
    })
}
