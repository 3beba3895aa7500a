//! Taking access away (R17, R30): rbac-svc forgets the relationship first and only then is
//! the change committed here, so a crash between the two leaves access already gone.
//!
//! A termination has two steps. [`revoke`] removes the relationship (every partner role and
//! assignment of it) in rbac-svc and then commits the `terminating` mark with who and why,
//! both under the customer's guard; [`finish_termination`] commits TERMINATED, withdraws the
//! pair's pending invitations and writes the audit records. A crash before the mark commits
//! leaves the relationship as it was (the request failed, the caller retries); a crash after
//! it leaves a relationship without access that reconciliation finishes at once.

use mtm_plumbing::audit::AuditParent;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rbac::v1::RemoveRelationshipRequest;
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;
use sea_orm::Set;

use super::push_with;
use crate::error::{Error, Result};
use crate::names;
use crate::service::{Audit, Caller, audit_success};
use crate::state::State;
use crate::store::entity::relationship;
use crate::store::{self, approvals, invitations, relationships};

/// Ends a relationship (R17): [`revoke`], then [`finish_termination`]. Returns the ended
/// relationship and the rbac revision at which its access is gone.
pub async fn terminate(
    state: &State,
    caller: &Caller,
    row: relationship::Model,
    reason: TerminationReason,
) -> Result<(relationship::Model, i64)> {
    let (marked, revision) = revoke(state, caller, row, reason).await?;
    let done = finish_termination(state, caller, marked).await?;
    Ok((done, revision))
}

/// The first step of a termination: under the customer's guard, removes the relationship in
/// rbac-svc and then commits the `terminating` mark (keeping the first reason and actor when
/// it is already marked). Returns the relationship as now stored and the rbac revision; a
/// relationship already TERMINATED is returned as it is.
pub async fn revoke(
    state: &State,
    caller: &Caller,
    row: relationship::Model,
    reason: TerminationReason,
) -> Result<(relationship::Model, i64)> {
    let name = names::relationship(&row.customer_id, &row.id);
    let txn = store::begin_guarded(&state.db, &row.customer_id).await?;
    let current = relationships::get(&txn, &row.customer_id, &row.id)
        .await?
        .ok_or_else(|| Error::not_found("relationship", &name))?;
    if current.state == "TERMINATED" && !current.terminating {
        txn.commit().await?;
        return Ok((current, 0));
    }
    let revision = state
        .rbac
        .clone()
        .remove_relationship(caller.request(RemoveRelationshipRequest { relationship: name }))
        .await
        .map_err(Error::upstream("rbac-svc"))?
        .into_inner()
        .revision;
    let marked = if current.terminating {
        current
    } else {
        relationships::update(&txn, current, |active| {
            active.terminating = Set(true);
            active.termination_reason = Set(reason.into());
            active.terminated_by = Set(Some(caller.actor_bytes()));
        })
        .await?
    };
    txn.commit().await?;
    Ok((marked, revision))
}

/// The second step of a termination, once [`revoke`] has taken the access away: commits
/// TERMINATED with when, withdraws the pair's pending invitations, expires its approval
/// requests and records the termination for both tenants. Does nothing to a relationship
/// that is not marked terminating (another caller finished it first).
pub async fn finish_termination(
    state: &State,
    caller: &Caller,
    row: relationship::Model,
) -> Result<relationship::Model> {
    let now = store::now_us();
    let txn = store::begin_guarded(&state.db, &row.customer_id).await?;
    let name = names::relationship(&row.customer_id, &row.id);
    let current = relationships::get(&txn, &row.customer_id, &row.id)
        .await?
        .ok_or_else(|| Error::not_found("relationship", &name))?;
    if !current.terminating {
        txn.commit().await?;
        return Ok(current);
    }
    let (customer, partner, reason) = (
        current.customer_id.clone(),
        current.partner_id.clone(),
        current.termination_reason,
    );
    let done = relationships::update(&txn, current, |active| {
        active.state = Set("TERMINATED".to_owned());
        active.active_pair = Set(None);
        active.terminating = Set(false);
        active.terminate_time = Set(Some(now));
    })
    .await?;
    invitations::withdraw_pending(&txn, Some(&customer), &partner, caller.actor_bytes(), now)
        .await?;
    approvals::expire(&txn, Some(&done.id), now).await?;
    let reason = TerminationReason::try_from(reason)
        .unwrap_or(TerminationReason::Unspecified)
        .as_str_name()
        .to_owned();
    for parent in [
        AuditParent::Customer(customer.clone()),
        AuditParent::Partner(partner.clone()),
    ] {
        audit_success(
            &txn,
            caller,
            Audit {
                parent,
                category: AuditCategory::Relationship,
                operation: "terminate",
                object_id: name.clone(),
                object_name: format!("{partner} manages {customer}"),
                details: vec![("reason".to_owned(), reason.clone())],
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(done)
}

/// Expires every ACTIVE relationship past its end time (R30), one at a time under its
/// customer's guard: rbac-svc is told EXPIRED first (it also enforces the end time on its
/// own), then EXPIRED is committed here and the relationship's approval requests expire.
/// Returns the relationships expired; stops at the first that rbac-svc does not take.
pub async fn expire_due(state: &State, caller: &Caller) -> Result<Vec<relationship::Model>> {
    let now = store::now_us();
    let mut expired = Vec::new();
    for due in relationships::due(&state.db, now).await? {
        let txn = store::begin_guarded(&state.db, &due.customer_id).await?;
        let current = relationships::get(&txn, &due.customer_id, &due.id).await?;
        let Some(current) = current.filter(|r| {
            r.state == "ACTIVE" && !r.terminating && r.end_time.is_some_and(|end| end <= now)
        }) else {
            txn.commit().await?;
            continue;
        };
        let mut next = current.clone();
        next.state = "EXPIRED".to_owned();
        push_with(state, caller, &txn, &next).await?;
        let done = relationships::update(&txn, current, |active| {
            active.state = Set("EXPIRED".to_owned());
        })
        .await?;
        approvals::expire(&txn, Some(&done.id), now).await?;
        txn.commit().await?;
        expired.push(done);
    }
    Ok(expired)
}
