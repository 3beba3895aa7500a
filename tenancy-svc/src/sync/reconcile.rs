//! Reconciliation, at start-up and on a timer: repeats whatever a crash left half done.
//!
//! Taking access away never waits: a relationship marked terminating and a tenant being
//! deleted lose their access in rbac-svc on every round, whoever else is working on them
//! (each step is idempotent and serialised by the customer's guard). Only what is safe to
//! leave for a while — finishing a tenant's provisioning, deleting its directory and store —
//! is left for [`SETTLE_US`] to the request that may still be doing it.

use mtm_proto::mtm::rbac::v1::{GetRevisionRequest, SetPrimaryAdminsRequest};
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;

use super::{delete_tenant, expire_due, provision, push, revoke_tenant, terminate};
use crate::error::{Error, Result};
use crate::names;
use crate::service::Caller;
use crate::state::State;
use crate::store::entity::relationship;
use crate::store::{self, approvals, invitations, primary_admins, relationships, tenants};

/// What one reconciliation did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reconciled {
    /// Tenants whose provisioning or deletion was finished.
    pub tenants_completed: i32,
    /// Relationships pushed to rbac-svc.
    pub relationships_synced: i32,
    /// Invitations and relationships that expired.
    pub expired: i32,
    /// The rbac-svc revision afterwards.
    pub rbac_revision: i64,
}

/// Applies due expiries, takes access away from deleted tenants and terminating
/// relationships, finishes unfinished tenants and pushes every live relationship to rbac-svc
/// again. `only` limits it to one tenant id; provisioning and deletion of tenants changed
/// less than `settle_us` ago are left to the request still working on them, revocations are
/// not.
pub async fn reconcile(state: &State, only: Option<&str>, settle_us: i64) -> Result<Reconciled> {
    let system = Caller::system();
    let mut done = Reconciled::default();
    let now = store::now_us();
    done.expired += i32::try_from(invitations::expire_due(&state.db, now).await?).unwrap_or(0);
    let expired = expire_due(state, &system).await?;
    done.expired += i32::try_from(expired.len()).unwrap_or(i32::MAX);
    done.expired += i32::try_from(approvals::expire(&state.db, None, now).await?).unwrap_or(0);
    for row in tenants::unfinished(&state.db).await? {
        if only.is_some_and(|id| id != row.id) {
            continue;
        }
        let settled = row.update_time <= now - settle_us;
        match row.state.as_str() {
            "PROVISIONING"
                if settled
                    && (row.first_admin_password.is_some() || !row.first_admin_user.is_empty()) =>
            {
                provision(state, &system, row).await?;
            }
            "DELETING" if settled => delete_tenant(state, &system, row).await?,
            "DELETING" => {
                revoke_tenant(state, &system, &row).await?;
                continue;
            }
            _ => continue,
        }
        done.tenants_completed += 1;
    }
    for row in relationships::live(&state.db).await? {
        if only.is_some_and(|id| id != row.customer_id && id != row.partner_id) {
            continue;
        }
        if row.terminating {
            let reason = TerminationReason::try_from(row.termination_reason)
                .unwrap_or(TerminationReason::Unspecified);
            let (_, revision) = terminate(state, &system, row, reason).await?;
            done.rbac_revision = done.rbac_revision.max(revision);
        } else {
            finish_primary_admin_removals(state, &system, &row).await?;
            done.rbac_revision = done.rbac_revision.max(push(state, &system, &row).await?);
        }
        done.relationships_synced += 1;
    }
    let revision = state
        .rbac
        .clone()
        .get_revision(system.request(GetRevisionRequest {}))
        .await
        .map_err(Error::upstream("rbac-svc"))?
        .into_inner()
        .committed_revision;
    done.rbac_revision = done.rbac_revision.max(revision);
    Ok(done)
}

/// Deletes primary-admin entries whose removal was cut short by an earlier version (which
/// marked them before telling rbac-svc), once rbac-svc has the members without them.
async fn finish_primary_admin_removals(
    state: &State,
    caller: &Caller,
    row: &relationship::Model,
) -> Result<()> {
    let txn = store::begin_guarded(&state.db, &row.customer_id).await?;
    let entries = primary_admins::all(&txn, &row.id).await?;
    if !entries.iter().any(|p| p.removing) {
        return Ok(());
    }
    let members = entries
        .iter()
        .filter(|p| !p.removing)
        .map(|p| p.member.clone())
        .collect();
    state
        .rbac
        .clone()
        .set_primary_admins(caller.request(SetPrimaryAdminsRequest {
            relationship: names::relationship(&row.customer_id, &row.id),
            members,
        }))
        .await
        .map_err(Error::upstream("rbac-svc"))?;
    for entry in entries.iter().filter(|p| p.removing) {
        primary_admins::delete(&txn, &entry.id).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// How long the periodic reconciliation leaves a tenant's provisioning or deletion to the
/// request that is working on it: longer than any request may take. Revocations never wait.
pub const SETTLE_US: i64 = 300_000_000;

/// Reconciles at once and then every `interval` until `shutdown`; a failed round (another
/// service not reachable yet, say) is logged and repeated on the next tick.
pub async fn run_periodically(
    state: State,
    interval: std::time::Duration,
    shutdown: mtm_plumbing::CancellationToken,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match reconcile(&state, None, SETTLE_US).await {
            Ok(done) => tracing::debug!(
                tenants = done.tenants_completed,
                relationships = done.relationships_synced,
                expired = done.expired,
                "reconciled"
            ),
            Err(e) => tracing::warn!(error = %e, "reconciliation did not finish; retrying later"),
        }
    }
}
