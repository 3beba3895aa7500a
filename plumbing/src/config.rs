//! Command-line settings every MTM server shares, each with an `MTM_*` environment fallback.
//! Services embed [`ServerArgs`] with `#[command(flatten)]` and add their own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mtm_callgraph::Service;

use crate::telemetry::LogFormat;
use crate::tls::{TlsError, TlsMaterial};

/// Settings shared by every server.
#[derive(Clone, Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on (defaults to the service's well-known port on 127.0.0.1).
    #[arg(long, env = "MTM_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Optional plaintext address serving only `grpc.health.v1`, for Kubernetes probes, which
    /// cannot present a client certificate.
    #[arg(long, env = "MTM_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,

    /// PEM certificate of this service (also its client certificate towards other services).
    #[arg(long, env = "MTM_TLS_CERT")]
    pub tls_cert: PathBuf,

    /// PEM private key of this service.
    #[arg(long, env = "MTM_TLS_KEY")]
    pub tls_key: PathBuf,

    /// PEM CA certificate that peers' certificates must chain to.
    #[arg(long, env = "MTM_TLS_CA")]
    pub tls_ca: PathBuf,

    /// Largest gRPC message accepted or sent, in bytes.
    #[arg(long, env = "MTM_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Deadline for a request that does not carry a shorter one, in seconds.
    #[arg(long, env = "MTM_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// How long in-flight requests may take to finish after SIGTERM, in seconds.
    #[arg(long, env = "MTM_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// Log line format on standard error.
    #[arg(long, env = "MTM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Write the bound address here once listening (for supervisors that start the service on
    /// port 0).
    #[arg(long, env = "MTM_BOUND_ADDR_FILE")]
    pub bound_addr_file: Option<PathBuf>,

    /// Write the health/admin listener's bound address here once listening.
    #[arg(long, env = "MTM_HEALTH_BOUND_ADDR_FILE")]
    pub health_bound_addr_file: Option<PathBuf>,

    /// File holding the secret (at least 32 bytes) that signs this service's page tokens; every
    /// replica of a service needs the same one. Without it each process signs with a random key
    /// of its own, and a page token is valid only on the replica that issued it, until it
    /// restarts.
    #[arg(long, env = "MTM_PAGE_TOKEN_KEY_FILE")]
    pub page_token_key_file: Option<PathBuf>,
}

impl ServerArgs {
    /// Settings for a test server with the given TLS files, listening on `127.0.0.1:0`.
    pub fn for_test(tls_cert: PathBuf, tls_key: PathBuf, tls_ca: PathBuf) -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            health_listen: None,
            tls_cert,
            tls_key,
            tls_ca,
            max_message_bytes: 4 * 1024 * 1024,
            // Generous: a loaded CI machine can take long over DROP DATABASE and the like.
            request_timeout_secs: 120,
            shutdown_grace_secs: 5,
            log_format: LogFormat::Text,
            bound_addr_file: None,
            health_bound_addr_file: None,
            page_token_key_file: None,
        }
    }

    /// The listen address, or `127.0.0.1:<default_port>`.
    pub fn listen_or(&self, default_port: u16) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)))
    }

    /// Reads the TLS files named by the settings.
    pub fn tls(&self) -> Result<TlsMaterial, TlsError> {
        TlsMaterial::load(&self.tls_cert, &self.tls_key, &self.tls_ca)
    }

    /// The per-request deadline.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The drain period after a shutdown signal.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// Settings of a backend: the shared ones plus who may call it.
#[derive(Clone, Debug, clap::Args)]
pub struct BackendArgs {
    /// Settings shared by every server.
    #[command(flatten)]
    pub server: ServerArgs,

    /// Identities allowed to call this service, comma-separated: a SPIFFE identity whose last
    /// path segment names the service it speaks as (`spiffe://mtm/gateway`), or
    /// `SERVICE=SPIFFE-ID` to map another identity (`gateway=spiffe://cluster.local/ns/mtm/sa/gw`).
    /// Which methods each service may call, with which call context, comes from the call graph
    /// (mtm-callgraph). Default: the service's callers in the call graph, as `spiffe://mtm/<name>`.
    #[arg(long, env = "MTM_ALLOWED_PEERS", value_delimiter = ',', value_parser = parse_allowed_peer)]
    pub allowed_peers: Vec<AllowedPeer>,
}

