//! `mtm.tenancy.v1.TenantService`: the operator's tenant administration and elite-partner
//! enrolment (R1), and each tenant's view of itself.

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::filter;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;
use mtm_proto::mtm::tenancy::v1::tenant_service_server::TenantService;
use mtm_proto::mtm::tenancy::v1::*;
use sea_orm::Set;
use tonic::{Request, Response, Status};

mod validate;

use super::{Audit, Caller, Page, audit_success, total};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::entity::tenant;
use crate::store::{self, managers, relationships, tenants};
use crate::sync;
use validate::validate_create;

/// The handlers of `TenantService`.
pub struct Tenants {
    state: State,
}

impl Tenants {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    fn tenant_audit(id: &str, kind: &str, operation: &'static str, name: &str) -> Audit<'static> {
        Audit {
            parent: if kind == "PARTNER" {
                AuditParent::Partner(id.to_owned())
            } else {
                AuditParent::Customer(id.to_owned())
            },
            category: AuditCategory::Tenant,
            operation,
            object_id: format!("tenants/{id}"),
            object_name: name.to_owned(),
            details: Vec::new(),
        }
    }

    async fn create(&self, caller: &Caller, request: CreateTenantRequest) -> Result<Tenant> {
        if !caller.is_operator() {
            return Err(Error::Denied("only the operator creates tenants".into()));
        }
        if !request.request_id.is_empty()
            && let Some(existing) =
                tenants::by_request_id(&self.state.db, &request.request_id).await?
        {
            return self.finish(caller, existing).await;
        }
        let row = validate_create(&request)?;
        if let Some(existing) = tenants::get(&self.state.db, &row.id).await? {
            if existing.state == "PROVISIONING"
                && existing.request_id.is_some()
                && existing.request_id == row.request_id
            {
                return self.finish(caller, existing).await;
            }
            return Err(Error::AlreadyExists(format!("tenants/{}", row.id)));
        }
        if tenants::by_primary_domain(&self.state.db, &row.primary_domain)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "domain {}",
                row.primary_domain
            )));
        }
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        let audit = Self::tenant_audit(&row.id, &row.kind, "create", &row.display_name);
        let inserted = match tenants::insert(&txn, row).await {
            Ok(inserted) => inserted,
            Err(Error::Db(_)) => return Err(Error::AlreadyExists("tenant id or domain".into())),
            Err(e) => return Err(e),
        };
        audit_success(&txn, caller, audit).await?;
        txn.commit().await?;
        self.finish(caller, inserted).await
    }

    async fn finish(&self, caller: &Caller, row: tenant::Model) -> Result<Tenant> {
        if row.state == "PROVISIONING" {
            let done = sync::provision(&self.state, caller, row).await?;
            return Ok(convert::tenant(&done));
        }
        Ok(convert::tenant(&row))
    }

    async fn visible(
        &self,
        caller: &Caller,
        name: &str,
        collection: &str,
    ) -> Result<tenant::Model> {
        let id = names::single(name, collection, "name")?;
        let row = tenants::get(&self.state.db, &id).await?;
        match row {
            Some(row) if caller.is_operator() || caller.home() == row.id => Ok(row),
            _ => Err(Error::not_found("tenant", name)),
        }
    }

    async fn profile(&self, row: &tenant::Model) -> Result<PartnerProfile> {
        let (_, managers) = managers::list(&self.state.db, &row.id, None, 0, 0).await?;
        let (_, active) = relationships::list(
            &self.state.db,
            &relationships::RelationshipFilter {
                partner: Some(row.id.clone()),
                states: vec!["ACTIVE".into()],
                ..Default::default()
            },
            0,
            0,
        )
        .await?;
        Ok(convert::partner_profile(row, managers, active))
    }

    async fn operator_partner(&self, caller: &Caller, name: &str) -> Result<tenant::Model> {
        if !caller.is_operator() {
            return Err(Error::not_found("partner", name));
        }
        let id = names::single(name, "partners", "name")?;
        let row = tenants::get(&self.state.db, &id)
            .await?
            .ok_or_else(|| Error::not_found("partner", name))?;
        if row.kind != "PARTNER" {
            return Err(Error::precondition(
                "NOT_A_PARTNER",
                name,
                "only partner tenants can be elite partners (R1)",
            ));
        }
        Ok(row)
    }

    async fn enroll(&self, caller: &Caller, name: &str) -> Result<PartnerProfile> {
        let row = self.operator_partner(caller, name).await?;
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        if tenants::set_elite(&txn, &row.id, true, store::now_us()).await? {
            let mut audit = Self::tenant_audit(
                &row.id,
                "PARTNER",
                "enroll_elite_partner",
                &row.display_name,
            );
            audit.object_id = format!("partners/{}", row.id);
            audit_success(&txn, caller, audit).await?;
        }
        txn.commit().await?;
        let row = tenants::get(&self.state.db, &row.id)
            .await?
            .ok_or_else(|| Error::not_found("partner", name))?;
        self.profile(&row).await
    }

    async fn unenroll(
        &self,
        caller: &Caller,
        request: UnenrollElitePartnerRequest,
    ) -> Result<UnenrollElitePartnerResponse> {
        let row = self.operator_partner(caller, &request.name).await?;
        if !request.confirm {
            return Err(Error::invalid(
                "confirm",
                "must be true to unenrol a partner",
            ));
        }
        let (live, _) = relationships::list(
            &self.state.db,
            &relationships::RelationshipFilter {
                partner: Some(row.id.clone()),
                ..Default::default()
            },
            0,
            u64::MAX,
        )
        .await?;
        let mut terminated = 0;
        for rel in live
            .into_iter()
            .filter(|r| r.active_pair.is_some() || r.terminating)
        {
            sync::terminate(
                &self.state,
                caller,
                rel,
                TerminationReason::PartnerUnenrolled,
            )
            .await?;
            terminated += 1;
        }
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        let now = store::now_us();
        crate::store::invitations::withdraw_pending(&txn, None, &row.id, caller.actor_bytes(), now)
            .await?;
        if tenants::set_elite(&txn, &row.id, false, now).await? {
            let mut audit = Self::tenant_audit(
                &row.id,
                "PARTNER",
                "unenroll_elite_partner",
                &row.display_name,
            );
            audit.object_id = format!("partners/{}", row.id);
            audit_success(&txn, caller, audit).await?;
        }
        txn.commit().await?;
        let row = tenants::get(&self.state.db, &row.id)
            .await?
            .ok_or_else(|| Error::not_found("partner", &request.name))?;
        Ok(UnenrollElitePartnerResponse {
            partner_profile: Some(self.profile(&row).await?),
            terminated_relationship_count: terminated,
        })
    }

    async fn delete(&self, caller: &Caller, request: DeleteTenantRequest) -> Result<()> {
        if !caller.is_operator() {
            return Err(Error::not_found("tenant", &request.name));
        }
        let id = names::single(&request.name, "tenants", "name")?;
        if !request.confirm {
            return Err(Error::invalid("confirm", "must be true to delete a tenant"));
        }
        let row = tenants::get(&self.state.db, &id)
            .await?
            .ok_or_else(|| Error::not_found("tenant", &request.name))?;
        if convert::version_of(&request.etag, &request.name)?.is_some_and(|v| v != row.version) {
            return Err(Error::Aborted(request.name));
        }
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        let audit = Self::tenant_audit(&row.id, &row.kind, "delete", &row.display_name);
        let row =
            tenants::update(&txn, row, |active| active.state = Set("DELETING".into())).await?;
        audit_success(&txn, caller, audit).await?;
        txn.commit().await?;
        sync::delete_tenant(&self.state, caller, row).await
    }

    async fn list(
        &self,
        caller: &Caller,
        request: ListTenantsRequest,
    ) -> Result<ListTenantsResponse> {
        if !caller.is_operator() {
            return Err(Error::Denied("only the operator lists tenants".into()));
        }
        let terms = filter::parse(
            &request.filter,
            &[
                ("kind", false),
                ("state", false),
                ("elite_partner", false),
                ("primary_domain", false),
            ],
        )
        .map_err(Error::Status)?;
        let elite = match filter::equal(&terms, "elite_partner") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(Error::invalid(
                    "filter",
                    "elite_partner takes \"true\" or \"false\"",
                ));
            }
        };
        let query = tenants::TenantFilter {
            kind: filter::equal(&terms, "kind").map(str::to_owned),
            state: filter::equal(&terms, "state").map(str::to_owned),
            elite,
            primary_domain: filter::equal(&terms, "primary_domain").map(str::to_ascii_lowercase),
        };
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            "",
            &request.filter,
        )?;
        let (rows, count) = tenants::list(&self.state.db, &query, page.offset, page.size).await?;
        Ok(ListTenantsResponse {
            next_page_token: page.next_token(rows.len(), count),
            tenants: rows.iter().map(convert::tenant).collect(),
            total_size: total(count),
        })
    }
}

