//! The public `mtm.audit.v1.AuditService` (R28): one time-ordered audit stream per tenant,
//! merged from every backend's own `AuditService`, so a customer reads in one place everything
//! done to it, partners' actions included (R17).
//!
//! Lists page with an opaque token holding each backend's position; exports stream CSV built
//! from the same merge.

mod access;
mod export;
mod merge;
mod sources;

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::audit::query::AuditFilter;
use mtm_plumbing::client::ServiceChannel;
use mtm_plumbing::status::invalid_field;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditService;
use mtm_proto::mtm::audit::v1::{
    ExportAuditRecordsRequest, ExportAuditRecordsResponse, ListAuditRecordsRequest,
    ListAuditRecordsResponse,
};
use mtm_proto::mtm::common::v1::CallContext;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::Backends;
use crate::admission::{self, Admission, Verdict};
use crate::denials::{Denial, DenialAudit};
use crate::forward::routes::Backend;
use merge::Cursor;
use sources::{Query, Sources};

/// Records per page when `page_size` is 0, and the most a page holds.
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

/// The gateway's merged audit service.
pub struct MergedAudit {
    admission: Admission,
    rbac: DecisionServiceClient<ServiceChannel>,
    sources: Sources,
    backends: Backends,
    denials: DenialAudit,
}

const LIST_AUDIT_RECORDS: &str = "/mtm.audit.v1.AuditService/ListAuditRecords";

impl MergedAudit {
    /// The merged audit of `backends`, for callers admitted by `admission`.
    pub fn new(admission: Admission, backends: Backends) -> Self {
        Self {
            admission,
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
            sources: Sources::new(&backends),
            denials: DenialAudit::new(backends.clone()),
            backends,
        }
    }

    /// Authenticates the caller and validates `parent` and `filter`; the caller is not yet
    /// admitted to the log.
    async fn caller(
        &self,
        metadata: &MetadataMap,
        extensions: &tonic::Extensions,
        parent: &str,
        filter: &str,
    ) -> Result<(AuditParent, CallContext), Status> {
        let principal = admission::caller(extensions).await?.principal;
        let audit_parent = AuditParent::parse(parent).ok_or_else(|| {
            invalid_field(
                "parent",
                "must be customers/{customer} or partners/{partner}",
            )
        })?;
        AuditFilter::parse(filter)?;
        let context = CallContext {
            principal: Some(principal),
            request_id: crate::request_id::of(metadata),
            ..Default::default()
        };
        Ok((audit_parent, context))
    }

    /// Admits the caller of `context` to `parent`'s log and returns the query to read it
    /// with (`Ok(Ok(query))`), or the refusal to answer (see [`access::admit`]).
    async fn admit(
        &self,
        parent: &AuditParent,
        filter: &str,
        context: &CallContext,
    ) -> Result<Result<Query, Status>, Status> {
        let principal = context.principal.clone().unwrap_or_default();
        let admitted = access::admit(&mut self.rbac.clone(), &principal, parent).await?;
        if let AuditParent::Customer(customer) = parent {
            let verdict = match &admitted {
                Ok(()) => Verdict::Granted,
                Err(status) if status.code() == tonic::Code::NotFound => Verdict::Invisible,
                Err(_) => Verdict::Forbidden,
            };
            if let Err(refusal) = self.admission.mfa_at(&principal, customer, verdict).await {
                return Ok(Err(refusal));
            }
        }
        Ok(admitted.map(|()| Query {
            parent: parent.name(),
            filter: filter.to_owned(),
            context: context.clone(),
        }))
    }

    /// Records a refused `ListAuditRecords` in `parent`'s own log (R28) and returns it.
    async fn refuse_list(
        &self,
        parent: &AuditParent,
        context: &CallContext,
        refusal: Status,
    ) -> Status {
        let (tenant, owner) = match parent {
            AuditParent::Customer(id) => (id, Backend::Rooms),
            AuditParent::Partner(id) => (id, Backend::Tenancy),
        };
        self.denials
            .record(&Denial {
                path: LIST_AUDIT_RECORDS,
                owner,
                principal: context.principal.as_ref().unwrap_or(&Default::default()),
                tenant,
                target: &parent.name(),
                relationship: "",
                request_id: &context.request_id,
                approval_request: "",
                status: &refusal,
            })
            .await;
        refusal
    }

    /// The backend keeping `parent`'s log where the gateway records exports: rooms-svc holds
    /// each customer's log in the customer's own store (R27), tenancy-svc the partners'.
    fn export_log(&self, parent: &AuditParent) -> ServiceChannel {
        match parent {
            AuditParent::Customer(_) => self.backends.rooms.clone(),
            AuditParent::Partner(_) => self.backends.tenancy.clone(),
        }
    }
}

#[tonic::async_trait]
impl AuditService for MergedAudit {
    async fn list_audit_records(
        &self,
        request: Request<ListAuditRecordsRequest>,
    ) -> Result<Response<ListAuditRecordsResponse>, Status> {
        let (metadata, extensions, request) = request.into_parts();
        let (parent, context) = self
            .caller(&metadata, &extensions, &request.parent, &request.filter)
            .await?;
        let query = match self.admit(&parent, &request.filter, &context).await? {
            Ok(query) => query,
            Err(refusal) => return Err(self.refuse_list(&parent, &context, refusal).await),
        };
        let size = mtm_plumbing::paging::page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let scope = [request.parent.as_str(), request.filter.as_str()];
        let count = self.sources.count();
        let mut cursor = match mtm_plumbing::paging::decode(&scope, &request.page_token)? {
            Some(position) => Cursor::decode(count, &position)?,
            None => match &request.start_after {
                Some(position) => Cursor::after(count, position)?,
                None => Cursor::fresh(count),
            },
        };
        let limit = usize::try_from(size).unwrap_or(usize::MAX);
        let audit_records = self.sources.page(&query, &mut cursor, limit).await?;
        let next_page_token = if audit_records.is_empty() || cursor.is_done() {
            String::new()
        } else {
            mtm_plumbing::paging::encode(&scope, &cursor.encode())
        };
        Ok(Response::new(ListAuditRecordsResponse {
            audit_records,
            next_page_token,
        }))
    }

    type ExportAuditRecordsStream = ReceiverStream<Result<ExportAuditRecordsResponse, Status>>;

    async fn export_audit_records(
        &self,
        request: Request<ExportAuditRecordsRequest>,
    ) -> Result<Response<Self::ExportAuditRecordsStream>, Status> {
        let (metadata, extensions, request) = request.into_parts();
        let (parent, context) = self
            .caller(&metadata, &extensions, &request.parent, &request.filter)
            .await?;
        let query = match self.admit(&parent, &request.filter, &context).await? {
            Ok(query) => query,
            Err(refusal) => {
                let record =
                    export::export_record(&parent, &request.filter, &context, Some(&refusal));
                if let Err(status) = export::audit(self.export_log(&parent), record).await {
                    tracing::error!(
                        %status,
                        parent = %parent.name(),
                        "the audit record of a refused export could not be written"
                    );
                }
                return Err(refusal);
            }
        };
        let record = export::export_record(&parent, &request.filter, &context, None);
        export::audit(self.export_log(&parent), record)
            .await
            .map_err(|status| {
                tracing::error!(%status, parent = %parent.name(), "an export could not be audited");
                Status::unavailable("the export could not be audited")
            })?;
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        tokio::spawn(export::stream(self.sources.clone(), query, sender).in_current_span());
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
