//! The tenancy rules as pure functions: invitation contents (SPEC §3), state machines (R8,
//! R30), the primary-admin invariant (R14) and who on the partner side may do what (R4–R6, R9).

use mtm_proto::mtm::common::v1::{DirectoryRole, Principal, RoomScope};
use mtm_proto::mtm::tenancy::v1::{
    ChangeControlEventType, ChangeControlMode, ChangeControlPolicy, ScopeSummary,
};

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// The default and largest invitation lifetime in days.
pub const MAX_LIFETIME_DAYS: i32 = 30;

/// The most UPNs one invitation request may name.
pub const MAX_INVITED_UPNS: usize = 50;

/// A `(field, description)` violation.
pub type Violation = (String, String);

/// The lifetime of an invitation: 1–30 days, 30 when unset; an explicit 0 is refused.
pub fn lifetime_days(requested: Option<i32>, field: &str) -> Result<i32, Violation> {
    match requested {
        None => Ok(MAX_LIFETIME_DAYS),
        Some(days) if (1..=MAX_LIFETIME_DAYS).contains(&days) => Ok(days),
        Some(days) => Err((
            field.to_owned(),
            format!("lifetime must be 1 to {MAX_LIFETIME_DAYS} days, not {days}"),
        )),
    }
}

/// Checks the syntax of invited UPNs and lower-cases them: at least one, at most 50, each a
/// user principal name (`name@domain`), never a group or other resource name, no duplicates.
pub fn invited_upns(upns: &[String], field: &str) -> Result<Vec<String>, Vec<Violation>> {
    let mut violations = Vec::new();
    if upns.is_empty() {
        violations.push((
            field.to_owned(),
            "name at least one partner user UPN".to_owned(),
        ));
    }
    if upns.len() > MAX_INVITED_UPNS {
        violations.push((
            field.to_owned(),
            format!("at most {MAX_INVITED_UPNS} UPNs per request"),
        ));
    }
    let mut seen = Vec::new();
    for (i, upn) in upns.iter().enumerate() {
        let upn = upn.trim().to_ascii_lowercase();
        let at = format!("{field}[{i}]");
        if upn.contains('/') {
            violations.push((
                at,
                "must be a user's UPN; groups cannot be invited".to_owned(),
            ));
        } else if !valid_upn(&upn) {
            violations.push((at, "must be a UPN such as ana@partner.example".to_owned()));
        } else if seen.contains(&upn) {
            violations.push((at, "named twice".to_owned()));
        } else {
            seen.push(upn);
        }
    }
    if violations.is_empty() {
        Ok(seen)
    } else {
        Err(violations)
    }
}

/// Whether `upn` looks like `local@domain.tld`: a local part of printable ASCII and a
/// domain [`domain_problem`] accepts.
pub fn valid_upn(upn: &str) -> bool {
    match upn.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.bytes().all(|b| b.is_ascii_graphic())
                && domain_problem(domain).is_none()
        }
        None => false,
    }
}

/// Why `domain` is not a DNS name the suite accepts, or `None` when it is one: dot-separated
/// labels of 1 to 63 ASCII letters, digits and inner hyphens, at least two, at most 253
/// characters in all. An internationalised name is accepted only in its ASCII (`xn--`,
/// punycode) form, as identity-svc stores domains: a letter of another script that looks like
/// a Latin one (a Cyrillic `о` in `cоntoso.com`) is refused here instead of being taken for,
/// or mapped onto, another tenant's domain.
pub fn domain_problem(domain: &str) -> Option<&'static str> {
    if !domain.is_ascii() {
        return Some(
            "must be written in ASCII: give an internationalised domain in its xn-- (punycode) form",
        );
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if domain.len() > 253 || !domain.contains('.') || !labels_ok {
        Some("must be a DNS name such as partner.example")
    } else {
        None
    }
}

