//! `mtm.gateway.v1.StatusService`: the serving state of each backend, from its health service.

use std::time::Duration;

use mtm_proto::mtm::gateway::v1::backend_status::State;
use mtm_proto::mtm::gateway::v1::status_service_server::StatusService;
use mtm_proto::mtm::gateway::v1::{BackendStatus, GetStatusRequest, GetStatusResponse};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tracing::Instrument;

use crate::Backends;

/// How long the gateway waits for one backend's health answer.
const PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// Answers `GetStatus` by asking every backend in parallel.
pub struct Status {
    backends: Backends,
}

impl Status {
    /// A status service over these backends.
    pub fn new(backends: Backends) -> Self {
        Self { backends }
    }
}

async fn probe(name: &'static str, channel: mtm_plumbing::client::ServiceChannel) -> BackendStatus {
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    request.set_timeout(PROBE_DEADLINE);
    let answer =
        tokio::time::timeout(PROBE_DEADLINE, HealthClient::new(channel).check(request)).await;
    let (state, detail) = match answer {
        Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => {
            (State::Serving, String::new())
        }
        Ok(Ok(_)) => (
            State::NotServing,
            "the backend reports it is not serving".to_owned(),
        ),
        Ok(Err(status)) => (State::Unreachable, status.message().to_owned()),
        Err(_) => (
            State::Unreachable,
            "no answer within the deadline".to_owned(),
        ),
    };
    BackendStatus {
        name: name.to_owned(),
        state: state.into(),
        detail,
    }
}

#[tonic::async_trait]
impl StatusService for Status {
    async fn get_status(
        &self,
        _request: tonic::Request<GetStatusRequest>,
    ) -> Result<tonic::Response<GetStatusResponse>, tonic::Status> {
        let probes: Vec<_> = self
            .backends
            .named()
            .into_iter()
            .map(|(name, channel)| tokio::spawn(probe(name, channel).in_current_span()))
            .collect();
        let mut backends = Vec::with_capacity(probes.len());
        for probe in probes {
            backends.push(
                probe
                    .await
                    .map_err(|_| tonic::Status::internal("a backend probe failed"))?,
            );
        }
        Ok(tonic::Response::new(GetStatusResponse { backends }))
    }
}
