//! `mtm.audit.v1.AuditService` and `AuditInternalService` over a backend's audit stores.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalService;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditService;
use mtm_proto::mtm::audit::v1::{
    AppendAuditRecordsRequest, AppendAuditRecordsResponse, AuditCategory, AuditRecord, AuditResult,
    ExportAuditRecordsRequest, ExportAuditRecordsResponse, ListAuditRecordsRequest,
    ListAuditRecordsResponse,
};
use mtm_proto::mtm::common::v1::{Actor, CallContext};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::csv::CsvWriter;
use super::entity::{Column, Entity};
use super::query::{self, AuditFilter, Position};
use super::{AuditParent, Entry};
use crate::status::{internal, invalid_field};

/// Where a service keeps audit logs.
#[tonic::async_trait]
pub trait AuditStores: Send + Sync + 'static {
    /// The store holding `parent`'s log; NOT_FOUND when this service keeps none for it.
    async fn store(&self, parent: &AuditParent) -> Result<DatabaseConnection, Status>;
    /// Whose log a record targeting `target_tenant` (`tenants/{id}`) belongs to.
    async fn parent_of(&self, target_tenant: &str) -> Result<AuditParent, Status>;
}

/// Records per page when nothing else is asked, and the most a page may hold.
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;
/// A CSV chunk is flushed once it holds this many bytes (chunks stay under 64 KiB).
const CHUNK_BYTES: usize = 48 * 1024;

/// Serves the audit log of the stores `S` gives, for the service named `source`.
pub struct AuditLog<S> {
    stores: Arc<S>,
    source: &'static str,
}

impl<S> AuditLog<S> {
    /// The audit services of `source` (e.g. `rooms-svc`) over `stores`.
    pub fn new(stores: Arc<S>, source: &'static str) -> Self {
        Self { stores, source }
    }
}

/// The actor a call context describes: the verified principal and, for a partner user, its
/// partner tenant and relationship.
pub fn actor_of(context: &CallContext) -> Actor {
    let principal = context.principal.clone().unwrap_or_default();
    let partner = if context.partner_relationship.is_empty() {
        String::new()
    } else {
        principal.home_tenant.replacen("tenants/", "partners/", 1)
    };
    Actor {
        user: principal.user,
        upn: principal.upn,
        display_name: String::new(),
        tenant: principal.home_tenant,
        partner,
        partner_relationship: context.partner_relationship.clone(),
        operator: principal.operator,
    }
}

fn parse_parent(parent: &str) -> Result<AuditParent, Status> {
    AuditParent::parse(parent).ok_or_else(|| {
        invalid_field(
            "parent",
            "must be customers/{customer} or partners/{partner}",
        )
    })
}

impl<S: AuditStores> AuditLog<S> {
    async fn page(
        &self,
        request: &ListAuditRecordsRequest,
    ) -> Result<(Vec<AuditRecord>, Option<Position>), Status> {
        let parent = parse_parent(&request.parent)?;
        let filter = AuditFilter::parse(&request.filter)?;
        let size = crate::paging::page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let scope = [request.parent.as_str(), request.filter.as_str()];
        let after = if let Some(position) = crate::paging::decode(&scope, &request.page_token)? {
            Some(
                position
                    .split_once(':')
                    .and_then(|(time, id)| {
                        Some(Position {
                            time_us: time.parse().ok()?,
                            id: id.to_owned(),
                        })
                    })
                    .ok_or_else(|| invalid_field("page_token", "not a token of this query"))?,
            )
        } else {
            match &request.start_after {
                Some(position) => Some(Position::from_proto(position).ok_or_else(|| {
                    invalid_field("start_after", "needs a time and a record name")
                })?),
                None => None,
            }
        };
        let db = self.stores.store(&parent).await?;
        let mut records = query::list(&db, &parent.name(), &filter, after.as_ref(), size + 1)
            .await
            .map_err(|e| internal(&e))?;
        let more = records.len() as u64 > size;
        records.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let next = if more {
            records.last().and_then(Position::of)
        } else {
            None
        };
        Ok((records, next))
    }
}

