//! Customer changes to a relationship (R18, R29, R30) and offboarding from either side
//! (R16, R17), each ordered against rbac-svc to fail safe.

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;
use mtm_proto::mtm::tenancy::v1::*;
use prost_types::Timestamp;
use sea_orm::Set;

use super::{Relationships, Side};
use crate::convert;
use crate::error::{Error, Result};
use crate::rules;
use crate::service::{Caller, audit_failure, audit_success, lookup};
use crate::store::entity::relationship as row;
use crate::store::{self, decode, encode, relationships};
use crate::sync;

impl Relationships {
    /// Reaches `name` as a user of the customer; anything else is NOT_FOUND.
    async fn as_customer(&self, caller: &Caller, name: &str) -> Result<row::Model> {
        match self.reach(caller, name).await? {
            (rel, Side::Customer) => Ok(rel),
            _ => Err(Error::not_found("relationship", name)),
        }
    }

    /// Records a refused change (R28) of `rel` and returns the error.
    pub(super) async fn refused(
        &self,
        caller: &Caller,
        rel: &row::Model,
        operation: &'static str,
        side: Side,
        e: Error,
    ) -> Error {
        audit_failure(&self.state, caller, Self::audit(rel, operation, side), e).await
    }

    pub(super) async fn update_scope(
        &self,
        caller: &Caller,
        request: UpdateRelationshipScopeRequest,
    ) -> Result<UpdateRelationshipScopeResponse> {
        let rel = self.as_customer(caller, &request.name).await?;
        match self.try_update_scope(caller, &rel, request).await {
            Ok(done) => Ok(done),
            Err(e) => Err(self
                .refused(caller, &rel, "update_scope", Side::Customer, e)
                .await),
        }
    }

    async fn try_update_scope(
        &self,
        caller: &Caller,
        rel: &row::Model,
        request: UpdateRelationshipScopeRequest,
    ) -> Result<UpdateRelationshipScopeResponse> {
        let bad = rules::room_scope(request.room_scope.as_ref(), &rel.customer_id, "room_scope");
        if !bad.is_empty() {
            return Err(Error::Invalid(bad));
        }
        check_etag(rel, &request.etag, &request.name)?;
        live(rel, &request.name)?;
        let scope = request.room_scope.unwrap_or_default();
        let mut summary = rules::scope_summary(&scope);
        summary.covered_room_count =
            lookup::room_scope(&self.state, &rel.customer_id, &scope, "room_scope").await?;
        let old: RoomScope = decode(&rel.room_scope);
        let widening_only = scope.all_rooms
            || (!old.all_rooms
                && old
                    .room_groups
                    .iter()
                    .all(|g| scope.room_groups.contains(g))
                && old.rooms.iter().all(|r| scope.rooms.contains(r)));
        let mut next = rel.clone();
        next.room_scope = encode(&scope);
        next.scope_summary = encode(&summary);
        let txn = store::begin_guarded(&self.state.db, &rel.customer_id).await?;
        let mut revision = 0;
        if !widening_only {
            revision = sync::push_with(&self.state, caller, &txn, &next).await?;
        }
        let updated = relationships::update(&txn, rel.clone(), |a| {
            a.room_scope = Set(next.room_scope.clone());
            a.scope_summary = Set(next.scope_summary.clone());
        })
        .await?;
        let mut audit = Self::audit(&updated, "update_scope", Side::Customer);
        audit.details = vec![
            ("all_rooms".into(), scope.all_rooms.to_string()),
            ("room_groups".into(), scope.room_groups.join(",")),
            ("rooms".into(), scope.rooms.join(",")),
        ];
        audit_success(&txn, caller, audit).await?;
        txn.commit().await?;
        if widening_only {
            revision = sync::push(&self.state, caller, &updated).await?;
        }
        Ok(UpdateRelationshipScopeResponse {
            relationship: Some(self.render_one(&updated, Side::Customer).await?),
            rbac_revision: revision,
        })
    }

    pub(super) async fn update_change_control(
        &self,
        caller: &Caller,
        request: UpdateChangeControlRequest,
    ) -> Result<UpdateChangeControlResponse> {
        let rel = self.as_customer(caller, &request.name).await?;
        let outcome = async {
            let bad = rules::change_control(request.change_control.as_ref(), "change_control");
            if !bad.is_empty() {
                return Err(Error::Invalid(bad));
            }
            check_etag(&rel, &request.etag, &request.name)?;
            live(&rel, &request.name)?;
            let policy = request.change_control.clone().unwrap_or_default();
            let txn = mtm_plumbing::store::begin_write(&self.state.db).await?;
            let updated = relationships::update(&txn, rel.clone(), |a| {
                a.change_control = Set(encode(&policy))
            })
            .await?;
            let mut audit = Self::audit(&updated, "update_change_control", Side::Customer);
            audit.details = policy
                .settings
                .iter()
                .map(|s| {
                    (
                        ChangeControlEventType::try_from(s.event_type)
                            .map(|e| e.as_str_name())
                            .unwrap_or("?")
                            .to_owned(),
                        ChangeControlMode::try_from(s.mode)
                            .map(|m| m.as_str_name())
                            .unwrap_or("?")
                            .to_owned(),
                    )
                })
                .collect();
            audit_success(&txn, caller, audit).await?;
            txn.commit().await?;
            Ok(updated)
        }
        .await;
        match outcome {
            Ok(updated) => Ok(UpdateChangeControlResponse {
                relationship: Some(self.render_one(&updated, Side::Customer).await?),
            }),
            Err(e) => Err(self
                .refused(caller, &rel, "update_change_control", Side::Customer, e)
                .await),
        }
    }

