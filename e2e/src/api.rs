//! Calling the public API as one signed-in user: the gateway channel, the bearer token, and
//! errors that say which step of a scenario failed.

use mtm_proto::mtm::identity::v1::SignInRequest;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use tonic::transport::Channel;

/// The password of every user of the demo directories identity-svc loads.
pub const DEMO_PASSWORD: &str = "mtm-demo-password";

/// A step of a scenario that the API refused.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {code:?}: {message}", code = status.code(), message = status.message())]
pub struct StepError {
    /// What was being done.
    pub step: String,
    /// The answer.
    pub status: tonic::Status,
}

/// The outcome of a scenario step.
pub type Step<T> = Result<T, StepError>;

/// Names the step a gRPC answer belongs to.
pub trait Described<T> {
    /// The response message, or the status with `step` attached.
    fn step(self, step: impl Into<String>) -> Step<T>;
}

impl<T> Described<T> for Result<tonic::Response<T>, tonic::Status> {
    fn step(self, step: impl Into<String>) -> Step<T> {
        self.map(tonic::Response::into_inner)
            .map_err(|status| StepError {
                step: step.into(),
                status,
            })
    }
}

/// A signed-in user of the public API.
#[derive(Clone)]
pub struct Session {
    channel: Channel,
    token: String,
    /// The UPN signed in with.
    pub upn: String,
    /// The user: `tenants/{tenant}/users/{user}`.
    pub user: String,
    /// The home tenant: `tenants/{tenant}`.
    pub tenant: String,
}

impl Session {
    /// Signs in through the gateway with a UPN (or the operator's name) and password.
    pub async fn sign_in(channel: Channel, upn: &str, password: &str) -> Step<Self> {
        let signed_in = AuthServiceClient::new(channel.clone())
            .sign_in(SignInRequest {
                upn: upn.to_owned(),
                password: password.to_owned(),
            })
            .await
            .step(format!("signing in as {upn}"))?;
        Ok(Self {
            channel,
            token: signed_in.access_token,
            upn: upn.to_owned(),
            user: signed_in.user,
            tenant: signed_in.tenant,
        })
    }

    /// Signs in as a user of the demo directories.
    pub async fn demo_user(channel: Channel, upn: &str) -> Step<Self> {
        Self::sign_in(channel, upn, DEMO_PASSWORD).await
    }

    /// The home tenant's id (`contoso-partner` for `tenants/contoso-partner`).
    pub fn tenant_id(&self) -> &str {
        self.tenant.strip_prefix("tenants/").unwrap_or(&self.tenant)
    }

    /// The channel to the gateway, for building clients.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `message` with this user's bearer token.
    pub fn call<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let value = format!("Bearer {}", self.token)
            .parse()
            .expect("a token is valid header text");
        request.metadata_mut().insert("authorization", value);
        request
    }
}
