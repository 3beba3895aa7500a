//! `mtm.tenancy.v1.ApprovalService`: customer admins approve or reject partner actions held
//! under change control (R29); the partner side reads its own relationship's requests.

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::filter::{self, Op};
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::tenancy::v1::approval_service_server::ApprovalService;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::{Request, Response, Status};

use super::access;
use super::{Audit, Caller, Page, audit_failure, audit_success, total};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::state::State;
use crate::store::entity::approval_request as row;
use crate::store::{self, approvals, primary_admins, relationships};

/// The handlers of `ApprovalService`.
pub struct Approvals {
    state: State,
}

impl Approvals {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    /// The ids of `customer`'s relationships the (partner-side) caller is a primary admin of.
    async fn partner_relationships(&self, caller: &Caller, customer: &str) -> Result<Vec<String>> {
        let (rows, _) = relationships::list(
            &self.state.db,
            &relationships::RelationshipFilter {
                customer: Some(customer.to_owned()),
                partner: Some(caller.home().to_owned()),
                states: Vec::new(),
            },
            0,
            u64::MAX,
        )
        .await?;
        let mut ids = Vec::new();
        for rel in rows.into_iter().filter(|r| r.active_pair.is_some()) {
            let members: Vec<String> = primary_admins::all(&self.state.db, &rel.id)
                .await?
                .into_iter()
                .filter(|p| !p.removing)
                .map(|p| p.member)
                .collect();
            if rules::is_member(&caller.principal, &members) {
                ids.push(rel.id);
            }
        }
        Ok(ids)
    }

    /// The request `name`, and whether the caller is on the customer side.
    async fn reach(&self, caller: &Caller, name: &str) -> Result<(row::Model, bool)> {
        let (customer, id) = names::pair(name, "customers", "approvalRequests", "name")?;
        let found = approvals::get(&self.state.db, &customer, &id)
            .await?
            .ok_or_else(|| Error::not_found("approval request", name))?;
        if access::is_customer(caller, &customer) {
            return Ok((found, true));
        }
        if !caller.is_operator()
            && caller.home() == found.partner_id
            && self
                .partner_relationships(caller, &customer)
                .await?
                .contains(&found.relationship_id)
        {
            return Ok((found, false));
        }
        Err(Error::not_found("approval request", name))
    }

    async fn decide(
        &self,
        caller: &Caller,
        name: &str,
        etag: &str,
        reason: &str,
        approve: bool,
    ) -> Result<ApprovalRequest> {
        let (found, customer_side) = self.reach(caller, name).await?;
        let operation = if approve { "approve" } else { "reject" };
        let audit = || Audit {
            parent: AuditParent::Customer(found.customer_id.clone()),
            category: AuditCategory::Relationship,
            operation,
            object_id: name.to_owned(),
            object_name: found.summary.clone(),
            details: vec![
                ("method".into(), found.method.clone()),
                ("target".into(), found.target.clone()),
                ("reason".into(), reason.to_owned()),
            ],
        };
        let outcome = async {
            if !customer_side {
                return Err(Error::Denied(
                    "only the customer decides approval requests (R29)".into(),
                ));
            }
            if !approve && reason.trim().is_empty() {
                return Err(Error::invalid("reason", "a rejection needs a reason"));
            }
            let version = convert::version_of(etag, name)?;
            if version.is_some_and(|v| v != found.version) {
                return Err(Error::Aborted(name.to_owned()));
            }
            let now = store::now_us();
            let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
            let state = if approve { "APPROVED" } else { "REJECTED" };
            if !approvals::decide(
                &txn,
                &found.id,
                version,
                state,
                caller.actor_bytes(),
                reason,
                now,
            )
            .await?
            {
                let shown = convert::approval_request(&found, now);
                return Err(Error::precondition(
                    "APPROVAL_NOT_PENDING",
                    name,
                    format!(
                        "the request is {}; only a PENDING one can be decided",
                        shown.state().as_str_name()
                    ),
                ));
            }
            audit_success(&txn, caller, audit()).await?;
            txn.commit().await?;
            approvals::get(&self.state.db, &found.customer_id, &found.id)
                .await?
                .ok_or_else(|| Error::not_found("approval request", name))
        }
        .await;
        match outcome {
            Ok(done) => Ok(convert::approval_request(&done, store::now_us())),
            Err(e) => Err(audit_failure(&self.state, caller, audit(), e).await),
        }
    }
}

