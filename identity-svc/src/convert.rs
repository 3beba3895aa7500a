//! Stored rows to API messages.

use mtm_proto::mtm::identity::v1::{Directory, DirectoryRoleHolder, User};

use crate::names;
use crate::store::directories::Summary;
use crate::store::entity::{role_grant, user};
use crate::store::timestamp;

/// The `Directory` message of a summary.
pub fn directory(summary: &Summary) -> Directory {
    let tenant = names::tenant_name(&summary.directory.tenant_id);
    Directory {
        name: format!("{tenant}/directory"),
        tenant,
        display_name: summary.directory.display_name.clone(),
        kind: summary.directory.kind,
        verified_domains: summary.verified_domains.clone(),
        user_count: i32::try_from(summary.user_count).unwrap_or(i32::MAX),
        group_count: i32::try_from(summary.group_count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(summary.directory.create_time)),
    }
}

/// The `User` message of a row and its role grants.
pub fn user(row: &user::Model, grants: &[role_grant::Model]) -> User {
    User {
        name: row.name.clone(),
        upn: row.upn.clone(),
        display_name: row.display_name.clone(),
        enabled: row.enabled,
        directory_roles: grants.iter().map(|g| g.role).collect(),
        has_password: row.password_hash.is_some(),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: row.version.to_string(),
    }
}

/// The `DirectoryRoleHolder` message of a grant.
pub fn holder(row: &user::Model, grant: &role_grant::Model) -> DirectoryRoleHolder {
    DirectoryRoleHolder {
        user: row.name.clone(),
        upn: row.upn.clone(),
        display_name: row.display_name.clone(),
        role: grant.role,
        grant_time: Some(timestamp(grant.grant_time)),
    }
}
