//! The CSV form of audit records (RFC 4180, UTF-8), reference columns first.

use mtm_proto::mtm::audit::v1::{AuditCategory, AuditRecord, AuditResult};

/// The header, in the order the export writes the columns.
pub const HEADER: [&str; 15] = [
    "activity.category",
    "activity.objectName",
    "activity.operation",
    "activity.resultStatus",
    "activity.tenantId",
    "creationTime",
    "user.userId",
    "user.userTenantId",
    "activity.objectId",
    "user.upn",
    "activity.partnerRelationship",
    "activity.approvalRequest",
    "traceId",
    "requestId",
    "activity.details",
];

/// Writes CSV lines into a byte buffer.
pub struct CsvWriter {
    writer: ::csv::Writer<Vec<u8>>,
}

impl CsvWriter {
    /// A writer, with the header line first when `header` is set.
    pub fn new(header: bool) -> Self {
        let mut writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(Vec::new());
        if header {
            writer
                .write_record(HEADER)
                .expect("writing to memory cannot fail");
        }
        Self { writer }
    }

    /// Appends one record as a line.
    pub fn push(&mut self, record: &AuditRecord) {
        let actor = record.actor.clone().unwrap_or_default();
        let category = AuditCategory::try_from(record.category)
            .map(|c| lower_camel(c.as_str_name().trim_start_matches("AUDIT_CATEGORY_")))
            .unwrap_or_default();
        let result = AuditResult::try_from(record.result)
            .map(|r| {
                r.as_str_name()
                    .trim_start_matches("AUDIT_RESULT_")
                    .to_lowercase()
            })
            .unwrap_or_default();
        let details = serde_json::to_string(
            &record
                .details
                .iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap_or_default();
        let fields = [
            category,
            record.object_name.clone(),
            record.operation.clone(),
            result,
            bare(&record.target_tenant),
            record.create_time.map(rfc3339_millis).unwrap_or_default(),
            actor.user,
            bare(&actor.tenant),
            record.object_id.clone(),
            actor.upn,
            actor.partner_relationship,
            record.approval_request.clone(),
            record.trace_id.clone(),
            record.request_id.clone(),
            details,
        ];
        self.writer
            .write_record(fields)
            .expect("writing to memory cannot fail");
    }

    /// How many bytes have been written.
    pub fn written(&mut self) -> usize {
        self.writer.flush().expect("writing to memory cannot fail");
        self.writer.get_ref().len()
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.writer.into_inner().unwrap_or_default()
    }
}

fn bare(tenant: &str) -> String {
    tenant.strip_prefix("tenants/").unwrap_or(tenant).to_owned()
}

/// `PARTNER_INVITATION` → `partnerInvitation`.
fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, word) in name.split('_').enumerate() {
        let lower = word.to_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-23T10:00:00.123Z`.
fn rfc3339_millis(time: prost_types::Timestamp) -> String {
    let millis = prost_types::Timestamp {
        seconds: time.seconds,
        nanos: (time.nanos / 1_000_000) * 1_000_000,
    };
    let text = millis.to_string();
    // prost prints whole seconds without a fraction and trims trailing zeros; pad to .mmm.
    match text.split_once('.') {
        Some((whole, fraction)) => {
            let digits = fraction.trim_end_matches('Z');
            format!("{whole}.{digits:0<3}Z")
        }
        None => format!("{}.000Z", text.trim_end_matches('Z')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::common::v1::Actor;

    #[test]
    fn rows_follow_the_reference_columns() {
        let mut writer = CsvWriter::new(true);
        writer.push(&AuditRecord {
            name: "customers/c1/auditRecords/r1".into(),
            create_time: Some(prost_types::Timestamp {
                seconds: 1_767_225_600,
                nanos: 5_000_000,
            }),
            target_tenant: "tenants/c1".into(),
            category: AuditCategory::PartnerInvitation as i32,
            operation: "create".into(),
            object_id: "customers/c1/invitations/i1".into(),
            object_name: "Contoso, \"partner\"".into(),
            result: AuditResult::Denied as i32,
            actor: Some(Actor {
                user: "tenants/p1/users/u1".into(),
                upn: "ana@contoso.com".into(),
                tenant: "tenants/p1".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        let text = String::from_utf8(writer.into_bytes()).expect("utf8");
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next(), Some(HEADER.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some(
                "partnerInvitation,\"Contoso, \"\"partner\"\"\",create,denied,c1,2026-01-01T00:00:00.005Z,\
                 tenants/p1/users/u1,p1,customers/c1/invitations/i1,ana@contoso.com,,,,,{}"
            )
        );
    }

    #[test]
    fn times_have_exactly_three_fraction_digits() {
        let t = |seconds, nanos| rfc3339_millis(prost_types::Timestamp { seconds, nanos });
        assert_eq!(t(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(t(0, 120_000_000), "1970-01-01T00:00:00.120Z");
        assert_eq!(t(0, 999_999_999), "1970-01-01T00:00:00.999Z");
    }
}
