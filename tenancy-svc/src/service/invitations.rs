//! `mtm.tenancy.v1.InvitationService`: customers invite partners; partners accept or decline
//! (R5–R13, R15, SPEC §3).

mod accept;
mod create;

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::filter::{self, Op};
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::tenancy::v1::invitation_service_server::InvitationService;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::{Request, Response, Status};

use super::access::{self, PartnerStanding};
use super::{Audit, Caller, Page, audit_failure, audit_success, total};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::state::State;
use crate::store::entity::{invitation as row, tenant};
use crate::store::{self, invitations, tenants};

/// The handlers of `InvitationService`.
pub struct Invitations {
    state: State,
}

impl Invitations {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    fn audit(customer: &str, name: String, operation: &'static str, upn: &str) -> Audit<'static> {
        Audit {
            parent: AuditParent::Customer(customer.to_owned()),
            category: AuditCategory::PartnerInvitation,
            operation,
            object_id: name,
            object_name: upn.to_owned(),
            details: Vec::new(),
        }
    }

    /// The customer `parent` names, when the caller is its user; NOT_FOUND otherwise.
    async fn own_customer(&self, caller: &Caller, parent: &str) -> Result<tenant::Model> {
        let id = names::single(parent, "customers", "parent")?;
        if !access::is_customer(caller, &id) {
            return Err(Error::not_found("customer", parent));
        }
        match tenants::get(&self.state.db, &id).await? {
            Some(row) if row.kind == "CUSTOMER" && row.state == "ACTIVE" => Ok(row),
            _ => Err(Error::not_found("customer", parent)),
        }
    }

    /// The invitation `name` and whether the caller sees it in full (customer side).
    async fn visible(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(row::Model, bool, PartnerStanding)> {
        let (customer, id) = names::pair(name, "customers", "invitations", "name")?;
        let row = invitations::get(&self.state.db, &customer, &id)
            .await?
            .ok_or_else(|| Error::not_found("invitation", name))?;
        if access::is_customer(caller, &customer) {
            return Ok((row, true, PartnerStanding::Outsider));
        }
        let (standing, _) = access::partner_standing(&self.state, caller, &row.partner_id).await?;
        let own = caller.principal.upn.eq_ignore_ascii_case(&row.invitee_upn);
        match standing {
            PartnerStanding::Manager => Ok((row, false, standing)),
            PartnerStanding::User if own => Ok((row, false, standing)),
            _ => Err(Error::not_found("invitation", name)),
        }
    }

    async fn render(&self, rows: &[row::Model], full: bool) -> Result<Vec<Invitation>> {
        let mut ids: Vec<String> = rows
            .iter()
            .flat_map(|r| [r.customer_id.clone(), r.partner_id.clone()])
            .collect();
        ids.sort();
        ids.dedup();
        let known = tenants::many(&self.state.db, &ids).await?;
        let find = |id: &str| known.iter().find(|t| t.id == id);
        let now = store::now_us();
        Ok(rows
            .iter()
            .map(|r| convert::invitation(r, find(&r.customer_id), find(&r.partner_id), full, now))
            .collect())
    }

    async fn withdraw(
        &self,
        caller: &Caller,
        request: WithdrawInvitationRequest,
    ) -> Result<Invitation> {
        let (row, full, _) = self.visible(caller, &request.name).await?;
        if !full {
            return Err(Error::not_found("invitation", &request.name));
        }
        let version = convert::version_of(&request.etag, &request.name)?;
        if version.is_some_and(|v| v != row.version) {
            return Err(Error::Aborted(request.name));
        }
        let now = store::now_us();
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        if !invitations::leave_pending(
            &txn,
            &row.id,
            version,
            "WITHDRAWN",
            caller.actor_bytes(),
            None,
            now,
        )
        .await?
        {
            return Err(not_pending(&request.name, &row, now));
        }
        audit_success(
            &txn,
            caller,
            Self::audit(
                &row.customer_id,
                request.name.clone(),
                "withdraw",
                &row.invitee_upn,
            ),
        )
        .await?;
        txn.commit().await?;
        let row = invitations::get(&self.state.db, &row.customer_id, &row.id)
            .await?
            .ok_or_else(|| Error::not_found("invitation", &request.name))?;
        Ok(self
            .render(std::slice::from_ref(&row), true)
            .await?
            .remove(0))
    }

    async fn list(
        &self,
        filter_text: &str,
        mut query: invitations::InvitationFilter,
        page: Page,
        full: bool,
        other_side: &str,
    ) -> Result<(Vec<Invitation>, String, i32)> {
        let terms = filter::parse(
            filter_text,
            &[
                ("state", false),
                ("kind", false),
                (other_side, false),
                ("invitee_upn", false),
                ("create_time", true),
            ],
        )
        .map_err(Error::Status)?;
        query.state = filter::equal(&terms, "state").map(str::to_owned);
        query.kind = filter::equal(&terms, "kind").map(str::to_owned);
        if let Some(upn) = filter::equal(&terms, "invitee_upn") {
            query.invitee_upn = Some(upn.to_owned());
        }
        if let Some(value) = filter::equal(&terms, other_side) {
            let id = names::single(value, &format!("{other_side}s"), "filter")?;
            if other_side == "partner" {
                query.partner = Some(id);
            } else {
                query.customer = Some(id);
            }
        }
        let micros = |(s, n): (i64, u32)| s * 1_000_000 + i64::from(n / 1000);
        query.created_after = filter::time_bound(&terms, "create_time", Op::Ge).map(micros);
        query.created_before = filter::time_bound(&terms, "create_time", Op::Le).map(micros);
        invitations::expire_due(&self.state.db, store::now_us()).await?;
        let (rows, count) =
            invitations::list(&self.state.db, &query, page.offset, page.size).await?;
        let token = page.next_token(rows.len(), count);
        Ok((self.render(&rows, full).await?, token, total(count)))
    }
}

/// FAILED_PRECONDITION for an invitation that is no longer PENDING (R8).
fn not_pending(name: &str, row: &row::Model, now: i64) -> Error {
    let state = rules::invitation_state(&row.state, row.expire_time, now);
    Error::precondition(
        "INVITATION_NOT_PENDING",
        name,
        format!(
            "the invitation is {state}; only a PENDING, unexpired invitation can be accepted, declined or withdrawn (R8)"
        ),
    )
}

#[tonic::async_trait]
impl InvitationService for Invitations {
    async fn create_invitation(
        &self,
        request: Request<CreateInvitationRequest>,
    ) -> Result<Response<CreateInvitationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let parent = request.parent.clone();
        match self.create(&caller, request).await {
            Ok(invitations) => Ok(Response::new(CreateInvitationResponse { invitations })),
            Err(e) => {
                let customer = names::single(&parent, "customers", "parent").unwrap_or_default();
                let audit = Self::audit(&customer, format!("{parent}/invitations"), "create", "");
                Err(if access::is_customer(&caller, &customer) {
                    audit_failure(&self.state, &caller, audit, e).await
                } else {
                    e
                }
                .into())
            }
        }
    }

    async fn get_invitation(
        &self,
        request: Request<GetInvitationRequest>,
    ) -> Result<Response<GetInvitationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (row, full, _) = self.visible(&caller, &request.get_ref().name).await?;
        Ok(Response::new(GetInvitationResponse {
            invitation: self.render(&[row], full).await?.pop(),
        }))
    }

