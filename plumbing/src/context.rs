//! The call context (verified principal, scope, request id) that the gateway attaches to every
//! call it forwards, as binary metadata `x-mtm-context-bin`.
//!
//! Backends read it only on connections that passed the peer allow-list, so a client cannot
//! forge a principal by sending the header itself.

use mtm_proto::mtm::common::v1::CallContext;
use prost::Message;
use tonic::metadata::MetadataValue;

/// The metadata key carrying the encoded [`CallContext`].
pub const CALL_CONTEXT_KEY: &str = "x-mtm-context-bin";

/// Attaches `context` to an outgoing request.
pub fn attach<T>(request: &mut tonic::Request<T>, context: &CallContext) {
    request.metadata_mut().insert_bin(
        CALL_CONTEXT_KEY,
        MetadataValue::from_bytes(&context.encode_to_vec()),
    );
}

/// The call context of an incoming request: UNAUTHENTICATED when absent, INVALID_ARGUMENT when
/// it does not decode.
pub fn extract<T>(request: &tonic::Request<T>) -> Result<CallContext, tonic::Status> {
    let value = request
        .metadata()
        .get_bin(CALL_CONTEXT_KEY)
        .ok_or_else(|| tonic::Status::unauthenticated("the call carries no caller context"))?;
    let bytes = value
        .to_bytes()
        .map_err(|_| tonic::Status::invalid_argument("the caller context is not valid base64"))?;
    CallContext::decode(bytes)
        .map_err(|_| tonic::Status::invalid_argument("the caller context does not decode"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::common::v1::Principal;

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
        assert_eq!(extract(&request).expect("context"), context);
    }

    #[test]
    fn missing_context_is_unauthenticated() {
        let status = extract(&tonic::Request::new(())).expect_err("no context");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
}
