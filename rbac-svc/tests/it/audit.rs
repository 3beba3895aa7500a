//! The audit trail (R28): role and assignment changes recorded in the customer's log in the
//! change's transaction, and listed through `mtm.audit.v1.AuditService`.

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::audit::v1 as audit;
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::rbac::v1 as pb;
use tonic::Code;

use crate::on_both_backends;
use crate::support::*;

const A: &str = "customers/a";
const REL: &str = "customers/a/partnerRelationships/p";

/// The records of `parent` matching `filter`, newest first, read two to a page.
async fn records(running: &Running, parent: &str, filter: &str) -> Vec<audit::AuditRecord> {
    let mut client = AuditServiceClient::new(running.channel.clone());
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_audit_records(as_caller(
                &principal("a", "root", &[]),
                audit::ListAuditRecordsRequest {
                    parent: parent.into(),
                    filter: filter.into(),
                    page_size: 2,
                    page_token,
                    ..Default::default()
                },
            ))
            .await
            .expect("list audit records")
            .into_inner();
        all.extend(page.audit_records);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

/// (category, operation, object) of each record, oldest first.
fn acts(records: &[audit::AuditRecord]) -> Vec<(audit::AuditCategory, &str, &str)> {
    records
        .iter()
        .rev()
        .map(|r| (r.category(), r.operation.as_str(), r.object_id.as_str()))
        .collect()
}

fn detail<'a>(record: &'a audit::AuditRecord, key: &str) -> &'a str {
    record.details.get(key).map_or("", String::as_str)
}

