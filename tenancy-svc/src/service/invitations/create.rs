//! Creating invitations: one per invited UPN (R11), for an elite partner other than the
//! customer itself (R1, R7), never while the pair is related (R15), and more primary admins
//! for an ACTIVE relationship (R13).

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::tenancy::v1::*;

use super::Invitations;
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules::{self, DAY_US};
use crate::service::{Caller, audit_success, lookup};
use crate::store::entity::{invitation as row, tenant};
use crate::store::{self, encode, invitations, relationships, tenants};

/// What a new batch of invitations carries besides the invitees.
struct Batch {
    kind: &'static str,
    scope: RoomScope,
    summary: ScopeSummary,
    change_control: ChangeControlPolicy,
    lifetime_days: i32,
    partner_domain: String,
    request_id: Option<String>,
}

impl Invitations {
    pub(super) async fn create(
        &self,
        caller: &Caller,
        request: CreateInvitationRequest,
    ) -> Result<Vec<Invitation>> {
        let customer = self.own_customer(caller, &request.parent).await?;
        let mut bad = Vec::new();
        let domain = request.partner_domain.trim().to_ascii_lowercase();
        if domain.is_empty() {
            bad.push((
                "partner_domain".to_owned(),
                "a DNS domain of the partner is required".to_owned(),
            ));
        } else if let Some(problem) = rules::domain_problem(&domain) {
            bad.push(("partner_domain".to_owned(), problem.to_owned()));
        }
        let upns = rules::invited_upns(&request.invited_upns, "invited_upns").unwrap_or_else(|v| {
            bad.extend(v);
            Vec::new()
        });
        bad.extend(rules::room_scope(
            request.room_scope.as_ref(),
            &customer.id,
            "room_scope",
        ));
        bad.extend(rules::change_control(
            request.change_control.as_ref(),
            "change_control",
        ));
        let lifetime =
            rules::lifetime_days(request.lifetime_days, "lifetime_days").unwrap_or_else(|v| {
                bad.push(v);
                0
            });
        if !request.accept_terms {
            bad.push((
                "accept_terms".to_owned(),
                "the terms must be accepted to invite a partner".to_owned(),
            ));
        }
        check_request_id(&request.request_id, &mut bad);
        if !bad.is_empty() {
            return Err(Error::Invalid(bad));
        }
        if let Some(done) = self.replay(&customer, &request.request_id, &upns).await? {
            return Ok(done);
        }
        let partner = self.partner_for_domain(&customer, &domain).await?;
        lookup::invited_users(&self.state, &partner, &upns, "invited_upns").await?;
        let scope = request.room_scope.clone().unwrap_or_default();
        let mut summary = rules::scope_summary(&scope);
        summary.covered_room_count =
            lookup::room_scope(&self.state, &customer.id, &scope, "room_scope").await?;
        if relationships::live_for_pair(&self.state.db, &customer.id, &partner.id)
            .await?
            .is_some()
        {
            return Err(Error::precondition(
                "RELATIONSHIP_EXISTS",
                format!("partners/{}", partner.id),
                "the partner already has a relationship with this customer: invite more primary admins or change its scope instead (R15)",
            ));
        }
        let batch = Batch {
            kind: "RELATIONSHIP",
            scope,
            summary,
            change_control: request.change_control.unwrap_or_default(),
            lifetime_days: lifetime,
            partner_domain: domain,
            request_id: (!request.request_id.is_empty()).then_some(request.request_id),
        };
        self.insert_batch(caller, &customer, &partner, &upns, batch)
            .await
    }

    /// The partner a domain resolves to: never the customer (R7), always an elite partner (R1).
    async fn partner_for_domain(
        &self,
        customer: &tenant::Model,
        domain: &str,
    ) -> Result<tenant::Model> {
        let id = lookup::resolve_domain(&self.state, domain, "partner_domain").await?;
        let Some(id) = id else {
            return Err(Error::invalid(
                "partner_domain",
                format!("no tenant holds the domain {domain}"),
            ));
        };
        if id == customer.id {
            return Err(Error::invalid(
                "partner_domain",
                "a tenant cannot invite itself: a partner never manages its own rooms (R7)",
            ));
        }
        let partner = tenants::get(&self.state.db, &id).await?;
        match partner {
            Some(p) if p.kind == "PARTNER" && p.state == "ACTIVE" && p.elite_partner => Ok(p),
            Some(p) if p.kind == "PARTNER" && p.state == "ACTIVE" => Err(Error::precondition(
                "PARTNER_NOT_ENROLLED",
                format!("partners/{}", p.id),
                "the partner is not enrolled as an elite partner (R1)",
            )),
            _ => Err(Error::invalid(
                "partner_domain",
                format!("{domain} does not belong to a partner"),
            )),
        }
    }

