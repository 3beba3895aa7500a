//! The gRPC handlers: thin translations between the API and the catalogue, the index and the
//! store.

pub mod decision;
pub mod internal;
pub mod permission;
pub mod roles;

use mtm_proto::mtm::common::v1::Principal;

use crate::error::Error;
use crate::index::Who;
use crate::names;

/// The principal of a request as the index takes it; INVALID_ARGUMENT when missing or when
/// its home tenant is not a tenant name.
pub fn who<'a>(principal: Option<&'a Principal>, field: &str) -> Result<Who<'a>, Error> {
    let principal = principal.ok_or_else(|| Error::invalid(field, "is required"))?;
    let home_tenant = names::tenant(&principal.home_tenant).ok_or_else(|| {
        Error::invalid(format!("{field}.home_tenant"), "must be tenants/{tenant}")
    })?;
    Ok(Who {
        user: &principal.user,
        home_tenant,
        groups: &principal.groups,
    })
}

/// The customer id of `customers/{customer}`, or INVALID_ARGUMENT naming `field`.
pub fn customer_id<'a>(name: &'a str, field: &str) -> Result<&'a str, Error> {
    names::customer(name).ok_or_else(|| Error::invalid(field, "must be customers/{customer}"))
}