#[tonic::async_trait]
impl<S: AuditStores> AuditService for AuditLog<S> {
    async fn list_audit_records(
        &self,
        request: Request<ListAuditRecordsRequest>,
    ) -> Result<Response<ListAuditRecordsResponse>, Status> {
        let request = request.into_inner();
        let (audit_records, next) = self.page(&request).await?;
        let next_page_token = next
            .map(|position| {
                crate::paging::encode(
                    &[request.parent.as_str(), request.filter.as_str()],
                    &format!("{}:{}", position.time_us, position.id),
                )
            })
            .unwrap_or_default();
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
        let context = crate::context::extract(&request)?;
        let request = request.into_inner();
        let parent = parse_parent(&request.parent)?;
        let filter = AuditFilter::parse(&request.filter)?;
        let db = self.stores.store(&parent).await?;
        super::append(
            &db,
            self.source,
            Entry {
                parent: parent.clone(),
                category: AuditCategory::AuditLog,
                operation: "export_audit_records".to_owned(),
                object_id: format!("{}/auditRecords", parent.name()),
                object_name: request.filter.clone(),
                result: AuditResult::Success,
                actor: actor_of(&context),
                request_id: context.request_id.clone(),
                status: None,
                details: Vec::new(),
            },
        )
        .await
        .map_err(|e| internal(&e))?;

        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut writer = CsvWriter::new(true);
            let mut in_chunk = 0;
            let mut after: Option<Position> = None;
            loop {
                let page = query::list(&db, &parent.name(), &filter, after.as_ref(), 500).await;
                let records = match page {
                    Ok(records) => records,
                    Err(error) => {
                        let _ = sender.send(Err(internal(&error))).await;
                        return;
                    }
                };
                let done = records.len() < 500;
                after = records.last().and_then(Position::of);
                for record in &records {
                    writer.push(record);
                    in_chunk += 1;
                    if writer.written() >= CHUNK_BYTES {
                        let chunk = std::mem::replace(&mut writer, CsvWriter::new(false));
                        let message = ExportAuditRecordsResponse {
                            data: chunk.into_bytes(),
                            record_count: std::mem::take(&mut in_chunk),
                        };
                        if sender.send(Ok(message)).await.is_err() {
                            return;
                        }
                    }
                }
                if done {
                    break;
                }
            }
            let last = ExportAuditRecordsResponse {
                data: writer.into_bytes(),
                record_count: in_chunk,
            };
            let _ = sender.send(Ok(last)).await;
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

#[tonic::async_trait]
impl<S: AuditStores> AuditInternalService for AuditLog<S> {
    async fn append_audit_records(
        &self,
        request: Request<AppendAuditRecordsRequest>,
    ) -> Result<Response<AppendAuditRecordsResponse>, Status> {
        let records = request.into_inner().audit_records;
        if records.len() > 1000 {
            return Err(invalid_field(
                "audit_records",
                "at most 1000 records per call",
            ));
        }
        let mut names = Vec::with_capacity(records.len());
        for (i, mut record) in records.into_iter().enumerate() {
            if record.target_tenant.is_empty() || record.create_time.is_none() {
                return Err(invalid_field(
                    format!("audit_records[{i}]"),
                    "needs target_tenant and create_time",
                ));
            }
            let parent = self.stores.parent_of(&record.target_tenant).await?;
            let db = self.stores.store(&parent).await?;
            let existing = Entity::find()
                .filter(Column::Parent.eq(parent.name()))
                .filter(Column::RequestId.eq(record.request_id.clone()))
                .filter(Column::Operation.eq(record.operation.clone()))
                .filter(Column::ObjectId.eq(record.object_id.clone()))
                .filter(Column::Source.eq("gateway"))
                .one(&db)
                .await
                .map_err(|e| internal(&e))?;
            let duplicate = !record.request_id.is_empty() && existing.is_some();
            if let (true, Some(row)) = (duplicate, existing) {
                names.push(row.into_record().name);
                continue;
            }
            record.name = format!("{}/auditRecords/{}", parent.name(), uuid::Uuid::now_v7());
            record.source = "gateway".to_owned();
            super::insert(&db, &record)
                .await
                .map_err(|e| internal(&e))?;
            names.push(record.name);
        }
        Ok(Response::new(AppendAuditRecordsResponse { names }))
    }
}