#[tonic::async_trait]
impl TenantService for Tenants {
    async fn create_tenant(
        &self,
        request: Request<CreateTenantRequest>,
    ) -> Result<Response<CreateTenantResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let tenant = self.create(&caller, request).await?;
        Ok(Response::new(CreateTenantResponse {
            tenant: Some(tenant),
        }))
    }

    async fn get_tenant(
        &self,
        request: Request<GetTenantRequest>,
    ) -> Result<Response<GetTenantResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = self
            .visible(&caller, &request.get_ref().name, "tenants")
            .await?;
        Ok(Response::new(GetTenantResponse {
            tenant: Some(convert::tenant(&row)),
        }))
    }

    async fn list_tenants(
        &self,
        request: Request<ListTenantsRequest>,
    ) -> Result<Response<ListTenantsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.list(&caller, request.into_inner()).await?,
        ))
    }

    async fn delete_tenant(
        &self,
        request: Request<DeleteTenantRequest>,
    ) -> Result<Response<DeleteTenantResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.delete(&caller, request.into_inner()).await?;
        Ok(Response::new(DeleteTenantResponse {}))
    }

    async fn enroll_elite_partner(
        &self,
        request: Request<EnrollElitePartnerRequest>,
    ) -> Result<Response<EnrollElitePartnerResponse>, Status> {
        let caller = Caller::of(&request)?;
        let profile = self.enroll(&caller, &request.get_ref().name).await?;
        Ok(Response::new(EnrollElitePartnerResponse {
            partner_profile: Some(profile),
        }))
    }

    async fn unenroll_elite_partner(
        &self,
        request: Request<UnenrollElitePartnerRequest>,
    ) -> Result<Response<UnenrollElitePartnerResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.unenroll(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_partner_profile(
        &self,
        request: Request<GetPartnerProfileRequest>,
    ) -> Result<Response<GetPartnerProfileResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = self
            .visible(&caller, &request.get_ref().name, "partners")
            .await?;
        if row.kind != "PARTNER" {
            return Err(Error::not_found("partner", &request.get_ref().name).into());
        }
        Ok(Response::new(GetPartnerProfileResponse {
            partner_profile: Some(self.profile(&row).await?),
        }))
    }
}
