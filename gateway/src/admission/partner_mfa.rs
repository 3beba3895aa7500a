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
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use mtm_proto::mtm::rooms::v1::{BatchGetStoreInfoRequest, GetStoreInfoRequest};
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
        if let Some(required) = self.known(customer) {
            return Ok(required);
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

    /// The kept setting of `customer` while it is fresh.
    fn known(&self, customer: &str) -> Option<bool> {
        let known = self.known.lock().ok()?;
        let (required, at) = known.get(customer)?;
        (at.elapsed() < CACHE_FOR).then_some(*required)
    }

    /// Which of `customers` (ids) require MFA of partner users, asking rooms-svc in one call
    /// for those not known; a store that cannot answer gives its status.
    async fn required_at(&self, customers: &[String]) -> HashMap<String, Result<bool, Status>> {
        let mut answers = HashMap::new();
        let mut ask = Vec::new();
        for customer in customers {
            match self.known(customer) {
                Some(required) => {
                    answers.insert(customer.clone(), Ok(required));
                }
                None => ask.push(format!("customers/{customer}")),
            }
        }
        if ask.is_empty() {
            return answers;
        }
        let answer = self
            .rooms
            .clone()
            .batch_get_store_info(BatchGetStoreInfoRequest {
                customers: ask.clone(),
            })
            .await;
        let reply = match answer {
            Ok(reply) => reply.into_inner(),
            Err(status) => {
                for name in ask {
                    let id = name.trim_start_matches("customers/").to_owned();
                    answers.insert(id, Err(status.clone()));
                }
                return answers;
            }
        };
        let now = Instant::now();
        for store in reply.stores {
            let id = store.customer.trim_start_matches("customers/").to_owned();
            if let Ok(mut known) = self.known.lock() {
                known.insert(id.clone(), (store.partner_mfa_required, now));
            }
            answers.insert(id, Ok(store.partner_mfa_required));
        }
        for failure in reply.failures {
            let id = failure.customer.trim_start_matches("customers/").to_owned();
            let answer = match Code::from_i32(failure.code) {
                Code::NotFound => Ok(false),
                code => Err(Status::new(code, failure.message)),
            };
            answers.insert(id, answer);
        }
        answers
    }

    /// For each of `customers` (ids) where `principal` is a partner user: the refusal its
    /// token meets there (MFA required, or the setting could not be read), if any.
    pub async fn refusals(
        &self,
        principal: &Principal,
        customers: &[String],
    ) -> HashMap<String, Status> {
        if has_mfa(principal) || customers.is_empty() {
            return HashMap::new();
        }
        self.required_at(customers)
            .await
            .into_iter()
            .filter_map(|(customer, required)| match required {
                Ok(false) => None,
                Ok(true) => Some((customer.clone(), refusal(&customer))),
                Err(status) => Some((customer, status)),
            })
            .collect()
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
        if has_mfa(principal) || !self.required(customer).await? {
            return Ok(());
        }
        Err(refusal(customer))
    }
}

/// Whether the token asserts multi-factor authentication.
fn has_mfa(principal: &Principal) -> bool {
    principal.amr.iter().any(|m| m == MFA)
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
