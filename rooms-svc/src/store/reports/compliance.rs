//! Update compliance: a room is compliant when its app and OS versions are the newest seen
//! among the customer's enrolled rooms of its device type, or when that newest version was
//! first seen less than its ring's deferral plus rollout days ago.

use std::cmp::Ordering;
use std::collections::HashMap;

use mtm_proto::mtm::rooms::v1::{
    EnrolmentState, GetUpdateComplianceReportResponse, ReportSubject, RingCompliance,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{DAY_MICROS, count, covered_rooms, subject_condition};
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

fn ratio(compliant: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        compliant as f64 / total as f64
    }
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
    let enrolled = EnrolmentState::Enrolled as i32;
    let covered: Vec<room::Model> = covered_rooms(db, scope, &subject)
        .await?
        .into_iter()
        .filter(|r| r.enrolment_state == enrolled)
        .collect();
    let fleet = room::Entity::find()
        .filter(room::Column::EnrolmentState.eq(enrolled))
        .all(db)
        .await?;
    let mut newest: HashMap<(i32, &str), String> = HashMap::new();
    for room in &fleet {
        for (kind, version) in [("app", &room.app_version), ("os", &room.os_version)] {
            if version.is_empty() {
                continue;
            }
            let entry = newest.entry((room.device_type, kind)).or_default();
            if entry.is_empty() || compare_versions(version, entry) == Ordering::Greater {
                *entry = version.clone();
            }
        }
    }
    let seen: HashMap<(i32, String, String), i64> = version_seen::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|v| ((v.device_type, v.kind, v.version), v.first_seen_time))
        .collect();
    let rings = update_ring::Entity::find()
        .order_by_asc(update_ring::Column::RingOrder)
        .order_by_asc(update_ring::Column::DisplayName)
        .all(db)
        .await?;
    let grace: HashMap<&str, i64> = rings
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                i64::from(r.deferral_days + r.rollout_days) * DAY_MICROS,
            )
        })
        .collect();
    let compliant = |room: &room::Model| {
        [("app", &room.app_version), ("os", &room.os_version)]
            .into_iter()
            .all(|(kind, version)| {
                let Some(latest) = newest.get(&(room.device_type, kind)) else {
                    return true;
                };
                if version == latest {
                    return true;
                }
                let first_seen = seen
                    .get(&(room.device_type, kind.to_owned(), latest.clone()))
                    .copied()
                    .unwrap_or(0);
                now - first_seen
                    < grace
                        .get(room.update_ring_id.as_str())
                        .copied()
                        .unwrap_or(0)
            })
    };
    let mut out = Vec::with_capacity(rings.len());
    let mut total_compliant = 0;
    for ring in &rings {
        let members: Vec<&room::Model> = covered
            .iter()
            .filter(|r| r.update_ring_id == ring.id)
            .collect();
        let good = members.iter().filter(|r| compliant(r)).count();
        total_compliant += good;
        out.push(RingCompliance {
            update_ring: customer.child("updateRings", &ring.id),
            display_name: ring.display_name.clone(),
            room_count: count(members.len()),
            compliant_room_count: count(good),
            compliance_ratio: ratio(good, members.len()),
        });
    }
    Ok(GetUpdateComplianceReportResponse {
        generate_time: Some(timestamp(now)),
        rings: out,
        room_count: count(covered.len()),
        compliant_room_count: count(total_compliant),
        compliance_ratio: ratio(total_compliant, covered.len()),
    })
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
