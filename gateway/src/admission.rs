//! The one admission step every public request passes, whatever serves it (ARCHITECTURE,
//! "Requests" 4):
//!
//! 1. **authenticate once**: [`AuthenticateLayer`] puts the verified token into the request's
//!    extensions; the caller is resolved from it at most once ([`caller`]);
//! 2. **decide**: the route's guard (forwarded calls, `forward::decide`) or the own service's
//!    rule gives a [`Verdict`] at each customer the call reaches;
//! 3. **partner MFA** ([`Admission::mfa_at`], [`Admission::mfa_refusals`]): at every customer
//!    the caller reaches as a partner user, a customer requiring MFA refuses a token without
//!    it (UNAUTHENTICATED / `MFA_REQUIRED`, R3). A customer the caller cannot reach answers as
//!    before (NOT_FOUND), so the refusal never tells anyone a customer or its setting exists.
//!
//! Then the call is forwarded or answered: Granted, Invisible (NOT_FOUND, R37) or Forbidden.
//! Views over many customers (the all-tickets view, `ListAccessibleCustomers`) leave out each
//! customer whose MFA requirement the token does not meet: the all-tickets view names it among
//! its failed customers with the MFA status; a view naming one customer is refused outright.
//! [`surface`] classifies every public method; a test holds it to the descriptor set.

pub mod authenticated;
pub mod partner_mfa;
pub mod surface;

use std::collections::HashMap;
use std::sync::Arc;

use mtm_proto::mtm::common::v1::Principal;
use tonic::Status;

pub use authenticated::{AuthenticateLayer, Authenticated, caller};
use partner_mfa::PartnerMfa;

/// A decision at one customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The caller may make the call.
    Granted,
    /// The caller cannot see the target: answer exactly as if it did not exist (R37).
    Invisible,
    /// The caller can see the target but may not act on it.
    Forbidden,
}

/// Whether `principal` acts at `customer` (an id) as a partner user: any signed-in user whose
/// home tenant is not the customer (the operator is no user of any tenant).
pub fn partner_at(principal: &Principal, customer: &str) -> bool {
    !principal.operator && principal.home_tenant != format!("tenants/{customer}")
}

/// The customer-side policies of admission, shared by every public service.
#[derive(Clone)]
pub struct Admission {
    mfa: Arc<PartnerMfa>,
}

impl Admission {
    /// Admission reading customers' settings from rooms-svc on `rooms`.
    pub fn new(rooms: mtm_plumbing::client::ServiceChannel) -> Self {
        Self {
            mfa: Arc::new(PartnerMfa::new(rooms)),
        }
    }

    /// Applies the partner-MFA requirement to `verdict` at `customer` (an id): a caller who
    /// reaches the customer (Granted or Forbidden) as a partner user without MFA where it is
    /// required is refused with that status; Invisible stays Invisible.
    pub async fn mfa_at(
        &self,
        principal: &Principal,
        customer: &str,
        verdict: Verdict,
    ) -> Result<Verdict, Status> {
        if verdict != Verdict::Invisible && partner_at(principal, customer) {
            self.mfa.check(principal, customer).await?;
        }
        Ok(verdict)
    }

    /// For the customers (ids) a view over many customers reaches: the refusal each one whose
    /// requirement the caller's token does not meet gives (only partner users are concerned).
    pub async fn mfa_refusals(
        &self,
        principal: &Principal,
        customers: &[String],
    ) -> HashMap<String, Status> {
        let partner_at: Vec<String> = customers
            .iter()
            .filter(|c| partner_at(principal, c))
            .cloned()
            .collect();
        self.mfa.refusals(principal, &partner_at).await
    }

    /// Forgets `customer`'s kept setting (it was just changed through this gateway).
    pub fn forget(&self, customer: &str) {
        self.mfa.forget(customer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r3_partner_users_are_everyone_but_the_customers_own_and_the_operator() {
        let own = Principal {
            home_tenant: "tenants/contoso".into(),
            ..Default::default()
        };
        let partner = Principal {
            home_tenant: "tenants/fabrikam".into(),
            ..Default::default()
        };
        let operator = Principal {
            operator: true,
            ..Default::default()
        };
        assert!(!partner_at(&own, "contoso"));
        assert!(partner_at(&partner, "contoso"));
        assert!(!partner_at(&operator, "contoso"));
    }
}
