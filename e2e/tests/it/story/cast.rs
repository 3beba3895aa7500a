//! The people of the story, signed in, and what the story has made so far.

use std::path::Path;

use mtm_e2e::api::Session;
use mtm_e2e::world::{self, CUSTOMERS, PARTNER, TenantSpec};
use tonic::transport::Channel;

/// Fabrikam, the customer the story follows.
pub const FABRIKAM: TenantSpec = CUSTOMERS[0];
/// Northwind, a second customer of the partner.
pub const NORTHWIND: TenantSpec = CUSTOMERS[1];
/// Adatum, the customer whose store becomes unavailable.
pub const ADATUM: TenantSpec = CUSTOMERS[2];

/// The partner group named primary admins on acceptance.
pub const FLEET_ADMINS: &str = "fleet-admins";

/// Everyone who acts in the story, and the resources they made.
pub struct Cast {
    /// The gateway.
    pub channel: Channel,
    /// The operator.
    pub operator: Session,
    /// The partner's Global admin.
    pub partner_admin: Session,
    /// A tenant manager of the partner (through the tenant-managers group).
    pub tenant_manager: Session,
    /// A partner user who becomes primary admin through the fleet-admins group.
    pub primary_admin: Session,
    /// A partner user of the helpdesk group.
    pub helpdesk: Session,
    /// The MMR admin of each customer, in [`CUSTOMERS`] order.
    pub customer_admins: Vec<Session>,
    /// Fabrikam's rooms: `berlin` site (in scope) and `paris` site (never in scope).
    pub rooms: FabrikamRooms,
    /// Fabrikam's invitation to the partner.
    pub invitation: String,
    /// The relationship of each customer with the partner, once accepted.
    pub relationships: Vec<String>,
}

/// Fabrikam's layout.
#[derive(Default)]
pub struct FabrikamRooms {
    /// The site the partner is invited to.
    pub berlin: String,
    /// Rooms of the Berlin site.
    pub spree: String,
    /// Rooms of the Berlin site.
    pub tiergarten: String,
    /// A room of the Paris site, outside the partner's scope.
    pub seine: String,
    /// A ticket on the Spree room.
    pub spree_ticket: String,
    /// A ticket on the Seine room.
    pub seine_ticket: String,
}

impl Cast {
    /// Signs everyone in.
    pub async fn assemble(channel: Channel, operator_password_file: &Path) -> Self {
        let operator = world::operator(channel.clone(), operator_password_file)
            .await
            .expect("operator signs in");
        let user = |upn: String| {
            let channel = channel.clone();
            async move {
                Session::demo_user(channel, &upn)
                    .await
                    .expect("demo user signs in")
            }
        };
        let mut customer_admins = Vec::new();
        for customer in &CUSTOMERS {
            customer_admins.push(user(customer.upn("mmr-admin")).await);
        }
        Self {
            operator,
            partner_admin: user(PARTNER.upn("admin")).await,
            tenant_manager: user(PARTNER.upn("lena")).await,
            primary_admin: user(PARTNER.upn("msa")).await,
            helpdesk: user(PARTNER.upn("hugo")).await,
            customer_admins,
            rooms: FabrikamRooms::default(),
            invitation: String::new(),
            relationships: Vec::new(),
            channel,
        }
    }

    /// Fabrikam's MMR admin.
    pub fn fabrikam_admin(&self) -> &Session {
        &self.customer_admins[0]
    }

    /// The relationship between Fabrikam and the partner.
    pub fn fabrikam_relationship(&self) -> &str {
        &self.relationships[0]
    }
}
