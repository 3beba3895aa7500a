//! Who may see and act on what (R4–R6, R9, R16), from the caller's principal.

use super::Caller;
use crate::error::Result;
use crate::rules;
use crate::state::State;
use crate::store::entity::tenant;
use crate::store::{managers, tenants};

/// How a caller stands toward a partner tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerStanding {
    /// Not a user of the partner, or the partner is not an elite partner (R1).
    Outsider,
    /// A user of the elite partner without a partner-wide role.
    User,
    /// A Global admin, Managed Service admin or tenant manager of the elite partner (R5, R6).
    Manager,
}

/// Whether the caller is a user of `customer` acting on its own tenant.
pub fn is_customer(caller: &Caller, customer: &str) -> bool {
    !caller.is_operator() && caller.home() == customer
}

/// The caller's standing toward `partner` (and the partner row when it is an elite partner).
pub async fn partner_standing(
    state: &State,
    caller: &Caller,
    partner: &str,
) -> Result<(PartnerStanding, Option<tenant::Model>)> {
    if caller.is_operator() || caller.home() != partner {
        return Ok((PartnerStanding::Outsider, None));
    }
    let Some(row) = tenants::get(&state.db, partner).await? else {
        return Ok((PartnerStanding::Outsider, None));
    };
    if row.kind != "PARTNER" || !row.elite_partner || row.state != "ACTIVE" {
        return Ok((PartnerStanding::Outsider, None));
    }
    if rules::is_directory_admin(&caller.principal) {
        return Ok((PartnerStanding::Manager, Some(row)));
    }
    let members = managers::members(&state.db, partner).await?;
    if rules::is_member(&caller.principal, &members) {
        Ok((PartnerStanding::Manager, Some(row)))
    } else {
        Ok((PartnerStanding::User, Some(row)))
    }
}
