//! `mtm.identity.v1.PrincipalInternalService`: what the other services need to know about
//! identities (R2: resolved per request through an invalidated cache).

use std::collections::BTreeSet;

use mtm_plumbing::status::Violations;
use mtm_proto::mtm::common::v1::{Principal, TenantKind};
use mtm_proto::mtm::identity::v1::principal_internal_service_server::PrincipalInternalService;
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_proto::mtm::identity::v1::{
    CreateTenantDirectoryRequest, CreateTenantDirectoryResponse, DeleteTenantDirectoryRequest,
    DeleteTenantDirectoryResponse, LookupMembersRequest, LookupMembersResponse, LookupUsersRequest,
    LookupUsersResponse, MemberKind, MemberLookup, ResolveDomainRequest, ResolveDomainResponse,
    ResolvePrincipalRequest, ResolvePrincipalResponse, UserLookup,
};
use tonic::{Request, Response, Status};

use super::reply;
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::password;
use crate::state::State;
use crate::store::entity::group;
use crate::store::{directories, epoch, principals, users};

/// The most names or UPNs one lookup may carry.
const MAX_LOOKUP: usize = 1000;

/// The handlers of `PrincipalInternalService`.
#[derive(Clone)]
pub struct InternalService {
    state: State,
}

impl InternalService {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    async fn resolve(&self, request: ResolvePrincipalRequest) -> Result<ResolvePrincipalResponse> {
        let (key, user) = match request.user_ref {
            Some(UserRef::User(name)) => {
                names::parse_child(&name, "users", "user")?;
                let key = format!("name:{name}");
                (key, Err(name))
            }
            Some(UserRef::Upn(upn)) => {
                let (upn, _) = names::normalize_upn(&upn, "upn")?;
                (format!("upn:{upn}"), Ok(upn))
            }
            None => return Err(Error::invalid("user_ref", "give user or upn")),
        };
        let epoch = epoch::current(&self.state.db).await?;
        if let Some(hit) = self.state.cache.get(&key, epoch) {
            return Ok(hit);
        }
        let row = match &user {
            Err(name) => users::by_name(&self.state.db, name).await?,
            Ok(upn) => users::by_upn(&self.state.db, upn).await?,
        };
        let row = row.ok_or_else(|| Error::NotFound(user.unwrap_or_else(|name| name)))?;
        let resolved = principals::resolve(&self.state.db, row).await?;
        let response = ResolvePrincipalResponse {
            principal: Some(Principal {
                user: resolved.user.name.clone(),
                upn: resolved.user.upn.clone(),
                home_tenant: names::tenant_name(&resolved.user.tenant_id),
                groups: resolved.groups,
                directory_roles: resolved.roles,
                amr: Vec::new(),
                operator: false,
            }),
            enabled: resolved.user.enabled,
            display_name: resolved.user.display_name,
            all_tickets_view_enabled: resolved.all_tickets_view_enabled,
        };
        self.state.cache.store(key, epoch, response.clone());
        Ok(response)
    }

    async fn lookup_users(&self, request: LookupUsersRequest) -> Result<LookupUsersResponse> {
        if request.upns.len() > MAX_LOOKUP {
            return Err(Error::invalid("upns", "at most 1000 UPNs"));
        }
        let mut answers = Vec::with_capacity(request.upns.len());
        for upn in request.upns {
            let row = match names::normalize_upn(&upn, "upns") {
                Ok((lower, _)) => users::by_upn(&self.state.db, &lower).await?,
                Err(_) => None,
            };
            answers.push(match row {
                Some(user) => UserLookup {
                    upn,
                    found: true,
                    tenant: names::tenant_name(&user.tenant_id),
                    user: user.name,
                    enabled: user.enabled,
                    display_name: user.display_name,
                },
                None => UserLookup {
                    upn,
                    ..Default::default()
                },
            });
        }
        Ok(LookupUsersResponse { users: answers })
    }

    async fn lookup_members(&self, request: LookupMembersRequest) -> Result<LookupMembersResponse> {
        use sea_orm::EntityTrait;
        if request.names.len() > MAX_LOOKUP {
            return Err(Error::invalid("names", "at most 1000 names"));
        }
        let mut answers = Vec::with_capacity(request.names.len());
        for name in request.names {
            let mut answer = MemberLookup {
                name: name.clone(),
                ..Default::default()
            };
            if names::parse_child(&name, "users", "names").is_ok() {
                if let Some(user) = users::by_name(&self.state.db, &name).await? {
                    answer.found = true;
                    answer.kind = MemberKind::User as i32;
                    answer.tenant = names::tenant_name(&user.tenant_id);
                    answer.display_name = user.display_name;
                    answer.upn = user.upn;
                    answer.enabled = user.enabled;
                }
            } else if names::parse_child(&name, "groups", "names").is_ok()
                && let Some(found) = group::Entity::find_by_id(name.as_str())
                    .one(&self.state.db)
                    .await?
            {
                answer.found = true;
                answer.kind = MemberKind::Group as i32;
                answer.tenant = names::tenant_name(&found.tenant_id);
                answer.display_name = found.display_name;
                answer.enabled = true;
            }
            answers.push(answer);
        }
        Ok(LookupMembersResponse { members: answers })
    }

