//! Reports count only the rooms (and tickets on rooms) in the caller's scope (R21, R34).

use mtm_proto::mtm::rooms::v1::report_service_client::ReportServiceClient;
use mtm_proto::mtm::rooms::v1::*;
use prost_types::FieldMask;

use crate::harness::{Backend, Suite, admin, call, scoped};
use crate::on_both_backends;

on_both_backends!(
    r21_reports_count_only_rooms_in_scope,
    r21_reports_count_only_rooms_in_scope_postgres,
    reports_in_scope
);

async fn reports_in_scope(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "berlin").await;
    suite.group("contoso", "paris").await;
    let ctx = admin("contoso");
    let key = suite
        .keys()
        .download_enrolment_key(call(
            DownloadEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
            },
            &ctx,
        ))
        .await
        .expect("key")
        .into_inner()
        .enrolment_key
        .expect("key")
        .key;
    for (group, id, app) in [
        ("berlin", "b1", "5.1.0"),
        ("berlin", "b2", ""),
        ("paris", "p1", "5.2.0"),
    ] {
        let room = suite.room("contoso", group, id).await;
        if !app.is_empty() {
            suite
                .rooms()
                .enroll_room(call(
                    EnrollRoomRequest {
                        name: room.name,
                        enrolment_key: key.clone(),
                        device_type: DeviceType::TeamsRoomsAndroid as i32,
                        app_version: app.into(),
                        os_version: "13".into(),
                        ..Default::default()
                    },
                    &ctx,
                ))
                .await
                .expect("enroll");
        }
    }
    let incident = suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec!["customers/contoso/rooms/p1".into()],
                title: "Paris is dark".into(),
                severity: TicketSeverity::Important as i32,
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("incident")
        .into_inner()
        .ticket
        .expect("ticket");
    let mut reports = ReportServiceClient::new(suite.channel.clone());
    let health = |context| {
        GetHealthReportRequest {
            customer: "customers/contoso".into(),
            subject: None,
        }
        .with(context)
    };
    let all = reports
        .get_health_report(health(&ctx))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(all.room_count, 3);
    assert_eq!(
        (all.open_ticket_count, all.open_important_ticket_count),
        (1, 1)
    );
    let unhealthy = all
        .rooms_by_health
        .iter()
        .find(|h| h.health == RoomHealth::Unhealthy as i32)
        .expect("unhealthy row");
    assert_eq!(unhealthy.room_count, 1);
    let berlin = scoped("contoso", &["berlin"], &[]);
    let partial = reports
        .get_health_report(health(&berlin))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(partial.room_count, 2, "paris is neither listed nor counted");
    assert_eq!(partial.open_ticket_count, 0);
    assert_eq!(
        partial.rooms_by_device_type,
        [
            DeviceTypeCount {
                device_type: DeviceType::Unspecified as i32,
                room_count: 1
            },
            DeviceTypeCount {
                device_type: DeviceType::TeamsRoomsAndroid as i32,
                room_count: 1
            }
        ]
    );
    suite
        .tickets()
        .close_recorded_issue(call(
            CloseRecordedIssueRequest {
                name: incident.name.clone(),
                reason: "Fixed".into(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("close");
    let tickets = reports
        .get_ticket_report(call(
            GetTicketReportRequest {
                customer: "customers/contoso".into(),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect("tickets")
        .into_inner();
    assert_eq!((tickets.opened_count, tickets.resolved_count), (1, 1));
    assert!(tickets.mean_time_to_resolve.is_some());
    assert_eq!(
        tickets
            .daily_counts
            .iter()
            .map(|d| d.opened_count)
            .sum::<i32>(),
        1
    );
    let hidden = reports
        .get_ticket_report(call(
            GetTicketReportRequest {
                customer: "customers/contoso".into(),
                ..Default::default()
            },
            &berlin,
        ))
        .await
        .expect("tickets")
        .into_inner();
    assert_eq!(hidden.opened_count, 0);
    let window = reports
        .get_ticket_report(call(
            GetTicketReportRequest {
                customer: "customers/contoso".into(),
                start_time: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: 0,
                }),
                ..Default::default()
            },
            &ctx,
        ))
        .await
        .expect_err("window too long");
    assert_eq!(window.code(), tonic::Code::InvalidArgument);
    // Compliance: b1 runs an older app than the newest seen (5.2.0 on p1). In `general`
    // (deferral + rollout 21 days) it is still compliant; in a ring without grace it is not.
    let compliance = |context| {
        GetUpdateComplianceReportRequest {
            customer: "customers/contoso".into(),
            subject: None,
        }
        .with(context)
    };
    let before = reports
        .get_update_compliance_report(compliance(&ctx))
        .await
        .expect("compliance")
        .into_inner();
    assert_eq!((before.room_count, before.compliant_room_count), (2, 2));
    suite
        .rings()
        .update_update_ring(call(
            UpdateUpdateRingRequest {
                update_ring: Some(UpdateRing {
                    name: "customers/contoso/updateRings/staging".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["deferral_days".into(), "rollout_days".into()],
                }),
            },
            &ctx,
        ))
        .await
        .expect("no grace in staging");
    suite
        .rooms()
        .assign_room_to_ring(call(
            AssignRoomToRingRequest {
                name: "customers/contoso/rooms/b1".into(),
                update_ring: "customers/contoso/updateRings/staging".into(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("assign");
    let after = reports
        .get_update_compliance_report(compliance(&ctx))
        .await
        .expect("compliance")
        .into_inner();
    assert_eq!((after.room_count, after.compliant_room_count), (2, 1));
    let staging = after
        .rings
        .iter()
        .find(|r| r.update_ring.ends_with("/staging"))
        .expect("staging");
    assert_eq!((staging.room_count, staging.compliant_room_count), (1, 0));
    assert_eq!(staging.compliance_ratio, 0.0);
    let scoped_report = reports
        .get_update_compliance_report(compliance(&berlin))
        .await
        .expect("compliance")
        .into_inner();
    assert_eq!(scoped_report.room_count, 1, "only b1 is enrolled in berlin");
    suite.finish(&["contoso"]).await;
}

trait WithContext: Sized {
    fn with(self, context: &mtm_proto::mtm::common::v1::CallContext) -> tonic::Request<Self> {
        call(self, context)
    }
}

impl WithContext for GetHealthReportRequest {}
impl WithContext for GetUpdateComplianceReportRequest {}
