//! The world the audit tests run against: two customers and a partner on a [`Live`] stack,
//! and acts through the public API that each backend audits.

use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{
    AuditRecord, ExportAuditRecordsRequest, ExportAuditRecordsResponse, ListAuditRecordsRequest,
};
use mtm_proto::mtm::common::v1::TenantKind;
use mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient;
use mtm_proto::mtm::rbac::v1::{CreateRoleAssignmentRequest, RoleAssignment};
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::update_ring_service_client::UpdateRingServiceClient;
use mtm_proto::mtm::rooms::v1::{
    CreateRoomGroupRequest, RoomGroup, UpdateRing, UpdateUpdateRingRequest,
};
use tonic::transport::Channel;

use crate::harness::calls::{all_rooms, bearer};
use crate::harness::public::{Live, Org, Person};

async fn room_group(suite: &Live, org: &Org, id: &str) {
    RoomGroupServiceClient::new(suite.stack.public())
        .create_room_group(bearer(
            CreateRoomGroupRequest {
                parent: org.customer(),
                room_group: Some(RoomGroup {
                    display_name: id.to_owned(),
                    ..Default::default()
                }),
                room_group_id: id.to_owned(),
                request_id: String::new(),
            },
            &org.admin.token,
        ))
        .await
        .expect("create room group");
}

/// A contoso user assigned Site lead, which does not hold `settings.view`.
async fn site_lead(suite: &Live, contoso: &Org) -> Person {
    let lead = suite.user(contoso, "lead", "Lead").await;
    RoleServiceClient::new(suite.stack.public())
        .create_role_assignment(bearer(
            CreateRoleAssignmentRequest {
                parent: contoso.customer(),
                role_assignment: Some(RoleAssignment {
                    display_name: "Leads".into(),
                    role: "customers/contoso/roles/site-lead".into(),
                    members: vec![lead.user.clone()],
                    scope: Some(all_rooms()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &contoso.admin.token,
        ))
        .await
        .expect("assign site lead");
    lead
}

/// A partner action at the customer: `partner`'s primary admin edits contoso's ring.
async fn edit_ring(suite: &Live, partner: &Org) {
    UpdateRingServiceClient::new(suite.stack.public())
        .update_update_ring(bearer(
            UpdateUpdateRingRequest {
                update_ring: Some(UpdateRing {
                    name: "customers/contoso/updateRings/general".into(),
                    description: "Every room, managed by fabrikam".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["description".into()],
                }),
            },
            &partner.admin.token,
        ))
        .await
        .expect("fabrikam edits a ring");
}

/// Two customers and a partner related to the first one, with audited acts of each backend.
pub struct World {
    pub suite: Live,
    pub contoso: Org,
    pub northwind: Org,
    pub fabrikam: Org,
    /// A contoso user assigned Site lead, which does not hold `settings.view`.
    pub site_lead: Person,
}

impl World {
    /// Starts a stack and sets the world up on it.
    pub async fn build() -> Self {
        let suite = Live::start().await;
        let operator = suite.operator().await;
        let contoso = suite
            .tenant(&operator, "contoso", TenantKind::Customer)
            .await;
        let northwind = suite
            .tenant(&operator, "northwind", TenantKind::Customer)
            .await;
        let fabrikam = suite.elite_partner(&operator, "fabrikam").await;
        room_group(&suite, &contoso, "hq").await;
        room_group(&suite, &northwind, "nw-site").await;
        let site_lead = site_lead(&suite, &contoso).await;
        suite.relate(&contoso, &fabrikam, &fabrikam.admin).await;
        edit_ring(&suite, &fabrikam).await;
        Self {
            suite,
            contoso,
            northwind,
            fabrikam,
            site_lead,
        }
    }

    /// The merged audit service, through the gateway.
    pub fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.suite.stack.public())
    }

    /// Every record of `parent` matching `filter`, walking pages of `page_size`.
    pub async fn walk(
        &self,
        who: &Person,
        parent: &str,
        filter: &str,
        page_size: i32,
    ) -> Vec<AuditRecord> {
        let mut records = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .audit()
                .list_audit_records(bearer(
                    ListAuditRecordsRequest {
                        parent: parent.to_owned(),
                        page_size,
                        page_token,
                        filter: filter.to_owned(),
                        start_after: None,
                    },
                    &who.token,
                ))
                .await
                .expect("list audit records")
                .into_inner();
            records.extend(page.audit_records);
            if page.next_page_token.is_empty() {
                return records;
            }
            page_token = page.next_page_token;
        }
    }

    /// Every record of contoso's log matching `filter`, as its admin reads it.
    pub async fn all(&self, filter: &str) -> Vec<AuditRecord> {
        self.walk(&self.contoso.admin, "customers/contoso", filter, 1000)
            .await
    }

    /// How listing `parent`'s log as `who` is refused.
    pub async fn list_error(&self, who: &Person, parent: &str, filter: &str) -> tonic::Status {
        self.audit()
            .list_audit_records(bearer(
                ListAuditRecordsRequest {
                    parent: parent.to_owned(),
                    filter: filter.to_owned(),
                    ..Default::default()
                },
                &who.token,
            ))
            .await
            .expect_err("refused")
    }

    /// The chunks of `parent`'s CSV export as `who`, each checked to stay under 64 KiB.
    pub async fn export_chunks(
        &self,
        who: &Person,
        parent: &str,
    ) -> Result<Vec<ExportAuditRecordsResponse>, tonic::Status> {
        let mut stream = self
            .audit()
            .export_audit_records(bearer(
                ExportAuditRecordsRequest {
                    parent: parent.to_owned(),
                    filter: String::new(),
                },
                &who.token,
            ))
            .await?
            .into_inner();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.message().await? {
            assert!(chunk.data.len() <= 64 * 1024, "chunks stay under 64 KiB");
            chunks.push(chunk);
        }
        Ok(chunks)
    }

    /// `parent`'s CSV export as `who`: the bytes and the record count.
    pub async fn export(
        &self,
        who: &Person,
        parent: &str,
    ) -> Result<(Vec<u8>, i32), tonic::Status> {
        let chunks = self.export_chunks(who, parent).await?;
        let count = chunks.iter().map(|c| c.record_count).sum();
        Ok((chunks.into_iter().flat_map(|c| c.data).collect(), count))
    }
}
