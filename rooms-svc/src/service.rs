//! The gRPC handlers: thin adapters that parse names, read the caller, open the customer's
//! store and call the store functions. Authorization is decided by the gateway; the handlers
//! apply the caller's scope so nothing outside it is seen (R21, R37).

mod audit_log;
mod groups;
mod internal;
mod keys;
mod reports;
mod rings;
mod rooms;
mod settings;
mod tickets;

use std::sync::Arc;

use mtm_plumbing::server::Assembly;
use prost_types::FieldMask;

use crate::cursor::Cursors;
use crate::error::Error;
use crate::locator::Locator;
use crate::names::CustomerId;
use crate::sealing::Sealer;
use crate::store::Store;

/// What every handler shares.
#[derive(Debug)]
pub struct State {
    locator: Arc<Locator>,
    sealer: Arc<Sealer>,
    cursors: Cursors,
}

impl State {
    /// Handlers over these stores and this sealing secret.
    pub fn new(locator: Arc<Locator>, sealer: Arc<Sealer>) -> Self {
        let cursors = Cursors::new(sealer.page_token_key());
        Self {
            locator,
            sealer,
            cursors,
        }
    }

    /// The page token signer of the keyset-paged lists.
    pub fn cursors(&self) -> &Cursors {
        &self.cursors
    }

    /// The store locator.
    pub fn locator(&self) -> &Arc<Locator> {
        &self.locator
    }

    /// The enrolment key sealer.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The customer's store (NOT_FOUND when it has none).
    pub async fn store(&self, customer: &CustomerId) -> Result<Store, Error> {
        self.locator.open(customer).await
    }
}

/// Mounts every rooms-svc service on `assembly`.
pub fn mount(assembly: Assembly, state: &Arc<State>) -> Assembly {
    use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalServiceServer;
    use mtm_proto::mtm::audit::v1::audit_service_server::AuditServiceServer;
    use mtm_proto::mtm::rooms::v1::enrolment_key_service_server::EnrolmentKeyServiceServer;
    use mtm_proto::mtm::rooms::v1::report_service_server::ReportServiceServer;
    use mtm_proto::mtm::rooms::v1::room_group_service_server::RoomGroupServiceServer;
    use mtm_proto::mtm::rooms::v1::room_service_server::RoomServiceServer;
    use mtm_proto::mtm::rooms::v1::settings_service_server::SettingsServiceServer;
    use mtm_proto::mtm::rooms::v1::store_internal_service_server::StoreInternalServiceServer;
    use mtm_proto::mtm::rooms::v1::ticket_service_server::TicketServiceServer;
    use mtm_proto::mtm::rooms::v1::update_ring_service_server::UpdateRingServiceServer;
    let audit = Arc::new(audit_log::Stores(state.clone()));
    assembly
        .add_service(StoreInternalServiceServer::from_arc(Arc::new(
            internal::Internal(state.clone()),
        )))
        .add_service(RoomServiceServer::from_arc(Arc::new(rooms::Rooms(
            state.clone(),
        ))))
        .add_service(TicketServiceServer::from_arc(Arc::new(tickets::Tickets(
            state.clone(),
        ))))
        .add_service(ReportServiceServer::from_arc(Arc::new(reports::Reports(
            state.clone(),
        ))))
        .add_service(RoomGroupServiceServer::from_arc(Arc::new(groups::Groups(
            state.clone(),
        ))))
        .add_service(UpdateRingServiceServer::from_arc(Arc::new(rings::Rings(
            state.clone(),
        ))))
        .add_service(SettingsServiceServer::from_arc(Arc::new(
            settings::SettingsApi(state.clone()),
        )))
        .add_service(EnrolmentKeyServiceServer::from_arc(Arc::new(keys::Keys(
            state.clone(),
        ))))
        .add_service(AuditServiceServer::new(
            mtm_plumbing::audit::service::AuditLog::new(audit.clone(), crate::audit::SOURCE),
        ))
        .add_service(AuditInternalServiceServer::new(
            mtm_plumbing::audit::service::AuditLog::new(audit, crate::audit::SOURCE),
        ))
}

/// The paths of an update mask.
pub fn mask_paths(mask: Option<&FieldMask>) -> Vec<String> {
    mask.map(|m| m.paths.clone()).unwrap_or_default()
}
