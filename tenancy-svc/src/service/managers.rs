//! `mtm.tenancy.v1.TenantManagerService`: the partner-side tenant-manager role (R4–R6).

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::filter;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::tenancy::v1::tenant_manager_service_server::TenantManagerService;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::{Request, Response, Status};

use super::access::{self, PartnerStanding};
use super::{Audit, Caller, Page, audit_failure, audit_success, lookup, total};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::state::State;
use crate::store::entity::tenant_manager;
use crate::store::{self, managers};

/// The handlers of `TenantManagerService`.
pub struct Managers {
    state: State,
}

impl Managers {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    fn audit(
        partner: &str,
        object_id: String,
        operation: &'static str,
        member: &str,
    ) -> Audit<'static> {
        Audit {
            parent: AuditParent::Partner(partner.to_owned()),
            category: AuditCategory::Role,
            operation,
            object_id,
            object_name: member.to_owned(),
            details: Vec::new(),
        }
    }

    /// The partner id `parent` names when the caller may see its tenant managers; `admin`
    /// tells whether it may also change them (R4).
    async fn reach(&self, caller: &Caller, parent: &str) -> Result<(String, bool)> {
        let partner = names::single(parent, "partners", "parent")?;
        let (standing, _) = access::partner_standing(&self.state, caller, &partner).await?;
        match standing {
            PartnerStanding::Manager => Ok((partner, rules::is_directory_admin(&caller.principal))),
            _ => Err(Error::not_found("partner", parent)),
        }
    }

    async fn add(
        &self,
        caller: &Caller,
        request: &AddTenantManagerRequest,
    ) -> Result<TenantManager> {
        let (partner, admin) = self.reach(caller, &request.parent).await?;
        let caller = &caller.as_partner(&partner, None);
        let outcome = async {
            if !admin {
                return Err(Error::Denied(
                    "only a Global admin or a Managed Service admin adds tenant managers (R4)"
                        .into(),
                ));
            }
            if let Some(existing) =
                managers::by_member(&self.state.db, &partner, &request.member).await?
            {
                return Ok(existing);
            }
            let found = lookup::partner_members(
                &self.state,
                &partner,
                std::slice::from_ref(&request.member),
                "member",
            )
            .await?
            .remove(0);
            let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
            let id = store::new_id();
            let row = managers::insert(
                &txn,
                tenant_manager::Model {
                    id: id.clone(),
                    partner_id: partner.clone(),
                    member: request.member.clone(),
                    display_name: found.display_name,
                    upn: found.upn,
                    added_by: caller.actor_bytes(),
                    create_time: store::now_us(),
                },
            )
            .await?;
            let name = format!("partners/{partner}/tenantManagers/{id}");
            audit_success(
                &txn,
                caller,
                Self::audit(&partner, name, "add_tenant_manager", &request.member),
            )
            .await?;
            txn.commit().await?;
            Ok(row)
        }
        .await;
        match outcome {
            Ok(row) => Ok(convert::tenant_manager(&row)),
            Err(e) => {
                let audit = Self::audit(
                    &partner,
                    request.parent.clone(),
                    "add_tenant_manager",
                    &request.member,
                );
                Err(audit_failure(&self.state, caller, audit, e).await)
            }
        }
    }

    async fn remove(&self, caller: &Caller, name: &str) -> Result<()> {
        let parts: Vec<&str> = name.split('/').collect();
        let (parent, id) = match parts.as_slice() {
            ["partners", p, "tenantManagers", id] if !id.is_empty() => {
                (format!("partners/{p}"), (*id).to_owned())
            }
            _ => {
                return Err(Error::invalid(
                    "name",
                    "must be partners/{partner}/tenantManagers/{id}",
                ));
            }
        };
        let (partner, admin) = self.reach(caller, &parent).await?;
        let caller = &caller.as_partner(&partner, None);
        let row = managers::get(&self.state.db, &partner, &id)
            .await?
            .ok_or_else(|| Error::not_found("tenant manager", name))?;
        if !admin {
            let e = Error::Denied(
                "only a Global admin or a Managed Service admin removes tenant managers (R4)"
                    .into(),
            );
            let audit = Self::audit(
                &partner,
                name.to_owned(),
                "remove_tenant_manager",
                &row.member,
            );
            return Err(audit_failure(&self.state, caller, audit, e).await);
        }
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        managers::delete(&txn, &row.id).await?;
        audit_success(
            &txn,
            caller,
            Self::audit(
                &partner,
                name.to_owned(),
                "remove_tenant_manager",
                &row.member,
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

#[tonic::async_trait]
impl TenantManagerService for Managers {
    async fn add_tenant_manager(
        &self,
        request: Request<AddTenantManagerRequest>,
    ) -> Result<Response<AddTenantManagerResponse>, Status> {
        let caller = Caller::of(&request)?;
        let manager = self.add(&caller, request.get_ref()).await?;
        Ok(Response::new(AddTenantManagerResponse {
            tenant_manager: Some(manager),
        }))
    }

    async fn remove_tenant_manager(
        &self,
        request: Request<RemoveTenantManagerRequest>,
    ) -> Result<Response<RemoveTenantManagerResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.remove(&caller, &request.get_ref().name).await?;
        Ok(Response::new(RemoveTenantManagerResponse {}))
    }

    async fn list_tenant_managers(
        &self,
        request: Request<ListTenantManagersRequest>,
    ) -> Result<Response<ListTenantManagersResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let (partner, _) = self.reach(&caller, &request.parent).await?;
        let terms = filter::parse(&request.filter, &[("member", false)]).map_err(Error::Status)?;
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            &request.filter,
        )?;
        let (rows, count) = managers::list(
            &self.state.db,
            &partner,
            filter::equal(&terms, "member"),
            page.offset,
            page.size,
        )
        .await?;
        Ok(Response::new(ListTenantManagersResponse {
            next_page_token: page.next_token(rows.len(), count),
            tenant_managers: rows.iter().map(convert::tenant_manager).collect(),
            total_size: total(count),
        }))
    }
}
