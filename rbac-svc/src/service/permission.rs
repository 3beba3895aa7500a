//! `PermissionService`: the catalogue.

use mtm_proto::mtm::rbac::v1::permission_service_server::PermissionService;
use mtm_proto::mtm::rbac::v1::{ListPermissionsRequest, ListPermissionsResponse};
use tonic::{Request, Response, Status};

/// Serves the permission catalogue.
#[derive(Clone, Debug, Default)]
pub struct Permissions;

#[tonic::async_trait]
impl PermissionService for Permissions {
    async fn list_permissions(
        &self,
        _request: Request<ListPermissionsRequest>,
    ) -> Result<Response<ListPermissionsResponse>, Status> {
        Ok(Response::new(ListPermissionsResponse {
            permissions: crate::catalogue::to_proto(),
        }))
    }
}
