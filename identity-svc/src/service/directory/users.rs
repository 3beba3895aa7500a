//! Users: create, read, list, update, delete, passwords.

use std::collections::HashMap;

use mtm_plumbing::paging;
use mtm_plumbing::status::Violations;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::common::v1::DirectoryRole;
use mtm_proto::mtm::identity::v1::{
    CreateUserRequest, CreateUserResponse, DeleteUserRequest, DeleteUserResponse, GetUserRequest,
    GetUserResponse, ListUsersRequest, ListUsersResponse, ResetUserPasswordRequest,
    ResetUserPasswordResponse, SetUserPasswordRequest, SetUserPasswordResponse, UpdateUserRequest,
    UpdateUserResponse,
};
use sea_orm::ConnectionTrait;
use tonic::Request;

use super::guard;
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::password;
use crate::state::State;
use crate::store::entity::user;
use crate::store::{idempotency, users};

async fn message(
    db: &impl ConnectionTrait,
    row: &user::Model,
) -> Result<mtm_proto::mtm::identity::v1::User> {
    let grants = users::roles_of(db, &row.name).await?;
    Ok(convert::user(row, &grants))
}

/// FAILED_PRECONDITION when `row` is the tenant's last enabled Global admin.
async fn keep_a_global_admin(db: &impl ConnectionTrait, row: &user::Model) -> Result<()> {
    if row.enabled
        && users::holds(db, &row.name, DirectoryRole::GlobalAdmin).await?
        && users::enabled_global_admins(db, &row.tenant_id).await? <= 1
    {
        return Err(Error::FailedPrecondition(
            "the tenant's last Global admin cannot be removed or disabled".into(),
        ));
    }
    Ok(())
}

/// `CreateUser`.
pub async fn create(
    state: &State,
    request: Request<CreateUserRequest>,
) -> Result<CreateUserResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    let caller = guard::admin(state, &request, &tenant, &body.parent).await?;
    let given = body.user.clone().unwrap_or_default();
    let mut violations = Violations::new();
    if names::normalize_upn(&given.upn, "user.upn").is_err() {
        violations.add("user.upn", "must be a UPN such as ana@contoso.com");
    }
    violations.check(
        given.display_name.trim().is_empty(),
        "user.display_name",
        "is required",
    );
    violations.check(
        !body.user_id.is_empty() && !names::valid_id(&body.user_id),
        "user_id",
        "must match [a-z0-9][a-z0-9-]{0,62}",
    );
    violations.check(
        !body.initial_password.is_empty()
            && body.initial_password.chars().count() < password::MIN_LENGTH,
        "initial_password",
        "must be at least 12 characters",
    );
    violations.into_result().map_err(Error::Invalid)?;
    let key = idempotency::Key::of(
        "CreateUser",
        &body.request_id,
        &CreateUserRequest {
            request_id: String::new(),
            ..body.clone()
        },
    )?;
    let id = names::chosen_or_new_id(&body.user_id, "user_id")?;
    let hash = if body.initial_password.is_empty() {
        None
    } else {
        Some(state.passwords.hash(&body.initial_password).await?)
    };
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    if let Some(previous) = idempotency::previous(&txn, key.as_ref()).await? {
        let row = users::in_tenant(&txn, &tenant, &previous).await?;
        return Ok(CreateUserResponse {
            user: Some(message(&txn, &row).await?),
        });
    }
    let row = users::insert(
        &txn,
        users::NewUser {
            tenant,
            id,
            upn: given.upn,
            display_name: given.display_name.trim().to_owned(),
            enabled: given.enabled,
            password_hash: hash,
        },
        "user.upn",
    )
    .await?;
    caller
        .audit(&txn, AuditCategory::User, "create", &row.name, &row.upn)
        .await?;
    idempotency::remember(&txn, key, &row.name).await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(CreateUserResponse {
        user: Some(message(&state.db, &row).await?),
    })
}

/// `GetUser`.
pub async fn get(state: &State, request: Request<GetUserRequest>) -> Result<GetUserResponse> {
    let name = request.get_ref().name.clone();
    let (tenant, _) = names::parse_child(&name, "users", "name")?;
    guard::caller(state, &request, &tenant, &name).await?;
    let row = users::in_tenant(&state.db, &tenant, &name).await?;
    Ok(GetUserResponse {
        user: Some(message(&state.db, &row).await?),
    })
}

/// `ListUsers`.
pub async fn list(state: &State, request: Request<ListUsersRequest>) -> Result<ListUsersResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    guard::caller(state, &request, &tenant, &body.parent).await?;
    let terms = mtm_plumbing::filter::parse(
        &body.filter,
        &[
            ("upn", false),
            ("enabled", false),
            ("directory_role", false),
        ],
    )
    .map_err(Error::Invalid)?;
    let upn = mtm_plumbing::filter::equal(&terms, "upn").map(str::to_ascii_lowercase);
    let enabled = match mtm_plumbing::filter::equal(&terms, "enabled") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(Error::invalid("filter", "enabled is \"true\" or \"false\"")),
    };
    let role = match mtm_plumbing::filter::equal(&terms, "directory_role") {
        None => None,
        Some(value) => Some(super::roles::parse_role_name(value)?),
    };
    let mut grants: HashMap<String, Vec<_>> = HashMap::new();
    for grant in users::grants_in_tenant(&state.db, &tenant).await? {
        grants
            .entry(grant.user_name.clone())
            .or_default()
            .push(grant);
    }
    let rows: Vec<_> = users::list(&state.db, &tenant)
        .await?
        .into_iter()
        .filter(|u| upn.as_ref().is_none_or(|v| &u.upn == v))
        .filter(|u| enabled.is_none_or(|v| u.enabled == v))
        .filter(|u| {
            role.is_none_or(|r| {
                grants
                    .get(&u.name)
                    .is_some_and(|g| g.iter().any(|g| g.role == r as i32))
            })
        })
        .collect();
    let page = paging::page(
        rows,
        body.page_size,
        &body.page_token,
        &[&body.parent, &body.filter],
    )?;
    Ok(ListUsersResponse {
        users: page
            .items
            .iter()
            .map(|u| {
                let mut held = grants.get(&u.name).cloned().unwrap_or_default();
                held.sort_by_key(|g| g.role);
                convert::user(u, &held)
            })
            .collect(),
        next_page_token: page.next_page_token,
        total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
    })
}

