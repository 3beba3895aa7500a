//! The directories' audit trail (R28): changes are recorded in their own transaction under
//! the tenant's log, refused changes record nothing, and the gateway's records are appended.

use mtm_proto::mtm::audit::v1::audit_internal_service_client::AuditInternalServiceClient;
use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{
    AppendAuditRecordsRequest, AuditCategory, AuditRecord, AuditResult, ListAuditRecordsRequest,
};
use mtm_proto::mtm::common::v1::{Actor, TenantKind};
use mtm_proto::mtm::identity::v1::{CreateGroupRequest, CreateUserRequest, Group, User};
use tonic::Code;

use crate::on_both_stores;
use crate::support::{Harness, Store, admin_of, as_principal, assert_code, directory_request};

async fn list(h: &Harness, parent: &str) -> Result<Vec<AuditRecord>, tonic::Status> {
    AuditServiceClient::new(h.channel.clone())
        .list_audit_records(ListAuditRecordsRequest {
            parent: parent.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().audit_records)
}

async fn r28_directory_changes_are_audited_in_the_tenants_log_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let mut partner = directory_request("tailspin", "tailspin.com");
    partner.kind = TenantKind::Partner as i32;
    h.internal()
        .create_tenant_directory(partner)
        .await
        .expect("partner directory");
    let admin = admin_of(&created);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    h.directory()
        .create_group(as_principal(
            CreateGroupRequest {
                parent: "tenants/contoso".into(),
                group: Some(Group {
                    display_name: "Helpdesk".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("group");
    assert_code(
        h.directory()
            .create_user(as_principal(
                CreateUserRequest {
                    parent: "tenants/contoso".into(),
                    user: Some(User {
                        upn: "eve@elsewhere.com".into(),
                        display_name: "Eve".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                admin.clone(),
            ))
            .await,
        Code::InvalidArgument,
    );

    let records = list(&h, "customers/contoso").await.expect("list");
    let summary: Vec<(i32, String)> = records
        .iter()
        .map(|r| (r.category, r.operation.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (AuditCategory::SecurityGroup as i32, "create".to_owned()),
            (AuditCategory::User as i32, "create".to_owned()),
        ],
        "newest first; the refused create left no record"
    );
    let user_record = &records[1];
    assert_eq!(user_record.object_id, ana.name);
    assert_eq!(user_record.target_tenant, "tenants/contoso");
    assert_eq!(user_record.source, "identity-svc");
    let actor = user_record.actor.clone().expect("actor");
    assert_eq!(actor.user, created.first_admin_user);
    assert_eq!(actor.display_name, "First Admin");

    assert_code(list(&h, "partners/contoso").await, Code::NotFound);
    assert!(
        list(&h, "partners/tailspin")
            .await
            .expect("list")
            .is_empty()
    );
    assert_code(list(&h, "customers/nobody").await, Code::NotFound);
    h.stop().await;
}
on_both_stores!(
    r28_directory_changes_are_audited_in_the_tenants_log,
    r28_directory_changes_are_audited_in_the_tenants_log_postgres,
    r28_directory_changes_are_audited_in_the_tenants_log_on
);

async fn gateway_records_are_appended_to_the_targets_log_on(store: Store) {
    let h = Harness::start(store).await;
    h.create_tenant("contoso", "contoso.com").await;
    let record = AuditRecord {
        create_time: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        target_tenant: "tenants/contoso".into(),
        category: AuditCategory::User as i32,
        operation: "create".into(),
        object_id: "tenants/contoso/users".into(),
        result: AuditResult::Denied as i32,
        actor: Some(Actor {
            upn: "mallory@contoso.com".into(),
            ..Default::default()
        }),
        request_id: "req-1".into(),
        ..Default::default()
    };
    let mut client = AuditInternalServiceClient::new(h.channel.clone());
    let first = client
        .append_audit_records(AppendAuditRecordsRequest {
            audit_records: vec![record.clone()],
        })
        .await
        .expect("append")
        .into_inner()
        .names;
    let again = client
        .append_audit_records(AppendAuditRecordsRequest {
            audit_records: vec![record],
        })
        .await
        .expect("append")
        .into_inner()
        .names;
    assert_eq!(first, again, "appending is idempotent");
    let records = list(&h, "customers/contoso").await.expect("list");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].source, "gateway");
    assert_eq!(records[0].result, AuditResult::Denied as i32);
    h.stop().await;
}
on_both_stores!(
    gateway_records_are_appended_to_the_targets_log,
    gateway_records_are_appended_to_the_targets_log_postgres,
    gateway_records_are_appended_to_the_targets_log_on
);