    async fn list_invitations(
        &self,
        request: Request<ListInvitationsRequest>,
    ) -> Result<Response<ListInvitationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let customer = self.own_customer(&caller, &request.parent).await?;
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            &request.filter,
        )?;
        let query = invitations::InvitationFilter {
            customer: Some(customer.id),
            ..Default::default()
        };
        let (invitations, next_page_token, total_size) = self
            .list(&request.filter, query, page, true, "partner")
            .await?;
        Ok(Response::new(ListInvitationsResponse {
            invitations,
            next_page_token,
            total_size,
        }))
    }

    async fn withdraw_invitation(
        &self,
        request: Request<WithdrawInvitationRequest>,
    ) -> Result<Response<WithdrawInvitationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let name = request.name.clone();
        match self.withdraw(&caller, request).await {
            Ok(invitation) => Ok(Response::new(WithdrawInvitationResponse {
                invitation: Some(invitation),
            })),
            Err(e) => {
                let customer = names::pair(&name, "customers", "invitations", "name")
                    .map(|(c, _)| c)
                    .unwrap_or_default();
                let audit = Self::audit(&customer, name, "withdraw", "");
                Err(audit_failure(&self.state, &caller, audit, e).await.into())
            }
        }
    }

    async fn invite_primary_admins(
        &self,
        request: Request<InvitePrimaryAdminsRequest>,
    ) -> Result<Response<InvitePrimaryAdminsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let name = request.relationship.clone();
        match self.invite_primary_admins(&caller, request).await {
            Ok(invitations) => Ok(Response::new(InvitePrimaryAdminsResponse { invitations })),
            Err(e) => {
                let customer =
                    names::pair(&name, "customers", "partnerRelationships", "relationship")
                        .map(|(c, _)| c)
                        .unwrap_or_default();
                let audit = Self::audit(&customer, name, "invite_primary_admins", "");
                Err(audit_failure(&self.state, &caller, audit, e).await.into())
            }
        }
    }

    async fn list_received_invitations(
        &self,
        request: Request<ListReceivedInvitationsRequest>,
    ) -> Result<Response<ListReceivedInvitationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let partner = names::single(&request.parent, "partners", "parent")?;
        let (standing, _) = access::partner_standing(&self.state, &caller, &partner).await?;
        let mut query = invitations::InvitationFilter {
            partner: Some(partner),
            ..Default::default()
        };
        let own_only = match standing {
            PartnerStanding::Outsider => {
                return Err(Error::not_found("partner", &request.parent).into());
            }
            PartnerStanding::User => true,
            PartnerStanding::Manager => false,
        };
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            &request.filter,
        )?;
        if own_only {
            query.invitee_upn = Some(caller.principal.upn.to_ascii_lowercase());
        }
        let (mut invitations, next_page_token, total_size) = self
            .list(&request.filter, query, page, false, "customer")
            .await?;
        if own_only {
            invitations.retain(|i| i.invitee_upn.eq_ignore_ascii_case(&caller.principal.upn));
        }
        Ok(Response::new(ListReceivedInvitationsResponse {
            invitations,
            next_page_token,
            total_size,
        }))
    }

    async fn accept_invitation(
        &self,
        request: Request<AcceptInvitationRequest>,
    ) -> Result<Response<AcceptInvitationResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.accept(&caller, request.into_inner()).await?,
        ))
    }

    async fn decline_invitation(
        &self,
        request: Request<DeclineInvitationRequest>,
    ) -> Result<Response<DeclineInvitationResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.decline(&caller, request.into_inner()).await?,
        ))
    }
}
