//! The `audit_records` table.

use mtm_proto::mtm::audit::v1::AuditRecord;
use mtm_proto::mtm::common::v1::Actor;
use sea_orm::entity::prelude::*;

/// One stored audit record. Times are microseconds since the epoch, so ordering is exact and
/// identical on SQLite and PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_records")]
pub struct Model {
    /// The record id (UUIDv7, so it sorts by time).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `customers/{id}` or `partners/{id}`.
    pub parent: String,
    /// When it happened.
    pub create_time_us: i64,
    /// `tenants/{id}`.
    pub target_tenant: String,
    /// `AuditCategory` value.
    pub category: i32,
    /// What was done.
    pub operation: String,
    /// The object's resource name.
    pub object_id: String,
    /// The object's display name.
    pub object_name: String,
    /// `AuditResult` value.
    pub result: i32,
    /// The actor's user resource name.
    pub actor_user: String,
    /// The actor's UPN.
    pub actor_upn: String,
    /// The actor's display name.
    pub actor_display_name: String,
    /// The actor's home tenant.
    pub actor_tenant: String,
    /// The partner the actor acted for.
    pub actor_partner: String,
    /// The relationship the actor acted under.
    pub actor_relationship: String,
    /// Whether the actor is the operator.
    pub actor_operator: bool,
    /// W3C trace id.
    pub trace_id: String,
    /// Request id.
    pub request_id: String,
    /// gRPC status code of a failure or denial.
    pub status_code: i32,
    /// Status message of a failure or denial.
    pub status_message: String,
    /// The approval request executed, if any.
    pub approval_request: String,
    /// Further facts as a JSON object of strings.
    pub details: String,
    /// The service that wrote it.
    pub source: String,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The row for a record; its parent and id come from the record's name.
    pub fn from_record(record: &AuditRecord) -> Self {
        let (parent, id) = record
            .name
            .rsplit_once("/auditRecords/")
            .unwrap_or((record.name.as_str(), ""));
        let time = record.create_time.unwrap_or_default();
        let actor = record.actor.clone().unwrap_or_default();
        Self {
            id: id.to_owned(),
            parent: parent.to_owned(),
            create_time_us: time
                .seconds
                .saturating_mul(1_000_000)
                .saturating_add(i64::from(time.nanos / 1_000)),
            target_tenant: record.target_tenant.clone(),
            category: record.category,
            operation: record.operation.clone(),
            object_id: record.object_id.clone(),
            object_name: record.object_name.clone(),
            result: record.result,
            actor_user: actor.user,
            actor_upn: actor.upn,
            actor_display_name: actor.display_name,
            actor_tenant: actor.tenant,
            actor_partner: actor.partner,
            actor_relationship: actor.partner_relationship,
            actor_operator: actor.operator,
            trace_id: record.trace_id.clone(),
            request_id: record.request_id.clone(),
            status_code: record.status_code,
            status_message: record.status_message.clone(),
            approval_request: record.approval_request.clone(),
            details: serde_json::to_string(&record.details).unwrap_or_else(|_| "{}".to_owned()),
            source: record.source.clone(),
        }
    }

    /// The record a row holds.
    pub fn into_record(self) -> AuditRecord {
        AuditRecord {
            name: format!("{}/auditRecords/{}", self.parent, self.id),
            create_time: Some(prost_types::Timestamp {
                seconds: self.create_time_us.div_euclid(1_000_000),
                nanos: i32::try_from(self.create_time_us.rem_euclid(1_000_000) * 1_000)
                    .unwrap_or(0),
            }),
            target_tenant: self.target_tenant,
            category: self.category,
            operation: self.operation,
            object_id: self.object_id,
            object_name: self.object_name,
            result: self.result,
            actor: Some(Actor {
                user: self.actor_user,
                upn: self.actor_upn,
                display_name: self.actor_display_name,
                tenant: self.actor_tenant,
                partner: self.actor_partner,
                partner_relationship: self.actor_relationship,
                operator: self.actor_operator,
            }),
            trace_id: self.trace_id,
            request_id: self.request_id,
            status_code: self.status_code,
            status_message: self.status_message,
            approval_request: self.approval_request,
            details: serde_json::from_str(&self.details).unwrap_or_default(),
            source: self.source,
        }
    }
}