#[tonic::async_trait]
impl ApprovalService for Approvals {
    async fn list_approval_requests(
        &self,
        request: Request<ListApprovalRequestsRequest>,
    ) -> Result<Response<ListApprovalRequestsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let customer = names::single(&request.parent, "customers", "parent")?;
        let visible = if access::is_customer(&caller, &customer) {
            None
        } else {
            let ids = self.partner_relationships(&caller, &customer).await?;
            if ids.is_empty() {
                return Err(Error::not_found("customer", &request.parent).into());
            }
            Some(ids)
        };
        let terms = filter::parse(
            &request.filter,
            &[
                ("state", false),
                ("event_type", false),
                ("relationship", false),
                ("partner", false),
                ("target", false),
                ("create_time", true),
            ],
        )
        .map_err(Error::Status)?;
        let event_type = match filter::equal(&terms, "event_type") {
            None => None,
            Some(v) => Some(
                ChangeControlEventType::from_str_name(&format!("CHANGE_CONTROL_EVENT_TYPE_{v}"))
                    .map(i32::from)
                    .ok_or_else(|| Error::invalid("filter", format!("unknown event type {v}")))?,
            ),
        };
        let relationship = match filter::equal(&terms, "relationship") {
            Some(v) => Some(names::pair(v, "customers", "partnerRelationships", "filter")?.1),
            None => None,
        };
        let partner = match filter::equal(&terms, "partner") {
            Some(v) => Some(names::single(v, "partners", "filter")?),
            None => None,
        };
        let micros = |(s, n): (i64, u32)| s * 1_000_000 + i64::from(n / 1000);
        let query = approvals::ApprovalFilter {
            customer,
            relationships: visible,
            state: filter::equal(&terms, "state").map(str::to_owned),
            event_type,
            relationship,
            partner,
            target: filter::equal(&terms, "target").map(str::to_owned),
            created_after: filter::time_bound(&terms, "create_time", Op::Ge).map(micros),
            created_before: filter::time_bound(&terms, "create_time", Op::Le).map(micros),
        };
        approvals::expire(&self.state.db, None, store::now_us())
            .await
            .map_err(Status::from)?;
        let page = Page::new(
            request.page_size,
            &request.page_token,
            50,
            500,
            &request.parent,
            &request.filter,
        )?;
        let (rows, count) = approvals::list(&self.state.db, &query, page.offset, page.size).await?;
        let now = store::now_us();
        Ok(Response::new(ListApprovalRequestsResponse {
            next_page_token: page.next_token(rows.len(), count),
            approval_requests: rows
                .iter()
                .map(|r| convert::approval_request(r, now))
                .collect(),
            total_size: total(count),
        }))
    }

    async fn get_approval_request(
        &self,
        request: Request<GetApprovalRequestRequest>,
    ) -> Result<Response<GetApprovalRequestResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (found, _) = self.reach(&caller, &request.get_ref().name).await?;
        Ok(Response::new(GetApprovalRequestResponse {
            approval_request: Some(convert::approval_request(&found, store::now_us())),
        }))
    }

    async fn approve(
        &self,
        request: Request<ApproveRequest>,
    ) -> Result<Response<ApproveResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.get_ref();
        let done = self
            .decide(&caller, &r.name, &r.etag, &r.reason, true)
            .await?;
        Ok(Response::new(ApproveResponse {
            approval_request: Some(done),
        }))
    }

    async fn reject(
        &self,
        request: Request<RejectRequest>,
    ) -> Result<Response<RejectResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.get_ref();
        let done = self
            .decide(&caller, &r.name, &r.etag, &r.reason, false)
            .await?;
        Ok(Response::new(RejectResponse {
            approval_request: Some(done),
        }))
    }
}