/// The domain part of a UPN.
pub fn upn_domain(upn: &str) -> &str {
    upn.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Checks a room scope of `customer`: not empty, every group and room named under it.
pub fn room_scope(scope: Option<&RoomScope>, customer: &str, field: &str) -> Vec<Violation> {
    let Some(scope) = scope else {
        return vec![(field.to_owned(), "a room scope is required".to_owned())];
    };
    let mut violations = Vec::new();
    if !scope.all_rooms && scope.room_groups.is_empty() && scope.rooms.is_empty() {
        violations.push((
            field.to_owned(),
            "must be all rooms or name room groups or rooms".to_owned(),
        ));
    }
    for (i, group) in scope.room_groups.iter().enumerate() {
        if !resource_under(group, customer, "roomGroups") {
            violations.push((
                format!("{field}.room_groups[{i}]"),
                format!("must be customers/{customer}/roomGroups/{{group}}"),
            ));
        }
    }
    if !scope.rooms_in_groups.is_empty() {
        violations.push((
            format!("{field}.rooms_in_groups"),
            "is output only: name rooms or room groups".to_owned(),
        ));
    }
    for (i, room) in scope.rooms.iter().enumerate() {
        if !resource_under(room, customer, "rooms") {
            violations.push((
                format!("{field}.rooms[{i}]"),
                format!("must be customers/{customer}/rooms/{{room}}"),
            ));
        }
    }
    violations
}

fn resource_under(name: &str, customer: &str, collection: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    matches!(parts.as_slice(), ["customers", c, coll, id] if *c == customer && *coll == collection && !id.is_empty())
}

/// The partner-visible size of a scope (R6).
pub fn scope_summary(scope: &RoomScope) -> ScopeSummary {
    let count = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        i32::try_from(v.len()).unwrap_or(i32::MAX)
    };
    ScopeSummary {
        all_rooms: scope.all_rooms,
        room_group_count: count(&scope.room_groups),
        room_count: count(&scope.rooms),
        covered_room_count: if scope.all_rooms || !scope.room_groups.is_empty() {
            0
        } else {
            count(&scope.rooms)
        },
    }
}

/// Checks a change-control policy (R29): known event types, each at most once, a mode set.
pub fn change_control(policy: Option<&ChangeControlPolicy>, field: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut seen = Vec::new();
    for (i, setting) in policy
        .map_or(&[][..], |p| &p.settings[..])
        .iter()
        .enumerate()
    {
        let at = format!("{field}.settings[{i}]");
        match ChangeControlEventType::try_from(setting.event_type) {
            Ok(ChangeControlEventType::Unspecified) | Err(_) => {
                violations.push((format!("{at}.event_type"), "unknown event type".to_owned()));
            }
            Ok(kind) if seen.contains(&kind) => {
                violations.push((format!("{at}.event_type"), "listed twice".to_owned()));
            }
            Ok(kind) => seen.push(kind),
        }
        if !matches!(
            ChangeControlMode::try_from(setting.mode),
            Ok(ChangeControlMode::AutoApproval | ChangeControlMode::ManualApproval)
        ) {
            violations.push((
                format!("{at}.mode"),
                "must be AUTO_APPROVAL or MANUAL_APPROVAL".to_owned(),
            ));
        }
    }
    violations
}

/// An invitation's stored state as the caller sees it at `now`: a PENDING one past its
/// `expire_time` is EXPIRED (R8, applied lazily on read).
pub fn invitation_state(stored: &str, expire_time: i64, now: i64) -> &str {
    if stored == "PENDING" && expire_time <= now {
        "EXPIRED"
    } else {
        stored
    }
}

/// Whether an invitation can still be accepted, declined or withdrawn (R8).
pub fn invitation_actionable(stored: &str, expire_time: i64, now: i64) -> bool {
    invitation_state(stored, expire_time, now) == "PENDING"
}

/// A relationship's stored state as seen at `now`: ACTIVE past its end time is EXPIRED (R30).
pub fn relationship_state(stored: &str, end_time: Option<i64>, now: i64) -> &str {
    match end_time {
        Some(end) if stored == "ACTIVE" && end <= now => "EXPIRED",
        _ => stored,
    }
}

/// Whether a primary admin may be removed when `remaining` entries count toward R14.
pub fn primary_admin_removable(remaining: u64) -> bool {
    remaining > 1
}

/// Whether the principal is a Global or Managed Service admin of its home tenant.
pub fn is_directory_admin(principal: &Principal) -> bool {
    principal.directory_roles.iter().any(|role| {
        matches!(
            DirectoryRole::try_from(*role),
            Ok(DirectoryRole::GlobalAdmin | DirectoryRole::ManagedServiceAdmin)
        )
    })
}

/// Whether the principal is one of the listed members (its user, or a group it is in).
pub fn is_member(principal: &Principal, members: &[String]) -> bool {
    members
        .iter()
        .any(|m| *m == principal.user || principal.groups.contains(m))
}

/// The home tenant id of a principal.
pub fn home_tenant(principal: &Principal) -> &str {
    principal.home_tenant.strip_prefix("tenants/").unwrap_or("")
}

#[cfg(test)]
mod tests;
