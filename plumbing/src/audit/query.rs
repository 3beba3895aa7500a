//! Reading the audit trail: newest first, filtered, resumable after a position, and purged by
//! age.

use mtm_proto::mtm::audit::v1::{AuditCategory, AuditPosition, AuditRecord, AuditResult};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tonic::Status;

use super::entity::{Column, Entity};
use crate::filter::{self, FieldSpec, Op};

/// The fields `ListAuditRecords` filters on.
pub const FILTER_FIELDS: FieldSpec<'static> = &[
    ("create_time", true),
    ("actor.user", false),
    ("actor.upn", false),
    ("actor.tenant", false),
    ("actor.partner", false),
    ("actor.partner_relationship", false),
    ("category", false),
    ("operation", false),
    ("result", false),
    ("object_id", false),
];

/// A parsed audit filter as SQL conditions.
#[derive(Clone, Debug)]
pub struct AuditFilter {
    condition: Condition,
}

impl AuditFilter {
    /// Parses a filter string (INVALID_ARGUMENT naming `filter` when malformed).
    pub fn parse(text: &str) -> Result<Self, Status> {
        let terms = filter::parse(text, FILTER_FIELDS)?;
        let mut condition = Condition::all();
        for term in terms {
            condition = condition.add(match term.field.as_str() {
                "create_time" => {
                    let micros = filter::time_micros(&term).unwrap_or_default();
                    match term.op {
                        Op::Ge => Column::CreateTimeUs.gte(micros),
                        Op::Le => Column::CreateTimeUs.lte(micros),
                        Op::Eq => Column::CreateTimeUs.eq(micros),
                    }
                }
                "category" => {
                    Column::Category.eq(filter::enumeration(&term, "AUDIT_CATEGORY_", |n| {
                        AuditCategory::from_str_name(n).map(|c| c as i32)
                    })?)
                }
                "result" => Column::Result.eq(filter::enumeration(&term, "AUDIT_RESULT_", |n| {
                    AuditResult::from_str_name(n).map(|r| r as i32)
                })?),
                "actor.user" => Column::ActorUser.eq(term.value.as_str()),
                "actor.upn" => Column::ActorUpn.eq(term.value.to_lowercase()),
                "actor.tenant" => Column::ActorTenant.eq(term.value.as_str()),
                "actor.partner" => Column::ActorPartner.eq(term.value.as_str()),
                "actor.partner_relationship" => Column::ActorRelationship.eq(term.value.as_str()),
                "operation" => Column::Operation.eq(term.value.as_str()),
                _ => Column::ObjectId.eq(term.value.as_str()),
            });
        }
        Ok(Self { condition })
    }
}

/// A position in list order as stored: time in microseconds and record id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// Microseconds since the epoch.
    pub time_us: i64,
    /// The record id.
    pub id: String,
}

impl Position {
    /// The position of a proto `AuditPosition`.
    pub fn from_proto(position: &AuditPosition) -> Option<Self> {
        let time = position.create_time?;
        let (_, id) = position.record.rsplit_once("/auditRecords/")?;
        Some(Self {
            time_us: crate::validate::timestamp_micros("start_after.create_time", &time).ok()?,
            id: id.to_owned(),
        })
    }

    /// The position of a record.
    pub fn of(record: &AuditRecord) -> Option<Self> {
        Self::from_proto(&AuditPosition {
            create_time: record.create_time,
            record: record.name.clone(),
        })
    }
}

/// Up to `limit` records of `parent` matching `filter`, newest first, strictly after `after`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    parent: &str,
    filter: &AuditFilter,
    after: Option<&Position>,
    limit: u64,
) -> Result<Vec<AuditRecord>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::Parent.eq(parent))
        .filter(filter.condition.clone());
    if let Some(after) = after {
        query = query.filter(
            Condition::any()
                .add(Column::CreateTimeUs.lt(after.time_us))
                .add(
                    Condition::all()
                        .add(Column::CreateTimeUs.eq(after.time_us))
                        .add(Column::Id.lt(after.id.clone())),
                ),
        );
    }
    let rows = query
        .order_by_desc(Column::CreateTimeUs)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.into_record()).collect())
}

/// Deletes `parent`'s records older than `cutoff_us` (retention, R28); returns how many.
pub async fn purge_older_than<C: ConnectionTrait>(
    db: &C,
    parent: &str,
    cutoff_us: i64,
) -> Result<u64, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::Parent.eq(parent))
        .filter(Column::CreateTimeUs.lt(cutoff_us))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
