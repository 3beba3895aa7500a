//! Health follows the lease: a replica whose lease has run out (it could not renew it, or was
//! behind when it tried) reports NOT_SERVING, overall and for each of its services, until it
//! has caught up and renewed; its decisions answer UNAVAILABLE meanwhile
//! ([`crate::state::State::index`]). SQLite replicas hold no lease and stay SERVING.

use std::sync::Arc;

use mtm_plumbing::CancellationToken;
use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalServiceServer;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditServiceServer;
use mtm_proto::mtm::rbac::v1::decision_service_server::DecisionServiceServer;
use mtm_proto::mtm::rbac::v1::permission_service_server::PermissionServiceServer;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_server::RbacInternalServiceServer;
use mtm_proto::mtm::rbac::v1::role_service_server::RoleServiceServer;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::service::{decision::Decisions, internal::Internal, permission::Permissions};
use crate::state::State;

type Audit = mtm_plumbing::audit::service::AuditLog<crate::audit::Stores>;

/// The server as a whole (`""`) and every service it mounts.
const SERVICES: [&str; 7] = [
    "",
    <DecisionServiceServer<Decisions> as NamedService>::NAME,
    <PermissionServiceServer<Permissions> as NamedService>::NAME,
    <RbacInternalServiceServer<Internal> as NamedService>::NAME,
    <RoleServiceServer<crate::service::roles::Roles> as NamedService>::NAME,
    <AuditServiceServer<Audit> as NamedService>::NAME,
    <AuditInternalServiceServer<Audit> as NamedService>::NAME,
];

async fn set(health: &HealthReporter, status: ServingStatus) {
    for service in SERVICES {
        health.set_service_status(service, status).await;
    }
}

/// Reports health by the lease until `shutdown` is cancelled: NOT_SERVING from the moment the
/// lease runs out, SERVING again at the next renewal. The server reported SERVING when the
/// state was built, with the lease just taken.
pub async fn report(state: Arc<State>, health: HealthReporter, shutdown: CancellationToken) {
    let Some(lease) = state.lease() else {
        return;
    };
    let mut renewals = lease.renewals();
    let mut serving = true;
    loop {
        let valid = lease.valid();
        if valid != serving && !shutdown.is_cancelled() {
            let status = if valid {
                ServingStatus::Serving
            } else {
                tracing::warn!("lease ran out: not deciding until caught up and renewed");
                ServingStatus::NotServing
            };
            set(&health, status).await;
            serving = valid;
        }
        let expiry = async {
            match lease.deadline() {
                Some(until) if valid => tokio::time::sleep_until(until.into()).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            changed = renewals.changed() => if changed.is_err() { break },
            () = expiry => {}
        }
    }
}