async fn r28_role_changes_are_audited(db: &Db) {
    use audit::AuditCategory::{Assignment, Role};
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let mut client = roles(&running);

    let provisioned = records(&running, A, "").await;
    assert_eq!(
        acts(&provisioned),
        [
            (Role, "create", "customers/a/roles/mmr-admin"),
            (Role, "create", "customers/a/roles/site-lead"),
            (Role, "create", "customers/a/roles/site-tech"),
            (
                Assignment,
                "create",
                "customers/a/roleAssignments/initial-mmr-admin"
            ),
        ]
    );

    let role = create_role(&running, &root, A, "viewers", &["rooms.view"])
        .await
        .expect("create role")
        .role
        .expect("role");
    client
        .update_role(as_caller(
            &root,
            pb::UpdateRoleRequest {
                role: Some(pb::Role {
                    display_name: "Viewers".into(),
                    ..role.clone()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()],
                }),
            },
        ))
        .await
        .expect("update role");
    assign(
        &running,
        &root,
        A,
        "eva-views",
        &role.name,
        &["tenants/a/users/eva"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("assign");
    client
        .update_role_assignment(as_caller(
            &root,
            pb::UpdateRoleAssignmentRequest {
                role_assignment: Some(pb::RoleAssignment {
                    name: "customers/a/roleAssignments/eva-views".into(),
                    members: vec!["tenants/a/users/eva".into(), "tenants/a/users/max".into()],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["members".into()],
                }),
            },
        ))
        .await
        .expect("update assignment");
    assign(
        &running,
        &root,
        A,
        "ola-views",
        &role.name,
        &["tenants/a/users/ola"],
        all_rooms(),
    )
    .await
    .expect("assign");
    client
        .delete_role_assignment(as_caller(
            &root,
            pb::DeleteRoleAssignmentRequest {
                name: "customers/a/roleAssignments/ola-views".into(),
                etag: String::new(),
            },
        ))
        .await
        .expect("delete assignment");
    client
        .delete_role(as_caller(
            &root,
            pb::DeleteRoleRequest {
                name: role.name.clone(),
                etag: String::new(),
                force: true,
            },
        ))
        .await
        .expect("delete role with its assignment");

    let changes = records(&running, A, "actor.user = \"tenants/a/users/root\"").await;
    assert_eq!(
        acts(&changes),
        [
            (Role, "create", "customers/a/roles/viewers"),
            (Role, "update", "customers/a/roles/viewers"),
            (
                Assignment,
                "create",
                "customers/a/roleAssignments/eva-views"
            ),
            (
                Assignment,
                "update",
                "customers/a/roleAssignments/eva-views"
            ),
            (
                Assignment,
                "create",
                "customers/a/roleAssignments/ola-views"
            ),
            (
                Assignment,
                "delete",
                "customers/a/roleAssignments/ola-views"
            ),
            (
                Assignment,
                "delete",
                "customers/a/roleAssignments/eva-views"
            ),
            (Role, "delete", "customers/a/roles/viewers"),
        ]
    );
    for record in &changes {
        let actor = record.actor.as_ref().expect("actor");
        assert_eq!(actor.user, "tenants/a/users/root");
        assert_eq!(actor.upn, "root@a.example");
        assert_eq!(actor.tenant, "tenants/a");
        assert_eq!(record.target_tenant, "tenants/a");
        assert_eq!(record.result(), audit::AuditResult::Success);
        assert_eq!(record.source, "rbac-svc");
        assert_eq!(record.request_id, "test");
        assert!(record.name.starts_with("customers/a/auditRecords/"));
    }
    let oldest_first: Vec<_> = changes.iter().rev().collect();
    assert_eq!(detail(oldest_first[0], "permissions"), "rooms.view");
    assert_eq!(oldest_first[1].object_name, "Viewers");
    assert_eq!(detail(oldest_first[1], "fields"), "display_name");
    assert_eq!(detail(oldest_first[2], "role"), role.name);
    assert_eq!(
        detail(oldest_first[3], "members"),
        "tenants/a/users/eva,tenants/a/users/max"
    );
    assert_eq!(
        detail(oldest_first[6], "deleted_with_role"),
        "customers/a/roles/viewers"
    );

    let deletes = records(
        &running,
        A,
        "category = \"ASSIGNMENT\" AND operation = \"delete\"",
    )
    .await;
    assert_eq!(
        acts(&deletes),
        [
            (
                Assignment,
                "delete",
                "customers/a/roleAssignments/ola-views"
            ),
            (
                Assignment,
                "delete",
                "customers/a/roleAssignments/eva-views"
            ),
        ]
    );
    let one = records(
        &running,
        A,
        "object_id = \"customers/a/roleAssignments/eva-views\"",
    )
    .await;
    assert_eq!(one.len(), 3);

    relate(&mut running, "a", "p", all_rooms(), &["pam"]).await;
    let partner = records(
        &running,
        A,
        &format!("object_id = \"{REL}/roleAssignments/primary-admins\""),
    )
    .await;
    assert_eq!(
        partner
            .iter()
            .rev()
            .map(|r| r.operation.as_str())
            .collect::<Vec<_>>(),
        ["create", "update"]
    );
    assert_eq!(detail(&partner[0], "added"), "tenants/p/users/pam");
    running
        .internal
        .remove_relationship(pb::RemoveRelationshipRequest {
            relationship: REL.into(),
        })
        .await
        .expect("remove relationship");
    let removed = records(&running, A, "operation = \"delete\" AND object_id = \"customers/a/partnerRelationships/p/roles/primary-admins\"").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(detail(&removed[0], "relationship_removed"), REL);

    let mut audit_client = AuditServiceClient::new(running.channel.clone());
    let status = audit_client
        .list_audit_records(as_caller(
            &root,
            audit::ListAuditRecordsRequest {
                parent: "partners/p".into(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("no partner logs here");
    assert_eq!(status.code(), Code::NotFound);
    running.stop().await;
}
on_both_backends!(
    r28_role_changes_are_audited,
    r28_role_changes_are_audited_in_the_customers_store,
    r28_role_changes_are_audited_in_the_customers_store_postgres
);

async fn r28_r33_a_refused_write_records_nothing(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let before = records(&running, A, "").await;
    let status = roles(&running)
        .delete_role_assignment(as_caller(
            &root,
            pb::DeleteRoleAssignmentRequest {
                name: "customers/a/roleAssignments/initial-mmr-admin".into(),
                etag: String::new(),
            },
        ))
        .await
        .expect_err("R33");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = create_role(&running, &root, A, "bad", &["no.such.permission"])
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let after = records(&running, A, "").await;
    assert_eq!(after, before);
    running.stop().await;
}
on_both_backends!(
    r28_r33_a_refused_write_records_nothing,
    r28_r33_a_refused_write_records_nothing_sqlite,
    r28_r33_a_refused_write_records_nothing_postgres
);

async fn r28_gateway_denials_are_appended_and_the_log_exports(db: &Db) {
    use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let denied = audit::AuditRecord {
        create_time: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        target_tenant: "tenants/a".into(),
        category: audit::AuditCategory::Role.into(),
        operation: "create".into(),
        object_id: "customers/a/roles/sneaky".into(),
        result: audit::AuditResult::Denied.into(),
        request_id: "denied-1".into(),
        status_code: Code::PermissionDenied as i32,
        ..Default::default()
    };
    let mut internal = AuditInternalServiceClient::new(running.channel.clone());
    let request = audit::AppendAuditRecordsRequest {
        audit_records: vec![denied],
    };
    let first = internal
        .append_audit_records(request.clone())
        .await
        .expect("append")
        .into_inner()
        .names;
    let again = internal
        .append_audit_records(request)
        .await
        .expect("append again")
        .into_inner()
        .names;
    assert_eq!(first, again, "a retried append is stored once");
    assert!(first[0].starts_with("customers/a/auditRecords/"));
    let listed = records(&running, A, "result = \"DENIED\"").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, first[0]);
    assert_eq!(listed[0].source, "gateway");

    let mut client = AuditServiceClient::new(running.channel.clone());
    let mut chunks = client
        .export_audit_records(as_caller(
            &principal("a", "root", &[]),
            audit::ExportAuditRecordsRequest {
                parent: A.into(),
                filter: "category = \"ROLE\"".into(),
            },
        ))
        .await
        .expect("export")
        .into_inner();
    let mut csv = Vec::new();
    let mut count = 0;
    while let Some(chunk) = chunks.message().await.expect("chunk") {
        csv.extend(chunk.data);
        count += chunk.record_count;
    }
    let csv = String::from_utf8(csv).expect("utf-8");
    assert_eq!(count, 4, "three built-in roles and the denial:\n{csv}");
    assert!(csv.contains("customers/a/roles/sneaky"), "{csv}");
    assert!(csv.contains("customers/a/roles/site-tech"), "{csv}");
    let exports = records(&running, A, "category = \"AUDIT_LOG\"").await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].operation, "export_audit_records");
    running.stop().await;
}
on_both_backends!(
    r28_gateway_denials_are_appended_and_the_log_exports,
    r28_gateway_denials_are_appended_and_the_log_exports_sqlite,
    r28_gateway_denials_are_appended_and_the_log_exports_postgres
);
