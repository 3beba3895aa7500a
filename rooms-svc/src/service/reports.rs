//! `mtm.rooms.v1.ReportService`: reports over the rooms in the caller's scope (R21, R34).

use std::sync::Arc;

use mtm_proto::mtm::rooms::v1::report_service_server::ReportService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::State;
use crate::context::Caller;
use crate::names::parse_customer;
use crate::store::reports;

/// The report handlers.
pub struct Reports(pub Arc<State>);

#[tonic::async_trait]
impl ReportService for Reports {
    async fn get_health_report(
        &self,
        request: Request<GetHealthReportRequest>,
    ) -> Result<Response<GetHealthReportResponse>, Status> {
        let customer = parse_customer("customer", &request.get_ref().customer)?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let report = reports::health(
            store.db(),
            &customer,
            &caller.scope,
            request.get_ref().subject.as_ref(),
        )
        .await?;
        Ok(Response::new(report))
    }

    async fn get_ticket_report(
        &self,
        request: Request<GetTicketReportRequest>,
    ) -> Result<Response<GetTicketReportResponse>, Status> {
        let customer = parse_customer("customer", &request.get_ref().customer)?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let store = self.0.store(&customer).await?;
        let report = reports::tickets(
            store.db(),
            &customer,
            &caller.scope,
            message.subject.as_ref(),
            message.start_time.as_ref().map(crate::time::micros),
            message.end_time.as_ref().map(crate::time::micros),
        )
        .await?;
        Ok(Response::new(report))
    }

    async fn get_update_compliance_report(
        &self,
        request: Request<GetUpdateComplianceReportRequest>,
    ) -> Result<Response<GetUpdateComplianceReportResponse>, Status> {
        let customer = parse_customer("customer", &request.get_ref().customer)?;
        let caller = Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let report = reports::update_compliance(
            store.db(),
            &customer,
            &caller.scope,
            request.get_ref().subject.as_ref(),
        )
        .await?;
        Ok(Response::new(report))
    }
}
