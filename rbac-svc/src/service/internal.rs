//! `RbacInternalService`: how tenancy-svc keeps rbac-svc in step. Every method is idempotent
//! and returns the revision its change is in, already applied to this replica's index; one
//! that can take access away (a relationship put over an existing one, its removal or
//! termination, setting or removing primary admins, deprovisioning) returns only once every
//! replica with a live lease has applied it, retries included.

use mtm_plumbing::peer::PeerIdentity;
use mtm_proto::mtm::common::v1::RelationshipState;
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_server::RbacInternalService;
use tonic::{Request, Response, Status};

use super::customer_id;
use crate::audit::Acting;
use crate::error::Error;
use crate::index::Scope;
use crate::names;
use crate::state::{Effect, Ready, now};
use crate::store::{self, write};

/// The only service that may call the internal API (by the last segment of its SPIFFE id).
pub const INTERNAL_CALLER: &str = "tenancy-svc";

/// PERMISSION_DENIED unless the peer is tenancy-svc (the allow-list also admits the gateway,
/// which must not reach this API).
fn from_tenancy<T>(request: &Request<T>) -> Result<(), Status> {
    let allowed = request
        .extensions()
        .get::<PeerIdentity>()
        .is_some_and(|peer| peer.0.rsplit('/').next() == Some(INTERNAL_CALLER));
    if allowed {
        Ok(())
    } else {
        Err(Status::permission_denied(
            "RbacInternalService is called only by tenancy-svc",
        ))
    }
}

/// Serves the internal API.
#[derive(Clone)]
pub struct Internal {
    state: Ready,
}

impl Internal {
    /// The internal API over `state`.
    pub fn new(state: Ready) -> Internal {
        Internal { state }
    }

    async fn remove(&self, by: &Acting, name: &str) -> Result<i64, Error> {
        let write = self.state.get()?.begin().await?;
        let customer = write::remove_relationship(&write.txn, by, name).await?;
        write.commit(customer.as_deref(), Effect::Revokes).await
    }

    async fn members(
        &self,
        by: &Acting,
        relationship: &str,
        change: write::MemberChange,
        members: &[String],
    ) -> Result<i64, Error> {
        names::relationship(relationship).ok_or_else(|| {
            Error::invalid(
                "relationship",
                "must be customers/{customer}/partnerRelationships/{relationship}",
            )
        })?;
        let (_, micros) = now();
        let write = self.state.get()?.begin().await?;
        let customer =
            write::change_primary_admins(&write.txn, by, relationship, change, members, micros)
                .await?;
        let effect = match change {
            write::MemberChange::Add => Effect::Grants,
            write::MemberChange::Set | write::MemberChange::Remove => Effect::Revokes,
        };
        write.commit(customer.as_deref(), effect).await
    }
}

fn relationship_name(name: &str) -> Result<(&str, &str), Error> {
    names::relationship(name).ok_or_else(|| {
        Error::invalid(
            "relationship",
            "must be customers/{customer}/partnerRelationships/{relationship}",
        )
    })
}

#[tonic::async_trait]
impl RbacInternalService for Internal {
    async fn provision_customer(
        &self,
        request: Request<pb::ProvisionCustomerRequest>,
    ) -> Result<Response<pb::ProvisionCustomerResponse>, Status> {
        from_tenancy(&request)?;
        let by = Acting::of(&request);
        let request = request.into_inner();
        let customer = customer_id(&request.customer, "customer")?;
        let user_of_customer = request
            .first_admin
            .strip_prefix(&format!("tenants/{customer}/users/"))
            .is_some_and(names::valid_segment);
        if !user_of_customer {
            return Err(Error::invalid(
                "first_admin",
                format!("must be a user of tenants/{customer}"),
            )
            .into());
        }
        let (_, micros) = now();
        let write = self.state.get()?.begin().await?;
        let changed =
            write::provision_customer(&write.txn, &by, customer, &request.first_admin, micros)
                .await?;
        let revision = write
            .commit(changed.then_some(customer), Effect::Grants)
            .await?;
        Ok(Response::new(pb::ProvisionCustomerResponse { revision }))
    }

    async fn deprovision_customer(
        &self,
        request: Request<pb::DeprovisionCustomerRequest>,
    ) -> Result<Response<pb::DeprovisionCustomerResponse>, Status> {
        from_tenancy(&request)?;
        let request = request.into_inner();
        let customer = customer_id(&request.customer, "customer")?;
        let write = self.state.get()?.begin().await?;
        let changed = write::deprovision_customer(&write.txn, customer).await?;
        let revision = write
            .commit(changed.then_some(customer), Effect::Revokes)
            .await?;
        Ok(Response::new(pb::DeprovisionCustomerResponse { revision }))
    }