    async fn resolve_domain(&self, request: ResolveDomainRequest) -> Result<ResolveDomainResponse> {
        let domain = names::normalize_domain(&request.domain_name, "domain_name")?;
        let directory = directories::resolve_domain(&self.state.db, &domain)
            .await?
            .ok_or_else(|| Error::NotFound(format!("a verified domain {domain}")))?;
        Ok(ResolveDomainResponse {
            tenant: names::tenant_name(&directory.tenant_id),
            display_name: directory.display_name,
            kind: directory.kind,
        })
    }

    async fn create_directory(
        &self,
        request: CreateTenantDirectoryRequest,
    ) -> Result<CreateTenantDirectoryResponse> {
        let mut violations = Violations::new();
        let tenant = names::parse_tenant(&request.tenant, "tenant");
        if tenant.is_err() {
            violations.add("tenant", "must be tenants/{tenant}");
        }
        violations.check(
            request.display_name.trim().is_empty(),
            "display_name",
            "is required",
        );
        let kind = TenantKind::try_from(request.kind).unwrap_or(TenantKind::Unspecified);
        violations.check(
            kind == TenantKind::Unspecified,
            "kind",
            "must be PARTNER or CUSTOMER",
        );
        violations.check(request.domains.is_empty(), "domains", "give at least one");
        let mut domains = BTreeSet::new();
        for (i, domain) in request.domains.iter().enumerate() {
            match names::normalize_domain(domain, "domains") {
                Ok(d) => {
                    domains.insert(d);
                }
                Err(_) => {
                    violations.add(format!("domains[{i}]"), "must be a DNS name");
                }
            }
        }
        let upn = names::normalize_upn(&request.first_admin_upn, "first_admin_upn");
        match &upn {
            Err(_) => {
                violations.add("first_admin_upn", "must be a UPN such as ana@contoso.com");
            }
            Ok((_, domain)) if !domains.contains(domain) => {
                violations.add("first_admin_upn", "its domain must be one of `domains`");
            }
            Ok(_) => {}
        }
        violations.check(
            request.first_admin_display_name.trim().is_empty(),
            "first_admin_display_name",
            "is required",
        );
        if let Err(Error::Invalid(status)) =
            password::check_new(&request.first_admin_password, "first_admin_password")
        {
            violations.add("first_admin_password", status.message().to_owned());
        }
        violations.into_result().map_err(Error::Invalid)?;
        let (tenant, (upn, _)) = (tenant?, upn?);
        let hash = self
            .state
            .passwords
            .hash(&request.first_admin_password)
            .await?;
        let (summary, admin) = directories::create(
            &self.state.db,
            directories::NewDirectory {
                tenant,
                display_name: request.display_name.trim().to_owned(),
                kind: kind as i32,
                domains,
                admin_upn: upn,
                admin_display_name: request.first_admin_display_name.trim().to_owned(),
                admin_password_hash: hash,
            },
        )
        .await?;
        self.state.cache.invalidate();
        Ok(CreateTenantDirectoryResponse {
            directory: Some(convert::directory(&summary)),
            first_admin_user: admin,
        })
    }

    async fn delete_directory(
        &self,
        request: DeleteTenantDirectoryRequest,
    ) -> Result<DeleteTenantDirectoryResponse> {
        let tenant = names::parse_tenant(&request.tenant, "tenant")?;
        directories::delete(&self.state.db, &tenant).await?;
        self.state.cache.invalidate();
        Ok(DeleteTenantDirectoryResponse {})
    }
}

#[tonic::async_trait]
impl PrincipalInternalService for InternalService {
    async fn resolve_principal(
        &self,
        request: Request<ResolvePrincipalRequest>,
    ) -> Result<Response<ResolvePrincipalResponse>, Status> {
        reply(self.resolve(request.into_inner()).await)
    }

    async fn lookup_users(
        &self,
        request: Request<LookupUsersRequest>,
    ) -> Result<Response<LookupUsersResponse>, Status> {
        reply(InternalService::lookup_users(self, request.into_inner()).await)
    }

    async fn lookup_members(
        &self,
        request: Request<LookupMembersRequest>,
    ) -> Result<Response<LookupMembersResponse>, Status> {
        reply(InternalService::lookup_members(self, request.into_inner()).await)
    }

    async fn resolve_domain(
        &self,
        request: Request<ResolveDomainRequest>,
    ) -> Result<Response<ResolveDomainResponse>, Status> {
        reply(InternalService::resolve_domain(self, request.into_inner()).await)
    }

    async fn create_tenant_directory(
        &self,
        request: Request<CreateTenantDirectoryRequest>,
    ) -> Result<Response<CreateTenantDirectoryResponse>, Status> {
        reply(self.create_directory(request.into_inner()).await)
    }

    async fn delete_tenant_directory(
        &self,
        request: Request<DeleteTenantDirectoryRequest>,
    ) -> Result<Response<DeleteTenantDirectoryResponse>, Status> {
        reply(self.delete_directory(request.into_inner()).await)
    }
}
