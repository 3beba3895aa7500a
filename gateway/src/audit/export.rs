//! The merged CSV export: the export is audited first (R28), then the merged list is walked a
//! page at a time and sent as chunks of whole lines, so memory stays bounded by one page.

use std::time::Duration;

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::audit::csv::CsvWriter;
use mtm_plumbing::audit::service::actor_of;
use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
use mtm_proto::mtm::audit::v1::{
    AppendAuditRecordsRequest, AuditCategory, AuditRecord, AuditResult, ExportAuditRecordsResponse,
};
use mtm_proto::mtm::common::v1::CallContext;
use tokio::sync::mpsc::Sender;
use tonic::Status;

use super::merge::Cursor;
use super::sources::{Query, Sources};

/// The longest an export waits for its audit record to be written.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);
/// Records read from the backends per step of an export.
const EXPORT_PAGE: usize = 500;
/// A chunk is sent once it holds this many bytes, which keeps chunks under 64 KiB.
const CHUNK_BYTES: usize = 48 * 1024;

/// The record of an export of `parent`'s log with `filter` by the caller of `context`: a
/// success, or the refusal the caller was answered.
pub fn export_record(
    parent: &AuditParent,
    filter: &str,
    context: &CallContext,
    refusal: Option<&Status>,
) -> AuditRecord {
    AuditRecord {
        name: String::new(),
        create_time: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        target_tenant: parent.tenant(),
        category: AuditCategory::AuditLog.into(),
        operation: "export_audit_records".to_owned(),
        object_id: format!("{}/auditRecords", parent.name()),
        object_name: filter.to_owned(),
        result: match refusal {
            None => AuditResult::Success,
            Some(_) => AuditResult::Denied,
        }
        .into(),
        actor: Some(actor_of(context)),
        trace_id: mtm_plumbing::audit::current_trace_id(),
        request_id: context.request_id.clone(),
        status_code: refusal.map_or(0, |s| s.code() as i32),
        status_message: refusal.map(|s| s.message().to_owned()).unwrap_or_default(),
        approval_request: String::new(),
        details: Default::default(),
        source: crate::SERVICE_NAME.to_owned(),
    }
}

/// Appends `record` to the log it targets, through the backend keeping that log, within
/// [`WRITE_DEADLINE`].
pub async fn audit(channel: ServiceChannel, record: AuditRecord) -> Result<(), Status> {
    let mut request = tonic::Request::new(AppendAuditRecordsRequest {
        audit_records: vec![record],
    });
    request.set_timeout(WRITE_DEADLINE);
    AuditInternalServiceClient::new(channel)
        .append_audit_records(request)
        .await?;
    Ok(())
}

/// Walks the merged list of `query` from the top and sends it as CSV chunks, the header
/// first, until the list ends, a read fails (sent as the stream's error) or the client leaves.
pub async fn stream(
    sources: Sources,
    query: Query,
    sender: Sender<Result<ExportAuditRecordsResponse, Status>>,
) {
    let mut cursor = Cursor::fresh(sources.count());
    let mut writer = CsvWriter::new(true);
    let mut in_chunk = 0;
    loop {
        let records = match sources.page(&query, &mut cursor, EXPORT_PAGE).await {
            Ok(records) => records,
            Err(status) => {
                let _ = sender.send(Err(status)).await;
                return;
            }
        };
        for record in &records {
            writer.push(record);
            in_chunk += 1;
            if writer.written() >= CHUNK_BYTES {
                let chunk = ExportAuditRecordsResponse {
                    data: std::mem::replace(&mut writer, CsvWriter::new(false)).into_bytes(),
                    record_count: std::mem::take(&mut in_chunk),
                };
                if sender.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
        }
        if records.is_empty() || cursor.is_done() {
            break;
        }
    }
    let last = ExportAuditRecordsResponse {
        data: writer.into_bytes(),
        record_count: in_chunk,
    };
    let _ = sender.send(Ok(last)).await;
}
