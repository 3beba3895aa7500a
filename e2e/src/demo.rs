//! The demo world `mtm-local` builds on first run, entirely through the public API, so each
//! headline rule shows with one call: the tenants of identity-svc's demo directories registered
//! with tenancy-svc, the partner enrolled with its tenant managers and a *Fleet admins* group,
//! every customer's sites, rooms (some enrolled) and incidents from rooms-svc's demo generator;
//! an accepted relationship with Fabrikam (three sites, one in scope; room changes need the
//! customer's approval, and one such change waits for it) and with Northwind (all rooms; it
//! then requires partner MFA), a *Helpdesk* role (tickets only) at both, one of whose holders
//! has taken a Fabrikam ticket, and an invitation from Adatum still pending.

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::rooms::v1::enrolment_key_service_client::EnrolmentKeyServiceClient;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{
    CloseRecordedIssueRequest, DownloadEnrolmentKeyRequest, EnrollRoomRequest, ListTicketsRequest,
    Location, Room, Ticket, TicketStatus, UpdateRoomRequest, UpdateTicketRequest,
};
use mtm_proto::mtm::tenancy::v1::ChangeControlEventType;
use mtm_proto::mtm::tenancy::v1::GetTenantRequest;
use mtm_proto::mtm::tenancy::v1::tenant_service_client::TenantServiceClient;
use prost_types::FieldMask;
use rooms_svc::demo::{DemoCustomer, DemoOptions, generate};
use tonic::transport::Channel;

use crate::api::{Described, Session, Step};
use crate::world::{self, CUSTOMERS, Offer, PARTNER, TenantSpec};

/// The partner group whose members become primary admins of every accepted relationship.
pub const FLEET_ADMINS: &str = "fleet-admins";

/// The generator's seed: it gives Fabrikam three sites, so its partner scope (the first site)
/// leaves rooms out.
const DEMO_SEED: u64 = 6;

/// Rooms per customer; the generator deals them to the sites in turn.
const ROOMS_PER_CUSTOMER: usize = 12;

/// A Fabrikam room in the partner's scope (in the first site): the partner's primary admins
/// asked to rename it, and the request waits for Fabrikam's approval.
pub const FABRIKAM_ROOM_IN_SCOPE: &str = "room-0000";

/// A Fabrikam room outside the partner's scope (in the second site).
pub const FABRIKAM_ROOM_OUT_OF_SCOPE: &str = "room-0001";

/// The generated data of the demo customers, in [`CUSTOMERS`] order.
fn demo_data() -> Vec<DemoCustomer> {
    generate(DemoOptions {
        seed: DEMO_SEED,
        customers: CUSTOMERS.len(),
        rooms_per_customer: ROOMS_PER_CUSTOMER,
        incidents_per_customer: 5,
    })
}

/// What [`seed`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seeded {
    /// The world was already there; nothing changed.
    AlreadyThere,
    /// The world was built.
    Built {
        /// Rooms created over all customers.
        rooms: usize,
        /// Incidents recorded over all customers.
        tickets: usize,
    },
}

