//! The forwarding core: authenticate the caller, decide the route's guard with rbac-svc, and
//! pass the still-encoded request to the owning backend with the call context attached.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use mtm_plumbing::client::ServiceChannel;
use mtm_plumbing::status::invalid_field;
use mtm_proto::mtm::common::v1::{CallContext, Principal};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};

use super::decide::{Refusal, decide, decide_group};
use super::raw_codec::RawCodec;
use super::routes::{self, Backend, Guard, Route};
use super::schema;
use crate::Backends;

/// Turns a request's credentials into the verified caller.
#[tonic::async_trait]
pub trait Authenticate: Send + Sync + 'static {
    /// The caller, or UNAUTHENTICATED.
    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal, Status>;
}

/// Everything forwarding needs: who the caller is, rbac-svc for decisions, the backends.
pub struct Forwarder {
    auth: Arc<dyn Authenticate>,
    rbac: DecisionServiceClient<ServiceChannel>,
    backends: Backends,
}

/// Metadata a client must never be able to hand to a backend itself.
const STRIPPED: [&str; 2] = ["authorization", mtm_plumbing::context::CALL_CONTEXT_KEY];

impl Forwarder {
    /// A forwarder authenticating with `auth` and forwarding to `backends`.
    pub fn new(auth: Arc<dyn Authenticate>, backends: Backends) -> Self {
        Self {
            auth,
            rbac: DecisionServiceClient::new(backends.rbac.clone()),
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

    /// Establishes the route's guard and returns the context to forward with.
    async fn admit(
        &self,
        route: &Route,
        metadata: &MetadataMap,
        body: &Bytes,
    ) -> Result<Option<CallContext>, Status> {
        let request_id = metadata
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let (permission, field, how, partner_side_allowed) = match route.guard {
            Guard::Anonymous => return Ok(None),
            Guard::SignedIn => {
                let principal = self.auth.principal(metadata).await?;
                return Ok(Some(CallContext {
                    principal: Some(principal),
                    request_id,
                    ..Default::default()
                }));
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
        let principal = self.auth.principal(metadata).await?;
        let method =
            schema::method(route.path).ok_or_else(|| Status::unimplemented("unknown method"))?;
        let message = schema::decode_request(&method, body)?;
        let name = schema::string_at(&message, field);
        let customer = routes::customer_of(&name).ok_or_else(|| {
            invalid_field(field, "must name a resource under customers/{customer}")
        })?;
        let mut context = CallContext {
            request_id,
            ..Default::default()
        };
        let own_tenant = principal.home_tenant == format!("tenants/{customer}");
        if partner_side_allowed && !own_tenant {
            context.principal = Some(principal);
            return Ok(Some(context));
        }
        let mut rbac = self.rbac.clone();
        let refusal = match decide(&mut rbac, &principal, customer, permission, how).await? {
            Ok(grant) => {
                context.scope = grant.scope;
                context.partner_relationship = grant.partner_relationship;
                None
            }
            Err(refusal) => Some(refusal),
        };
        let refusal = match (refusal, route.also) {
            (None, Some((also, group_field))) => {
                let group = schema::string_at(&message, group_field);
                decide_group(&mut rbac, &principal, customer, also, &group)
                    .await?
                    .err()
            }
            (refusal, _) => refusal,
        };
        match refusal {
            None => {
                context.principal = Some(principal);
                Ok(Some(context))
            }
            Some(Refusal::Invisible) => Err(Status::not_found(format!("{name} not found"))),
            Some(Refusal::Forbidden) => Err(Status::permission_denied(format!(
                "{permission} is needed on {name}"
            ))),
        }
    }

    /// Forwards one unary call along `route`.
    pub async fn forward(
        &self,
        route: &Route,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        let context = self.admit(route, &metadata, &body).await?;
        let mut outgoing_metadata = metadata.clone();
        for key in STRIPPED {
            outgoing_metadata.remove(key);
            outgoing_metadata.remove_bin(key);
        }
        let mut outgoing = Request::from_parts(outgoing_metadata, extensions, body);
        if let Some(timeout) = metadata
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
        {
            outgoing.set_timeout(timeout);
        }
        if let Some(context) = &context {
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

/// Parses a `grpc-timeout` header value (`100m`, `5S`, ...).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
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
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

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
