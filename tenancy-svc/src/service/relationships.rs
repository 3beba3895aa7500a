//! `mtm.tenancy.v1.RelationshipService`: relationships after onboarding — reading, scope
//! (R18), change control (R29), end time and renewal (R30), offboarding (R16, R17) and
//! primary admins (R14).

mod admins;
mod change;

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::filter;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::tenancy::v1::relationship_service_server::RelationshipService;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::{Request, Response, Status};

use super::access::{self, PartnerStanding};
use super::{Audit, Caller, Page, total};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::state::State;
use crate::store::entity::relationship as row;
use crate::store::{self, primary_admins, relationships, tenants};

/// The handlers of `RelationshipService`.
pub struct Relationships {
    state: State,
}

/// How the caller reaches a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A user of the customer.
    Customer,
    /// A primary admin of the relationship (partner side, full view).
    PrimaryAdmin,
    /// A Global admin, Managed Service admin or tenant manager of the partner (summary view).
    PartnerManager,
}

impl Relationships {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    fn audit(rel: &row::Model, operation: &'static str, side: Side) -> Audit<'static> {
        Audit {
            parent: if side == Side::Customer {
                AuditParent::Customer(rel.customer_id.clone())
            } else {
                AuditParent::Partner(rel.partner_id.clone())
            },
            category: AuditCategory::Relationship,
            operation,
            object_id: names::relationship(&rel.customer_id, &rel.id),
            object_name: format!("{} manages {}", rel.partner_id, rel.customer_id),
            details: Vec::new(),
        }
    }

    /// The caller as the actor of an act on `rel` reached from `side`: on the partner side the
    /// actor names the partner and the relationship (R28).
    fn acting(caller: &Caller, rel: &row::Model, side: Side) -> Caller {
        if side == Side::Customer {
            caller.clone()
        } else {
            let name = names::relationship(&rel.customer_id, &rel.id);
            caller.as_partner(&rel.partner_id, Some(&name))
        }
    }

    /// The relationship `name` and how the caller reaches it; NOT_FOUND when it does not.
    async fn reach(&self, caller: &Caller, name: &str) -> Result<(row::Model, Side)> {
        let (customer, id) = names::pair(name, "customers", "partnerRelationships", "name")?;
        let rel = relationships::get(&self.state.db, &customer, &id)
            .await?
            .ok_or_else(|| Error::not_found("relationship", name))?;
        if access::is_customer(caller, &customer) {
            return Ok((rel, Side::Customer));
        }
        if caller.is_operator() || caller.home() != rel.partner_id {
            return Err(Error::not_found("relationship", name));
        }
        if rel.state != "TERMINATED" && self.is_primary_admin(caller, &rel).await? {
            return Ok((rel, Side::PrimaryAdmin));
        }
        let (standing, _) = access::partner_standing(&self.state, caller, &rel.partner_id).await?;
        if standing == PartnerStanding::Manager {
            return Ok((rel, Side::PartnerManager));
        }
        Err(Error::not_found("relationship", name))
    }

    async fn is_primary_admin(&self, caller: &Caller, rel: &row::Model) -> Result<bool> {
        let members: Vec<String> = primary_admins::all(&self.state.db, &rel.id)
            .await?
            .into_iter()
            .filter(|p| !p.removing)
            .map(|p| p.member)
            .collect();
        Ok(rules::is_member(&caller.principal, &members))
    }

    /// Renders relationships; `full` decides per row whether the scope is shown.
    async fn render(
        &self,
        rows: &[row::Model],
        full: impl Fn(&row::Model) -> bool,
    ) -> Result<Vec<Relationship>> {
        let mut ids: Vec<String> = rows
            .iter()
            .flat_map(|r| [r.customer_id.clone(), r.partner_id.clone()])
            .collect();
        ids.sort();
        ids.dedup();
        let known = tenants::many(&self.state.db, &ids).await?;
        let find = |id: &str| known.iter().find(|t| t.id == id);
        let now = store::now_us();
        let mut out = Vec::new();
        for r in rows {
            let count = primary_admins::counted(&self.state.db, &r.id).await?;
            out.push(convert::relationship(
                r,
                find(&r.customer_id),
                find(&r.partner_id),
                count,
                full(r),
                now,
            ));
        }
        Ok(out)
    }

    async fn render_one(&self, rel: &row::Model, side: Side) -> Result<Relationship> {
        let mut out = self
            .render(std::slice::from_ref(rel), |_| side != Side::PartnerManager)
            .await?;
        out.pop()
            .ok_or_else(|| Error::not_found("relationship", &rel.id))
    }

    /// Expires relationships past their end time before they are read (R30). rbac-svc
    /// enforces end times on its own, so a sweep that cannot reach it only logs.
    async fn sweep(&self) -> Result<()> {
        if let Err(e) = crate::sync::expire_due(&self.state, &Caller::system()).await {
            tracing::warn!(error = %e, "expiry not yet applied; the next sweep repeats it");
        }
        Ok(())
    }

    fn state_filter(filter_text: &str, other: &str) -> Result<(Vec<String>, Option<String>)> {
        let terms = filter::parse(filter_text, &[("state", false), (other, false)])
            .map_err(Error::Status)?;
        let states = filter::equal(&terms, "state")
            .map(|s| vec![s.to_owned()])
            .unwrap_or_default();
        let other_id = match filter::equal(&terms, other) {
            Some(v) => Some(names::single(v, &format!("{other}s"), "filter")?),
            None => None,
        };
        Ok((states, other_id))
    }
}

#[tonic::async_trait]
impl RelationshipService for Relationships {
    async fn get_relationship(
        &self,
        request: Request<GetRelationshipRequest>,
    ) -> Result<Response<GetRelationshipResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.sweep().await?;
        let (rel, side) = self.reach(&caller, &request.get_ref().name).await?;
        Ok(Response::new(GetRelationshipResponse {
            relationship: Some(self.render_one(&rel, side).await?),
        }))
    }

