//! `RoleService`: customer roles and per-relationship partner roles and their assignments,
//! guarded by the caller's principal from the call context (R19–R22, R31, R33, R36, R37).

mod assignments;
mod definitions;

use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::role_service_server::RoleService;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::index::Index;
use crate::roles::guard::Caller;
use crate::service::who;
use crate::state::{Ready, now};

/// Serves role management.
#[derive(Clone)]
pub struct Roles {
    state: Ready,
}

impl Roles {
    /// Role management over `state`.
    pub fn new(state: Ready) -> Roles {
        Roles { state }
    }
}

/// The caller of `request` at `customer`, decided with `index`.
fn caller<T>(request: &Request<T>, index: &Index, customer: &str) -> Result<Caller, Status> {
    let context = mtm_plumbing::context::extract(request)?;
    let who = who(context.principal.as_ref(), "principal")
        .map_err(|_| Status::unauthenticated("the call context carries no valid principal"))?;
    Ok(Caller::resolve(index, &who, customer, now().0))
}

/// Checks an optional etag against the current one (ABORTED when stale).
fn check_etag(given: &str, current: &str, name: &str) -> Result<(), Error> {
    if given.is_empty() || given == current {
        Ok(())
    } else {
        Err(Error::Aborted(name.to_owned()))
    }
}

/// The update mask's paths, all of `allowed` when empty; INVALID_ARGUMENT for others.
fn mask_paths(
    mask: Option<&prost_types::FieldMask>,
    allowed: &[&str],
) -> Result<Vec<String>, Error> {
    let paths: Vec<String> = mask.map(|m| m.paths.clone()).unwrap_or_default();
    if paths.is_empty() {
        return Ok(allowed.iter().map(|p| (*p).to_owned()).collect());
    }
    for (i, path) in paths.iter().enumerate() {
        if !allowed.contains(&path.as_str()) {
            return Err(Error::invalid(
                format!("update_mask.paths[{i}]"),
                format!("must be one of {}", allowed.join(", ")),
            ));
        }
    }
    Ok(paths)
}

#[tonic::async_trait]
impl RoleService for Roles {
    async fn create_role(
        &self,
        request: Request<pb::CreateRoleRequest>,
    ) -> Result<Response<pb::CreateRoleResponse>, Status> {
        self.create_role_impl(request).await
    }

    async fn get_role(
        &self,
        request: Request<pb::GetRoleRequest>,
    ) -> Result<Response<pb::GetRoleResponse>, Status> {
        self.get_role_impl(request).await
    }

    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        self.list_roles_impl(request).await
    }

    async fn update_role(
        &self,
        request: Request<pb::UpdateRoleRequest>,
    ) -> Result<Response<pb::UpdateRoleResponse>, Status> {
        self.update_role_impl(request).await
    }

    async fn delete_role(
        &self,
        request: Request<pb::DeleteRoleRequest>,
    ) -> Result<Response<pb::DeleteRoleResponse>, Status> {
        self.delete_role_impl(request).await
    }

    async fn create_role_assignment(
        &self,
        request: Request<pb::CreateRoleAssignmentRequest>,
    ) -> Result<Response<pb::CreateRoleAssignmentResponse>, Status> {
        self.create_assignment_impl(request).await
    }

    async fn get_role_assignment(
        &self,
        request: Request<pb::GetRoleAssignmentRequest>,
    ) -> Result<Response<pb::GetRoleAssignmentResponse>, Status> {
        self.get_assignment_impl(request).await
    }

    async fn list_role_assignments(
        &self,
        request: Request<pb::ListRoleAssignmentsRequest>,
    ) -> Result<Response<pb::ListRoleAssignmentsResponse>, Status> {
        self.list_assignments_impl(request).await
    }

    async fn update_role_assignment(
        &self,
        request: Request<pb::UpdateRoleAssignmentRequest>,
    ) -> Result<Response<pb::UpdateRoleAssignmentResponse>, Status> {
        self.update_assignment_impl(request).await
    }

    async fn delete_role_assignment(
        &self,
        request: Request<pb::DeleteRoleAssignmentRequest>,
    ) -> Result<Response<pb::DeleteRoleAssignmentResponse>, Status> {
        self.delete_assignment_impl(request).await
    }
}
