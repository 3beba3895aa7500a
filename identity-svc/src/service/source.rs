//! Where a sign-in comes from, for the per-source guess limit: the client address the
//! gateway forwards in [`CLIENT_ADDRESS_KEY`], believed only on a call from the gateway's
//! identity; otherwise the calling service's identity.

use mtm_plumbing::context::CLIENT_ADDRESS_KEY;
use mtm_plumbing::peer::PeerIdentity;

/// The longest address kept; longer values are cut.
const MAX_LEN: usize = 64;

/// The source of `request`: `client:<address>` (without a port) for a call from the gateway
/// that names the client's address, `peer:<identity>` for any other call from a service, `unknown` when no
/// peer is known (in-process calls).
pub fn of<T>(request: &tonic::Request<T>) -> String {
    let Some(PeerIdentity(peer)) = request.extensions().get::<PeerIdentity>() else {
        return "unknown".to_owned();
    };
    if *peer == mtm_plumbing::devcerts::spiffe_id("gateway")
        && let Some(address) = request
            .metadata()
            .get(CLIENT_ADDRESS_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|a| !a.is_empty())
    {
        // A port changes with every connection: the source is the address alone.
        let address = match address.parse::<std::net::SocketAddr>() {
            Ok(socket) => socket.ip().to_string(),
            Err(_) => address.chars().take(MAX_LEN).collect(),
        };
        return format!("client:{address}");
    }
    format!("peer:{peer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: Option<&str>, address: Option<&str>) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(PeerIdentity(peer.to_owned()));
        }
        if let Some(address) = address {
            request
                .metadata_mut()
                .insert(CLIENT_ADDRESS_KEY, address.parse().expect("ascii"));
        }
        request
    }

    #[test]
    fn only_the_gateway_names_the_client_address() {
        let gateway = mtm_plumbing::devcerts::spiffe_id("gateway");
        let tenancy = mtm_plumbing::devcerts::spiffe_id("tenancy-svc");
        assert_eq!(
            of(&request(Some(&gateway), Some("203.0.113.7:5123"))),
            "client:203.0.113.7"
        );
        assert_eq!(
            of(&request(Some(&gateway), Some("[2001:db8::1]:443"))),
            "client:2001:db8::1"
        );
        assert_eq!(
            of(&request(Some(&gateway), Some("2001:db8::1"))),
            "client:2001:db8::1"
        );
        assert_eq!(
            of(&request(Some(&tenancy), Some("203.0.113.7"))),
            format!("peer:{tenancy}")
        );
        assert_eq!(
            of(&request(Some(&gateway), None)),
            format!("peer:{gateway}")
        );
        assert_eq!(of(&request(None, Some("203.0.113.7"))), "unknown");
        let long = "1".repeat(500);
        assert_eq!(
            of(&request(Some(&gateway), Some(&long))).len(),
            "client:".len() + MAX_LEN
        );
    }
}
