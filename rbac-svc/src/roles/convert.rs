//! Roles and assignments as the API shows them.

use mtm_proto::mtm::rbac::v1 as pb;

use crate::index::Scope;
use crate::store::entity::{assignment, role};
use crate::store::{scope_of, split};

/// A timestamp from Unix microseconds.
pub fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

fn kind(relationship: &Option<String>) -> pb::RoleKind {
    if relationship.is_some() {
        pb::RoleKind::Partner
    } else {
        pb::RoleKind::Customer
    }
}

/// A role row with its number of assignments.
pub fn role(row: &role::Model, assignment_count: usize) -> pb::Role {
    pb::Role {
        name: row.name.clone(),
        display_name: row.display_name.clone(),
        description: row.description.clone(),
        permissions: split(&row.permissions),
        built_in: row.built_in,
        kind: kind(&row.relationship) as i32,
        relationship: row.relationship.clone().unwrap_or_default(),
        assignment_count: assignment_count as i32,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: row.etag.clone(),
    }
}

/// An assignment row; `relationship_scope` bounds a partner assignment (R18, R20, R21).
pub fn assignment(
    row: &assignment::Model,
    relationship_scope: Option<&Scope>,
) -> pb::RoleAssignment {
    let scope = scope_of(row.all_rooms, &row.room_groups, &row.rooms);
    let effective = scope.effective(relationship_scope);
    pb::RoleAssignment {
        name: row.name.clone(),
        display_name: row.display_name.clone(),
        role: row.role.clone(),
        members: split(&row.members),
        scope: Some(scope.to_proto()),
        effective_scope: Some(effective.to_proto()),
        built_in: row.built_in,
        kind: kind(&row.relationship) as i32,
        relationship: row.relationship.clone().unwrap_or_default(),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: row.etag.clone(),
    }
}
