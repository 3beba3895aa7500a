//! The MTM descriptor pool, for reading routing fields (resource names) out of encoded
//! requests without a handler per RPC.

use std::sync::OnceLock;

use bytes::Bytes;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, ReflectMessage, Value};
use tonic::Status;

/// Every MTM service, method and message.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(mtm_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled-in descriptor set decodes")
    })
}

/// The method a gRPC path (`/pkg.Service/Method`) names.
pub fn method(path: &str) -> Option<MethodDescriptor> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    pool()
        .get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == method)
}

/// Decodes an encoded request of `method`.
pub fn decode_request(method: &MethodDescriptor, bytes: &Bytes) -> Result<DynamicMessage, Status> {
    DynamicMessage::decode(method.input(), bytes.clone())
        .map_err(|_| Status::invalid_argument("the request message does not decode"))
}

/// The string at a dotted field path (`room.name`), or empty when absent.
pub fn string_at(message: &DynamicMessage, path: &str) -> String {
    let mut current = message.clone();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(field) = current.descriptor().get_field_by_name(part) else {
            return String::new();
        };
        let value = current.get_field(&field).into_owned();
        match (value, parts.peek()) {
            (Value::String(text), None) => return text,
            (Value::Message(inner), Some(_)) => current = inner,
            _ => return String::new(),
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::rooms::v1::{Room, UpdateRoomRequest};
    use prost::Message;

    #[test]
    fn routing_fields_are_read_from_encoded_requests() {
        let method = method("/mtm.rooms.v1.RoomService/UpdateRoom").expect("method");
        let request = UpdateRoomRequest {
            room: Some(Room {
                name: "customers/c1/rooms/r1".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let message =
            decode_request(&method, &Bytes::from(request.encode_to_vec())).expect("decode");
        assert_eq!(string_at(&message, "room.name"), "customers/c1/rooms/r1");
        assert_eq!(string_at(&message, "room.missing"), "");
        assert_eq!(string_at(&message, "nothing"), "");
    }

    #[test]
    fn unknown_paths_have_no_method() {
        assert!(method("/mtm.rooms.v1.RoomService/Teleport").is_none());
        assert!(method("garbage").is_none());
    }
}
