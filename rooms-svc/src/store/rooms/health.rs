//! Room health (§8): only enrolled rooms have one; DISCONNECTED without telemetry within the
//! customer's threshold, else UNHEALTHY with an open IMPORTANT ticket or recorded issue, else
//! HEALTHY. The same rule as a SQL condition, so lists filter on it in the database.

use mtm_proto::mtm::rooms::v1::{EnrolmentState, RoomHealth};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::error::Error;
use crate::store::entity::room;

/// The moment health is judged at, and the customer's disconnection threshold.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Rooms last heard of before this are DISCONNECTED.
    pub cutoff: i64,
    /// Now.
    pub now: i64,
}

impl Clock {
    /// The clock of the store's settings, now.
    pub async fn of<C: ConnectionTrait>(db: &C) -> Result<Self, Error> {
        let settings = crate::store::settings::get(db).await?;
        let now = crate::time::now_micros();
        Ok(Self {
            now,
            cutoff: now - crate::store::settings::disconnected_after_micros(&settings),
        })
    }

    /// A room's health. An enrolled room counts as heard of at its enrolment until its first
    /// telemetry arrives.
    pub fn health(&self, model: &room::Model) -> RoomHealth {
        if model.enrolment_state != EnrolmentState::Enrolled as i32 {
            return RoomHealth::Unspecified;
        }
        let heard = model.last_telemetry_time.or(model.enroll_time).unwrap_or(0);
        if heard < self.cutoff {
            RoomHealth::Disconnected
        } else if model.unhealthy_ticket_count > 0 {
            RoomHealth::Unhealthy
        } else {
            RoomHealth::Healthy
        }
    }

    fn connected(&self) -> Condition {
        Condition::any()
            .add(room::Column::LastTelemetryTime.gte(self.cutoff))
            .add(
                Condition::all()
                    .add(room::Column::LastTelemetryTime.is_null())
                    .add(room::Column::EnrollTime.gte(self.cutoff)),
            )
    }

    /// The rooms with health `health` (a `RoomHealth` value), as a condition on `room`.
    pub fn health_condition(&self, health: i32) -> Condition {
        let enrolled =
            Condition::all().add(room::Column::EnrolmentState.eq(EnrolmentState::Enrolled as i32));
        match RoomHealth::try_from(health) {
            Ok(RoomHealth::Disconnected) => enrolled.add(self.connected().not()),
            Ok(RoomHealth::Unhealthy) => enrolled
                .add(self.connected())
                .add(room::Column::UnhealthyTicketCount.gt(0)),
            Ok(RoomHealth::Healthy) => enrolled
                .add(self.connected())
                .add(room::Column::UnhealthyTicketCount.eq(0)),
            _ => Condition::all()
                .add(room::Column::EnrolmentState.ne(EnrolmentState::Enrolled as i32)),
        }
    }
}