/// `UpdateUser`: display name, UPN and enabled flag.
pub async fn update(
    state: &State,
    request: Request<UpdateUserRequest>,
) -> Result<UpdateUserResponse> {
    let body = request.get_ref();
    let given = body.user.clone().unwrap_or_default();
    let (tenant, _) = names::parse_child(&given.name, "users", "user.name")?;
    let caller = guard::admin(state, &request, &tenant, &given.name).await?;
    let paths = guard::mask_paths(
        body.update_mask.as_ref(),
        &["display_name", "upn", "enabled"],
    )?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let mut row = users::in_tenant(&txn, &tenant, &given.name).await?;
    guard::check_etag(&given.etag, row.version)?;
    for path in &paths {
        match path.as_str() {
            "display_name" => {
                if given.display_name.trim().is_empty() {
                    return Err(Error::invalid("user.display_name", "is required"));
                }
                row.display_name = given.display_name.trim().to_owned();
            }
            "upn" => {
                let (upn, domain) = names::normalize_upn(&given.upn, "user.upn")?;
                users::check_upn_domain(&txn, &tenant, &domain, "user.upn").await?;
                if users::by_upn(&txn, &upn)
                    .await?
                    .is_some_and(|u| u.name != row.name)
                {
                    return Err(Error::AlreadyExists(format!("the UPN {upn} is taken")));
                }
                row.upn = upn;
            }
            _ => {
                if !given.enabled {
                    keep_a_global_admin(&txn, &row).await?;
                }
                row.enabled = given.enabled;
            }
        }
    }
    let row = users::save(&txn, row).await?;
    caller
        .audit(&txn, AuditCategory::User, "update", &row.name, &row.upn)
        .await?;
    let user = message(&txn, &row).await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(UpdateUserResponse { user: Some(user) })
}

/// `DeleteUser`.
pub async fn delete(
    state: &State,
    request: Request<DeleteUserRequest>,
) -> Result<DeleteUserResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.name, "users", "name")?;
    let caller = guard::admin(state, &request, &tenant, &body.name).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let row = users::in_tenant(&txn, &tenant, &body.name).await?;
    guard::check_etag(&body.etag, row.version)?;
    keep_a_global_admin(&txn, &row).await?;
    users::delete(&txn, &row.name).await?;
    caller
        .audit(&txn, AuditCategory::User, "delete", &row.name, &row.upn)
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(DeleteUserResponse {})
}

/// `SetUserPassword`: a Global admin for anyone, a user for itself with its current password.
pub async fn set_password(
    state: &State,
    request: Request<SetUserPasswordRequest>,
) -> Result<SetUserPasswordResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.name, "users", "name")?;
    let caller = guard::caller(state, &request, &tenant, &body.name).await?;
    let own = caller.user.name == body.name;
    if !own {
        caller.require_admin()?;
    }
    password::check_new(&body.new_password, "new_password")?;
    let row = users::in_tenant(&state.db, &tenant, &body.name).await?;
    if own && !caller.global_admin {
        let matches = state
            .passwords
            .verify(&body.current_password, row.password_hash.as_deref())
            .await?;
        if !matches {
            return Err(Error::invalid(
                "current_password",
                "is not the current password",
            ));
        }
    }
    let hash = state.passwords.hash(&body.new_password).await?;
    store_password(state, &caller, &body.name, hash, "set_password").await?;
    Ok(SetUserPasswordResponse {})
}

/// `ResetUserPassword`: a Global admin replaces a password with a generated one.
pub async fn reset_password(
    state: &State,
    request: Request<ResetUserPasswordRequest>,
) -> Result<ResetUserPasswordResponse> {
    let name = request.get_ref().name.clone();
    let (tenant, _) = names::parse_child(&name, "users", "name")?;
    let caller = guard::admin(state, &request, &tenant, &name).await?;
    users::in_tenant(&state.db, &tenant, &name).await?;
    let temporary = password::random_password();
    let hash = state.passwords.hash(&temporary).await?;
    store_password(state, &caller, &name, hash, "reset_password").await?;
    Ok(ResetUserPasswordResponse {
        temporary_password: temporary,
    })
}

async fn store_password(
    state: &State,
    caller: &guard::Caller,
    name: &str,
    hash: String,
    operation: &str,
) -> Result<()> {
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let mut row = users::in_tenant(&txn, &caller.user.tenant_id, name).await?;
    row.password_hash = Some(hash);
    let row = users::save(&txn, row).await?;
    caller
        .audit(&txn, AuditCategory::User, operation, &row.name, &row.upn)
        .await?;
    txn.commit().await?;
    Ok(())
}