    async fn list_relationships(
        &self,
        request: Request<ListRelationshipsRequest>,
    ) -> Result<Response<ListRelationshipsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let customer = names::single(&request.parent, "customers", "parent")?;
        if !access::is_customer(&caller, &customer) {
            return Err(Error::not_found("customer", &request.parent).into());
        }
        self.sweep().await?;
        let (states, partner) = Self::state_filter(&request.filter, "partner")?;
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            &request.filter,
        )?;
        let query = relationships::RelationshipFilter {
            customer: Some(customer),
            partner,
            states,
        };
        let (rows, count) =
            relationships::list(&self.state.db, &query, page.offset, page.size).await?;
        Ok(Response::new(ListRelationshipsResponse {
            next_page_token: page.next_token(rows.len(), count),
            relationships: self.render(&rows, |_| true).await?,
            total_size: total(count),
        }))
    }

    async fn list_managed_customers(
        &self,
        request: Request<ListManagedCustomersRequest>,
    ) -> Result<Response<ListManagedCustomersResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let partner = names::single(&request.parent, "partners", "parent")?;
        let (standing, _) = access::partner_standing(&self.state, &caller, &partner).await?;
        if standing == PartnerStanding::Outsider {
            return Err(Error::not_found("partner", &request.parent).into());
        }
        self.sweep().await?;
        let (states, customer) = Self::state_filter(&request.filter, "customer")?;
        let active_only = states.is_empty();
        let query = relationships::RelationshipFilter {
            customer,
            partner: Some(partner),
            states: if active_only {
                vec!["ACTIVE".to_owned()]
            } else {
                states
            },
        };
        let (all, _) = relationships::list(&self.state.db, &query, 0, u64::MAX).await?;
        let mut visible = Vec::new();
        let mut admin_of = Vec::new();
        for rel in all.into_iter().filter(|r| !(active_only && r.terminating)) {
            let admin = rel.state != "TERMINATED" && self.is_primary_admin(&caller, &rel).await?;
            if admin || standing == PartnerStanding::Manager {
                if admin {
                    admin_of.push(rel.id.clone());
                }
                visible.push(rel);
            }
        }
        let mut rendered = self.render(&visible, |r| admin_of.contains(&r.id)).await?;
        rendered.sort_by(|a, b| {
            a.customer_display_name
                .cmp(&b.customer_display_name)
                .then(a.name.cmp(&b.name))
        });
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            &request.filter,
        )?;
        let count = rendered.len() as u64;
        let start = usize::try_from(page.offset)
            .unwrap_or(usize::MAX)
            .min(rendered.len());
        let end = start
            .saturating_add(usize::try_from(page.size).unwrap_or(usize::MAX))
            .min(rendered.len());
        let slice: Vec<Relationship> = rendered[start..end].to_vec();
        Ok(Response::new(ListManagedCustomersResponse {
            next_page_token: page.next_token(slice.len(), count),
            relationships: slice,
            total_size: total(count),
        }))
    }

    async fn update_relationship_scope(
        &self,
        request: Request<UpdateRelationshipScopeRequest>,
    ) -> Result<Response<UpdateRelationshipScopeResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.update_scope(&caller, request.into_inner()).await?,
        ))
    }

    async fn update_change_control(
        &self,
        request: Request<UpdateChangeControlRequest>,
    ) -> Result<Response<UpdateChangeControlResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.update_change_control(&caller, request.into_inner())
                .await?,
        ))
    }

    async fn set_relationship_end_time(
        &self,
        request: Request<SetRelationshipEndTimeRequest>,
    ) -> Result<Response<SetRelationshipEndTimeResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let (relationship, rbac_revision) = self
            .set_end(
                &caller,
                &request.name,
                request.end_time.as_ref(),
                &request.etag,
                false,
            )
            .await?;
        Ok(Response::new(SetRelationshipEndTimeResponse {
            relationship: Some(relationship),
            rbac_revision,
        }))
    }

    async fn renew_relationship(
        &self,
        request: Request<RenewRelationshipRequest>,
    ) -> Result<Response<RenewRelationshipResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let (relationship, rbac_revision) = self
            .set_end(
                &caller,
                &request.name,
                request.end_time.as_ref(),
                &request.etag,
                true,
            )
            .await?;
        Ok(Response::new(RenewRelationshipResponse {
            relationship: Some(relationship),
            rbac_revision,
        }))
    }

    async fn remove_partner(
        &self,
        request: Request<RemovePartnerRequest>,
    ) -> Result<Response<RemovePartnerResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let (relationship, rbac_revision) = self
            .remove(
                &caller,
                &request.name,
                request.confirm,
                &request.etag,
                Side::Customer,
            )
            .await?;
        Ok(Response::new(RemovePartnerResponse {
            relationship: Some(relationship),
            rbac_revision,
        }))
    }

    async fn remove_customer(
        &self,
        request: Request<RemoveCustomerRequest>,
    ) -> Result<Response<RemoveCustomerResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let (relationship, rbac_revision) = self
            .remove(
                &caller,
                &request.name,
                request.confirm,
                &request.etag,
                Side::PrimaryAdmin,
            )
            .await?;
        Ok(Response::new(RemoveCustomerResponse {
            relationship: Some(relationship),
            rbac_revision,
        }))
    }

    async fn add_primary_admins(
        &self,
        request: Request<AddPrimaryAdminsRequest>,
    ) -> Result<Response<AddPrimaryAdminsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.add_admins(&caller, request.into_inner()).await?,
        ))
    }

    async fn remove_primary_admin(
        &self,
        request: Request<RemovePrimaryAdminRequest>,
    ) -> Result<Response<RemovePrimaryAdminResponse>, Status> {
        let caller = Caller::of(&request)?;
        let rbac_revision = self.remove_admin(&caller, &request.get_ref().name).await?;
        Ok(Response::new(RemovePrimaryAdminResponse { rbac_revision }))
    }

    async fn list_primary_admins(
        &self,
        request: Request<ListPrimaryAdminsRequest>,
    ) -> Result<Response<ListPrimaryAdminsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let (rel, _) = self.reach(&caller, &request.parent).await?;
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            "",
        )?;
        let (rows, count) =
            primary_admins::page(&self.state.db, &rel.id, page.offset, page.size).await?;
        Ok(Response::new(ListPrimaryAdminsResponse {
            next_page_token: page.next_token(rows.len(), count),
            primary_admins: rows
                .iter()
                .map(|p| convert::primary_admin(p, &rel.customer_id))
                .collect(),
            total_size: total(count),
        }))
    }
}