    /// The answer of an earlier request with the same `request_id`, which must have named
    /// the same invitees (INVALID_ARGUMENT otherwise).
    async fn replay(
        &self,
        customer: &tenant::Model,
        request_id: &str,
        upns: &[String],
    ) -> Result<Option<Vec<Invitation>>> {
        if request_id.is_empty() {
            return Ok(None);
        }
        let rows = invitations::by_request_id(&self.state.db, &customer.id, request_id).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut before: Vec<&str> = rows.iter().map(|r| r.invitee_upn.as_str()).collect();
        let mut now_named: Vec<&str> = upns.iter().map(String::as_str).collect();
        before.sort_unstable();
        now_named.sort_unstable();
        if before != now_named {
            return Err(Error::invalid(
                "request_id",
                "already used for a different request",
            ));
        }
        let partner = tenants::get(&self.state.db, &rows[0].partner_id).await?;
        let now = store::now_us();
        Ok(Some(
            rows.iter()
                .map(|r| convert::invitation(r, Some(customer), partner.as_ref(), true, now))
                .collect(),
        ))
    }

    async fn insert_batch(
        &self,
        caller: &Caller,
        customer: &tenant::Model,
        partner: &tenant::Model,
        upns: &[String],
        batch: Batch,
    ) -> Result<Vec<Invitation>> {
        let now = store::now_us();
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        let mut out = Vec::new();
        for upn in upns {
            let model = row::Model {
                id: store::new_id(),
                customer_id: customer.id.clone(),
                partner_id: partner.id.clone(),
                kind: batch.kind.to_owned(),
                state: "PENDING".into(),
                invitee_upn: upn.clone(),
                partner_domain: batch.partner_domain.clone(),
                room_scope: encode(&batch.scope),
                scope_summary: encode(&batch.summary),
                change_control: encode(&batch.change_control),
                lifetime_days: batch.lifetime_days,
                created_by: caller.actor_bytes(),
                terms_accept_time: now,
                create_time: now,
                expire_time: now + i64::from(batch.lifetime_days) * DAY_US,
                state_time: None,
                state_changed_by: None,
                relationship: None,
                request_id: batch.request_id.clone(),
                version: 1,
            };
            let inserted = invitations::insert(&txn, model).await?;
            let name = names::invitation(&customer.id, &inserted.id);
            let mut audit = Self::audit(&customer.id, name, "create", upn);
            audit.details = vec![
                ("partner".into(), format!("partners/{}", partner.id)),
                ("kind".into(), batch.kind.into()),
                ("lifetime_days".into(), batch.lifetime_days.to_string()),
            ];
            audit_success(&txn, caller, audit).await?;
            out.push(convert::invitation(
                &inserted,
                Some(customer),
                Some(partner),
                true,
                now,
            ));
        }
        txn.commit().await?;
        Ok(out)
    }

    pub(super) async fn invite_primary_admins(
        &self,
        caller: &Caller,
        request: InvitePrimaryAdminsRequest,
    ) -> Result<Vec<Invitation>> {
        let (customer_id, rel_id) = names::pair(
            &request.relationship,
            "customers",
            "partnerRelationships",
            "relationship",
        )?;
        let customer = self
            .own_customer(caller, &format!("customers/{customer_id}"))
            .await?;
        let mut bad = Vec::new();
        let upns = rules::invited_upns(&request.invited_upns, "invited_upns").unwrap_or_else(|v| {
            bad.extend(v);
            Vec::new()
        });
        let lifetime =
            rules::lifetime_days(request.lifetime_days, "lifetime_days").unwrap_or_else(|v| {
                bad.push(v);
                0
            });
        check_request_id(&request.request_id, &mut bad);
        if !bad.is_empty() {
            return Err(Error::Invalid(bad));
        }
        if let Some(done) = self.replay(&customer, &request.request_id, &upns).await? {
            return Ok(done);
        }
        let rel = relationships::get(&self.state.db, &customer.id, &rel_id)
            .await?
            .ok_or_else(|| Error::not_found("relationship", &request.relationship))?;
        if convert::relationship_state(&rel, store::now_us())
            != mtm_proto::mtm::common::v1::RelationshipState::Active
        {
            return Err(Error::precondition(
                "RELATIONSHIP_NOT_ACTIVE",
                request.relationship,
                "primary admins can be invited only into an ACTIVE relationship",
            ));
        }
        let partner = tenants::get(&self.state.db, &rel.partner_id)
            .await?
            .ok_or_else(|| Error::not_found("relationship", &request.relationship))?;
        lookup::invited_users(&self.state, &partner, &upns, "invited_upns").await?;
        let batch = Batch {
            kind: "PRIMARY_ADMIN",
            scope: RoomScope::default(),
            summary: store::decode(&rel.scope_summary),
            change_control: store::decode(&rel.change_control),
            lifetime_days: lifetime,
            partner_domain: partner.primary_domain.clone(),
            request_id: (!request.request_id.is_empty()).then_some(request.request_id),
        };
        self.insert_batch(caller, &customer, &partner, &upns, batch)
            .await
    }
}

fn check_request_id(request_id: &str, bad: &mut Vec<rules::Violation>) {
    if !request_id.is_empty() && uuid::Uuid::parse_str(request_id).is_err() {
        bad.push(("request_id".to_owned(), "must be a UUID".to_owned()));
    }
}
