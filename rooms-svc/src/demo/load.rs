//! Loading generated demo data into rooms-svc through its gRPC API, as the customer's own
//! administrator (and as the device, for telemetry).

use mtm_proto::mtm::common::v1::{CallContext, Principal, RoomScope};
use mtm_proto::mtm::rooms::v1::enrolment_key_service_client::EnrolmentKeyServiceClient;
use mtm_proto::mtm::rooms::v1::room_group_service_client::RoomGroupServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::*;
use tonic::transport::Channel;

use super::DemoCustomer;

/// What one load created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Rooms created.
    pub rooms: usize,
    /// Rooms enrolled.
    pub enrolled: usize,
    /// Tickets opened (incidents and device signals).
    pub tickets: usize,
}

fn admin(customer: &str) -> CallContext {
    CallContext {
        principal: Some(Principal {
            user: format!("tenants/{customer}/users/demo-admin"),
            upn: format!("demo-admin@{customer}.example"),
            home_tenant: format!("tenants/{customer}"),
            ..Default::default()
        }),
        scope: Some(RoomScope {
            all_rooms: true,
            ..Default::default()
        }),
        request_id: "demo-seed".to_owned(),
        ..Default::default()
    }
}

fn call<T>(message: T, context: &CallContext) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    mtm_plumbing::context::attach(&mut request, context);
    request
}

/// Provisions the customer's store over `provisioner` (a connection to rooms-svc as tenancy-svc,
/// which the call graph lets provision stores) and fills it with `data` over `channel` (one as
/// the gateway). Meant for empty stores: ids already taken fail.
pub async fn load(
    channel: Channel,
    provisioner: Channel,
    data: &DemoCustomer,
) -> Result<LoadSummary, tonic::Status> {
    let parent = format!("customers/{}", data.id);
    let context = admin(&data.id);
    let mut provisioning = StoreInternalServiceClient::new(provisioner);
    let mut internal = StoreInternalServiceClient::new(channel.clone());
    let mut groups = RoomGroupServiceClient::new(channel.clone());
    let mut rooms = RoomServiceClient::new(channel.clone());
    let mut keys = EnrolmentKeyServiceClient::new(channel.clone());
    let mut tickets = TicketServiceClient::new(channel);
    provisioning
        .provision_store(ProvisionStoreRequest {
            customer: parent.clone(),
            display_name: data.display_name.clone(),
        })
        .await?;
    for (id, display_name, description) in &data.sites {
        groups
            .create_room_group(call(
                CreateRoomGroupRequest {
                    parent: parent.clone(),
                    room_group: Some(RoomGroup {
                        display_name: display_name.clone(),
                        description: description.clone(),
                        ..Default::default()
                    }),
                    room_group_id: id.clone(),
                    request_id: String::new(),
                },
                &context,
            ))
            .await?;
    }
    let key = keys
        .download_enrolment_key(call(
            DownloadEnrolmentKeyRequest {
                name: format!("{parent}/enrolmentKey"),
            },
            &context,
        ))
        .await?
        .into_inner()
        .enrolment_key
        .map(|k| k.key)
        .unwrap_or_default();
    let mut summary = LoadSummary::default();
    for room in &data.rooms {
        let (country_or_region, city, building, floor) = room.location.clone();
        let created = rooms
            .create_room(call(
                CreateRoomRequest {
                    parent: parent.clone(),
                    room: Some(Room {
                        display_name: room.display_name.clone(),
                        resource_account_upn: room.upn.clone(),
                        room_group: format!("{parent}/roomGroups/{}", room.site),
                        location: Some(Location {
                            country_or_region,
                            city,
                            building,
                            floor,
                        }),
                        capacity: room.capacity,
                        size: room.size as i32,
                        device_type: room.device_type as i32,
                        model: room.model.clone(),
                        ..Default::default()
                    }),
                    room_id: room.id.clone(),
                    request_id: String::new(),
                },
                &context,
            ))
            .await?
            .into_inner()
            .room
            .unwrap_or_default();
        summary.rooms += 1;
        if !room.enrolled {
            continue;
        }
        rooms
            .enroll_room(call(
                EnrollRoomRequest {
                    name: created.name.clone(),
                    enrolment_key: key.clone(),
                    device_type: room.device_type as i32,
                    model: room.model.clone(),
                    app_version: room.versions.0.clone(),
                    os_version: room.versions.1.clone(),
                    etag: String::new(),
                },
                &context,
            ))
            .await?;
        summary.enrolled += 1;
        let affected = internal
            .record_telemetry(RecordTelemetryRequest {
                room: created.name.clone(),
                observe_time: None,
                app_version: room.versions.0.clone(),
                os_version: room.versions.1.clone(),
                signals: room
                    .signals
                    .iter()
                    .map(|(category, severity, detail)| DeviceSignal {
                        category: *category as i32,
                        healthy: false,
                        severity: *severity as i32,
                        detail: detail.clone(),
                    })
                    .collect(),
            })
            .await?
            .into_inner()
            .affected_tickets;
        summary.tickets += affected.len();
    }
    for incident in &data.incidents {
        let ticket = tickets
            .create_incident(call(
                CreateIncidentRequest {
                    parent: parent.clone(),
                    rooms: incident
                        .rooms
                        .iter()
                        .map(|r| format!("{parent}/rooms/{r}"))
                        .collect(),
                    title: incident.title.clone(),
                    description: incident.description.clone(),
                    severity: incident.severity as i32,
                    high_impact: incident.high_impact,
                    request_id: String::new(),
                },
                &context,
            ))
            .await?
            .into_inner()
            .ticket
            .unwrap_or_default();
        summary.tickets += 1;
        if let Some(reason) = &incident.closed_with {
            tickets
                .close_recorded_issue(call(
                    CloseRecordedIssueRequest {
                        name: ticket.name,
                        reason: reason.clone(),
                        etag: String::new(),
                    },
                    &context,
                ))
                .await?;
        }
    }
    Ok(summary)
}
