//! How the gateway words the statuses of its own refusals, in one place. NOT_FOUND above all
//! (R37): whatever said it (the gateway for a target out of reach, a backend for a missing
//! one), a NOT_FOUND leaves the gateway as [`not_found`] of the name it is about, so a missing
//! customer, a customer out of reach, a resource out of scope and a missing resource answer
//! with byte-identical statuses.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The resource type of each collection of resource names, as `google.rpc.ResourceInfo`
/// names it.
const KINDS: &[(&str, &str)] = &[
    ("customers", "mtm.common.v1.Customer"),
    ("rooms", "mtm.rooms.v1.Room"),
    ("roomGroups", "mtm.rooms.v1.RoomGroup"),
    ("updateRings", "mtm.rooms.v1.UpdateRing"),
    ("tickets", "mtm.rooms.v1.Ticket"),
    ("messages", "mtm.rooms.v1.TicketMessage"),
    ("roles", "mtm.rbac.v1.Role"),
    ("roleAssignments", "mtm.rbac.v1.RoleAssignment"),
    ("partnerRelationships", "mtm.tenancy.v1.Relationship"),
    ("primaryAdmins", "mtm.tenancy.v1.PrimaryAdmin"),
    ("invitations", "mtm.tenancy.v1.Invitation"),
    ("approvalRequests", "mtm.tenancy.v1.ApprovalRequest"),
];

/// The resource type of `name`, from its last collection (`customers/c/rooms/r`: a room);
/// empty for names of no known collection.
fn kind_of(name: &str) -> &'static str {
    let parts: Vec<&str> = name.split('/').collect();
    let collection = match parts.len() {
        0 | 1 => return "",
        n if n % 2 == 0 => parts[n - 2],
        // A singleton under a resource (`customers/c/settings`): the resource's own type.
        n => parts[n - 3],
    };
    KINDS
        .iter()
        .find(|(c, _)| *c == collection)
        .map_or("", |(_, kind)| kind)
}

/// NOT_FOUND for `name`, the one wording (R37). The name is client input, so it is quoted
/// clamped, as the backends quote it.
pub fn not_found(name: &str) -> Status {
    let quoted = mtm_plumbing::status::clamp(name, mtm_plumbing::status::MAX_DESCRIPTION_CHARS);
    Status::with_error_details(
        Code::NotFound,
        format!("{quoted} not found"),
        ErrorDetails::with_resource_info(kind_of(name), quoted, "", ""),
    )
}

/// A NOT_FOUND from a backend reworded as [`not_found`] of the name it reports (its
/// `ResourceInfo`), or of `target` when it names none. Other statuses pass unchanged.
pub fn reworded(status: Status, target: &str) -> Status {
    if status.code() != Code::NotFound {
        return status;
    }
    let reported = status
        .get_error_details()
        .resource_info()
        .map(|info| info.resource_name.clone())
        .filter(|name| !name.is_empty());
    not_found(reported.as_deref().unwrap_or(target))
}

/// PERMISSION_DENIED with `ErrorInfo` reason `PERMISSION_DENIED` and the permission.
pub fn permission_denied(permission: &str, name: &str) -> Status {
    Status::with_error_details(
        Code::PermissionDenied,
        format!("{permission} is needed on {name}"),
        ErrorDetails::with_error_info(
            "PERMISSION_DENIED",
            "mtm",
            HashMap::from([("permission".to_owned(), permission.to_owned())]),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_last_collection() {
        assert_eq!(kind_of("customers/c"), "mtm.common.v1.Customer");
        assert_eq!(kind_of("customers/c/rooms/r"), "mtm.rooms.v1.Room");
        assert_eq!(
            kind_of("customers/c/tickets/t/messages/m"),
            "mtm.rooms.v1.TicketMessage"
        );
        assert_eq!(kind_of("customers/c/settings"), "mtm.common.v1.Customer");
        assert_eq!(
            kind_of("customers/c/enrolmentKey"),
            "mtm.common.v1.Customer"
        );
        assert_eq!(kind_of("x"), "");
    }

    #[test]
    fn r37_backend_not_found_is_reworded_as_the_gateways() {
        let backend = Status::with_error_details(
            Code::NotFound,
            "room customers/c/rooms/r does not exist",
            ErrorDetails::with_resource_info("x.Y", "customers/c/rooms/r", "owner", "why"),
        );
        let ours = not_found("customers/c/rooms/r");
        let reworded = reworded(backend, "customers/c");
        assert_eq!(reworded.message(), ours.message());
        assert_eq!(reworded.details(), ours.details());
        let plain = reworded_plain();
        assert_eq!(plain.details(), not_found("customers/c/rooms/q").details());
    }

    #[test]
    fn long_names_are_quoted_clamped_once() {
        let long = format!("customers/c/rooms/{}", "r".repeat(10_000));
        let once = not_found(&long);
        assert!(once.message().len() < 400);
        let again = reworded(once.clone(), &long);
        assert_eq!(again.message(), once.message());
        assert_eq!(again.details(), once.details());
    }

    fn reworded_plain() -> Status {
        reworded(Status::not_found("gone"), "customers/c/rooms/q")
    }
}
