//! Calling any public method by its path with a request built from the descriptor set, as a
//! client without generated stubs would: the surface tests walk every method this way.

use bytes::Bytes;
use mtm_plumbing::raw_codec::RawCodec;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, ReflectMessage, Value};
use tonic::Status;
use tonic::transport::Channel;

/// The MTM descriptor set.
pub fn pool() -> DescriptorPool {
    DescriptorPool::decode(mtm_proto::FILE_DESCRIPTOR_SET).expect("descriptor set")
}

/// Every public method the gateway serves: `(path, descriptor)`, internal services left out.
pub fn public_methods() -> Vec<(String, MethodDescriptor)> {
    let mut methods = Vec::new();
    for service in pool().services() {
        if service.name().ends_with("InternalService") {
            continue;
        }
        for method in service.methods() {
            methods.push((
                format!("/{}/{}", service.full_name(), method.name()),
                method,
            ));
        }
    }
    methods
}

/// A request of `method` with the string at the dotted `path` (`room.name`) set to `value`.
pub fn with_string(method: &MethodDescriptor, path: &str, value: &str) -> DynamicMessage {
    let mut message = DynamicMessage::new(method.input());
    set_string(&mut message, path, value);
    message
}

/// Sets the string at the dotted `path` of `message`, keeping the other fields of the
/// messages on the way.
pub fn set_string(message: &mut DynamicMessage, path: &str, value: &str) {
    match path.split_once('.') {
        None => message.set_field_by_name(path, Value::String(value.to_owned())),
        Some((head, rest)) => {
            let field = message
                .descriptor()
                .get_field_by_name(head)
                .unwrap_or_else(|| panic!("no field {head}"));
            let mut inner = message
                .get_field(&field)
                .as_message()
                .cloned()
                .expect("a message field");
            set_string(&mut inner, rest, value);
            message.set_field(&field, Value::Message(inner));
        }
    }
}

/// Calls `method` at `path` through `channel` with `token`: the (first) response message, or
/// the status.
pub async fn call(
    channel: &Channel,
    path: &str,
    method: &MethodDescriptor,
    message: &DynamicMessage,
    token: &str,
) -> Result<Bytes, Status> {
    call_identified(channel, path, method, message, token, None).await
}

/// As [`call`], with `x-request-id: request_id` when one is given.
pub async fn call_identified(
    channel: &Channel,
    path: &str,
    method: &MethodDescriptor,
    message: &DynamicMessage,
    token: &str,
    request_id: Option<&str>,
) -> Result<Bytes, Status> {
    let mut request = tonic::Request::new(Bytes::from(message.encode_to_vec()));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    if let Some(id) = request_id {
        request
            .metadata_mut()
            .insert("x-request-id", id.parse().expect("header"));
    }
    let mut client = tonic::client::Grpc::new(channel.clone());
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::try_from(path).expect("path");
    if method.is_server_streaming() {
        let mut stream = client
            .server_streaming(request, path, RawCodec)
            .await?
            .into_inner();
        Ok(stream.message().await?.unwrap_or_default())
    } else {
        Ok(client.unary(request, path, RawCodec).await?.into_inner())
    }
}
