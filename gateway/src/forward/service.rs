//! The forwarding core: authenticate the caller, decide the route's guard with rbac-svc, and
//! pass the still-encoded request to the owning backend with the call context attached.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::uri::PathAndQuery;
use mtm_plumbing::client::ServiceChannel;
use mtm_plumbing::raw_codec::RawCodec;
use mtm_plumbing::status::invalid_field;
use mtm_proto::mtm::common::v1::{CallContext, Principal};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};

use super::decide::{Refusal, decide, decide_group};
use super::routes::{self, Backend, Decide, Guard, Route};
use super::{schema, visibility};
use crate::Backends;
use crate::admission::{self, Admission, Verdict};
use crate::change_control::{self, ChangeControl, Held};
use crate::denials::{Denial, DenialAudit};
pub(super) use crate::error::permission_denied;
use crate::error::{not_found, reworded};

/// Everything forwarding needs: who the caller is, rbac-svc for decisions, the backends, and
/// the customer-side policies applied on the way (partner MFA, change control, denial audit).
pub struct Forwarder {
    pub(super) rbac: DecisionServiceClient<ServiceChannel>,
    pub(super) backends: Backends,
    admission: Admission,
    pub(super) change_control: ChangeControl,
    denials: DenialAudit,
}

/// Metadata a client must never be able to hand to a backend itself.
const STRIPPED: [&str; 2] = ["authorization", mtm_plumbing::context::CALL_CONTEXT_KEY];

/// The call that changes a customer's partner-MFA setting.
const UPDATE_SETTINGS: &str = "/mtm.rooms.v1.SettingsService/UpdateSettings";

/// The call by which a customer approves a held partner action.
const APPROVE: &str = "/mtm.tenancy.v1.ApprovalService/Approve";

/// Where an admitted call acts: a customer and the resource it names.
pub(super) struct AtCustomer {
    /// The customer id.
    pub customer: String,
    /// The resource named by the call's routing field.
    pub target: String,
    /// Whether the caller is a partner user there.
    pub partner: bool,
    /// Whether the backend decides the call itself (partner-side routes, R4–R6): its
    /// NOT_FOUND is then the refusal of an out-of-reach call, audited here.
    pub backend_decides: bool,
    /// The caller.
    pub principal: Principal,
}

/// An admitted call: the context to forward with, and its customer when it acts at one.
pub(super) struct Admitted {
    /// The call context (none for anonymous calls).
    pub context: Option<CallContext>,
    /// The customer it acts at.
    pub at: Option<AtCustomer>,
}

/// How a call is admitted.
#[derive(Clone, Copy)]
pub(super) struct How<'a> {
    /// The call's request id.
    pub request_id: &'a str,
    /// The approval request being executed, or empty.
    pub approval_request: &'a str,
    /// Whether the partner-MFA requirement applies (not to executing an approved action,
    /// whose requester is not present).
    pub check_mfa: bool,
}

impl Forwarder {
    /// A forwarder admitting with `admission` and forwarding to `backends`.
    pub fn new(admission: Admission, backends: Backends) -> Self {
        Self {
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
            admission,
            change_control: ChangeControl::new(backends.tenancy.clone()),
            denials: DenialAudit::new(backends.clone()),
            backends,
        }
    }

    fn channel(&self, backend: Backend) -> ServiceChannel {
        match backend {
            Backend::Identity => self.backends.identity.clone(),
            Backend::Tenancy => self.backends.tenancy.clone(),
            Backend::Rbac => self.backends.rbac.clone(),
            Backend::Rooms => self.backends.rooms.clone(),
        }
    }

    /// Takes the authenticated caller and establishes the route's guard.
    async fn admit(
        &self,
        route: &Route,
        extensions: &tonic::Extensions,
        body: &Bytes,
        request_id: &str,
    ) -> Result<Admitted, Status> {
        if route.guard == Guard::Anonymous {
            return Ok(Admitted {
                context: None,
                at: None,
            });
        }
        let principal = admission::caller(extensions).await?.principal;
        let how = How {
            request_id,
            approval_request: "",
            check_mfa: true,
        };
        self.admit_as(route, principal, body, how).await
    }

