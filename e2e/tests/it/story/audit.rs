//! Fabrikam reads its audit log, merged from every service's store, and finds what the
//! partner's users did; then exports it as CSV (R28).

use mtm_e2e::world::PARTNER;
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{
    AuditCategory, AuditResult, ExportAuditRecordsRequest, ListAuditRecordsRequest,
};

use super::cast::{Cast, FABRIKAM};

/// The CSV header the export starts with.
const CSV_HEADER: &str = "activity.category,activity.objectName,activity.operation,activity.resultStatus,activity.tenantId,creationTime,user.userId,user.userTenantId,activity.objectId,user.upn,activity.partnerRelationship,activity.approvalRequest,traceId,requestId,activity.details";

/// The customer lists the partner's actions newest first, merged from the services' stores
/// (the primary admin's Helpdesk role kept by rbac-svc, the helpdesk user's ticket update
/// kept by rooms-svc, its refused room change recorded by the gateway), and exports the same
/// records as CSV.
pub async fn customer_reads_and_exports_the_partner_actions(cast: &Cast) {
    let admin = cast.fabrikam_admin();
    let filter = format!("actor.partner = \"{}\"", PARTNER.partner());
    let mut audit = AuditServiceClient::new(cast.channel.clone());
    let records = audit
        .list_audit_records(admin.call(ListAuditRecordsRequest {
            parent: FABRIKAM.customer(),
            page_size: 1000,
            filter: filter.clone(),
            ..Default::default()
        }))
        .await
        .expect("the customer lists its audit log")
        .into_inner()
        .audit_records;
    assert!(
        records
            .windows(2)
            .all(|w| w[0].create_time.map(|t| (t.seconds, t.nanos))
                >= w[1].create_time.map(|t| (t.seconds, t.nanos))),
        "newest first"
    );
    let helpdesk = PARTNER.upn("hugo");
    let recorded = |category: AuditCategory, result: AuditResult| {
        records.iter().any(|r| {
            r.category() == category
                && r.result() == result
                && r.actor
                    .as_ref()
                    .is_some_and(|a| a.upn == helpdesk && a.partner == PARTNER.partner())
        })
    };
    assert!(
        recorded(AuditCategory::Ticket, AuditResult::Success),
        "the helpdesk user's ticket update (rooms-svc's store) is in the customer's log: {records:#?}"
    );
    assert!(
        recorded(AuditCategory::Room, AuditResult::Denied),
        "the helpdesk user's refused room change (the gateway's record) is in the customer's log: {records:#?}"
    );
    let primary_admin = PARTNER.upn("msa");
    assert!(
        records.iter().any(|r| r.category() == AuditCategory::Role
            && r.result() == AuditResult::Success
            && r.actor.as_ref().is_some_and(|a| a.upn == primary_admin)),
        "the primary admin's Helpdesk role (rbac-svc's store) is in the customer's log: {records:#?}"
    );
    assert!(
        records
            .iter()
            .all(|r| r.target_tenant.ends_with(FABRIKAM.id))
    );

    let mut stream = audit
        .export_audit_records(admin.call(ExportAuditRecordsRequest {
            parent: FABRIKAM.customer(),
            filter,
        }))
        .await
        .expect("the customer exports its audit log")
        .into_inner();
    let (mut csv, mut exported) = (Vec::new(), 0);
    while let Some(chunk) = stream.message().await.expect("export chunk") {
        csv.extend_from_slice(&chunk.data);
        exported += chunk.record_count;
    }
    let csv = String::from_utf8(csv).expect("UTF-8 CSV");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    assert_eq!(exported as usize, records.len());
    assert!(csv.contains(&helpdesk), "{csv}");
}