    /// `SetRelationshipEndTime` (`renew` false: ACTIVE only) and `RenewRelationship` (`renew`
    /// true: ACTIVE or EXPIRED, becomes ACTIVE) (R30).
    pub(super) async fn set_end(
        &self,
        caller: &Caller,
        name: &str,
        end_time: Option<&Timestamp>,
        etag: &str,
        renew: bool,
    ) -> Result<(Relationship, i64)> {
        let rel = self.as_customer(caller, name).await?;
        let operation = if renew { "renew" } else { "set_end_time" };
        match self
            .try_set_end(caller, &rel, name, end_time, etag, renew)
            .await
        {
            Ok(done) => Ok(done),
            Err(e) => Err(self
                .refused(caller, &rel, operation, Side::Customer, e)
                .await),
        }
    }

    async fn try_set_end(
        &self,
        caller: &Caller,
        rel: &row::Model,
        name: &str,
        end_time: Option<&Timestamp>,
        etag: &str,
        renew: bool,
    ) -> Result<(Relationship, i64)> {
        let now = store::now_us();
        let end = end_time.map(convert::micros);
        if end.is_some_and(|e| e <= now) {
            return Err(Error::invalid("end_time", "must be in the future"));
        }
        check_etag(rel, etag, name)?;
        let state = rules::relationship_state(&rel.state, rel.end_time, now);
        let allowed = if renew {
            matches!(state, "ACTIVE" | "EXPIRED")
        } else {
            state == "ACTIVE"
        };
        if rel.terminating || !allowed {
            return Err(Error::precondition(
                "RELATIONSHIP_STATE",
                name,
                format!(
                    "the relationship is {state}; {}",
                    if renew {
                        "only ACTIVE or EXPIRED ones can be renewed"
                    } else {
                        "only an ACTIVE one gets an end time (renew an EXPIRED one)"
                    }
                ),
            ));
        }
        let shortens = match (rel.end_time, end) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(old), Some(new)) => new < old,
        };
        let mut next = rel.clone();
        next.end_time = end;
        next.state = "ACTIVE".into();
        let takes_away = shortens && state == "ACTIVE";
        let txn = store::begin_guarded(&self.state.db, &rel.customer_id).await?;
        let mut revision = 0;
        if takes_away {
            revision = sync::push_with(&self.state, caller, &txn, &next).await?;
        }
        let updated = relationships::update(&txn, rel.clone(), |a| {
            a.end_time = Set(end);
            a.state = Set("ACTIVE".into());
        })
        .await?;
        let operation = if renew { "renew" } else { "set_end_time" };
        let mut audit = Self::audit(&updated, operation, Side::Customer);
        audit.details = vec![(
            "end_time".into(),
            end.map(|e| convert::timestamp(e).to_string())
                .unwrap_or_default(),
        )];
        audit_success(&txn, caller, audit).await?;
        txn.commit().await?;
        if !takes_away {
            revision = sync::push(&self.state, caller, &updated).await?;
        }
        Ok((self.render_one(&updated, Side::Customer).await?, revision))
    }

    /// `RemovePartner` (customer side) and `RemoveCustomer` (a primary admin, R16).
    pub(super) async fn remove(
        &self,
        caller: &Caller,
        name: &str,
        confirm: bool,
        etag: &str,
        side: Side,
    ) -> Result<(Relationship, i64)> {
        let (rel, reached) = self.reach(caller, name).await?;
        let caller = &Self::acting(caller, &rel, reached);
        let operation = if side == Side::Customer {
            "remove_partner"
        } else {
            "remove_customer"
        };
        let outcome = async {
            match (side, reached) {
                (Side::Customer, Side::Customer) | (Side::PrimaryAdmin, Side::PrimaryAdmin) => {}
                (Side::PrimaryAdmin, Side::PartnerManager) => {
                    return Err(Error::Denied(
                        "only a primary admin of this customer can remove it (R16)".into(),
                    ));
                }
                _ => return Err(Error::not_found("relationship", name)),
            }
            if !confirm {
                return Err(Error::invalid(
                    "confirm",
                    "must be true to end the relationship (R16)",
                ));
            }
            check_etag(&rel, etag, name)?;
            if rel.state == "TERMINATED" {
                return Err(Error::precondition(
                    "RELATIONSHIP_TERMINATED",
                    name,
                    "the relationship is already TERMINATED",
                ));
            }
            let reason = if side == Side::Customer {
                TerminationReason::RemovedByCustomer
            } else {
                TerminationReason::RemovedByPartner
            };
            sync::terminate(&self.state, caller, rel.clone(), reason).await
        }
        .await;
        match outcome {
            Ok((done, revision)) => Ok((self.render_one(&done, side).await?, revision)),
            Err(e) => Err(self.refused(caller, &rel, operation, reached, e).await),
        }
    }
}

/// ABORTED when `etag` is given and not the relationship's.
pub(super) fn check_etag(rel: &row::Model, etag: &str, name: &str) -> Result<()> {
    match convert::version_of(etag, name)? {
        Some(v) if v != rel.version => Err(Error::Aborted(name.to_owned())),
        _ => Ok(()),
    }
}

/// FAILED_PRECONDITION unless the relationship is ACTIVE or EXPIRED and not ending.
fn live(rel: &row::Model, name: &str) -> Result<()> {
    if rel.state == "TERMINATED" || rel.terminating {
        return Err(Error::precondition(
            "RELATIONSHIP_TERMINATED",
            name,
            "the relationship is TERMINATED",
        ));
    }
    Ok(())
}