/// One identity admitted to a backend and the service of the suite it speaks as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedPeer {
    /// The SPIFFE identity in the client certificate.
    pub identity: String,
    /// The service whose rights in the call graph it has.
    pub service: Service,
}

impl AllowedPeer {
    /// The development identity of `service`, `spiffe://mtm/<name>`.
    pub fn of(service: Service) -> Self {
        Self {
            identity: crate::devcerts::spiffe_id(service.name()),
            service,
        }
    }
}

impl BackendArgs {
    /// The configured allow-list, or the callers the call graph names for `backend`.
    pub fn allowed_peers_for(&self, backend: Service) -> Vec<AllowedPeer> {
        if self.allowed_peers.is_empty() {
            mtm_callgraph::callers(backend)
                .into_iter()
                .map(AllowedPeer::of)
                .collect()
        } else {
            self.allowed_peers.clone()
        }
    }
}

/// Checks that a value is a `spiffe://` identity.
pub fn parse_spiffe_id(value: &str) -> Result<String, String> {
    match value.strip_prefix("spiffe://") {
        Some(rest) if rest.contains('/') && !rest.starts_with('/') && !rest.ends_with('/') => {
            Ok(value.to_owned())
        }
        _ => Err(format!(
            "`{value}` is not a spiffe identity such as spiffe://mtm/gateway"
        )),
    }
}

/// Parses `SPIFFE-ID` (the service is its last path segment) or `SERVICE=SPIFFE-ID`.
pub fn parse_allowed_peer(value: &str) -> Result<AllowedPeer, String> {
    let (service, identity) = match value.split_once('=') {
        Some((service, identity)) => (service, parse_spiffe_id(identity)?),
        None => {
            let identity = parse_spiffe_id(value)?;
            let last = identity.rsplit('/').next().unwrap_or_default().to_owned();
            return match Service::from_name(&last) {
                Some(service) => Ok(AllowedPeer { identity, service }),
                None => Err(format!(
                    "`{value}` does not end in a service name ({}); write SERVICE={value}",
                    service_names()
                )),
            };
        }
    };
    match Service::from_name(service) {
        Some(service) => Ok(AllowedPeer { identity, service }),
        None => Err(format!(
            "`{service}` in `{value}` is not a service ({})",
            service_names()
        )),
    }
}

fn service_names() -> String {
    Service::ALL.map(Service::name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiffe_ids_are_checked() {
        assert!(parse_spiffe_id("spiffe://mtm/gateway").is_ok());
        assert!(parse_spiffe_id("gateway").is_err());
        assert!(parse_spiffe_id("spiffe://mtm").is_err());
        assert!(parse_spiffe_id("spiffe://mtm/").is_err());
    }

    #[test]
    fn allowed_peers_name_the_service_they_speak_as() {
        assert_eq!(
            parse_allowed_peer("spiffe://mtm/gateway"),
            Ok(AllowedPeer::of(Service::Gateway))
        );
        assert_eq!(
            parse_allowed_peer("tenancy-svc=spiffe://cluster.local/ns/mtm/sa/tenancy"),
            Ok(AllowedPeer {
                identity: "spiffe://cluster.local/ns/mtm/sa/tenancy".into(),
                service: Service::Tenancy,
            })
        );
        assert!(parse_allowed_peer("spiffe://mtm/intruder").is_err());
        assert!(parse_allowed_peer("intruder=spiffe://mtm/gateway").is_err());
        assert!(parse_allowed_peer("gateway=gateway").is_err());
    }

    #[test]
    fn default_allowed_peers_are_the_call_graph_callers() {
        let args = BackendArgs {
            server: ServerArgs::for_test("c".into(), "k".into(), "a".into()),
            allowed_peers: Vec::new(),
        };
        assert_eq!(
            args.allowed_peers_for(Service::Rooms),
            [
                AllowedPeer::of(Service::Gateway),
                AllowedPeer::of(Service::Tenancy)
            ]
        );
    }
}
