//! Cross-service writes, ordered to fail safe (ARCHITECTURE.md): access is taken away in
//! rbac-svc before the change that removes it is committed here, and granted only after the
//! change that grants it is committed. Every call is idempotent, and [`reconcile`] repeats
//! whatever a crash left half done.

use mtm_plumbing::audit::AuditParent;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::identity::v1::{CreateTenantDirectoryRequest, DeleteTenantDirectoryRequest};
use mtm_proto::mtm::rbac::v1::{
    DeprovisionCustomerRequest, GetRevisionRequest, ProvisionCustomerRequest,
    PutRelationshipRequest, RemoveRelationshipRequest, SetPrimaryAdminsRequest,
};
use mtm_proto::mtm::rooms::v1::{DeprovisionStoreRequest, ProvisionStoreRequest};
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;
use sea_orm::{ConnectionTrait, Set};

use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::service::{Audit, Caller, audit_success};
use crate::state::State;
use crate::store::entity::{relationship, tenant};
use crate::store::{self, approvals, decode, invitations, primary_admins, relationships, tenants};

/// Creates the directory (then forgets the initial password), and for a customer its store
/// and built-in roles (granted last, recorded by rbac-svc as `caller`'s), then marks the tenant
/// ACTIVE. Safe to repeat: a step already done is skipped or answered idempotently.
pub async fn provision(
    state: &State,
    caller: &Caller,
    row: tenant::Model,
) -> Result<tenant::Model> {
    let row = if row.first_admin_user.is_empty() {
        let directory = state
            .identity
            .clone()
            .create_tenant_directory(CreateTenantDirectoryRequest {
                tenant: format!("tenants/{}", row.id),
                display_name: row.display_name.clone(),
                kind: convert::kind(&row.kind).into(),
                domains: row.domains.lines().map(str::to_owned).collect(),
                first_admin_upn: row.first_admin_upn.clone(),
                first_admin_display_name: row.first_admin_display_name.clone(),
                first_admin_password: row.first_admin_password.clone().unwrap_or_default(),
            })
            .await
            .map_err(Error::upstream("identity-svc"))?
            .into_inner();
        tenants::update(&state.db, row, |active| {
            active.first_admin_user = Set(directory.first_admin_user);
            active.first_admin_password = Set(None);
        })
        .await?
    } else {
        row
    };
    if row.kind == "CUSTOMER" {
        state
            .rooms
            .clone()
            .provision_store(ProvisionStoreRequest {
                customer: format!("customers/{}", row.id),
                display_name: row.display_name.clone(),
            })
            .await
            .map_err(Error::upstream("rooms-svc"))?;
        state
            .rbac
            .clone()
            .provision_customer(caller.request(ProvisionCustomerRequest {
                customer: format!("customers/{}", row.id),
                first_admin: row.first_admin_user.clone(),
            }))
            .await
            .map_err(Error::upstream("rbac-svc"))?;
    }
    tenants::update(&state.db, row, |active| {
        active.state = Set("ACTIVE".to_owned());
    })
    .await
}

/// Pushes `row`'s state, scope and end time and the primary admins read through `db` to
/// rbac-svc, which records the changes as `caller`'s. Callers hold the customer's guard (see
/// [`store::begin_guarded`]) in `db`, so no concurrent change of the members or the
/// relationship can interleave with the push.
pub async fn push_with<C: ConnectionTrait>(
    state: &State,
    caller: &Caller,
    db: &C,
    row: &relationship::Model,
) -> Result<i64> {
    let name = names::relationship(&row.customer_id, &row.id);
    let now = store::now_us();
    let mut revision = state
        .rbac
        .clone()
        .put_relationship(caller.request(PutRelationshipRequest {
            relationship: name.clone(),
            partner: format!("partners/{}", row.partner_id),
            customer: format!("customers/{}", row.customer_id),
            scope: Some(decode::<RoomScope>(&row.room_scope)),
            state: convert::relationship_state(row, now).into(),
            end_time: row.end_time.map(convert::timestamp),
        }))
        .await
        .map_err(Error::upstream("rbac-svc"))?
        .into_inner()
        .revision;
    let members: Vec<String> = primary_admins::all(db, &row.id)
        .await?
        .into_iter()
        .filter(|p| !p.removing)
        .map(|p| p.member)
        .collect();
    if !members.is_empty() {
        revision = state
            .rbac
            .clone()
            .set_primary_admins(caller.request(SetPrimaryAdminsRequest {
                relationship: name,
                members,
            }))
            .await
            .map_err(Error::upstream("rbac-svc"))?
            .into_inner()
            .revision;
    }
    Ok(revision)
}

/// Pushes the relationship as committed now, under the customer's guard, as `caller`'s change;
/// nothing when it is no longer live (a termination is then finished elsewhere). Returns the
/// rbac revision.
pub async fn push(state: &State, caller: &Caller, row: &relationship::Model) -> Result<i64> {
    let txn = store::begin_guarded(&state.db, &row.customer_id).await?;
    let current = relationships::get(&txn, &row.customer_id, &row.id).await?;
    let revision = match current {
        Some(rel) if rel.active_pair.is_some() && !rel.terminating => {
            push_with(state, caller, &txn, &rel).await?
        }
        _ => 0,
    };
    txn.commit().await?;
    Ok(revision)
}

