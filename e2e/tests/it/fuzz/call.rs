//! Sending encoded requests to any method of the gateway, as one user, and judging the answer.

use std::time::Duration;

use bytes::Bytes;
use mtm_plumbing::raw_codec::RawCodec;
use prost_reflect::MethodDescriptor;
use tonic::Code;
use tonic::transport::Channel;

/// What a call answered: the response messages, or the status.
pub type Answer = Result<Vec<Bytes>, tonic::Status>;

/// Calls `method` with the encoded `body`, with `token` as bearer token when given. Server
/// streams are read to the end (at most 64 messages).
pub async fn call(
    channel: Channel,
    method: &MethodDescriptor,
    body: Bytes,
    token: Option<&str>,
) -> Answer {
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = http::uri::PathAndQuery::try_from(path).expect("a method path");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("channel not ready: {e}")))?;
    let mut request = tonic::Request::new(body);
    request.set_timeout(Duration::from_secs(60));
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    if method.is_server_streaming() {
        let mut stream = grpc
            .server_streaming(request, path, RawCodec)
            .await?
            .into_inner();
        let mut messages = Vec::new();
        while let Some(message) = stream.message().await? {
            messages.push(message);
            if messages.len() == 64 {
                break;
            }
        }
        Ok(messages)
    } else {
        Ok(vec![
            grpc.unary(request, path, RawCodec).await?.into_inner(),
        ])
    }
}

/// Why an answer is wrong, if it is: INTERNAL, UNKNOWN or DATA_LOSS (bad input must never
/// give them; a reset stream or an h2 error also surfaces as one of them), CANCELLED or an
/// UNAVAILABLE from the transport (a broken connection), or a success that carries one of
/// `foreign` (another tenant's names).
pub fn fault(answer: &Answer, foreign: &[String]) -> Option<String> {
    match answer {
        Err(status) => {
            let transport = ["transport", "connection", "h2", "reset", "broken pipe"]
                .iter()
                .any(|word| status.message().to_lowercase().contains(word));
            let bad = match status.code() {
                Code::Internal | Code::Unknown | Code::DataLoss | Code::Cancelled => true,
                Code::Unavailable => transport,
                _ => false,
            };
            bad.then(|| format!("{:?}: {}", status.code(), status.message()))
        }
        Ok(messages) => messages.iter().find_map(|message| {
            foreign
                .iter()
                .find(|name| contains(message, name.as_bytes()))
                .map(|name| format!("the answer names {name}"))
        }),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
