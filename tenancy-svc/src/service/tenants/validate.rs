//! Checking a `CreateTenantRequest`: kind, id, domains, first admin and password.

use mtm_proto::mtm::common::v1::TenantKind;
use mtm_proto::mtm::tenancy::v1::CreateTenantRequest;

use crate::error::{Error, Result};
use crate::names;
use crate::rules;
use crate::store::{self, entity::tenant};

/// Checks a `CreateTenantRequest` and builds the PROVISIONING row.
pub(super) fn validate_create(request: &CreateTenantRequest) -> Result<tenant::Model> {
    let mut bad: Vec<rules::Violation> = Vec::new();
    let mut add = |f: &str, d: &str| bad.push((f.to_owned(), d.to_owned()));
    let spec = request.tenant.clone().unwrap_or_default();
    if spec.display_name.trim().is_empty() {
        add("tenant.display_name", "required");
    }
    let kind = match TenantKind::try_from(spec.kind) {
        Ok(TenantKind::Partner) => "PARTNER",
        Ok(TenantKind::Customer) => "CUSTOMER",
        _ => {
            add("tenant.kind", "must be PARTNER or CUSTOMER");
            ""
        }
    };
    let id = if request.tenant_id.is_empty() {
        uuid::Uuid::now_v7().to_string()
    } else {
        if !names::valid_tenant_id(&request.tenant_id) {
            add("tenant_id", "must match [a-z][a-z0-9-]{2,62}");
        }
        request.tenant_id.clone()
    };
    let domains: Vec<String> = request
        .domains
        .iter()
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if domains.is_empty() {
        add("domains", "at least one domain is required");
    }
    for (i, d) in domains.iter().enumerate() {
        if let Some(problem) = rules::domain_problem(d) {
            add(&format!("domains[{i}]"), problem);
        }
    }
    let upn = request.first_admin_upn.trim().to_ascii_lowercase();
    if !rules::valid_upn(&upn) || !domains.iter().any(|d| d == rules::upn_domain(&upn)) {
        add(
            "first_admin_upn",
            "must be a UPN in one of the tenant's domains",
        );
    }
    if request.first_admin_password.chars().count() < 12 {
        add("first_admin_password", "must be at least 12 characters");
    }
    if !request.request_id.is_empty() && uuid::Uuid::parse_str(&request.request_id).is_err() {
        add("request_id", "must be a UUID");
    }
    if !bad.is_empty() {
        return Err(Error::Invalid(bad));
    }
    let now = store::now_us();
    Ok(tenant::Model {
        id,
        kind: kind.to_owned(),
        display_name: spec.display_name.trim().to_owned(),
        primary_domain: domains[0].clone(),
        domains: domains.join("\n"),
        state: "PROVISIONING".into(),
        elite_partner: false,
        enroll_time: None,
        unenroll_time: None,
        first_admin_user: String::new(),
        first_admin_upn: upn,
        first_admin_display_name: request.first_admin_display_name.clone(),
        first_admin_password: Some(request.first_admin_password.clone()),
        request_id: (!request.request_id.is_empty()).then(|| request.request_id.clone()),
        create_time: now,
        update_time: now,
        version: 1,
        guard: 0,
    })
}