/// Ends a relationship (R17): marked terminating, removed from rbac-svc, then committed
/// TERMINATED with who, when and why; the pair's pending invitations are withdrawn.
pub async fn terminate(
    state: &State,
    caller: &Caller,
    row: relationship::Model,
    reason: TerminationReason,
) -> Result<(relationship::Model, i64)> {
    let row = if row.terminating {
        row
    } else {
        let txn = store::begin_guarded(&state.db, &row.customer_id).await?;
        let marked = relationships::update(&txn, row, |active| {
            active.terminating = Set(true);
            active.termination_reason = Set(reason.into());
            active.terminated_by = Set(Some(caller.actor_bytes()));
        })
        .await?;
        txn.commit().await?;
        marked
    };
    let revision = remove_in_rbac(state, caller, &row).await?;
    let done = finish_termination(state, caller, row).await?;
    Ok((done, revision))
}

async fn remove_in_rbac(state: &State, caller: &Caller, row: &relationship::Model) -> Result<i64> {
    Ok(state
        .rbac
        .clone()
        .remove_relationship(caller.request(RemoveRelationshipRequest {
            relationship: names::relationship(&row.customer_id, &row.id),
        }))
        .await
        .map_err(Error::upstream("rbac-svc"))?
        .into_inner()
        .revision)
}

async fn finish_termination(
    state: &State,
    caller: &Caller,
    row: relationship::Model,
) -> Result<relationship::Model> {
    let now = store::now_us();
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let (customer, partner, reason) = (
        row.customer_id.clone(),
        row.partner_id.clone(),
        row.termination_reason,
    );
    let name = names::relationship(&customer, &row.id);
    let done = relationships::update(&txn, row, |active| {
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

/// Deletes a tenant after every relationship of it is terminated: roles, directory and, for
/// a customer, its store. Safe to repeat on a DELETING tenant.
pub async fn delete_tenant(state: &State, caller: &Caller, row: tenant::Model) -> Result<()> {
    let filter = |customer: bool| relationships::RelationshipFilter {
        customer: customer.then(|| row.id.clone()),
        partner: (!customer).then(|| row.id.clone()),
        states: Vec::new(),
    };
    let (live, _) =
        relationships::list(&state.db, &filter(row.kind == "CUSTOMER"), 0, u64::MAX).await?;
    for rel in live
        .into_iter()
        .filter(|r| r.active_pair.is_some() || r.terminating)
    {
        terminate(state, caller, rel, TerminationReason::TenantDeleted).await?;
    }
    if row.kind == "CUSTOMER" {
        state
            .rbac
            .clone()
            .deprovision_customer(caller.request(DeprovisionCustomerRequest {
                customer: format!("customers/{}", row.id),
            }))
            .await
            .map_err(Error::upstream("rbac-svc"))?;
    }
    state
        .identity
        .clone()
        .delete_tenant_directory(DeleteTenantDirectoryRequest {
            tenant: format!("tenants/{}", row.id),
        })
        .await
        .map_err(Error::upstream("identity-svc"))?;
    if row.kind == "CUSTOMER" {
        state
            .rooms
            .clone()
            .deprovision_store(DeprovisionStoreRequest {
                customer: format!("customers/{}", row.id),
                confirm: true,
            })
            .await
            .map_err(Error::upstream("rooms-svc"))?;
    }
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    invitations::withdraw_pending(&txn, None, &row.id, caller.actor_bytes(), store::now_us())
        .await?;
    tenants::delete(&txn, &row.id).await?;
    txn.commit().await?;
    Ok(())
}

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

/// Finishes unfinished tenants, applies due expiries, finishes terminations and pushes every
/// live relationship to rbac-svc again. `only` limits it to one tenant id; tenants and
/// terminations changed less than `settle_us` ago are left to the request still working on
/// them.
pub async fn reconcile(state: &State, only: Option<&str>, settle_us: i64) -> Result<Reconciled> {
    let system = Caller::system();
    let mut done = Reconciled::default();
    let now = store::now_us();
    done.expired += i32::try_from(invitations::expire_due(&state.db, now).await?).unwrap_or(0);
    for rel in relationships::expire_due(&state.db, now).await? {
        approvals::expire(&state.db, Some(&rel.id), now).await?;
        done.expired += 1;
    }
    done.expired += i32::try_from(approvals::expire(&state.db, None, now).await?).unwrap_or(0);
    for row in tenants::unfinished(&state.db).await? {
        if only.is_some_and(|id| id != row.id) || row.update_time > now - settle_us {
            continue;
        }
        match row.state.as_str() {
            "PROVISIONING"
                if row.first_admin_password.is_some() || !row.first_admin_user.is_empty() =>
            {
                provision(state, &system, row).await?;
            }
            "DELETING" => delete_tenant(state, &system, row).await?,
            _ => continue,
        }
        done.tenants_completed += 1;
    }
    for row in relationships::live(&state.db).await? {
        if only.is_some_and(|id| id != row.customer_id && id != row.partner_id) {
            continue;
        }
        if row.terminating && row.update_time > now - settle_us {
            continue;
        }
        if row.terminating {
            let reason = TerminationReason::try_from(row.termination_reason)
                .unwrap_or(TerminationReason::Unspecified);
            terminate(state, &system, row, reason).await?;
        } else {
            finish_primary_admin_removals(state, &system, &row).await?;
            done.rbac_revision = push(state, &system, &row).await?;
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

/// Deletes primary-admin entries whose removal was cut short, once rbac-svc has the members
/// without them (the push that follows sets the full list).
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

/// How long the periodic reconciliation leaves a tenant or termination to the request that
/// is working on it: longer than any request may take.
const SETTLE_US: i64 = 300_000_000;

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
