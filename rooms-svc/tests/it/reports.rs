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

on_both_backends!(
    r21_report_counts_follow_room_scope_and_subject,
    r21_report_counts_follow_room_scope_and_subject_postgres,
    report_counts_in_scope
);

async fn report_counts_in_scope(backend: Backend) {
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
    for (group, id, device) in [
        ("berlin", "b1", Some(DeviceType::TeamsRoomsAndroid)),
        ("berlin", "b2", None),
        ("paris", "p1", Some(DeviceType::TeamsRoomsWindows)),
        ("paris", "p2", Some(DeviceType::TeamsRoomsAndroid)),
    ] {
        let room = suite.room("contoso", group, id).await;
        if let Some(device) = device {
            suite
                .rooms()
                .enroll_room(call(
                    EnrollRoomRequest {
                        name: room.name,
                        enrolment_key: key.clone(),
                        device_type: device as i32,
                        app_version: "5.2.0".into(),
                        os_version: "13".into(),
                        ..Default::default()
                    },
                    &ctx,
                ))
                .await
                .expect("enroll");
        }
    }
    suite
        .rooms()
        .set_room_suppressed(call(
            SetRoomSuppressedRequest {
                name: "customers/contoso/rooms/p2".into(),
                suppressed: true,
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("suppress");
    for (rooms, severity) in [
        (vec!["p1"], TicketSeverity::Important),
        (vec!["b2", "p2"], TicketSeverity::Warning),
    ] {
        suite
            .tickets()
            .create_incident(call(
                CreateIncidentRequest {
                    parent: "customers/contoso".into(),
                    rooms: rooms
                        .iter()
                        .map(|r| format!("customers/contoso/rooms/{r}"))
                        .collect(),
                    title: "Dark screen".into(),
                    severity: severity as i32,
                    ..Default::default()
                },
                &ctx,
            ))
            .await
            .expect("incident");
    }
    let mut reports = ReportServiceClient::new(suite.channel.clone());
    let paris = ReportSubject {
        subject: Some(report_subject::Subject::RoomGroup(
            "customers/contoso/roomGroups/paris".into(),
        )),
    };
    let health = |context, subject: Option<ReportSubject>| {
        GetHealthReportRequest {
            customer: "customers/contoso".into(),
            subject,
        }
        .with(context)
    };
    let only_p1 = scoped("contoso", &[], &["p1"]);
    let p1 = reports
        .get_health_report(health(&only_p1, None))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(p1.room_count, 1, "a room-level scope counts that room only");
    assert_eq!(
        (p1.open_ticket_count, p1.open_important_ticket_count),
        (1, 1)
    );
    assert_eq!(
        p1.rooms_by_device_type,
        [DeviceTypeCount {
            device_type: DeviceType::TeamsRoomsWindows as i32,
            room_count: 1
        }]
    );
    let unhealthy = |report: &GetHealthReportResponse| {
        report
            .rooms_by_health
            .iter()
            .find(|h| h.health == RoomHealth::Unhealthy as i32)
            .map(|h| h.room_count)
    };
    assert_eq!(unhealthy(&p1), Some(1));
    let berlin_and_p2 = scoped("contoso", &["berlin"], &["p2"]);
    let mixed = reports
        .get_health_report(health(&berlin_and_p2, None))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(mixed.room_count, 3);
    assert_eq!(mixed.suppressed_room_count, 1);
    assert_eq!(
        (mixed.open_ticket_count, mixed.open_important_ticket_count),
        (1, 0),
        "a ticket on two rooms in scope counts once; p1's is outside"
    );
    assert_eq!(
        unhealthy(&mixed),
        Some(1),
        "p2 has an open recorded issue; b2 is not enrolled"
    );
    let enrolled = |report: &GetHealthReportResponse, state: EnrolmentState| {
        report
            .rooms_by_enrolment_state
            .iter()
            .find(|s| s.enrolment_state == state as i32)
            .map(|s| s.room_count)
    };
    assert_eq!(enrolled(&mixed, EnrolmentState::Enrolled), Some(2));
    assert_eq!(enrolled(&mixed, EnrolmentState::Onboarding), Some(1));
    assert_eq!(enrolled(&mixed, EnrolmentState::Unenrolled), Some(0));
    let paris_for_berlin = reports
        .get_health_report(health(&berlin_and_p2, Some(paris.clone())))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(
        paris_for_berlin.room_count, 1,
        "the subject narrows the scope, never widens it"
    );
    let everything = reports
        .get_health_report(health(&ctx, Some(paris.clone())))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(everything.room_count, 2);
    assert_eq!(everything.open_ticket_count, 2);
    let ticket_report = |context| {
        call(
            GetTicketReportRequest {
                customer: "customers/contoso".into(),
                ..Default::default()
            },
            context,
        )
    };
    let all_tickets = reports
        .get_ticket_report(ticket_report(&ctx))
        .await
        .expect("tickets")
        .into_inner();
    assert_eq!(all_tickets.opened_count, 2);
    let opened_with = |severity: TicketSeverity| {
        all_tickets
            .daily_counts
            .iter()
            .filter(|d| d.severity == severity as i32)
            .map(|d| d.opened_count)
            .sum::<i32>()
    };
    assert_eq!(opened_with(TicketSeverity::Important), 1);
    assert_eq!(opened_with(TicketSeverity::Warning), 1);
    let p2_tickets = reports
        .get_ticket_report(ticket_report(&scoped("contoso", &[], &["p2"])))
        .await
        .expect("tickets")
        .into_inner();
    assert_eq!(p2_tickets.opened_count, 1);
    let compliance = reports
        .get_update_compliance_report(
            GetUpdateComplianceReportRequest {
                customer: "customers/contoso".into(),
                subject: Some(paris),
            }
            .with(&only_p1),
        )
        .await
        .expect("compliance")
        .into_inner();
    assert_eq!(
        (compliance.room_count, compliance.compliant_room_count),
        (1, 1)
    );
    suite.finish(&["contoso"]).await;
}

trait WithContext: Sized {
    fn with(self, context: &mtm_proto::mtm::common::v1::CallContext) -> tonic::Request<Self> {
        call(self, context)
    }
}

impl WithContext for GetHealthReportRequest {}
impl WithContext for GetUpdateComplianceReportRequest {}
