//! The backends' own audit logs, read in parallel and merged one page at a time.

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{AuditRecord, ListAuditRecordsRequest};
use mtm_proto::mtm::common::v1::CallContext;
use tokio::task::JoinSet;
use tonic::{Code, Status};
use tracing::Instrument;

use super::merge::{self, Cursor, Run, SourceState};
use crate::Backends;

/// Every backend's `AuditService`, in the fixed order page tokens use.
#[derive(Clone)]
pub struct Sources {
    backends: Vec<(&'static str, AuditServiceClient<ServiceChannel>)>,
}

/// One merged read: whose log, with which filter, as whom.
#[derive(Clone, Debug)]
pub struct Query {
    /// `customers/{customer}` or `partners/{partner}`.
    pub parent: String,
    /// The filter, passed to every backend as given.
    pub filter: String,
    /// The admitted caller, forwarded to every backend.
    pub context: CallContext,
}

impl Sources {
    /// The audit logs of `backends`.
    pub fn new(backends: &Backends) -> Self {
        Self {
            backends: backends
                .named()
                .into_iter()
                .map(|(name, channel)| (name, AuditServiceClient::new(channel)))
                .collect(),
        }
    }

    /// How many backends are merged.
    pub fn count(&self) -> usize {
        self.backends.len()
    }

    /// The next `limit` records of the merged list from `cursor`, which moves past them.
    pub async fn page(
        &self,
        query: &Query,
        cursor: &mut Cursor,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, Status> {
        let page_size = i32::try_from(limit).unwrap_or(i32::MAX);
        let mut reads = JoinSet::new();
        for (index, ((name, client), state)) in
            self.backends.iter().zip(&cursor.sources).enumerate()
        {
            if *state == SourceState::Exhausted {
                continue;
            }
            let mut request = tonic::Request::new(ListAuditRecordsRequest {
                parent: query.parent.clone(),
                page_size,
                page_token: String::new(),
                filter: query.filter.clone(),
                start_after: state.start_after(),
            });
            mtm_plumbing::context::attach(&mut request, &query.context);
            let mut client = client.clone();
            let name = *name;
            reads.spawn(
                async move { (index, read(name, client.list_audit_records(request).await)) }
                    .in_current_span(),
            );
        }
        let mut runs: Vec<Option<Run>> = vec![None; self.backends.len()];
        while let Some(joined) = reads.join_next().await {
            let (index, run) = joined.map_err(|e| mtm_plumbing::status::internal(&e))?;
            runs[index] = Some(run?);
        }
        Ok(merge::take(cursor, &mut runs, limit))
    }
}

/// One backend's answer as a run. A backend that keeps no log for the parent (NOT_FOUND) or
/// serves no audit log at all (UNIMPLEMENTED) contributes nothing; bad input is the caller's
/// error; anything else fails the read, naming the backend.
fn read(
    backend: &'static str,
    answer: Result<tonic::Response<mtm_proto::mtm::audit::v1::ListAuditRecordsResponse>, Status>,
) -> Result<Run, Status> {
    match answer {
        Ok(response) => {
            let response = response.into_inner();
            Ok(Run {
                records: response.audit_records.into(),
                more: !response.next_page_token.is_empty(),
            })
        }
        Err(status) => match status.code() {
            Code::NotFound | Code::Unimplemented => Ok(Run::default()),
            Code::InvalidArgument => Err(status),
            Code::Unavailable | Code::DeadlineExceeded => Err(Status::new(
                status.code(),
                format!("the audit log of {backend} is unavailable"),
            )),
            _ => {
                tracing::error!(%backend, %status, "reading an audit log failed");
                Err(Status::internal("internal error"))
            }
        },
    }
}