    /// Establishes the route's guard for `principal`; refusals at a customer are audited.
    pub(super) async fn admit_as(
        &self,
        route: &Route,
        principal: Principal,
        body: &Bytes,
        how: How<'_>,
    ) -> Result<Admitted, Status> {
        let mut context = CallContext {
            request_id: how.request_id.to_owned(),
            approval_request: how.approval_request.to_owned(),
            ..Default::default()
        };
        let (permission, field, decide_how, partner_side_allowed) = match route.guard {
            Guard::Anonymous | Guard::SignedIn => {
                context.principal = Some(principal);
                return Ok(Admitted {
                    context: Some(context),
                    at: None,
                });
            }
            Guard::Customer {
                permission,
                field,
                decide,
            } => (permission, field, decide, false),
            Guard::CustomerOrPartner {
                permission,
                field,
                decide,
            } => (permission, field, decide, true),
        };
        let method =
            schema::method(route.path).ok_or_else(|| Status::unimplemented("unknown method"))?;
        let message = schema::decode_request(&method, body)?;
        let name = schema::string_at(&message, field);
        let customer = routes::customer_of(&name)
            .ok_or_else(|| invalid_field(field, "must name a resource under customers/{customer}"))?
            .to_owned();
        let partner = admission::partner_at(&principal, &customer);
        let backend_decides = partner_side_allowed && partner;
        let at = AtCustomer {
            customer: customer.clone(),
            target: name.clone(),
            partner,
            backend_decides,
            principal: principal.clone(),
        };
        if backend_decides {
            // tenancy-svc applies the partner-side rules itself; a related partner's users
            // still meet the customer's MFA requirement.
            if how.check_mfa
                && let Some(relationship) = self
                    .change_control
                    .relationship(&principal, &customer)
                    .await?
            {
                context.partner_relationship = relationship.name;
                if let Err(status) = self
                    .admission
                    .mfa_at(&principal, &customer, Verdict::Granted)
                    .await
                {
                    return Err(self.refuse(route, &at, &context, status).await);
                }
            }
            context.principal = Some(principal);
            return Ok(Admitted {
                context: Some(context),
                at: Some(at),
            });
        }
        let mut rbac = self.rbac.clone();
        let refusal = match decide(&mut rbac, &principal, &customer, permission, decide_how).await?
        {
            Ok(grant) => {
                context.scope = grant.scope;
                context.partner_relationship = grant.partner_relationship;
                None
            }
            Err(Refusal::Invisible) if decide_how == Decide::Scoped => {
                let visible = visibility::target_visible(
                    &mut rbac,
                    self.backends.rooms.clone(),
                    &principal,
                    &customer,
                    permission,
                    &name,
                )
                .await?;
                Some(if visible {
                    Refusal::Forbidden
                } else {
                    Refusal::Invisible
                })
            }
            Err(refusal) => Some(refusal),
        };
        let refusal = match (refusal, route.also) {
            (None, Some((also, group_field))) => {
                let group = schema::string_at(&message, group_field);
                decide_group(&mut rbac, &principal, &customer, also, &group)
                    .await?
                    .err()
            }
            (refusal, _) => refusal,
        };
        let verdict = match refusal {
            None => Verdict::Granted,
            Some(Refusal::Invisible) => Verdict::Invisible,
            Some(Refusal::Forbidden) => Verdict::Forbidden,
        };
        let verdict = if how.check_mfa {
            match self.admission.mfa_at(&principal, &customer, verdict).await {
                Ok(verdict) => verdict,
                Err(status) => return Err(self.refuse(route, &at, &context, status).await),
            }
        } else {
            verdict
        };
        let status = match verdict {
            Verdict::Granted => {
                context.principal = Some(principal);
                return Ok(Admitted {
                    context: Some(context),
                    at: Some(at),
                });
            }
            Verdict::Invisible => not_found(&name),
            Verdict::Forbidden => permission_denied(permission, &name),
        };
        Err(self.refuse(route, &at, &context, status).await)
    }

