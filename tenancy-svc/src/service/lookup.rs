//! Questions to identity-svc and rooms-svc that validate requests: partner domains, invited
//! UPNs, members, and room scopes.

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::identity::v1::{
    LookupMembersRequest, LookupUsersRequest, MemberKind, MemberLookup, ResolveDomainRequest,
    UserLookup,
};
use mtm_proto::mtm::rooms::v1::DescribeRoomScopeRequest;
use tonic::Code;

use crate::error::{Error, Result};
use crate::names;
use crate::rules::{self, Violation};
use crate::state::State;
use crate::store::entity::tenant;

/// The tenant id holding `domain` (the caller's `field`) verified, or `None` when nobody does.
pub async fn resolve_domain(state: &State, domain: &str, field: &str) -> Result<Option<String>> {
    match state
        .identity
        .clone()
        .resolve_domain(ResolveDomainRequest {
            domain_name: domain.to_owned(),
        })
        .await
    {
        Ok(answer) => Ok(names::any_tenant(&answer.into_inner().tenant)),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(Error::upstream_as(
            "identity-svc",
            &[("domain_name", field)],
        )(status)),
    }
}

/// Checks invited UPNs (already lower-cased, in `field[i]` order) against `partner`: each in
/// one of its domains and an existing user of it. Returns the lookups in order.
pub async fn invited_users(
    state: &State,
    partner: &tenant::Model,
    upns: &[String],
    field: &str,
) -> Result<Vec<UserLookup>> {
    let domains: Vec<&str> = partner.domains.lines().collect();
    let mut bad: Vec<Violation> = Vec::new();
    for (i, upn) in upns.iter().enumerate() {
        if !domains.contains(&rules::upn_domain(upn)) {
            bad.push((
                format!("{field}[{i}]"),
                format!(
                    "{upn} is outside the partner's domains ({})",
                    domains.join(", ")
                ),
            ));
        }
    }
    if !bad.is_empty() {
        return Err(Error::Invalid(bad));
    }
    let users = state
        .identity
        .clone()
        .lookup_users(LookupUsersRequest {
            upns: upns.to_vec(),
        })
        .await
        .map_err(Error::upstream_as("identity-svc", &[("upns", field)]))?
        .into_inner()
        .users;
    let tenant = format!("tenants/{}", partner.id);
    for (i, upn) in upns.iter().enumerate() {
        let ok = users.get(i).is_some_and(|u| u.found && u.tenant == tenant);
        if !ok {
            bad.push((
                format!("{field}[{i}]"),
                format!("{upn} is not a user of the partner (groups cannot be invited)"),
            ));
        }
    }
    if bad.is_empty() {
        Ok(users)
    } else {
        Err(Error::Invalid(bad))
    }
}

/// Checks users and groups of `partner` named in `field[i]`; returns their lookups.
pub async fn partner_members(
    state: &State,
    partner: &str,
    members: &[String],
    field: &str,
) -> Result<Vec<MemberLookup>> {
    let mut bad: Vec<Violation> = Vec::new();
    for (i, member) in members.iter().enumerate() {
        if names::member_of(member, partner).is_none() {
            bad.push((
                format!("{field}[{i}]"),
                format!(
                    "must be tenants/{partner}/users/{{user}} or tenants/{partner}/groups/{{group}}"
                ),
            ));
        }
    }
    if !bad.is_empty() {
        return Err(Error::Invalid(bad));
    }
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let found = state
        .identity
        .clone()
        .lookup_members(LookupMembersRequest {
            names: members.to_vec(),
        })
        .await
        .map_err(Error::upstream_as("identity-svc", &[("names", field)]))?
        .into_inner()
        .members;
    let tenant = format!("tenants/{partner}");
    for (i, member) in members.iter().enumerate() {
        let ok = found.get(i).is_some_and(|m| {
            m.found
                && m.tenant == tenant
                && matches!(
                    MemberKind::try_from(m.kind),
                    Ok(MemberKind::User | MemberKind::Group)
                )
        });
        if !ok {
            bad.push((
                format!("{field}[{i}]"),
                format!("{member} is not a user or group of the partner"),
            ));
        }
    }
    if bad.is_empty() {
        Ok(found)
    } else {
        Err(Error::Invalid(bad))
    }
}

/// Checks that every group and room of `scope` exists in `customer`; returns how many rooms
/// the scope covers now.
pub async fn room_scope(
    state: &State,
    customer: &str,
    scope: &RoomScope,
    field: &str,
) -> Result<i32> {
    let answer = state
        .rooms
        .clone()
        .describe_room_scope(DescribeRoomScopeRequest {
            customer: format!("customers/{customer}"),
            scope: Some(scope.clone()),
        })
        .await
        .map_err(Error::upstream_as("rooms-svc", &[("scope", field)]))?
        .into_inner();
    let mut bad: Vec<Violation> = Vec::new();
    for (i, group) in scope.room_groups.iter().enumerate() {
        if answer.missing_room_groups.contains(group) {
            bad.push((
                format!("{field}.room_groups[{i}]"),
                format!("{group} does not exist"),
            ));
        }
    }
    for (i, room) in scope.rooms.iter().enumerate() {
        if answer.missing_rooms.contains(room) {
            bad.push((
                format!("{field}.rooms[{i}]"),
                format!("{room} does not exist"),
            ));
        }
    }
    if bad.is_empty() {
        Ok(answer.covered_room_count)
    } else {
        Err(Error::Invalid(bad))
    }
}