/// Builds the demo world unless the partner is already registered with tenancy-svc.
pub async fn seed(channel: Channel, operator_password_file: &std::path::Path) -> Step<Seeded> {
    let operator = world::operator(channel.clone(), operator_password_file).await?;
    let registered = TenantServiceClient::new(channel.clone())
        .get_tenant(operator.call(GetTenantRequest {
            name: format!("tenants/{}", PARTNER.id),
        }))
        .await;
    match registered {
        Ok(_) => return Ok(Seeded::AlreadyThere),
        Err(status) if status.code() == tonic::Code::NotFound => {}
        Err(status) => {
            return Err(crate::api::StepError {
                step: "checking whether the demo is seeded".into(),
                status,
            });
        }
    }
    for tenant in std::iter::once(&PARTNER).chain(&CUSTOMERS) {
        world::register_tenant(&operator, tenant).await?;
    }
    world::enrol_partner(&operator, &PARTNER).await?;

    let partner_admin = Session::demo_user(channel.clone(), &PARTNER.upn("admin")).await?;
    world::add_tenant_manager(&partner_admin, &PARTNER.group("tenant-managers")).await?;
    let msa = Session::demo_user(channel.clone(), &PARTNER.upn("msa")).await?;
    world::create_group(
        &partner_admin,
        FLEET_ADMINS,
        "Fleet admins",
        std::slice::from_ref(&msa.user),
    )
    .await?;

    let data = demo_data();
    let (mut rooms, mut tickets) = (0, 0);
    let mut first_sites = Vec::new();
    for (spec, generated) in CUSTOMERS.iter().zip(&data) {
        let admin = Session::demo_user(channel.clone(), &spec.upn("mmr-admin")).await?;
        let loaded = load_customer(&admin, spec, generated).await?;
        rooms += loaded.0;
        tickets += loaded.1;
        first_sites.push(
            generated
                .sites
                .first()
                .map(|s| s.0.clone())
                .unwrap_or_default(),
        );
    }

    let lena = Session::demo_user(channel.clone(), &PARTNER.upn("lena")).await?;
    let fleet_admins = [PARTNER.group(FLEET_ADMINS)];
    for (index, spec) in CUSTOMERS.iter().enumerate() {
        let admin = Session::demo_user(channel.clone(), &spec.upn("mmr-admin")).await?;
        let room_scope = match index {
            0 => RoomScope {
                room_groups: vec![format!("{}/roomGroups/{}", spec.customer(), first_sites[0])],
                ..Default::default()
            },
            _ => RoomScope {
                all_rooms: true,
                ..Default::default()
            },
        };
        let manual_approval = match index {
            0 => vec![ChangeControlEventType::RoomModify],
            _ => Vec::new(),
        };
        let offer = Offer {
            partner_domain: PARTNER.domain.to_owned(),
            invited_upns: vec![PARTNER.upn("admin")],
            room_scope,
            lifetime_days: 7,
            manual_approval,
        };
        let invitations = world::invite_partner(&admin, &spec.customer(), &offer).await?;
        if index == CUSTOMERS.len() - 1 {
            continue;
        }
        for invitation in invitations {
            let relationship =
                world::accept_invitation(&lena, &invitation.name, &fleet_admins).await?;
            world::create_helpdesk_role(&msa, &relationship.name, &[PARTNER.group("helpdesk")])
                .await?;
        }
    }
    for upn in ["msa", "hugo", "hanna"] {
        let user = Session::demo_user(channel.clone(), &PARTNER.upn(upn)).await?;
        world::enable_all_tickets_view(&user).await?;
    }
    let hugo = Session::demo_user(channel.clone(), &PARTNER.upn("hugo")).await?;
    helpdesk_takes_a_ticket(&hugo, &CUSTOMERS[0].customer()).await?;
    request_a_room_rename(
        &msa,
        &format!("{}/rooms/{FABRIKAM_ROOM_IN_SCOPE}", CUSTOMERS[0].customer()),
    )
    .await?;
    let northwind = Session::demo_user(channel, &CUSTOMERS[1].upn("mmr-admin")).await?;
    world::require_partner_mfa(&northwind, &CUSTOMERS[1].customer()).await?;
    Ok(Seeded::Built { rooms, tickets })
}

