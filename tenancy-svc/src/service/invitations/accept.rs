//! Accepting (R10, R11, R15) and declining (R12) invitations.

use mtm_plumbing::audit::AuditParent;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::tenancy::v1::primary_admin::Source;
use mtm_proto::mtm::tenancy::v1::*;
use sea_orm::DatabaseTransaction;

use super::super::access::PartnerStanding;
use super::super::{Audit, Caller, audit_failure, audit_success, lookup};
use super::{Invitations, not_pending};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::store::entity::{invitation as row, primary_admin, relationship};
use crate::store::{self, invitations, primary_admins, relationships, tenants};
use crate::sync;

/// A member to make primary admin on acceptance.
struct NewAdmin {
    member: String,
    display_name: String,
    upn: String,
    source: Source,
}

impl Invitations {
    pub(super) async fn accept(
        &self,
        caller: &Caller,
        request: AcceptInvitationRequest,
    ) -> Result<AcceptInvitationResponse> {
        let name = request.name.clone();
        match self.try_accept(caller, request).await {
            Ok(done) => Ok(done),
            Err(e) => {
                let Ok((customer, _)) = names::pair(&name, "customers", "invitations", "name")
                else {
                    return Err(e);
                };
                let acting = if caller.home() == customer {
                    caller.clone()
                } else {
                    caller.as_partner(caller.home(), None)
                };
                let audit = Audit {
                    parent: AuditParent::Customer(customer),
                    category: AuditCategory::PartnerInvitation,
                    operation: "accept",
                    object_id: name,
                    object_name: caller.principal.upn.clone(),
                    details: Vec::new(),
                };
                Err(audit_failure(&self.state, &acting, audit, e).await)
            }
        }
    }

    async fn try_accept(
        &self,
        caller: &Caller,
        request: AcceptInvitationRequest,
    ) -> Result<AcceptInvitationResponse> {
        let (invitation, full, standing) = self.visible(caller, &request.name).await?;
        if full || standing == PartnerStanding::Outsider {
            return Err(Error::not_found("invitation", &request.name));
        }
        let caller = &caller.as_partner(&invitation.partner_id, None);
        if !request.request_id.is_empty() && uuid::Uuid::parse_str(&request.request_id).is_err() {
            return Err(Error::invalid("request_id", "must be a UUID"));
        }
        let now = store::now_us();
        if invitation.state == "ACCEPTED"
            && !request.request_id.is_empty()
            && let Some(done) = self.replay_accept(caller, &invitation).await?
        {
            return Ok(done);
        }
        if !crate::rules::invitation_actionable(&invitation.state, invitation.expire_time, now) {
            return Err(not_pending(&request.name, &invitation, now));
        }
        let partner = invitation.partner_id.clone();
        let extra = lookup::partner_members(
            &self.state,
            &partner,
            &request.additional_primary_admins,
            "additional_primary_admins",
        )
        .await?;
        let invitee = self.invitee(&invitation).await?;
        let mut admins = vec![invitee];
        for found in extra {
            admins.push(NewAdmin {
                member: found.name,
                display_name: found.display_name,
                upn: found.upn,
                source: Source::NamedOnAccept,
            });
        }
        let txn = store::begin_guarded(&self.state.db, &invitation.customer_id).await?;
        let (rel, created, _added) = self
            .join_or_create(&txn, caller, &invitation, &admins)
            .await?;
        txn.commit().await?;
        let rel_name = names::relationship(&rel.customer_id, &rel.id);
        self.grant(&caller.as_partner(&rel.partner_id, Some(&rel_name)), &rel)
            .await?;
        let count = primary_admins::counted(&self.state.db, &rel.id).await?;
        let customer = tenants::get(&self.state.db, &rel.customer_id).await?;
        let partner_row = tenants::get(&self.state.db, &rel.partner_id).await?;
        let invitation = invitations::get(&self.state.db, &invitation.customer_id, &invitation.id)
            .await?
            .ok_or_else(|| Error::not_found("invitation", &request.name))?;
        Ok(AcceptInvitationResponse {
            invitation: Some(convert::invitation(
                &invitation,
                customer.as_ref(),
                partner_row.as_ref(),
                false,
                now,
            )),
            relationship: Some(convert::relationship(
                &rel,
                customer.as_ref(),
                partner_row.as_ref(),
                count,
                true,
                now,
            )),
            created_relationship: created,
        })
    }

