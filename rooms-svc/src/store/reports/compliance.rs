//! Update compliance: a room is compliant when its app and OS versions are the newest seen
//! among the customer's enrolled rooms of its device type, or when that newest version was
//! first seen less than its ring's deferral plus rollout days ago. The newest versions come
//! from the distinct versions in the store; the rooms are counted per ring in SQL.

use std::cmp::Ordering;
use std::collections::HashMap;

use mtm_proto::mtm::rooms::v1::{
    EnrolmentState, GetUpdateComplianceReportResponse, ReportSubject, RingCompliance,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{DAY_MICROS, covered_rooms, subject_condition};
use crate::context::Scope;
use crate::error::Error;
use crate::names::CustomerId;
use crate::store::entity::{room, update_ring, version_seen};
use crate::time::timestamp;

/// Compares versions part by part, numerically where both parts are numbers.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| {
        v.split(['.', '-', '+'])
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (a, b) = (parts(a), parts(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

fn ratio(compliant: i64, total: i64) -> f64 {
    if total == 0 {
        1.0
    } else {
        compliant as f64 / total as f64
    }
}

/// What a room's version of one kind is compared with.
struct Kind {
    /// `app` or `os`, as `version_seen` names it.
    name: &'static str,
    /// The room column holding the version.
    column: room::Column,
}

const KINDS: [Kind; 2] = [
    Kind {
        name: "app",
        column: room::Column::AppVersion,
    },
    Kind {
        name: "os",
        column: room::Column::OsVersion,
    },
];

/// The newest version of `kind` per device type among the customer's enrolled rooms, with
/// when it was first seen. Only the distinct versions leave the database.
async fn newest<C: ConnectionTrait>(db: &C, kind: &Kind) -> Result<Vec<(i32, String, i64)>, Error> {
    let versions: Vec<(i32, String)> = room::Entity::find()
        .filter(room::Column::EnrolmentState.eq(EnrolmentState::Enrolled as i32))
        .filter(kind.column.ne(""))
        .select_only()
        .column(room::Column::DeviceType)
        .column(kind.column)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut newest: HashMap<i32, String> = HashMap::new();
    for (device_type, version) in versions {
        let entry = newest.entry(device_type).or_default();
        if entry.is_empty() || compare_versions(&version, entry) == Ordering::Greater {
            *entry = version;
        }
    }
    let mut out = Vec::with_capacity(newest.len());
    for (device_type, version) in newest {
        let first_seen =
            version_seen::Entity::find_by_id((device_type, kind.name.to_owned(), version.clone()))
                .one(db)
                .await?
                .map_or(0, |v| v.first_seen_time);
        out.push((device_type, version, first_seen));
    }
    Ok(out)
}

/// The rooms compliant in a ring whose grace (deferral plus rollout) is `grace` micros, as a
/// condition on `room`: for each kind, the room runs the newest version of its device type,
/// or that version is still within the grace, or its device type has no version yet.
fn compliant(newest: &[Vec<(i32, String, i64)>], grace: i64, now: i64) -> Condition {
    let mut all = Condition::all();
    for (kind, versions) in KINDS.iter().zip(newest) {
        if versions.is_empty() {
            continue;
        }
        let mut ok = Condition::any()
            .add(room::Column::DeviceType.is_not_in(versions.iter().map(|(d, _, _)| *d)));
        for (device_type, version, first_seen) in versions {
            let of_type = Condition::all().add(room::Column::DeviceType.eq(*device_type));
            ok = ok.add(if now - first_seen < grace {
                of_type
            } else {
                of_type.add(kind.column.eq(version.clone()))
            });
        }
        all = all.add(ok);
    }
    all
}

/// Compliance per ring (by ring order) of the enrolled rooms covered.
pub async fn update_compliance<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    subject: Option<&ReportSubject>,
) -> Result<GetUpdateComplianceReportResponse, Error> {
    let now = crate::time::now_micros();
    let subject = subject_condition(customer, subject)?;
    let covered = || {
        covered_rooms(scope, &subject)
            .filter(room::Column::EnrolmentState.eq(EnrolmentState::Enrolled as i32))
    };
    let mut newest_versions = Vec::with_capacity(KINDS.len());
    for kind in &KINDS {
        newest_versions.push(newest(db, kind).await?);
    }
    let members: HashMap<String, i64> = covered()
        .select_only()
        .column(room::Column::UpdateRingId)
        .column_as(room::Column::Id.count(), "room_count")
        .group_by(room::Column::UpdateRingId)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let rings = update_ring::Entity::find()
        .order_by_asc(update_ring::Column::RingOrder)
        .order_by_asc(update_ring::Column::DisplayName)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rings.len());
    let mut total_compliant = 0;
    for ring in &rings {
        let room_count = members.get(&ring.id).copied().unwrap_or(0);
        let good = if room_count == 0 {
            0
        } else {
            let grace = i64::from(ring.deferral_days + ring.rollout_days) * DAY_MICROS;
            let n = covered()
                .filter(room::Column::UpdateRingId.eq(ring.id.clone()))
                .filter(compliant(&newest_versions, grace, now))
                .count(db)
                .await?;
            i64::try_from(n).unwrap_or(i64::MAX)
        };
        total_compliant += good;
        out.push(RingCompliance {
            update_ring: customer.child("updateRings", &ring.id),
            display_name: ring.display_name.clone(),
            room_count: to_i32(room_count),
            compliant_room_count: to_i32(good),
            compliance_ratio: ratio(good, room_count),
        });
    }
    let room_count = i64::try_from(covered().count(db).await?).unwrap_or(i64::MAX);
    Ok(GetUpdateComplianceReportResponse {
        generate_time: Some(timestamp(now)),
        rings: out,
        room_count: to_i32(room_count),
        compliant_room_count: to_i32(total_compliant),
        compliance_ratio: ratio(total_compliant, room_count),
    })
}

fn to_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("5.10.0", "5.9.3"), Ordering::Greater);
        assert_eq!(compare_versions("5.1", "5.1.0"), Ordering::Less);
        assert_eq!(compare_versions("11.24", "11.24"), Ordering::Equal);
        assert_eq!(compare_versions("1.0-beta", "1.0-alpha"), Ordering::Greater);
    }
}
