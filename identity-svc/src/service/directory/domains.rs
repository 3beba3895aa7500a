//! Directory summary and domains: claim, list, verify, delete.

use mtm_plumbing::paging;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::identity::v1::domain::State as DomainState;
use mtm_proto::mtm::identity::v1::{
    CreateDomainRequest, CreateDomainResponse, DeleteDomainRequest, DeleteDomainResponse, Domain,
    GetDirectoryRequest, GetDirectoryResponse, ListDomainsRequest, ListDomainsResponse,
    VerifyDomainRequest, VerifyDomainResponse,
};
use tonic::Request;

use super::guard;
use crate::convert;
use crate::error::{Error, Result};
use crate::names;
use crate::state::State;
use crate::store::entity::domain;
use crate::store::{directories, domains, idempotency, timestamp};

fn message(row: &domain::Model) -> Domain {
    Domain {
        name: format!("tenants/{}/domains/{}", row.tenant_id, row.domain_name),
        domain_name: row.domain_name.clone(),
        state: if row.verified {
            DomainState::Verified as i32
        } else {
            DomainState::PendingVerification as i32
        },
        verification_record: if row.verified {
            String::new()
        } else {
            format!("mtm-verification={}", row.verification_token)
        },
        create_time: Some(timestamp(row.create_time)),
        verify_time: row.verify_time.map(timestamp),
    }
}

/// Splits `tenants/{tenant}/domains/{domain}`.
fn parse_name(name: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["tenants", tenant, "domains", domain] if names::valid_id(tenant) => Ok((
            (*tenant).to_owned(),
            names::normalize_domain(domain, "name")?,
        )),
        _ => Err(Error::invalid(
            "name",
            "must be tenants/{tenant}/domains/{domain}",
        )),
    }
}

/// `GetDirectory`.
pub async fn get_directory(
    state: &State,
    request: Request<GetDirectoryRequest>,
) -> Result<GetDirectoryResponse> {
    let name = &request.get_ref().name;
    let tenant = name
        .strip_suffix("/directory")
        .and_then(|t| names::parse_tenant(t, "name").ok())
        .ok_or_else(|| Error::invalid("name", "must be tenants/{tenant}/directory"))?;
    guard::caller(state, &request, &tenant, name).await?;
    let summary = directories::summary(&state.db, &tenant)
        .await?
        .ok_or_else(|| Error::NotFound(name.clone()))?;
    Ok(GetDirectoryResponse {
        directory: Some(convert::directory(&summary)),
    })
}

/// `CreateDomain`.
pub async fn create(
    state: &State,
    request: Request<CreateDomainRequest>,
) -> Result<CreateDomainResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    let caller = guard::admin(state, &request, &tenant, &body.parent).await?;
    let domain_name = names::normalize_domain(&body.domain_name, "domain_name")?;
    let key = idempotency::Key::of(
        "CreateDomain",
        &body.request_id,
        &CreateDomainRequest {
            request_id: String::new(),
            ..body.clone()
        },
    )?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    if let Some(previous) = idempotency::previous(&txn, key.as_ref()).await? {
        let row = domains::in_tenant(&txn, &tenant, &previous, &previous).await?;
        return Ok(CreateDomainResponse {
            domain: Some(message(&row)),
        });
    }
    let row = domains::create(&txn, &tenant, &domain_name).await?;
    let name = format!("tenants/{tenant}/domains/{}", row.domain_name);
    caller
        .audit(
            &txn,
            AuditCategory::Tenant,
            "create_domain",
            &name,
            &row.domain_name,
        )
        .await?;
    idempotency::remember(&txn, key, &row.domain_name).await?;
    txn.commit().await?;
    Ok(CreateDomainResponse {
        domain: Some(message(&row)),
    })
}

/// `ListDomains`.
pub async fn list(
    state: &State,
    request: Request<ListDomainsRequest>,
) -> Result<ListDomainsResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    guard::caller(state, &request, &tenant, &body.parent).await?;
    let terms =
        mtm_plumbing::filter::parse(&body.filter, &[("state", false)]).map_err(Error::Invalid)?;
    let wanted = match mtm_plumbing::filter::equal(&terms, "state") {
        None => None,
        Some("VERIFIED") => Some(true),
        Some("PENDING_VERIFICATION") => Some(false),
        Some(_) => {
            return Err(Error::invalid(
                "filter",
                "state is VERIFIED or PENDING_VERIFICATION",
            ));
        }
    };
    let rows: Vec<_> = domains::list(&state.db, &tenant)
        .await?
        .into_iter()
        .filter(|d| wanted.is_none_or(|v| d.verified == v))
        .collect();
    let page = paging::page(
        rows,
        body.page_size,
        &body.page_token,
        &[&body.parent, &body.filter],
    )?;
    Ok(ListDomainsResponse {
        domains: page.items.iter().map(message).collect(),
        next_page_token: page.next_page_token,
        total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
    })
}

/// `VerifyDomain`: at once when identity-svc trusts domain claims; DNS lookups are not
/// available here, so otherwise the record counts as missing.
pub async fn verify(
    state: &State,
    request: Request<VerifyDomainRequest>,
) -> Result<VerifyDomainResponse> {
    let name = request.get_ref().name.clone();
    let (tenant, domain_name) = parse_name(&name)?;
    let caller = guard::admin(state, &request, &tenant, &name).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let row = domains::in_tenant(&txn, &tenant, &domain_name, &name).await?;
    if !row.verified && !state.trust_domain_claims {
        return Err(Error::FailedPrecondition(format!(
            "the TXT record mtm-verification={} was not found for {domain_name}",
            row.verification_token
        )));
    }
    let row = domains::mark_verified(&txn, row).await?;
    caller
        .audit(
            &txn,
            AuditCategory::Tenant,
            "verify_domain",
            &name,
            &domain_name,
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(VerifyDomainResponse {
        domain: Some(message(&row)),
    })
}

/// `DeleteDomain`.
pub async fn delete(
    state: &State,
    request: Request<DeleteDomainRequest>,
) -> Result<DeleteDomainResponse> {
    let name = request.get_ref().name.clone();
    let (tenant, domain_name) = parse_name(&name)?;
    let caller = guard::admin(state, &request, &tenant, &name).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let row = domains::in_tenant(&txn, &tenant, &domain_name, &name).await?;
    domains::delete(&txn, &row).await?;
    caller
        .audit(
            &txn,
            AuditCategory::Tenant,
            "delete_domain",
            &name,
            &domain_name,
        )
        .await?;
    txn.commit().await?;
    state.cache.invalidate();
    Ok(DeleteDomainResponse {})
}
