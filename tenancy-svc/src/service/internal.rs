//! `mtm.tenancy.v1.TenancyInternalService`: what the gateway needs beyond the public API —
//! active relationships, tenant names, approval requests (R29) and reconciliation.

use mtm_proto::mtm::common::v1::{Actor, RelationshipState};
use mtm_proto::mtm::tenancy::v1::tenancy_internal_service_server::TenancyInternalService;
use mtm_proto::mtm::tenancy::v1::*;
use prost::Message;
use tonic::{Request, Response, Status};

use super::{Audit, Caller, audit_success};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::state::State;
use crate::store::entity::{approval_request, relationship};
use crate::store::{self, approvals, decode, primary_admins, relationships, tenants};
use crate::sync;

/// The handlers of `TenancyInternalService`.
pub struct Internal {
    state: State,
}

impl Internal {
    /// Handlers over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    async fn full(&self, rel: &relationship::Model) -> Result<Relationship> {
        let customer = tenants::get(&self.state.db, &rel.customer_id).await?;
        let partner = tenants::get(&self.state.db, &rel.partner_id).await?;
        let count = primary_admins::counted(&self.state.db, &rel.id).await?;
        Ok(convert::relationship(
            rel,
            customer.as_ref(),
            partner.as_ref(),
            count,
            true,
            store::now_us(),
        ))
    }

    async fn submit(
        &self,
        caller: &Caller,
        request: SubmitApprovalRequestRequest,
    ) -> Result<ApprovalRequest> {
        let (customer, rel_id) = names::pair(
            &request.relationship,
            "customers",
            "partnerRelationships",
            "relationship",
        )?;
        let mut bad = Vec::new();
        let event = ChangeControlEventType::try_from(request.event_type)
            .unwrap_or(ChangeControlEventType::Unspecified);
        if event == ChangeControlEventType::Unspecified {
            bad.push(("event_type".to_owned(), "required".to_owned()));
        }
        if !request.method.starts_with('/') {
            bad.push((
                "method".to_owned(),
                "must be a full gRPC method such as /mtm.rooms.v1.RoomService/UpdateRoom"
                    .to_owned(),
            ));
        }
        if request.action.is_none() {
            bad.push((
                "action".to_owned(),
                "the original request is required".to_owned(),
            ));
        }
        if !request.request_id.is_empty() && uuid::Uuid::parse_str(&request.request_id).is_err() {
            bad.push(("request_id".to_owned(), "must be a UUID".to_owned()));
        }
        if !bad.is_empty() {
            return Err(Error::Invalid(bad));
        }
        let now = store::now_us();
        if !request.request_id.is_empty()
            && let Some(done) =
                approvals::by_request_id(&self.state.db, &request.request_id).await?
        {
            return Ok(convert::approval_request(&done, now));
        }
        let rel = relationships::get(&self.state.db, &customer, &rel_id)
            .await?
            .ok_or_else(|| Error::not_found("relationship", &request.relationship))?;
        if rules::relationship_state(&rel.state, rel.end_time, now) != "ACTIVE" || rel.terminating {
            return Err(Error::precondition(
                "RELATIONSHIP_NOT_ACTIVE",
                &request.relationship,
                "the relationship is not ACTIVE",
            ));
        }
        let policy: ChangeControlPolicy = decode(&rel.change_control);
        let manual = policy.settings.iter().any(|s| {
            s.event_type == request.event_type
                && s.mode == i32::from(ChangeControlMode::ManualApproval)
        });
        if !manual {
            return Err(Error::precondition(
                "NOT_UNDER_CHANGE_CONTROL",
                &request.relationship,
                format!(
                    "{} is AUTO_APPROVAL for this relationship",
                    event.as_str_name()
                ),
            ));
        }
        let requester = request
            .requester
            .clone()
            .unwrap_or_else(|| caller.actor.clone());
        let model = approval_request::Model {
            id: store::new_id(),
            customer_id: customer.clone(),
            relationship_id: rel.id.clone(),
            partner_id: rel.partner_id.clone(),
            state: "PENDING".into(),
            event_type: request.event_type,
            method: request.method.clone(),
            action: request
                .action
                .as_ref()
                .map(Message::encode_to_vec)
                .unwrap_or_default(),
            target: request.target.clone(),
            summary: request.summary.clone(),
            requester: requester.encode_to_vec(),
            create_time: now,
            expire_time: now + approvals::LIFETIME_US,
            decided_by: None,
            decide_time: None,
            decision_reason: String::new(),
            outcome: None,
            update_time: now,
            request_id: (!request.request_id.is_empty()).then(|| request.request_id.clone()),
            version: 1,
        };
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        let stored = approvals::insert(&txn, model).await?;
        let as_requester = Caller {
            actor: requester,
            ..caller.clone()
        };
        audit_success(
            &txn,
            &as_requester,
            Audit {
                parent: mtm_plumbing::audit::AuditParent::Customer(customer.clone()),
                category: mtm_proto::mtm::audit::v1::AuditCategory::Relationship,
                operation: "submit_approval_request",
                object_id: format!("customers/{customer}/approvalRequests/{}", stored.id),
                object_name: request.summary.clone(),
                details: vec![
                    ("method".into(), request.method),
                    ("target".into(), request.target),
                    ("event_type".into(), event.as_str_name().to_owned()),
                ],
            },
        )
        .await?;
        txn.commit().await?;
        Ok(convert::approval_request(&stored, now))
    }

    async fn mark(
        &self,
        caller: &Caller,
        request: MarkApprovalExecutedRequest,
    ) -> Result<ApprovalRequest> {
        let (customer, id) = names::pair(&request.name, "customers", "approvalRequests", "name")?;
        let outcome = request
            .outcome
            .ok_or_else(|| Error::invalid("outcome", "the execution's outcome is required"))?;
        let found = approvals::get(&self.state.db, &customer, &id)
            .await?
            .ok_or_else(|| Error::not_found("approval request", &request.name))?;
        let now = store::now_us();
        if let Some(stored) = found.outcome.as_deref() {
            let previous: ApprovalOutcome = decode(stored);
            if previous.code == outcome.code
                && previous.message == outcome.message
                && previous.result == outcome.result
            {
                return Ok(convert::approval_request(&found, now));
            }
        }
        let state = if outcome.code == 0 {
            "APPROVED"
        } else {
            "FAILED"
        };
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        if !approvals::record_outcome(&txn, &found.id, state, outcome.encode_to_vec(), now).await? {
            return Err(Error::precondition(
                "APPROVAL_NOT_APPROVED",
                &request.name,
                "only an APPROVED request without a recorded outcome can be marked executed",
            ));
        }
        let requester: Actor = decode(&found.requester);
        let as_requester = Caller {
            actor: requester,
            ..caller.clone()
        };
        audit_success(
            &txn,
            &as_requester,
            Audit {
                parent: mtm_plumbing::audit::AuditParent::Customer(customer.clone()),
                category: mtm_proto::mtm::audit::v1::AuditCategory::Relationship,
                operation: "execute_approved_action",
                object_id: request.name.clone(),
                object_name: found.summary.clone(),
                details: vec![
                    ("code".into(), outcome.code.to_string()),
                    ("result".into(), outcome.result.clone()),
                ],
            },
        )
        .await?;
        txn.commit().await?;
        let done = approvals::get(&self.state.db, &customer, &id)
            .await?
            .ok_or_else(|| Error::not_found("approval request", &request.name))?;
        Ok(convert::approval_request(&done, now))
    }
}

