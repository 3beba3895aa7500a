//! The audit trail every backend keeps in its own stores (R28): one `audit_records` table
//! created by [`migration::CreateAuditRecords`], records appended inside the transaction of the
//! change they describe, listed newest first with filters and resumable positions, exported
//! as CSV, and served through `mtm.audit.v1.AuditService` / `AuditInternalService` by
//! [`service::AuditLog`].

pub mod csv;
pub mod entity;
pub mod migration;
pub mod query;
pub mod service;

use mtm_proto::mtm::audit::v1::{AuditCategory, AuditRecord, AuditResult};
use mtm_proto::mtm::common::v1::Actor;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, IntoActiveModel};

/// The collection prefix of a record's name: whose log it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditParent {
    /// `customers/{customer}`.
    Customer(String),
    /// `partners/{partner}`.
    Partner(String),
}

impl AuditParent {
    /// Parses `customers/{id}` or `partners/{id}`.
    pub fn parse(parent: &str) -> Option<Self> {
        let (collection, id) = parent.split_once('/')?;
        if id.is_empty() || id.contains('/') {
            return None;
        }
        match collection {
            "customers" => Some(Self::Customer(id.to_owned())),
            "partners" => Some(Self::Partner(id.to_owned())),
            _ => None,
        }
    }

    /// The resource name, e.g. `customers/contoso`.
    pub fn name(&self) -> String {
        match self {
            Self::Customer(id) => format!("customers/{id}"),
            Self::Partner(id) => format!("partners/{id}"),
        }
    }

    /// The tenant it belongs to, `tenants/{id}`.
    pub fn tenant(&self) -> String {
        match self {
            Self::Customer(id) | Self::Partner(id) => format!("tenants/{id}"),
        }
    }
}

/// The facts of one audited act; [`append`] adds the id, time and trace.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Whose log it goes to.
    pub parent: AuditParent,
    /// What kind of object.
    pub category: AuditCategory,
    /// `create`, `update`, `delete` or the named action in snake case.
    pub operation: String,
    /// The object's resource name.
    pub object_id: String,
    /// The object's display name at the time.
    pub object_name: String,
    /// The outcome.
    pub result: AuditResult,
    /// Who did it.
    pub actor: Actor,
    /// The request id, if any.
    pub request_id: String,
    /// For failures and denials, the status returned.
    pub status: Option<tonic::Status>,
    /// Further facts.
    pub details: Vec<(String, String)>,
}

/// Appends `entry` through `db` (pass the open transaction of the change) as written by
/// `source`, and returns the stored record.
pub async fn append<C: ConnectionTrait>(
    db: &C,
    source: &str,
    entry: Entry,
) -> Result<AuditRecord, DbErr> {
    let now = std::time::SystemTime::now();
    let record = AuditRecord {
        name: format!(
            "{}/auditRecords/{}",
            entry.parent.name(),
            uuid::Uuid::now_v7()
        ),
        create_time: Some(prost_types::Timestamp::from(now)),
        target_tenant: entry.parent.tenant(),
        category: entry.category.into(),
        operation: entry.operation,
        object_id: entry.object_id,
        object_name: entry.object_name,
        result: entry.result.into(),
        actor: Some(entry.actor),
        trace_id: current_trace_id(),
        request_id: entry.request_id,
        status_code: entry.status.as_ref().map_or(0, |s| s.code() as i32),
        status_message: entry
            .status
            .as_ref()
            .map(|s| s.message().to_owned())
            .unwrap_or_default(),
        approval_request: String::new(),
        details: entry.details.into_iter().collect(),
        source: source.to_owned(),
    };
    insert(db, &record).await?;
    Ok(record)
}

/// Stores a complete record as it is (its name decides its log).
pub async fn insert<C: ConnectionTrait>(db: &C, record: &AuditRecord) -> Result<(), DbErr> {
    entity::Model::from_record(record)
        .into_active_model()
        .insert(db)
        .await?;
    Ok(())
}

/// The W3C trace id of the current span, or empty outside a trace.
pub fn current_trace_id() -> String {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span_context.trace_id().to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests;
