//! Primary admins after acceptance: adding (R10, R19) and removing with the at-least-one
//! invariant (R14), also under concurrent removals.

use mtm_proto::mtm::rbac::v1::{
    AddPrimaryAdminsRequest as RbacAdd, RemovePrimaryAdminsRequest as RbacRemove,
};
use mtm_proto::mtm::tenancy::v1::primary_admin::Source;
use mtm_proto::mtm::tenancy::v1::*;

use super::{Relationships, Side};
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::service::{Caller, audit_success, lookup};
use crate::store::entity::primary_admin;
use crate::store::{self, primary_admins};

/// The most members one `AddPrimaryAdmins` may name.
const MAX_MEMBERS: usize = 100;

impl Relationships {
    pub(super) async fn add_admins(
        &self,
        caller: &Caller,
        request: AddPrimaryAdminsRequest,
    ) -> Result<AddPrimaryAdminsResponse> {
        let (rel, side) = self.reach(caller, &request.parent).await?;
        let caller = &Self::acting(caller, &rel, side);
        let outcome = async {
            match side {
                Side::PrimaryAdmin => {}
                Side::PartnerManager => {
                    return Err(Error::Denied(
                        "only a primary admin of this customer can add primary admins".into(),
                    ));
                }
                Side::Customer => return Err(Error::not_found("relationship", &request.parent)),
            }
            if request.members.is_empty() || request.members.len() > MAX_MEMBERS {
                return Err(Error::invalid(
                    "members",
                    format!("name 1 to {MAX_MEMBERS} users or groups"),
                ));
            }
            if rules::relationship_state(&rel.state, rel.end_time, store::now_us()) != "ACTIVE"
                || rel.terminating
            {
                return Err(Error::precondition(
                    "RELATIONSHIP_NOT_ACTIVE",
                    &request.parent,
                    "the relationship is not ACTIVE",
                ));
            }
            let found =
                lookup::partner_members(&self.state, &rel.partner_id, &request.members, "members")
                    .await?;
            let now = store::now_us();
            let txn = store::begin_guarded(&self.state.db, &rel.customer_id).await?;
            let mut entries = Vec::new();
            let mut added = Vec::new();
            for member in found {
                if let Some(existing) =
                    primary_admins::by_member(&txn, &rel.id, &member.name).await?
                {
                    entries.push(existing);
                    continue;
                }
                let entry = primary_admins::insert(
                    &txn,
                    primary_admin::Model {
                        id: store::new_id(),
                        relationship_id: rel.id.clone(),
                        member: member.name.clone(),
                        display_name: member.display_name,
                        upn: member.upn,
                        source: Source::Added.into(),
                        invitation: String::new(),
                        added_by: caller.actor_bytes(),
                        create_time: now,
                        removing: false,
                    },
                )
                .await?;
                added.push(member.name);
                entries.push(entry);
            }
            let mut audit = Self::audit(&rel, "add_primary_admins", Side::PrimaryAdmin);
            audit.details = vec![("members".into(), added.join(","))];
            audit_success(&txn, caller, audit).await?;
            txn.commit().await?;
            let mut revision = 0;
            if !added.is_empty() {
                revision = self
                    .state
                    .rbac
                    .clone()
                    .add_primary_admins(caller.request(RbacAdd {
                        relationship: names::relationship(&rel.customer_id, &rel.id),
                        members: added,
                    }))
                    .await
                    .map_err(Error::upstream_as("rbac-svc", &[("members", "members")]))?
                    .into_inner()
                    .revision;
            }
            Ok(AddPrimaryAdminsResponse {
                primary_admins: entries
                    .iter()
                    .map(|e| convert::primary_admin(e, &rel.customer_id))
                    .collect(),
                rbac_revision: revision,
            })
        }
        .await;
        match outcome {
            Ok(done) => Ok(done),
            Err(e) => Err(self
                .refused(caller, &rel, "add_primary_admins", side, e)
                .await),
        }
    }

    pub(super) async fn remove_admin(&self, caller: &Caller, name: &str) -> Result<i64> {
        let (customer, rel_id, id) = names::primary_admin(name)?;
        let (rel, side) = self
            .reach(caller, &names::relationship(&customer, &rel_id))
            .await?;
        let caller = &Self::acting(caller, &rel, side);
        let outcome = async {
            if side == Side::PartnerManager {
                return Err(Error::Denied("only a primary admin or the customer can remove a primary admin".into()));
            }
            let txn = store::begin_guarded(&self.state.db, &rel.customer_id).await?;
            let entry = primary_admins::get(&txn, &rel.id, &id)
                .await?
                .filter(|e| !e.removing)
                .ok_or_else(|| Error::not_found("primary admin", name))?;
            let remaining = primary_admins::counted(&txn, &rel.id).await?;
            if !rules::primary_admin_removable(remaining) {
                return Err(Error::precondition(
                    "LAST_PRIMARY_ADMIN",
                    name,
                    "a relationship always keeps at least one primary admin (R14); end it with RemoveCustomer or RemovePartner instead",
                ));
            }
            // Access first (ARCHITECTURE.md): rbac-svc forgets the member before its removal
            // is committed here, under the same guard.
            let revision = self
                .state
                .rbac
                .clone()
                .remove_primary_admins(caller.request(RbacRemove {
                    relationship: names::relationship(&rel.customer_id, &rel.id),
                    members: vec![entry.member.clone()],
                }))
                .await
                .map_err(Error::upstream_as("rbac-svc", &[("members", "name")]))?
                .into_inner()
                .revision;
            primary_admins::delete(&txn, &entry.id).await?;
            let mut audit = Self::audit(&rel, "remove_primary_admin", side);
            audit.details = vec![("member".into(), entry.member.clone())];
            audit_success(&txn, caller, audit).await?;
            txn.commit().await?;
            Ok(revision)
        }
        .await;
        match outcome {
            Ok(revision) => Ok(revision),
            Err(e) => Err(self
                .refused(caller, &rel, "remove_primary_admin", side, e)
                .await),
        }
    }
}
