//! The gateway's lazily connected mTLS channels to the four backends.

use mtm_plumbing::client::{ChannelError, ServiceChannel, connect_lazy};
use mtm_plumbing::tls::TlsMaterial;

use crate::Config;

/// One channel per backend.
#[derive(Clone)]
pub struct Backends {
    /// identity-svc.
    pub identity: ServiceChannel,
    /// tenancy-svc.
    pub tenancy: ServiceChannel,
    /// rbac-svc.
    pub rbac: ServiceChannel,
    /// rooms-svc.
    pub rooms: ServiceChannel,
}

impl Backends {
    /// Sets up (without connecting yet) a channel to every backend in `config`.
    pub fn connect(config: &Config, tls: &TlsMaterial) -> Result<Self, ChannelError> {
        let timeout = config.server.request_timeout();
        Ok(Self {
            identity: connect_lazy(&config.identity_url, tls, timeout)?,
            tenancy: connect_lazy(&config.tenancy_url, tls, timeout)?,
            rbac: connect_lazy(&config.rbac_url, tls, timeout)?,
            rooms: connect_lazy(&config.rooms_url, tls, timeout)?,
        })
    }

    /// Every backend with the name it goes by, in a fixed order.
    pub fn named(&self) -> [(&'static str, ServiceChannel); 4] {
        [
            ("identity-svc", self.identity.clone()),
            ("tenancy-svc", self.tenancy.clone()),
            ("rbac-svc", self.rbac.clone()),
            ("rooms-svc", self.rooms.clone()),
        ]
    }
}
