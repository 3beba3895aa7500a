//! The partner-MFA requirement (R3): a customer may require partner users (callers whose home
//! tenant is not the customer) to present a token whose `amr` holds `mfa`. The setting is read
//! from rooms-svc (`StoreInternalService.GetStoreInfo`) and kept for [`CACHE_FOR`]; a change
//! made through this gateway (`SettingsService.UpdateSettings`) drops the kept value at once,
//! so it counts from the next call; other gateway replicas follow within [`CACHE_FOR`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::rooms::v1::GetStoreInfoRequest;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// How long a customer's setting is used without asking rooms-svc again.
pub const CACHE_FOR: Duration = Duration::from_secs(2);

/// The `amr` value that asserts multi-factor authentication.
const MFA: &str = "mfa";

/// The `google.rpc.ErrorInfo` reason of the refusal.
pub const REASON: &str = "MFA_REQUIRED";

/// Reads and applies customers' partner-MFA settings.
pub struct PartnerMfa {
    rooms: StoreInternalServiceClient<ServiceChannel>,
    known: Mutex<HashMap<String, (bool, Instant)>>,
}

impl PartnerMfa {
    /// Settings read from rooms-svc on `rooms`.
    pub fn new(rooms: ServiceChannel) -> Self {
        Self {
            rooms: StoreInternalServiceClient::new(rooms),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `customer` (an id) requires MFA of partner users.
    async fn required(&self, customer: &str) -> Result<bool, Status> {
        if let Ok(known) = self.known.lock()
            && let Some((required, at)) = known.get(customer)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(*required);
        }
        let answer = self
            .rooms
            .clone()
            .get_store_info(GetStoreInfoRequest {
                customer: format!("customers/{customer}"),
            })
            .await;
        let required = match answer {
            Ok(info) => info
                .into_inner()
                .store
                .is_some_and(|s| s.partner_mfa_required),
            Err(status) if status.code() == Code::NotFound => false,
            Err(status) => return Err(status),
        };
        if let Ok(mut known) = self.known.lock() {
            known.insert(customer.to_owned(), (required, Instant::now()));
        }
        Ok(required)
    }

    /// Forgets what is known of `customer`'s setting (it was just changed).
    pub fn forget(&self, customer: &str) {
        if let Ok(mut known) = self.known.lock() {
            known.remove(customer);
        }
    }

    /// Refuses a partner user without MFA at a customer that requires it. `principal` must be
    /// a partner user at `customer`.
    pub async fn check(&self, principal: &Principal, customer: &str) -> Result<(), Status> {
        if principal.amr.iter().any(|m| m == MFA) || !self.required(customer).await? {
            return Ok(());
        }
        Err(refusal(customer))
    }
}

/// UNAUTHENTICATED with `ErrorInfo` reason `MFA_REQUIRED` (proto/README.md, R3).
fn refusal(customer: &str) -> Status {
    Status::with_error_details(
        Code::Unauthenticated,
        format!("customers/{customer} requires partner users to sign in with MFA"),
        ErrorDetails::with_error_info(
            REASON,
            "mtm",
            HashMap::from([("customer".to_owned(), format!("customers/{customer}"))]),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r3_refusals_name_the_reason_and_the_customer() {
        let status = refusal("contoso");
        assert_eq!(status.code(), Code::Unauthenticated);
        let info = status
            .get_error_details()
            .error_info()
            .cloned()
            .expect("info");
        assert_eq!(info.reason, REASON);
        assert_eq!(info.domain, "mtm");
        assert_eq!(info.metadata["customer"], "customers/contoso");
    }
}