/// A partner primary admin renames `room` at a customer whose room changes need approval: the
/// call is held as a pending approval request (FAILED_PRECONDITION, R29).
async fn request_a_room_rename(partner_admin: &Session, room: &str) -> Step<()> {
    let answer = RoomServiceClient::new(partner_admin.channel())
        .update_room(partner_admin.call(UpdateRoomRequest {
            room: Some(Room {
                name: room.to_owned(),
                display_name: "Boardroom (renamed by Contoso Partner)".to_owned(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".to_owned()],
            }),
        }))
        .await;
    let step = format!("asking to rename {room} as {}", partner_admin.upn);
    match answer {
        Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(()),
        Err(status) => Err(crate::api::StepError { step, status }),
        Ok(_) => Err(crate::api::StepError {
            step,
            status: tonic::Status::internal("the rename took effect without approval"),
        }),
    }
}

/// A helpdesk user moves the first ticket needing action in its reach at `customer` to
/// *pending investigation*, so the customer's audit log shows a partner action.
async fn helpdesk_takes_a_ticket(helpdesk: &Session, customer: &str) -> Step<()> {
    let mut tickets = TicketServiceClient::new(helpdesk.channel());
    let open = tickets
        .list_tickets(helpdesk.call(ListTicketsRequest {
            parent: customer.to_owned(),
            page_size: 1,
            filter: "status = \"NEEDS_ACTION\"".to_owned(),
            ..Default::default()
        }))
        .await
        .step(format!("listing {customer}'s tickets as {}", helpdesk.upn))?
        .tickets;
    for ticket in open {
        tickets
            .update_ticket(helpdesk.call(UpdateTicketRequest {
                ticket: Some(Ticket {
                    name: ticket.name.clone(),
                    status: TicketStatus::PendingInvestigation.into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["status".to_owned()],
                }),
            }))
            .await
            .step(format!("updating {}", ticket.name))?;
    }
    Ok(())
}

/// Creates a customer's generated sites, rooms (enrolling those the generator marks enrolled)
/// and incidents (closing those it marks closed) as its MMR admin; returns the number of
/// rooms and incidents.
async fn load_customer(
    admin: &Session,
    spec: &TenantSpec,
    data: &DemoCustomer,
) -> Step<(usize, usize)> {
    let customer = spec.customer();
    for (id, display_name, _) in &data.sites {
        world::create_site(admin, &customer, id, display_name).await?;
    }
    let key = EnrolmentKeyServiceClient::new(admin.channel())
        .download_enrolment_key(admin.call(DownloadEnrolmentKeyRequest {
            name: format!("{customer}/enrolmentKey"),
        }))
        .await
        .step(format!("downloading the enrolment key of {customer}"))?
        .enrolment_key
        .map(|k| k.key)
        .unwrap_or_default();
    let mut rooms = RoomServiceClient::new(admin.channel());
    for room in &data.rooms {
        let (country_or_region, city, building, floor) = room.location.clone();
        let created = world::create_room(
            admin,
            &customer,
            &room.id,
            Room {
                display_name: room.display_name.clone(),
                resource_account_upn: format!(
                    "{}@{}",
                    room.upn.split('@').next().unwrap_or(&room.id),
                    spec.domain
                ),
                room_group: format!("{customer}/roomGroups/{}", room.site),
                location: Some(Location {
                    country_or_region,
                    city,
                    building,
                    floor,
                }),
                capacity: room.capacity,
                size: room.size.into(),
                device_type: room.device_type.into(),
                model: room.model.clone(),
                ..Default::default()
            },
        )
        .await?;
        if room.enrolled {
            rooms
                .enroll_room(admin.call(EnrollRoomRequest {
                    name: created.name.clone(),
                    enrolment_key: key.clone(),
                    device_type: room.device_type.into(),
                    model: room.model.clone(),
                    app_version: room.versions.0.clone(),
                    os_version: room.versions.1.clone(),
                    etag: String::new(),
                }))
                .await
                .step(format!("enrolling {}", created.name))?;
        }
    }
    let mut tickets = TicketServiceClient::new(admin.channel());
    for incident in &data.incidents {
        let room_names: Vec<String> = incident
            .rooms
            .iter()
            .map(|r| format!("{customer}/rooms/{r}"))
            .collect();
        let ticket = world::open_incident(
            admin,
            &customer,
            &room_names,
            &incident.title,
            incident.severity,
        )
        .await?;
        if let Some(reason) = &incident.closed_with {
            tickets
                .close_recorded_issue(admin.call(CloseRecordedIssueRequest {
                    name: ticket.name.clone(),
                    reason: reason.clone(),
                    etag: String::new(),
                }))
                .await
                .step(format!("closing {}", ticket.name))?;
        }
    }
    Ok((data.rooms.len(), data.incidents.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fabrikam_has_several_sites_and_the_named_rooms_sit_in_and_out_of_its_first() {
        let data = demo_data();
        let fabrikam = &data[0];
        assert!(fabrikam.sites.len() >= 2, "{:?}", fabrikam.sites);
        let site_of = |id: &str| {
            fabrikam
                .rooms
                .iter()
                .find(|room| room.id == id)
                .map(|room| room.site.clone())
        };
        let first = Some(fabrikam.sites[0].0.clone());
        assert_eq!(site_of(FABRIKAM_ROOM_IN_SCOPE), first);
        assert!(site_of(FABRIKAM_ROOM_OUT_OF_SCOPE).is_some());
        assert_ne!(site_of(FABRIKAM_ROOM_OUT_OF_SCOPE), first);
    }
}
