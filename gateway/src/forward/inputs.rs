//! The gateway's check on every string of every forwarded request, before admission: no NUL
//! and no control characters other than line breaks and tabs, anywhere in the message. Such
//! values cannot be stored (PostgreSQL refuses NUL in text) and have no meaning in a name, an
//! id or a display text, so they are INVALID_ARGUMENT naming the field, for every method at
//! once. The check is purely syntactic, so it says nothing about what exists.

use bytes::Bytes;
use mtm_plumbing::status::FieldError;
use prost_reflect::{DynamicMessage, Value};
use tonic::Status;

use super::schema;

/// Deepest nesting of messages the check walks; deeper requests are refused.
const MAX_DEPTH: usize = 32;

/// INVALID_ARGUMENT naming the first string field of the `path` request in `body` that holds a
/// control character; `Ok` for a clean request (and for one that does not decode, which the
/// backend refuses itself).
pub fn check(path: &str, body: &Bytes) -> Result<(), Status> {
    let Some(method) = schema::method(path) else {
        return Ok(());
    };
    let Ok(message) = schema::decode_request(&method, body) else {
        return Ok(());
    };
    match first_bad(&message, "", 0) {
        None => Ok(()),
        Some(field) => Err(Status::from(FieldError::new(
            field,
            "must not contain NUL or control characters other than line breaks and tabs",
        ))),
    }
}

/// The path of the first string field under `message` with a forbidden character.
fn first_bad(message: &DynamicMessage, prefix: &str, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return Some(prefix.to_owned());
    }
    for (field, value) in message.fields() {
        let path = if prefix.is_empty() {
            field.name().to_owned()
        } else {
            format!("{prefix}.{}", field.name())
        };
        if let Some(bad) = bad_value(value, &path, depth) {
            return Some(bad);
        }
    }
    None
}

fn bad_value(value: &Value, path: &str, depth: usize) -> Option<String> {
    match value {
        Value::String(text) => mtm_plumbing::validate::text(path, text, usize::MAX)
            .is_err()
            .then(|| path.to_owned()),
        Value::Message(inner) => first_bad(inner, path, depth + 1),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| bad_value(item, &format!("{path}[{i}]"), depth)),
        Value::Map(entries) => entries.iter().find_map(|(key, item)| {
            let key_bad = key
                .as_str()
                .is_some_and(|k| mtm_plumbing::validate::text(path, k, usize::MAX).is_err());
            if key_bad {
                Some(path.to_owned())
            } else {
                bad_value(item, path, depth)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::rooms::v1::{CreateRoomRequest, Location, Room};
    use prost::Message;

    const CREATE_ROOM: &str = "/mtm.rooms.v1.RoomService/CreateRoom";

    fn create(city: &str) -> Bytes {
        Bytes::from(
            CreateRoomRequest {
                parent: "customers/fabrikam".into(),
                room_id: "r1".into(),
                room: Some(Room {
                    display_name: "Room\twith tab".into(),
                    location: Some(Location {
                        city: city.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .encode_to_vec(),
        )
    }

    #[test]
    fn nul_anywhere_in_a_request_is_invalid_argument_naming_the_field() {
        assert!(check(CREATE_ROOM, &create("Zürich")).is_ok());
        let refused = check(CREATE_ROOM, &create("Zü\u{0}rich")).expect_err("nul");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(
            refused.message().contains("room.location.city"),
            "{}",
            refused.message()
        );
        assert!(check(CREATE_ROOM, &create("\u{1b}[2J")).is_err());
        assert!(check("/no.Such/Method", &create("\u{0}")).is_ok());
    }
}