    async fn put_relationship(
        &self,
        request: Request<pb::PutRelationshipRequest>,
    ) -> Result<Response<pb::PutRelationshipResponse>, Status> {
        from_tenancy(&request)?;
        let by = Acting::of(&request);
        let request = request.into_inner();
        let (customer, _) = relationship_name(&request.relationship)?;
        let mut violations = Vec::new();
        if request.customer != format!("customers/{customer}") {
            violations.push((
                "customer".to_owned(),
                "must be the relationship's customer".to_owned(),
            ));
        }
        let partner = names::partner(&request.partner);
        match partner {
            None => violations.push((
                "partner".to_owned(),
                "must be partners/{partner}".to_owned(),
            )),
            Some(p) if p == customer => violations.push((
                "partner".to_owned(),
                "a tenant cannot be in a relationship with itself (R7)".to_owned(),
            )),
            Some(_) => {}
        }
        let state = RelationshipState::try_from(request.state).unwrap_or_default();
        if state == RelationshipState::Unspecified {
            violations.push(("state".to_owned(), "is required".to_owned()));
        }
        match &request.scope {
            Some(scope) => names::check_scope(customer, scope, "scope", &mut violations),
            None if state != RelationshipState::Terminated => {
                violations.push(("scope".to_owned(), "is required".to_owned()))
            }
            None => {}
        }
        if !violations.is_empty() {
            return Err(Error::Invalid(violations).into());
        }
        if state == RelationshipState::Terminated {
            let revision = self.remove(&by, &request.relationship).await?;
            return Ok(Response::new(pb::PutRelationshipResponse { revision }));
        }
        let scope = request
            .scope
            .as_ref()
            .map(Scope::from_proto)
            .unwrap_or_default();
        let (_, micros) = now();
        let write = self.state.get()?.begin().await?;
        let (changed, effect) = write::put_relationship(
            &write.txn,
            &by,
            &write::RelationshipPut {
                name: &request.relationship,
                customer,
                partner: partner.unwrap_or_default(),
                scope: &scope,
                state: state as i32,
                end_time: request.end_time.map(|t| t.seconds),
            },
            micros,
        )
        .await?;
        let revision = write.commit(changed.then_some(customer), effect).await?;
        Ok(Response::new(pb::PutRelationshipResponse { revision }))
    }

    async fn remove_relationship(
        &self,
        request: Request<pb::RemoveRelationshipRequest>,
    ) -> Result<Response<pb::RemoveRelationshipResponse>, Status> {
        from_tenancy(&request)?;
        let by = Acting::of(&request);
        let request = request.into_inner();
        relationship_name(&request.relationship)?;
        let revision = self.remove(&by, &request.relationship).await?;
        Ok(Response::new(pb::RemoveRelationshipResponse { revision }))
    }

    async fn set_primary_admins(
        &self,
        request: Request<pb::SetPrimaryAdminsRequest>,
    ) -> Result<Response<pb::SetPrimaryAdminsResponse>, Status> {
        from_tenancy(&request)?;
        let by = Acting::of(&request);
        let request = request.into_inner();
        let revision = self
            .members(
                &by,
                &request.relationship,
                write::MemberChange::Set,
                &request.members,
            )
            .await?;
        Ok(Response::new(pb::SetPrimaryAdminsResponse { revision }))
    }

    async fn add_primary_admins(
        &self,
        request: Request<pb::AddPrimaryAdminsRequest>,
    ) -> Result<Response<pb::AddPrimaryAdminsResponse>, Status> {
        from_tenancy(&request)?;
        let by = Acting::of(&request);
        let request = request.into_inner();
        let revision = self
            .members(
                &by,
                &request.relationship,
                write::MemberChange::Add,
                &request.members,
            )
            .await?;
        Ok(Response::new(pb::AddPrimaryAdminsResponse { revision }))
    }

    async fn remove_primary_admins(
        &self,
        request: Request<pb::RemovePrimaryAdminsRequest>,
    ) -> Result<Response<pb::RemovePrimaryAdminsResponse>, Status> {
        from_tenancy(&request)?;
        let by = Acting::of(&request);
        let request = request.into_inner();
        let revision = self
            .members(
                &by,
                &request.relationship,
                write::MemberChange::Remove,
                &request.members,
            )
            .await?;
        Ok(Response::new(pb::RemovePrimaryAdminsResponse { revision }))
    }

    async fn get_revision(
        &self,
        request: Request<pb::GetRevisionRequest>,
    ) -> Result<Response<pb::GetRevisionResponse>, Status> {
        from_tenancy(&request)?;
        let committed_revision = store::latest_revision(self.state.get()?.db()).await?;
        Ok(Response::new(pb::GetRevisionResponse {
            committed_revision,
            applied_revision: self.state.get()?.applied(),
        }))
    }
}
