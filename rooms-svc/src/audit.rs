//! Audit records of the customer store (R28), written with `mtm_plumbing::audit`: successes in
//! the transaction of the change, failures and denials after it was rolled back.

use mtm_proto::mtm::audit::v1::{AuditCategory, AuditRecord, AuditResult};
use sea_orm::ConnectionTrait;

use crate::context::Caller;
use crate::error::Error;
use crate::names::CustomerId;
use crate::store::Store;

/// The service name recorded as `source`.
pub const SOURCE: &str = "rooms-svc";

/// One audited act, before its outcome is known.
#[derive(Clone, Debug)]
pub struct Act {
    /// The customer whose log it goes to.
    pub customer: CustomerId,
    /// What kind of object.
    pub category: AuditCategory,
    /// `create`, `update`, `delete` or the named action.
    pub operation: &'static str,
    /// The object's resource name.
    pub object_id: String,
}

impl Act {
    /// An act of `operation` on `object_id` in `customer`'s store.
    pub fn new(
        customer: &CustomerId,
        category: AuditCategory,
        operation: &'static str,
        object_id: impl Into<String>,
    ) -> Self {
        Self {
            customer: customer.clone(),
            category,
            operation,
            object_id: object_id.into(),
        }
    }

    fn record(
        &self,
        caller: &Caller,
        object_name: &str,
        result: AuditResult,
        status: Option<(i32, String)>,
        details: Vec<(String, String)>,
    ) -> AuditRecord {
        let (status_code, status_message) = status.unwrap_or_default();
        AuditRecord {
            name: format!(
                "{}/auditRecords/{}",
                self.customer.name(),
                uuid::Uuid::now_v7()
            ),
            create_time: Some(crate::time::timestamp(crate::time::now_micros())),
            target_tenant: self.customer.tenant(),
            category: self.category.into(),
            operation: self.operation.to_owned(),
            object_id: self.object_id.clone(),
            object_name: object_name.to_owned(),
            result: result.into(),
            actor: Some(caller.actor.clone()),
            trace_id: caller.trace_id.clone(),
            request_id: caller.request_id.clone(),
            status_code,
            status_message,
            approval_request: caller.approval_request.clone(),
            details: details.into_iter().collect(),
            source: SOURCE.to_owned(),
        }
    }

    /// Records success through `db`, the transaction of the change.
    pub async fn success<C: ConnectionTrait>(
        &self,
        db: &C,
        caller: &Caller,
        object_name: &str,
        details: Vec<(String, String)>,
    ) -> Result<(), Error> {
        let record = self.record(caller, object_name, AuditResult::Success, None, details);
        mtm_plumbing::audit::insert(db, &record).await?;
        Ok(())
    }

    /// Records that the act failed (or was denied: NOT_FOUND, PERMISSION_DENIED) with `error`.
    /// A failure to write the record is logged; the caller still gets the original error.
    pub async fn failure(&self, store: &Store, caller: &Caller, error: &Error) {
        let code = error.code();
        let result = match code {
            tonic::Code::NotFound | tonic::Code::PermissionDenied => AuditResult::Denied,
            _ => AuditResult::Failure,
        };
        let message = match code {
            tonic::Code::Internal => "internal error".to_owned(),
            _ => error.to_string(),
        };
        let record = self.record(caller, "", result, Some((code as i32, message)), Vec::new());
        if let Err(error) = mtm_plumbing::audit::insert(store.db(), &record).await {
            tracing::error!(%error, object = %self.object_id, "cannot audit a failed act");
        }
    }

    /// Audits the outcome of `outcome` when it failed, and passes it on.
    pub async fn finish<T>(
        &self,
        store: &Store,
        caller: &Caller,
        outcome: Result<T, Error>,
    ) -> Result<T, Error> {
        if let Err(error) = &outcome {
            self.failure(store, caller, error).await;
        }
        outcome
    }
}
