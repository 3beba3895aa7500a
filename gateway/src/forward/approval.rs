//! Approving a held partner action (R29, `approval.proto`): the approver must be able to do
//! the action itself (through the customer's own roles), tenancy-svc marks the request
//! APPROVED, then the gateway executes the stored request as its requester — resolved and
//! decided again now, with `approval_request` in the call context — and records the outcome
//! with `MarkApprovalExecuted` before answering.

use bytes::Bytes;
use mtm_proto::mtm::common::v1::{CallContext, Principal};
use mtm_proto::mtm::identity::v1::ResolvePrincipalRequest;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_proto::mtm::tenancy::v1::approval_request::State;
use mtm_proto::mtm::tenancy::v1::approval_service_client::ApprovalServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    ApprovalOutcome, ApprovalRequest, ApproveResponse, GetApprovalRequestRequest,
};
use prost::Message;
use prost_reflect::{DynamicMessage, ReflectMessage, Value};
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};

use super::routes::{self, Decide, Guard, Route};
use super::service::{Admitted, AtCustomer, Forwarder, How, permission_denied};
use super::{schema, visibility};

impl Forwarder {
    /// Forwards `ApprovalService.Approve` and executes the approved action.
    pub(super) async fn approve(
        &self,
        route: &Route,
        at: &AtCustomer,
        context: &CallContext,
        metadata: MetadataMap,
        extensions: tonic::Extensions,
        body: Bytes,
    ) -> Result<Response<Bytes>, Status> {
        let pending = self.approval_request(&at.target, context).await?;
        if pending.state() == State::Pending
            && let Some(action_route) = routes::find(&pending.method)
        {
            let action = Bytes::from(pending.action.clone().unwrap_or_default().value);
            let how = How {
                request_id: &context.request_id,
                approval_request: "",
                check_mfa: false,
            };
            let needed = match action_route.guard {
                Guard::Customer { permission, .. }
                | Guard::CustomerOrPartner { permission, .. } => permission,
                Guard::Anonymous | Guard::SignedIn => "",
            };
            let own = match self
                .admit_as(action_route, at.principal.clone(), &action, how)
                .await
            {
                Ok(admitted) => self.covers(action_route, &admitted, needed).await,
                Err(status) => match status.code() {
                    Code::NotFound | Code::PermissionDenied => Ok(false),
                    _ => Err(status),
                },
            };
            if !own? {
                return Err(permission_denied(needed, &pending.target));
            }
        }
        let answer = self
            .send(route, Some(context), metadata, extensions, body)
            .await?;
        let (metadata, encoded, extensions) = answer.into_parts();
        let mut approved = ApproveResponse::decode(encoded)
            .map_err(|_| Status::internal("tenancy-svc's answer does not decode"))?;
        if let Some(request) = &approved.approval_request
            && request.state() == State::Approved
            && request.outcome.is_none()
        {
            let outcome = self.execute(request, &context.request_id).await;
            tracing::info!(
                approval_request = %request.name,
                code = outcome.code,
                "approved partner action executed"
            );
            approved.approval_request = Some(
                self.change_control
                    .mark_executed(&request.name, outcome, context)
                    .await?,
            );
        }
        Ok(Response::from_parts(
            metadata,
            Bytes::from(approved.encode_to_vec()),
            extensions,
        ))
    }

    /// Whether an admitted scoped call's scope covers its very target (other guards are
    /// decided on the target already).
    async fn covers(
        &self,
        route: &Route,
        admitted: &Admitted,
        permission: &str,
    ) -> Result<bool, Status> {
        let (
            Guard::Customer {
                decide: Decide::Scoped,
                ..
            },
            Some(at),
        ) = (route.guard, &admitted.at)
        else {
            return Ok(true);
        };
        visibility::allowed_on(
            &mut self.rbac.clone(),
            self.backends.rooms.clone(),
            &at.principal,
            &at.customer,
            permission,
            &at.target,
        )
        .await
    }