/// The caller of an internal call: its context when it carries one, the system otherwise.
fn caller_of<T>(request: &Request<T>) -> Caller {
    Caller::of(request).unwrap_or_else(|_| Caller::system())
}

#[tonic::async_trait]
impl TenancyInternalService for Internal {
    async fn get_active_relationship(
        &self,
        request: Request<GetActiveRelationshipRequest>,
    ) -> Result<Response<GetActiveRelationshipResponse>, Status> {
        let r = request.get_ref();
        let customer = names::single(&r.customer, "customers", "customer")?;
        let partner = names::single(&r.partner, "partners", "partner")?;
        let rel = relationships::live_for_pair(&self.state.db, &customer, &partner)
            .await?
            .filter(|rel| {
                !rel.terminating
                    && rules::relationship_state(&rel.state, rel.end_time, store::now_us())
                        == "ACTIVE"
            })
            .ok_or_else(|| {
                Error::not_found(
                    "relationship",
                    format!("{}/partnerRelationships/-", r.customer),
                )
            })?;
        Ok(Response::new(GetActiveRelationshipResponse {
            relationship: Some(self.full(&rel).await?),
        }))
    }

    async fn list_relationships_for_partner(
        &self,
        request: Request<ListRelationshipsForPartnerRequest>,
    ) -> Result<Response<ListRelationshipsForPartnerResponse>, Status> {
        let r = request.into_inner();
        let partner = names::single(&r.partner, "partners", "partner")?;
        let wanted: Vec<RelationshipState> = r
            .states
            .iter()
            .map(|s| RelationshipState::try_from(*s).unwrap_or(RelationshipState::Unspecified))
            .collect();
        let page = super::Page::new(
            r.page_size,
            &r.page_token,
            500,
            5000,
            &r.partner,
            &format!("{:?}", r.states),
        )?;
        let (mut rows, _) = relationships::list(
            &self.state.db,
            &relationships::RelationshipFilter {
                partner: Some(partner),
                ..Default::default()
            },
            0,
            u64::MAX,
        )
        .await?;
        let now = store::now_us();
        rows.retain(|rel| {
            wanted.is_empty() || wanted.contains(&convert::relationship_state(rel, now))
        });
        rows.sort_by(|a, b| a.customer_id.cmp(&b.customer_id).then(a.id.cmp(&b.id)));
        let count = rows.len() as u64;
        let start = usize::try_from(page.offset)
            .unwrap_or(usize::MAX)
            .min(rows.len());
        let end = start
            .saturating_add(usize::try_from(page.size).unwrap_or(usize::MAX))
            .min(rows.len());
        let mut relationships = Vec::new();
        for rel in &rows[start..end] {
            relationships.push(self.full(rel).await?);
        }
        Ok(Response::new(ListRelationshipsForPartnerResponse {
            next_page_token: page.next_token(relationships.len(), count),
            relationships,
        }))
    }

