//! `mtm.identity.v1.DirectoryService`: a tenant's own directory, for its own users only
//! (R26). Each RPC is handled in the submodule of its resource.

mod domains;
mod groups;
mod guard;
mod preferences;
mod providers;
mod roles;
mod users;

use mtm_proto::mtm::identity::v1::directory_service_server::DirectoryService;
use mtm_proto::mtm::identity::v1::*;
use tonic::{Request, Response, Status};

use super::reply;
use crate::state::State;

/// The handlers of `DirectoryService`.
#[derive(Clone)]
pub struct DirectoryHandlers {
    state: State,
}

impl DirectoryHandlers {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

macro_rules! handlers {
    ($($method:ident($request:ty) -> $response:ty = $handler:path;)*) => {
        #[tonic::async_trait]
        impl DirectoryService for DirectoryHandlers {
            $(
                async fn $method(
                    &self,
                    request: Request<$request>,
                ) -> Result<Response<$response>, Status> {
                    reply($handler(&self.state, request).await)
                }
            )*
        }
    };
}

handlers! {
    get_directory(GetDirectoryRequest) -> GetDirectoryResponse = domains::get_directory;
    create_domain(CreateDomainRequest) -> CreateDomainResponse = domains::create;
    list_domains(ListDomainsRequest) -> ListDomainsResponse = domains::list;
    verify_domain(VerifyDomainRequest) -> VerifyDomainResponse = domains::verify;
    delete_domain(DeleteDomainRequest) -> DeleteDomainResponse = domains::delete;
    create_user(CreateUserRequest) -> CreateUserResponse = users::create;
    get_user(GetUserRequest) -> GetUserResponse = users::get;
    list_users(ListUsersRequest) -> ListUsersResponse = users::list;
    update_user(UpdateUserRequest) -> UpdateUserResponse = users::update;
    delete_user(DeleteUserRequest) -> DeleteUserResponse = users::delete;
    set_user_password(SetUserPasswordRequest) -> SetUserPasswordResponse = users::set_password;
    reset_user_password(ResetUserPasswordRequest) -> ResetUserPasswordResponse = users::reset_password;
    create_group(CreateGroupRequest) -> CreateGroupResponse = groups::create;
    get_group(GetGroupRequest) -> GetGroupResponse = groups::get;
    list_groups(ListGroupsRequest) -> ListGroupsResponse = groups::list;
    update_group(UpdateGroupRequest) -> UpdateGroupResponse = groups::update;
    delete_group(DeleteGroupRequest) -> DeleteGroupResponse = groups::delete;
    add_group_member(AddGroupMemberRequest) -> AddGroupMemberResponse = groups::add_member;
    remove_group_member(RemoveGroupMemberRequest) -> RemoveGroupMemberResponse = groups::remove_member;
    list_group_members(ListGroupMembersRequest) -> ListGroupMembersResponse = groups::list_members;
    grant_directory_role(GrantDirectoryRoleRequest) -> GrantDirectoryRoleResponse = roles::grant;
    revoke_directory_role(RevokeDirectoryRoleRequest) -> RevokeDirectoryRoleResponse = roles::revoke;
    list_directory_role_holders(ListDirectoryRoleHoldersRequest) -> ListDirectoryRoleHoldersResponse = roles::list;
    create_identity_provider(CreateIdentityProviderRequest) -> CreateIdentityProviderResponse = providers::create;
    get_identity_provider(GetIdentityProviderRequest) -> GetIdentityProviderResponse = providers::get;
    list_identity_providers(ListIdentityProvidersRequest) -> ListIdentityProvidersResponse = providers::list;
    update_identity_provider(UpdateIdentityProviderRequest) -> UpdateIdentityProviderResponse = providers::update;
    delete_identity_provider(DeleteIdentityProviderRequest) -> DeleteIdentityProviderResponse = providers::delete;
    get_user_preferences(GetUserPreferencesRequest) -> GetUserPreferencesResponse = preferences::get;
    update_user_preferences(UpdateUserPreferencesRequest) -> UpdateUserPreferencesResponse = preferences::update;
}