    /// Audits a refusal at a customer and returns it.
    async fn refuse(
        &self,
        route: &Route,
        at: &AtCustomer,
        context: &CallContext,
        status: Status,
    ) -> Status {
        self.denials
            .record(&Denial {
                path: route.path,
                owner: route.backend,
                principal: &at.principal,
                tenant: &at.customer,
                target: &at.target,
                relationship: &context.partner_relationship,
                request_id: &context.request_id,
                approval_request: &context.approval_request,
                status: &status,
            })
            .await;
        status
    }

    /// Forwards one unary call along `route`.
    pub async fn forward(
        &self,
        route: &Route,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        super::inputs::check(route.path, &body)?;
        let request_id = crate::request_id::of(&metadata);
        let admitted = self.admit(route, &extensions, &body, &request_id).await?;
        if let (Some(at), Some(context)) = (&admitted.at, &admitted.context) {
            self.hold_for_approval(route, at, context, &body).await?;
        }
        if route.path == APPROVE
            && let (Some(at), Some(context)) = (&admitted.at, &admitted.context)
        {
            return self
                .approve(route, at, context, metadata, extensions, body)
                .await
                .map_err(|status| reworded(status, &at.target));
        }
        let answer = self
            .send(route, admitted.context.as_ref(), metadata, extensions, body)
            .await;
        let Some(at) = &admitted.at else {
            return answer;
        };
        match answer {
            Ok(response) => {
                if route.path == UPDATE_SETTINGS {
                    self.admission.forget(&at.customer);
                }
                Ok(response)
            }
            Err(status) if status.code() == tonic::Code::NotFound => Err(reworded(
                self.refine_not_found(route, at, admitted.context.as_ref(), status)
                    .await,
                &at.target,
            )),
            Err(status) => Err(status),
        }
    }

    /// A partner call of an event type its relationship holds for approval is stored as an
    /// approval request instead of being forwarded (R29): FAILED_PRECONDITION /
    /// `APPROVAL_REQUIRED`. Executions of approved requests are never held again.
    async fn hold_for_approval(
        &self,
        route: &Route,
        at: &AtCustomer,
        context: &CallContext,
        body: &Bytes,
    ) -> Result<(), Status> {
        if !at.partner || !context.approval_request.is_empty() {
            return Ok(());
        }
        let Some(event) = change_control::event_type(route.path, &at.target) else {
            return Ok(());
        };
        let Some(relationship) = self
            .change_control
            .relationship(&at.principal, &at.customer)
            .await?
        else {
            return Ok(());
        };
        if !change_control::is_manual(&relationship, event) {
            return Ok(());
        }
        let method =
            schema::method(route.path).ok_or_else(|| Status::unimplemented("unknown method"))?;
        let stored = self
            .change_control
            .submit(
                Held {
                    relationship: &relationship.name,
                    event,
                    path: route.path,
                    message_type: method.input().full_name(),
                    body,
                    target: &at.target,
                    principal: &at.principal,
                    request_id: &context.request_id,
                },
                context,
            )
            .await?;
        tracing::info!(approval_request = %stored.name, "partner action held for approval");
        Err(change_control::approval_required(&stored))
    }

    /// A backend's NOT_FOUND for a scoped change the caller may still see becomes
    /// PERMISSION_DENIED (R37), and is audited as a denial; so is a NOT_FOUND by which a
    /// backend that decides itself refused the call.
    async fn refine_not_found(
        &self,
        route: &Route,
        at: &AtCustomer,
        context: Option<&CallContext>,
        status: Status,
    ) -> Status {
        if at.backend_decides {
            let status = reworded(status, &at.target);
            return match context {
                Some(context) => self.refuse(route, at, context, status).await,
                None => status,
            };
        }
        let Guard::Customer {
            permission,
            decide: Decide::Scoped,
            ..
        } = route.guard
        else {
            return status;
        };
        if permission.ends_with(".view") {
            return status;
        }
        let visible = visibility::target_visible(
            &mut self.rbac.clone(),
            self.backends.rooms.clone(),
            &at.principal,
            &at.customer,
            permission,
            &at.target,
        )
        .await;
        if !matches!(visible, Ok(true)) {
            return status;
        }
        let denied = permission_denied(permission, &at.target);
        match context {
            Some(context) => self.refuse(route, at, context, denied).await,
            None => denied,
        }
    }

