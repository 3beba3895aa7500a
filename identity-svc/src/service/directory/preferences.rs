//! A user's own preferences (R25's *all tickets* view), readable and writable only by it.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::identity::v1::{
    GetUserPreferencesRequest, GetUserPreferencesResponse, UpdateUserPreferencesRequest,
    UpdateUserPreferencesResponse, UserPreferences,
};
use tonic::Request;

use super::guard;
use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::entity::preference;
use crate::store::{timestamp, users};

fn message(user: &str, row: Option<&preference::Model>) -> UserPreferences {
    UserPreferences {
        name: format!("{user}/preferences"),
        all_tickets_view_enabled: row.is_some_and(|p| p.all_tickets_view_enabled),
        update_time: row.map(|p| timestamp(p.update_time)),
        etag: row.map_or_else(|| "0".to_owned(), |p| p.version.to_string()),
    }
}

/// The user of `tenants/{tenant}/users/{user}/preferences`, which must be the caller.
async fn own_user<T>(
    state: &State,
    request: &Request<T>,
    name: &str,
    field: &str,
) -> Result<(String, guard::Caller)> {
    let user = name.strip_suffix("/preferences").ok_or_else(|| {
        Error::invalid(field, "must be tenants/{tenant}/users/{user}/preferences")
    })?;
    let (tenant, _) = names::parse_child(user, "users", field)?;
    let caller = guard::caller(state, request, &tenant, name).await?;
    if caller.user.name != user {
        return Err(Error::PermissionDenied(
            "only the user itself may see or change its preferences".into(),
        ));
    }
    Ok((user.to_owned(), caller))
}

/// `GetUserPreferences`.
pub async fn get(
    state: &State,
    request: Request<GetUserPreferencesRequest>,
) -> Result<GetUserPreferencesResponse> {
    let name = request.get_ref().name.clone();
    let (user, _) = own_user(state, &request, &name, "name").await?;
    let row = users::preferences(&state.db, &user).await?;
    Ok(GetUserPreferencesResponse {
        preferences: Some(message(&user, row.as_ref())),
    })
}

/// `UpdateUserPreferences`.
pub async fn update(
    state: &State,
    request: Request<UpdateUserPreferencesRequest>,
) -> Result<UpdateUserPreferencesResponse> {
    let given = request.get_ref().preferences.clone().unwrap_or_default();
    let (user, caller) = own_user(state, &request, &given.name, "preferences.name").await?;
    guard::mask_paths(
        request.get_ref().update_mask.as_ref(),
        &["all_tickets_view_enabled"],
    )?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let current = users::preferences(&txn, &user).await?;
    guard::check_etag(&given.etag, current.as_ref().map_or(0, |p| p.version))?;
    let row = users::save_preferences(&txn, &user, given.all_tickets_view_enabled).await?;
    caller
        .audit(
            &txn,
            AuditCategory::User,
            "update_preferences",
            &user,
            &caller.user.upn,
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(UpdateUserPreferencesResponse {
        preferences: Some(message(&user, Some(&row))),
    })
}