    /// The answer of an acceptance already done by this caller (a retried request).
    async fn replay_accept(
        &self,
        caller: &Caller,
        invitation: &row::Model,
    ) -> Result<Option<AcceptInvitationResponse>> {
        let by: mtm_proto::mtm::common::v1::Actor =
            store::decode(invitation.state_changed_by.as_deref().unwrap_or_default());
        let Some(rel_name) = invitation.relationship.as_deref() else {
            return Ok(None);
        };
        if by.user != caller.principal.user {
            return Ok(None);
        }
        let rel_id = rel_name.rsplit('/').next().unwrap_or_default();
        let Some(rel) = relationships::get(&self.state.db, &invitation.customer_id, rel_id).await?
        else {
            return Ok(None);
        };
        let now = store::now_us();
        let count = primary_admins::counted(&self.state.db, &rel.id).await?;
        let customer = tenants::get(&self.state.db, &rel.customer_id).await?;
        let partner = tenants::get(&self.state.db, &rel.partner_id).await?;
        Ok(Some(AcceptInvitationResponse {
            invitation: Some(convert::invitation(
                invitation,
                customer.as_ref(),
                partner.as_ref(),
                false,
                now,
            )),
            created_relationship: rel.invitation
                == names::invitation(&invitation.customer_id, &invitation.id),
            relationship: Some(convert::relationship(
                &rel,
                customer.as_ref(),
                partner.as_ref(),
                count,
                true,
                now,
            )),
        }))
    }

    /// The invitee, which must still be an enabled user of the partner.
    async fn invitee(&self, invitation: &row::Model) -> Result<NewAdmin> {
        let users = self
            .state
            .identity
            .clone()
            .lookup_users(mtm_proto::mtm::identity::v1::LookupUsersRequest {
                upns: vec![invitation.invitee_upn.clone()],
            })
            .await
            .map_err(Error::upstream("identity-svc"))?
            .into_inner()
            .users;
        match users.into_iter().next() {
            Some(u)
                if u.found
                    && u.enabled
                    && u.tenant == format!("tenants/{}", invitation.partner_id) =>
            {
                Ok(NewAdmin {
                    member: u.user,
                    display_name: u.display_name,
                    upn: invitation.invitee_upn.clone(),
                    source: Source::Invitation,
                })
            }
            _ => Err(Error::precondition(
                "INVITEE_NOT_A_USER",
                invitation.invitee_upn.clone(),
                "the invited UPN is no longer an enabled user of the partner",
            )),
        }
    }

