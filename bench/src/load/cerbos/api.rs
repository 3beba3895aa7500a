//! The part of Cerbos's public gRPC API the load generator sends and reads:
//! `cerbos.svc.v1.CerbosService/CheckResources` with its request and response messages,
//! declared with Cerbos's field numbers (`cerbos/request/v1`, `cerbos/response/v1`,
//! `cerbos/engine/v1`). Fields the load generator never sets or reads are left out; protobuf
//! skips them on decoding.

use std::collections::HashMap;

use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

/// `cerbos.request.v1.CheckResourcesRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckResourcesRequest {
    /// Correlates logs.
    #[prost(string, tag = "1")]
    pub request_id: String,
    /// Who asks.
    #[prost(message, optional, tag = "3")]
    pub principal: Option<Principal>,
    /// The resources with the actions asked about each.
    #[prost(message, repeated, tag = "4")]
    pub resources: Vec<ResourceEntry>,
}

/// `cerbos.request.v1.CheckResourcesRequest.ResourceEntry`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceEntry {
    /// The actions.
    #[prost(string, repeated, tag = "1")]
    pub actions: Vec<String>,
    /// The resource.
    #[prost(message, optional, tag = "2")]
    pub resource: Option<Resource>,
}

/// `cerbos.engine.v1.Principal`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Principal {
    /// Its id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Its roles.
    #[prost(string, repeated, tag = "3")]
    pub roles: Vec<String>,
    /// Its attributes, read by policy conditions as `P.attr`.
    #[prost(map = "string, message", tag = "4")]
    pub attr: HashMap<String, prost_types::Value>,
}

/// `cerbos.engine.v1.Resource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    /// Its kind (the resource policy that decides it).
    #[prost(string, tag = "1")]
    pub kind: String,
    /// Its id.
    #[prost(string, tag = "3")]
    pub id: String,
    /// Its attributes, read by policy conditions as `R.attr`.
    #[prost(map = "string, message", tag = "4")]
    pub attr: HashMap<String, prost_types::Value>,
}

/// `cerbos.response.v1.CheckResourcesResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckResourcesResponse {
    /// One entry per resource, in the request's order.
    #[prost(message, repeated, tag = "2")]
    pub results: Vec<ResultEntry>,
}

/// `cerbos.response.v1.CheckResourcesResponse.ResultEntry`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResultEntry {
    /// The effect per action (`cerbos.effect.v1.Effect`).
    #[prost(map = "string, enumeration(Effect)", tag = "2")]
    pub actions: HashMap<String, i32>,
}

/// `cerbos.effect.v1.Effect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Effect {
    /// Not set.
    Unspecified = 0,
    /// Allowed.
    Allow = 1,
    /// Denied.
    Deny = 2,
    /// No policy matched.
    NoMatch = 3,
}

/// Calls `CerbosService/CheckResources` on `channel`.
pub async fn check_resources(
    channel: Channel,
    request: CheckResourcesRequest,
) -> Result<CheckResourcesResponse, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("cerbos is not ready: {e}")))?;
    let path = PathAndQuery::from_static("/cerbos.svc.v1.CerbosService/CheckResources");
    grpc.unary(tonic::Request::new(request), path, ProstCodec::default())
        .await
        .map(tonic::Response::into_inner)
}