    /// Sends the still-encoded request to the route's backend with `context` attached.
    pub(super) async fn send(
        &self,
        route: &Route,
        context: Option<&CallContext>,
        metadata: MetadataMap,
        extensions: tonic::Extensions,
        body: Bytes,
    ) -> Result<Response<Bytes>, Status> {
        let mut outgoing_metadata = metadata.clone();
        for key in STRIPPED {
            outgoing_metadata.remove(key);
            outgoing_metadata.remove_bin(key);
        }
        super::client_address::stamp(&mut outgoing_metadata, &extensions);
        let mut outgoing = Request::from_parts(outgoing_metadata, extensions, body);
        if let Some(context) = context {
            mtm_plumbing::context::attach(&mut outgoing, context);
        }
        let path = PathAndQuery::try_from(route.path)
            .map_err(|_| Status::internal("invalid route path"))?;
        let mut client = tonic::client::Grpc::new(self.channel(route.backend));
        client
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("backend unavailable: {e}")))?;
        client.unary(outgoing, path, RawCodec).await
    }
}

/// The public services the gateway forwards without handlers of its own.
pub const FORWARDED_SERVICES: [&str; 16] = [
    "mtm.identity.v1.AuthService",
    "mtm.identity.v1.DirectoryService",
    "mtm.tenancy.v1.TenantService",
    "mtm.tenancy.v1.TenantManagerService",
    "mtm.tenancy.v1.InvitationService",
    "mtm.tenancy.v1.RelationshipService",
    "mtm.tenancy.v1.ApprovalService",
    "mtm.rbac.v1.PermissionService",
    "mtm.rbac.v1.RoleService",
    "mtm.rooms.v1.RoomService",
    "mtm.rooms.v1.EnrolmentKeyService",
    "mtm.rooms.v1.RoomGroupService",
    "mtm.rooms.v1.UpdateRingService",
    "mtm.rooms.v1.TicketService",
    "mtm.rooms.v1.ReportService",
    "mtm.rooms.v1.SettingsService",
];

/// One forwarded public service, `FORWARDED_SERVICES[N]`, as a tonic-mountable service.
#[derive(Clone)]
pub struct Forwarded<const N: usize>(pub Arc<Forwarder>);

impl<const N: usize> NamedService for Forwarded<N> {
    const NAME: &'static str = FORWARDED_SERVICES[N];
}

struct Unary {
    forwarder: Arc<Forwarder>,
    route: &'static Route,
}

impl tonic::server::UnaryService<Bytes> for Unary {
    type Response = Bytes;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let forwarder = self.forwarder.clone();
        let route = self.route;
        Box::pin(async move { forwarder.forward(route, request).await })
    }
}

impl<const N: usize> tower::Service<http::Request<tonic::body::Body>> for Forwarded<N> {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let forwarder = self.0.clone();
        Box::pin(async move {
            let Some(route) = routes::find(request.uri().path()) else {
                return Ok(Status::unimplemented("no such method").into_http());
            };
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.unary(Unary { forwarder, route }, request).await)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_services_are_exactly_the_routed_ones() {
        let mut routed: Vec<_> = routes::ROUTES
            .iter()
            .map(|r| r.path[1..].split_once('/').map_or("", |(s, _)| s))
            .collect();
        routed.dedup();
        let mut routed_sorted = routed.clone();
        routed_sorted.sort_unstable();
        routed_sorted.dedup();
        let mut listed = FORWARDED_SERVICES.to_vec();
        listed.sort_unstable();
        assert_eq!(routed_sorted, listed);
    }
}