    /// Inside the pair's guard: checks the invitation again, creates the relationship on the
    /// first acceptance (R10, R11) or joins the live one, and adds the primary admins.
    async fn join_or_create(
        &self,
        txn: &DatabaseTransaction,
        caller: &Caller,
        invitation: &row::Model,
        admins: &[NewAdmin],
    ) -> Result<(relationship::Model, bool, Vec<String>)> {
        let now = store::now_us();
        let name = names::invitation(&invitation.customer_id, &invitation.id);
        let fresh = invitations::get(txn, &invitation.customer_id, &invitation.id)
            .await?
            .ok_or_else(|| Error::not_found("invitation", &name))?;
        if !crate::rules::invitation_actionable(&fresh.state, fresh.expire_time, now) {
            return Err(not_pending(&name, &fresh, now));
        }
        let partner = tenants::get(txn, &fresh.partner_id).await?;
        if !partner.is_some_and(|p| p.elite_partner && p.state == "ACTIVE") {
            return Err(Error::precondition(
                "PARTNER_NOT_ENROLLED",
                format!("partners/{}", fresh.partner_id),
                "the partner is not enrolled as an elite partner (R1)",
            ));
        }
        let live = relationships::live_for_pair(txn, &fresh.customer_id, &fresh.partner_id).await?;
        let (rel, created) = match live {
            Some(rel) if rel.terminating => {
                return Err(Error::precondition(
                    "RELATIONSHIP_ENDING",
                    names::relationship(&rel.customer_id, &rel.id),
                    "the relationship is being terminated",
                ));
            }
            Some(rel)
                if crate::rules::relationship_state(&rel.state, rel.end_time, now) != "ACTIVE" =>
            {
                return Err(Error::precondition(
                    "RELATIONSHIP_EXPIRED",
                    names::relationship(&rel.customer_id, &rel.id),
                    "the relationship has expired; the customer must renew it first (R30)",
                ));
            }
            Some(rel) => (rel, false),
            None if fresh.kind == "PRIMARY_ADMIN" => {
                return Err(Error::precondition(
                    "RELATIONSHIP_ENDED",
                    name,
                    "the relationship this invitation was for has ended",
                ));
            }
            None => {
                let model = relationship::Model {
                    id: store::new_id(),
                    customer_id: fresh.customer_id.clone(),
                    partner_id: fresh.partner_id.clone(),
                    active_pair: Some(relationships::pair_key(
                        &fresh.customer_id,
                        &fresh.partner_id,
                    )),
                    state: "ACTIVE".into(),
                    room_scope: fresh.room_scope.clone(),
                    scope_summary: fresh.scope_summary.clone(),
                    change_control: fresh.change_control.clone(),
                    invitation: name.clone(),
                    end_time: None,
                    create_time: now,
                    update_time: now,
                    terminate_time: None,
                    terminated_by: None,
                    termination_reason: 0,
                    terminating: false,
                    version: 1,
                };
                (relationships::insert(txn, model).await?, true)
            }
        };
        let rel_name = names::relationship(&rel.customer_id, &rel.id);
        let caller = &caller.as_partner(&rel.partner_id, Some(&rel_name));
        let mut added = Vec::new();
        for admin in admins {
            if primary_admins::by_member(txn, &rel.id, &admin.member)
                .await?
                .is_some()
            {
                continue;
            }
            primary_admins::insert(
                txn,
                primary_admin::Model {
                    id: store::new_id(),
                    relationship_id: rel.id.clone(),
                    member: admin.member.clone(),
                    display_name: admin.display_name.clone(),
                    upn: admin.upn.clone(),
                    source: admin.source.into(),
                    invitation: if admin.source == Source::Invitation {
                        name.clone()
                    } else {
                        String::new()
                    },
                    added_by: caller.actor_bytes(),
                    create_time: now,
                    removing: false,
                },
            )
            .await?;
            added.push(admin.member.clone());
        }
        if !invitations::leave_pending(
            txn,
            &fresh.id,
            None,
            "ACCEPTED",
            caller.actor_bytes(),
            Some(rel_name.clone()),
            now,
        )
        .await?
        {
            return Err(not_pending(&name, &fresh, now));
        }
        for parent in [
            AuditParent::Customer(fresh.customer_id.clone()),
            AuditParent::Partner(fresh.partner_id.clone()),
        ] {
            audit_success(
                txn,
                caller,
                Audit {
                    parent,
                    category: AuditCategory::PartnerInvitation,
                    operation: "accept",
                    object_id: name.clone(),
                    object_name: fresh.invitee_upn.clone(),
                    details: vec![
                        ("relationship".into(), rel_name.clone()),
                        ("created_relationship".into(), created.to_string()),
                        ("primary_admins_added".into(), added.join(",")),
                    ],
                },
            )
            .await?;
        }
        Ok((rel, created, added))
    }

    /// Grants in rbac-svc after the commit, as `caller`'s change: the relationship as committed
    /// with all its primary admins, under the customer's guard, so concurrent acceptances
    /// converge on the full set.
    async fn grant(&self, caller: &Caller, rel: &relationship::Model) -> Result<()> {
        sync::push(&self.state, caller, rel).await?;
        Ok(())
    }

    pub(super) async fn decline(
        &self,
        caller: &Caller,
        request: DeclineInvitationRequest,
    ) -> Result<DeclineInvitationResponse> {
        let (invitation, full, _) = self.visible(caller, &request.name).await?;
        if full {
            return Err(Error::not_found("invitation", &request.name));
        }
        let caller = &caller.as_partner(&invitation.partner_id, None);
        let now = store::now_us();
        let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
        let audit = Audit {
            parent: AuditParent::Customer(invitation.customer_id.clone()),
            category: AuditCategory::PartnerInvitation,
            operation: "decline",
            object_id: request.name.clone(),
            object_name: invitation.invitee_upn.clone(),
            details: vec![("reason".into(), request.reason.clone())],
        };
        if !invitations::leave_pending(
            &txn,
            &invitation.id,
            None,
            "DECLINED",
            caller.actor_bytes(),
            None,
            now,
        )
        .await?
        {
            drop(txn);
            let e = not_pending(&request.name, &invitation, now);
            return Err(audit_failure(&self.state, caller, audit, e).await);
        }
        invitations::delete(&txn, &invitation.id).await?;
        audit_success(&txn, caller, audit).await?;
        txn.commit().await?;
        let mut declined = invitation;
        declined.state = "DECLINED".into();
        declined.state_time = Some(now);
        declined.state_changed_by = Some(caller.actor_bytes());
        let rendered = self.render(std::slice::from_ref(&declined), false).await?;
        Ok(DeclineInvitationResponse {
            invitation: rendered.into_iter().next(),
        })
    }
}
