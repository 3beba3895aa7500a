//! The call context (verified principal, scope, request id) that the gateway attaches to every
//! call it forwards, as binary metadata `x-mtm-context-bin`; and the key of the client address it
//! stamps for identity-svc.
//!
//! Backends read it only on calls the peer layer admitted ([`crate::peer::Admitted`]), and only
//! as far as the call graph lets the caller attach one: the full context from the gateway, the
//! principal for audit attribution alone where tenancy-svc relays it, nothing from anyone else.
//! So neither a client nor another service's certificate can forge an operator, a principal or
//! a scope.

use mtm_callgraph::Context;
use mtm_proto::mtm::common::v1::CallContext;
use prost::Message;
use tonic::metadata::MetadataValue;

use crate::peer::Admitted;

/// The metadata key carrying the encoded [`CallContext`].
pub const CALL_CONTEXT_KEY: &str = "x-mtm-context-bin";

/// The metadata key carrying the public client's address, as the gateway saw it, to
/// identity-svc (the per-source sign-in guess limit). The gateway replaces whatever the client
/// sent, and identity-svc believes it only on a call from the gateway's identity.
pub const CLIENT_ADDRESS_KEY: &str = "x-mtm-client-address";

/// Attaches `context` to an outgoing request.
pub fn attach<T>(request: &mut tonic::Request<T>, context: &CallContext) {
    request.metadata_mut().insert_bin(
        CALL_CONTEXT_KEY,
        MetadataValue::from_bytes(&context.encode_to_vec()),
    );
}

/// The call context of an incoming request: UNAUTHENTICATED when absent, INVALID_ARGUMENT when
/// it does not decode, PERMISSION_DENIED when the call graph does not let the caller attach it
/// (any context on a call the peer layer did not admit; a scope or an approval request in a
/// context granted for attribution only).
pub fn extract<T>(request: &tonic::Request<T>) -> Result<CallContext, tonic::Status> {
    let admitted = request.extensions().get::<Admitted>().copied();
    let value = request
        .metadata()
        .get_bin(CALL_CONTEXT_KEY)
        .ok_or_else(|| tonic::Status::unauthenticated("the call carries no caller context"))?;
    let Some(admitted) = admitted else {
        return Err(tonic::Status::permission_denied(
            "a call context is accepted only on calls admitted by the call graph",
        ));
    };
    let bytes = value
        .to_bytes()
        .map_err(|_| tonic::Status::invalid_argument("the caller context is not valid base64"))?;
    let context = CallContext::decode(bytes)
        .map_err(|_| tonic::Status::invalid_argument("the caller context does not decode"))?;
    match admitted.context {
        Context::Full => Ok(context),
        Context::Attribution if context.scope.is_none() && context.approval_request.is_empty() => {
            Ok(context)
        }
        Context::Attribution => Err(tonic::Status::permission_denied(format!(
            "{} may attach a principal for attribution only, not a scope or an approval",
            admitted.caller
        ))),
        Context::Refused => Err(tonic::Status::permission_denied(format!(
            "{} may not attach a call context to this method",
            admitted.caller
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_callgraph::Service;
    use mtm_proto::mtm::common::v1::{Principal, RoomScope};

    fn admitted(request: &mut tonic::Request<()>, caller: Service, context: Context) {
        request
            .extensions_mut()
            .insert(Admitted { caller, context });
    }

    #[test]
    fn context_round_trips_through_metadata() {
        let context = CallContext {
            principal: Some(Principal {
                user: "tenants/t1/users/u1".into(),
                upn: "ana@contoso-partner.com".into(),
                home_tenant: "tenants/t1".into(),
                groups: vec!["tenants/t1/groups/helpdesk".into()],
                ..Default::default()
            }),
            request_id: "r-1".into(),
            ..Default::default()
        };
        let mut request = tonic::Request::new(());
        attach(&mut request, &context);
        admitted(&mut request, Service::Gateway, Context::Full);
        assert_eq!(extract(&request).expect("context"), context);
    }

    #[test]
    fn call_graph_context_is_refused_on_calls_the_peer_layer_did_not_admit() {
        let mut request = tonic::Request::new(());
        attach(&mut request, &CallContext::default());
        let status = extract(&request).expect_err("not admitted");
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn call_graph_context_for_attribution_carries_no_scope_or_approval() {
        let principal = Some(Principal {
            user: "tenants/t1/users/u1".into(),
            operator: true,
            ..Default::default()
        });
        let relayed = CallContext {
            principal: principal.clone(),
            ..Default::default()
        };
        let forged = [
            CallContext {
                principal: principal.clone(),
                scope: Some(RoomScope {
                    all_rooms: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
            CallContext {
                principal,
                approval_request: "customers/c/approvalRequests/a".into(),
                ..Default::default()
            },
        ];
        let mut request = tonic::Request::new(());
        attach(&mut request, &relayed);
        admitted(&mut request, Service::Tenancy, Context::Attribution);
        assert_eq!(extract(&request).expect("attribution"), relayed);
        for context in forged {
            let mut request = tonic::Request::new(());
            attach(&mut request, &context);
            admitted(&mut request, Service::Tenancy, Context::Attribution);
            let status = extract(&request).expect_err("forged");
            assert_eq!(status.code(), tonic::Code::PermissionDenied);
        }
        let mut request = tonic::Request::new(());
        attach(&mut request, &relayed);
        admitted(&mut request, Service::Tenancy, Context::Refused);
        let status = extract(&request).expect_err("refused");
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn missing_context_is_unauthenticated() {
        let status = extract(&tonic::Request::new(())).expect_err("no context");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
}