    async fn batch_get_tenants(
        &self,
        request: Request<BatchGetTenantsRequest>,
    ) -> Result<Response<BatchGetTenantsResponse>, Status> {
        let names = &request.get_ref().names;
        if names.len() > 5000 {
            return Err(Error::invalid("names", "at most 5000 names").into());
        }
        let ids: Vec<String> = names.iter().filter_map(|n| names::any_tenant(n)).collect();
        let found = tenants::many(&self.state.db, &ids).await?;
        let tenants = ids
            .iter()
            .filter_map(|id| found.iter().find(|t| &t.id == id))
            .map(convert::tenant)
            .collect();
        Ok(Response::new(BatchGetTenantsResponse { tenants }))
    }

    async fn submit_approval_request(
        &self,
        request: Request<SubmitApprovalRequestRequest>,
    ) -> Result<Response<SubmitApprovalRequestResponse>, Status> {
        let caller = caller_of(&request);
        let done = self.submit(&caller, request.into_inner()).await?;
        Ok(Response::new(SubmitApprovalRequestResponse {
            approval_request: Some(done),
        }))
    }

    async fn mark_approval_executed(
        &self,
        request: Request<MarkApprovalExecutedRequest>,
    ) -> Result<Response<MarkApprovalExecutedResponse>, Status> {
        let caller = caller_of(&request);
        let done = self.mark(&caller, request.into_inner()).await?;
        Ok(Response::new(MarkApprovalExecutedResponse {
            approval_request: Some(done),
        }))
    }

    async fn reconcile(
        &self,
        request: Request<ReconcileRequest>,
    ) -> Result<Response<ReconcileResponse>, Status> {
        let tenant = &request.get_ref().tenant;
        let only = if tenant.is_empty() {
            None
        } else {
            Some(names::single(tenant, "tenants", "tenant")?)
        };
        let done = sync::reconcile(&self.state, only.as_deref(), 0).await?;
        Ok(Response::new(ReconcileResponse {
            tenants_completed: done.tenants_completed,
            relationships_synced: done.relationships_synced,
            expired: done.expired,
            rbac_revision: done.rbac_revision,
        }))
    }
}
