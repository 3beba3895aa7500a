//! Cross-service writes, ordered to fail safe (ARCHITECTURE.md): access is taken away in
//! rbac-svc before the change that removes it is committed here, and granted only after the
//! change that grants it is committed. Every call is idempotent, and [`reconcile`] repeats
//! whatever a crash left half done.

mod offboard;
mod reconcile;

pub use offboard::{expire_due, finish_termination, revoke, terminate};
pub use reconcile::{Reconciled, SETTLE_US, reconcile, run_periodically};

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::identity::v1::{CreateTenantDirectoryRequest, DeleteTenantDirectoryRequest};
use mtm_proto::mtm::rbac::v1::{
    DeprovisionCustomerRequest, ProvisionCustomerRequest, PutRelationshipRequest,
    SetPrimaryAdminsRequest,
};
use mtm_proto::mtm::rooms::v1::{DeprovisionStoreRequest, ProvisionStoreRequest};
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;
use sea_orm::{ConnectionTrait, Set};

use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::service::Caller;
use crate::state::State;
use crate::store::entity::{relationship, tenant};
use crate::store::{self, decode, invitations, primary_admins, relationships, tenants};

/// The fields of the other services' provisioning requests as fields of `CreateTenant`.
const CREATE_TENANT_FIELDS: &[(&str, &str)] = &[
    ("tenant", "tenant_id"),
    ("customer", "tenant_id"),
    ("display_name", "tenant.display_name"),
    ("kind", "tenant.kind"),
    ("domains", "domains"),
    ("first_admin_upn", "first_admin_upn"),
    ("first_admin_display_name", "first_admin_display_name"),
    ("first_admin_password", "first_admin_password"),
];

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
            .map_err(Error::upstream_as("identity-svc", CREATE_TENANT_FIELDS))?
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
            .map_err(Error::upstream_as("rooms-svc", CREATE_TENANT_FIELDS))?;
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
        .map_err(Error::upstream_as("rbac-svc", &[("scope", "room_scope")]))?
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

/// Takes away every access a DELETING tenant grants or holds: its relationships end (each
/// removed in rbac-svc first) and a customer's roles go from rbac-svc. Safe to repeat, and
/// safe beside a request still deleting the tenant.
pub async fn revoke_tenant(state: &State, caller: &Caller, row: &tenant::Model) -> Result<()> {
    let filter = relationships::RelationshipFilter {
        customer: (row.kind == "CUSTOMER").then(|| row.id.clone()),
        partner: (row.kind != "CUSTOMER").then(|| row.id.clone()),
        states: Vec::new(),
    };
    let (live, _) = relationships::list(&state.db, &filter, 0, u64::MAX).await?;
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
    Ok(())
}

/// Deletes a tenant once its access is gone ([`revoke_tenant`]): directory and, for a
/// customer, its store. Safe to repeat on a DELETING tenant.
pub async fn delete_tenant(state: &State, caller: &Caller, row: tenant::Model) -> Result<()> {
    revoke_tenant(state, caller, &row).await?;
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
