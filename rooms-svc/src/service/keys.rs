//! `mtm.rooms.v1.EnrolmentKeyService`: both methods are audited, also when they fail (R28).

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::enrolment_key_service_server::EnrolmentKeyService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::State;
use crate::audit::Act;
use crate::context::Caller;
use crate::names::parse_singleton;
use crate::store::key;

/// The enrolment key handlers.
pub struct Keys(pub Arc<State>);

#[tonic::async_trait]
impl EnrolmentKeyService for Keys {
    async fn download_enrolment_key(
        &self,
        request: Request<DownloadEnrolmentKeyRequest>,
    ) -> Result<Response<DownloadEnrolmentKeyResponse>, Status> {
        let customer = parse_singleton("name", &request.get_ref().name, "enrolmentKey")?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let act = Act::new(
            &customer,
            AuditCategory::Key,
            "download_enrolment_key",
            request.get_ref().name.clone(),
        );
        let outcome = key::download(&store, &caller, &act, self.0.sealer()).await;
        let enrolment_key = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(DownloadEnrolmentKeyResponse {
            enrolment_key: Some(enrolment_key),
        }))
    }

    async fn reset_enrolment_key(
        &self,
        request: Request<ResetEnrolmentKeyRequest>,
    ) -> Result<Response<ResetEnrolmentKeyResponse>, Status> {
        let customer = parse_singleton("name", &request.get_ref().name, "enrolmentKey")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let store = self.0.store(&customer).await?;
        let act = Act::new(
            &customer,
            AuditCategory::Key,
            "reset_enrolment_key",
            message.name.clone(),
        );
        let outcome = key::reset(&store, &caller, &act, self.0.sealer(), &message.etag).await;
        let enrolment_key = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(ResetEnrolmentKeyResponse {
            enrolment_key: Some(enrolment_key),
        }))
    }
}