    async fn approval_request(
        &self,
        name: &str,
        context: &CallContext,
    ) -> Result<ApprovalRequest, Status> {
        let mut request = Request::new(GetApprovalRequestRequest {
            name: name.to_owned(),
        });
        mtm_plumbing::context::attach(&mut request, context);
        ApprovalServiceClient::new(self.backends.tenancy.clone())
            .get_approval_request(request)
            .await?
            .into_inner()
            .approval_request
            .ok_or_else(|| Status::internal("tenancy-svc returned no approval request"))
    }

    /// Executes an approved action as its requester and tells how it went.
    async fn execute(&self, approved: &ApprovalRequest, request_id: &str) -> ApprovalOutcome {
        let now = Some(prost_types::Timestamp::from(std::time::SystemTime::now()));
        let failed = |status: Status| ApprovalOutcome {
            code: status.code() as i32,
            message: status.message().to_owned(),
            result: String::new(),
            execute_time: now,
        };
        let Some(route) = routes::find(&approved.method) else {
            return failed(Status::unimplemented(format!(
                "{} is not a forwarded method",
                approved.method
            )));
        };
        let principal = match self.requester(approved).await {
            Ok(principal) => principal,
            Err(status) => return failed(status),
        };
        let body = Bytes::from(approved.action.clone().unwrap_or_default().value);
        let how = How {
            request_id,
            approval_request: &approved.name,
            check_mfa: false,
        };
        let admitted = match self.admit_as(route, principal, &body, how).await {
            Ok(admitted) => admitted,
            Err(status) => return failed(status),
        };
        let sent = self
            .send(
                route,
                admitted.context.as_ref(),
                MetadataMap::new(),
                tonic::Extensions::default(),
                body,
            )
            .await;
        match sent {
            Ok(response) => ApprovalOutcome {
                code: 0,
                message: String::new(),
                result: result_name(route, response.get_ref())
                    .unwrap_or_else(|| approved.target.clone()),
                execute_time: now,
            },
            Err(status) => failed(status),
        }
    }

    /// The requester of `approved` as identity-svc resolves it now.
    async fn requester(&self, approved: &ApprovalRequest) -> Result<Principal, Status> {
        let user = approved
            .requester
            .as_ref()
            .map(|r| r.user.clone())
            .unwrap_or_default();
        let resolved = PrincipalInternalServiceClient::new(self.backends.identity.clone())
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(UserRef::User(user)),
            })
            .await
            .map_err(|status| match status.code() {
                Code::NotFound => Status::permission_denied("the requester no longer exists"),
                _ => status,
            })?
            .into_inner();
        if !resolved.enabled {
            return Err(Status::permission_denied("the requester is disabled"));
        }
        Ok(resolved.principal.unwrap_or_default())
    }
}

/// The resource an executed call created or changed: the `name` of the first resource in its
/// response.
fn result_name(route: &Route, response: &Bytes) -> Option<String> {
    let method = schema::method(route.path)?;
    let message = DynamicMessage::decode(method.output(), response.clone()).ok()?;
    message.fields().find_map(|(_, value)| match value {
        Value::Message(inner) => {
            let field = inner.descriptor().get_field_by_name("name")?;
            match inner.get_field(&field).into_owned() {
                Value::String(name) if !name.is_empty() => Some(name),
                _ => None,
            }
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtm_proto::mtm::rooms::v1::{Room, UpdateRoomResponse};

    #[test]
    fn results_name_the_changed_resource() {
        let route = routes::find("/mtm.rooms.v1.RoomService/UpdateRoom").expect("route");
        let response = UpdateRoomResponse {
            room: Some(Room {
                name: "customers/c/rooms/r".into(),
                ..Default::default()
            }),
        };
        let encoded = Bytes::from(response.encode_to_vec());
        assert_eq!(
            result_name(route, &encoded).as_deref(),
            Some("customers/c/rooms/r")
        );
        assert_eq!(result_name(route, &Bytes::new()), None);
    }
}
