//! The public client's address, handed to the backend in
//! `mtm_plumbing::context::CLIENT_ADDRESS_KEY` so identity-svc can limit sign-in
//! guesses per (account, source). Whatever the client sent under that key is dropped first:
//! only the address of the connection counts.

use std::net::IpAddr;

use mtm_plumbing::context::CLIENT_ADDRESS_KEY;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

/// Replaces any client-sent address in `metadata` with the connection's remote address.
pub fn stamp(metadata: &mut MetadataMap, extensions: &tonic::Extensions) {
    metadata.remove(CLIENT_ADDRESS_KEY);
    if let Some(ip) = remote_ip(extensions)
        && let Ok(value) = MetadataValue::try_from(ip.to_string())
    {
        metadata.insert(CLIENT_ADDRESS_KEY, value);
    }
}

fn remote_ip(extensions: &tonic::Extensions) -> Option<IpAddr> {
    connection_ip(extensions.get(), extensions.get())
}

/// The remote address of the client's connection, from the connect info of a TLS or a plain
/// TCP connection (whichever the request carries).
pub fn connection_ip(
    tls: Option<&TlsConnectInfo<TcpConnectInfo>>,
    tcp: Option<&TcpConnectInfo>,
) -> Option<IpAddr> {
    tls.and_then(|info| info.get_ref().remote_addr())
        .or_else(|| tcp.and_then(TcpConnectInfo::remote_addr))
        .map(|addr| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_address_is_replaced_or_dropped() {
        let mut metadata = MetadataMap::new();
        metadata.insert(CLIENT_ADDRESS_KEY, "198.51.100.1".parse().expect("ascii"));
        stamp(&mut metadata, &tonic::Extensions::new());
        assert!(metadata.get(CLIENT_ADDRESS_KEY).is_none());

        let mut extensions = tonic::Extensions::new();
        extensions.insert(TcpConnectInfo {
            local_addr: None,
            remote_addr: Some("203.0.113.9:4711".parse().expect("addr")),
        });
        metadata.insert(CLIENT_ADDRESS_KEY, "198.51.100.1".parse().expect("ascii"));
        stamp(&mut metadata, &extensions);
        assert_eq!(
            metadata
                .get(CLIENT_ADDRESS_KEY)
                .and_then(|v| v.to_str().ok()),
            Some("203.0.113.9")
        );
    }
}
