//! The gRPC handlers, thin over the rules and the store, and what they share: the caller,
//! paging and audit records.

pub mod access;
pub mod approvals;
pub mod internal;
pub mod invitations;
pub mod lookup;
pub mod managers;
pub mod relationships;
pub mod tenants;

use mtm_plumbing::audit::{AuditParent, Entry};
use mtm_plumbing::paging;
use mtm_proto::mtm::audit::v1::{AuditCategory, AuditResult};
use mtm_proto::mtm::common::v1::{Actor, CallContext, Principal};
use prost::Message;
use sea_orm::ConnectionTrait;

use crate::SERVICE_NAME;
use crate::error::{Error, Result};
use crate::state::State;

/// Who is calling, from the gateway's call context.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The verified principal.
    pub principal: Principal,
    /// The actor for audit records.
    pub actor: Actor,
    /// The request id.
    pub request_id: String,
}

impl Caller {
    /// The caller of `request`: UNAUTHENTICATED without a principal.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self> {
        let context: CallContext =
            mtm_plumbing::context::extract(request).map_err(Error::Status)?;
        let principal = context
            .principal
            .clone()
            .ok_or_else(|| Error::Status(tonic::Status::unauthenticated("no caller")))?;
        Ok(Self {
            actor: mtm_plumbing::audit::service::actor_of(&context),
            request_id: context.request_id,
            principal,
        })
    }

    /// The system itself, for sweeps and reconciliation.
    pub fn system() -> Self {
        Self {
            principal: Principal::default(),
            actor: Actor::default(),
            request_id: String::new(),
        }
    }

    /// The caller's home tenant id.
    pub fn home(&self) -> &str {
        crate::rules::home_tenant(&self.principal)
    }

    /// Whether the caller is the operator.
    pub fn is_operator(&self) -> bool {
        self.principal.operator
    }

    /// The encoded actor, for stored `*_by` columns.
    pub fn actor_bytes(&self) -> Vec<u8> {
        self.actor.encode_to_vec()
    }

    /// The caller acting for its own tenant `partner` on the partner side (R28): its actor
    /// names the partner and, when given, the relationship it acts under. Unchanged for the
    /// operator and for users of other tenants.
    pub fn as_partner(&self, partner: &str, relationship: Option<&str>) -> Self {
        let mut caller = self.clone();
        if !self.is_operator() && !partner.is_empty() && self.home() == partner {
            caller.actor.partner = format!("partners/{partner}");
            if let Some(relationship) = relationship {
                caller.actor.partner_relationship = relationship.to_owned();
            }
        }
        caller
    }

    /// `message` as a request to another service carrying this caller's context, so the
    /// callee records the real person (and partner relationship) as the actor. The system
    /// itself attaches none.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if self.is_operator() || !self.principal.user.is_empty() {
            let context = CallContext {
                principal: Some(self.principal.clone()),
                partner_relationship: self.actor.partner_relationship.clone(),
                request_id: self.request_id.clone(),
                ..Default::default()
            };
            mtm_plumbing::context::attach(&mut request, &context);
        }
        request
    }
}

/// One audit entry of a successful act.
pub struct Audit<'a> {
    /// Whose log.
    pub parent: AuditParent,
    /// What kind of object.
    pub category: AuditCategory,
    /// The operation.
    pub operation: &'a str,
    /// The object's name.
    pub object_id: String,
    /// The object's display name.
    pub object_name: String,
    /// Further facts.
    pub details: Vec<(String, String)>,
}

/// Appends a SUCCESS record for `audit` through `db` (the change's transaction).
pub async fn audit_success<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    audit: Audit<'_>,
) -> Result<()> {
    mtm_plumbing::audit::append(
        db,
        SERVICE_NAME,
        Entry {
            parent: audit.parent,
            category: audit.category,
            operation: audit.operation.to_owned(),
            object_id: audit.object_id,
            object_name: audit.object_name,
            result: AuditResult::Success,
            actor: caller.actor.clone(),
            request_id: caller.request_id.clone(),
            status: None,
            details: audit.details,
        },
    )
    .await?;
    Ok(())
}

/// Records a refused or failed mutation (R28) and returns its error. NOT_FOUND and
/// unauthenticated calls are not recorded in a tenant's log (they name nothing the caller
/// may see).
pub async fn audit_failure(
    state: &State,
    caller: &Caller,
    audit: Audit<'_>,
    error: Error,
) -> Error {
    let status: tonic::Status = match &error {
        Error::NotFound { .. } | Error::Db(_) | Error::Upstream { .. } => return error,
        Error::Invalid(fields) => tonic::Status::invalid_argument(
            fields
                .iter()
                .map(|(f, d)| format!("{f}: {d}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::Denied(message) => tonic::Status::permission_denied(message.clone()),
        Error::Precondition { description, .. } => {
            tonic::Status::failed_precondition(description.clone())
        }
        Error::AlreadyExists(name) => tonic::Status::already_exists(name.clone()),
        Error::Aborted(name) => tonic::Status::aborted(name.clone()),
        _ => return error,
    };
    let result = if status.code() == tonic::Code::PermissionDenied {
        AuditResult::Denied
    } else {
        AuditResult::Failure
    };
    let entry = Entry {
        parent: audit.parent,
        category: audit.category,
        operation: audit.operation.to_owned(),
        object_id: audit.object_id,
        object_name: audit.object_name,
        result,
        actor: caller.actor.clone(),
        request_id: caller.request_id.clone(),
        status: Some(status),
        details: audit.details,
    };
    let written = async {
        let txn = mtm_plumbing::store::begin_write(&state.db).await?;
        mtm_plumbing::audit::append(&txn, SERVICE_NAME, entry).await?;
        txn.commit().await
    }
    .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record a failed request in the audit log");
    }
    error
}

/// A page request resolved to an offset and a size.
#[derive(Debug, Clone)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub size: u64,
    scope: [String; 2],
}

impl Page {
    /// Resolves `page_size` (0 = `default`, capped at `max`, negative refused) and an opaque
    /// `page_token` valid only for the same `parent` and `filter`.
    pub fn new(
        page_size: i32,
        page_token: &str,
        default: u64,
        max: u64,
        parent: &str,
        filter: &str,
    ) -> Result<Self> {
        Ok(Self {
            offset: paging::decode_offset(&[parent, filter], page_token)?,
            size: paging::page_size(page_size, default, max)?,
            scope: [parent.to_owned(), filter.to_owned()],
        })
    }

    /// The token of the page after one holding `returned` rows of `total`; empty at the end.
    pub fn next_token(&self, returned: usize, total: u64) -> String {
        let next = self.offset + returned as u64;
        if returned == 0 || next >= total {
            String::new()
        } else {
            let [parent, filter] = &self.scope;
            paging::encode(&[parent, filter], &next.to_string())
        }
    }
}

/// A count as an `i32` total.
pub fn total(count: u64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}
