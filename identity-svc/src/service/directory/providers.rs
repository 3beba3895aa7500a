//! Trusted external identity providers (R2: sign-in with one's own domain credentials).

use mtm_plumbing::paging;
use mtm_plumbing::status::Violations;
use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::identity::v1::{
    CreateIdentityProviderRequest, CreateIdentityProviderResponse, DeleteIdentityProviderRequest,
    DeleteIdentityProviderResponse, GetIdentityProviderRequest, GetIdentityProviderResponse,
    IdentityProvider, ListIdentityProvidersRequest, ListIdentityProvidersResponse,
    UpdateIdentityProviderRequest, UpdateIdentityProviderResponse,
};
use tonic::Request;

use super::guard;
use crate::error::{Error, Result};
use crate::issuer;
use crate::names;
use crate::state::State;
use crate::store::entity::identity_provider::Model;
use crate::store::{idempotency, providers, timestamp};
use mtm_token::{Algorithm, KeySet};

/// The key types an external issuer may use.
pub const ACCEPTED: &[Algorithm] = &[Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

fn message(row: &Model) -> IdentityProvider {
    IdentityProvider {
        name: row.name.clone(),
        display_name: row.display_name.clone(),
        issuer: row.issuer.clone(),
        audience: row.audience.clone(),
        jwks_json: row.jwks_json.clone(),
        upn_claim: row.upn_claim.clone(),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: row.version.to_string(),
    }
}

fn check_jwks(violations: &mut Violations, jwks_json: &str) {
    match KeySet::from_json(jwks_json, ACCEPTED) {
        Ok(_) => {}
        Err(error) => {
            violations.add(
                "identity_provider.jwks_json",
                format!("must be a JWKS of EdDSA, ES256 or RS256 keys with kids: {error}"),
            );
        }
    }
}

/// `CreateIdentityProvider`.
pub async fn create(
    state: &State,
    request: Request<CreateIdentityProviderRequest>,
) -> Result<CreateIdentityProviderResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    let caller = guard::admin(state, &request, &tenant, &body.parent).await?;
    let given = body.identity_provider.clone().unwrap_or_default();
    let mut violations = Violations::new();
    let issuer = issuer::normalize(&given.issuer);
    if let Err(error) = &issuer {
        violations.add("identity_provider.issuer", error.to_string());
    }
    violations.check(
        given.audience.trim().is_empty(),
        "identity_provider.audience",
        "is required",
    );
    check_jwks(&mut violations, &given.jwks_json);
    violations.check(
        !body.identity_provider_id.is_empty() && !names::valid_id(&body.identity_provider_id),
        "identity_provider_id",
        "must match [a-z0-9][a-z0-9-]{0,62}",
    );
    violations.into_result().map_err(Error::Invalid)?;
    let issuer = issuer.map_err(|e| Error::invalid("identity_provider.issuer", e.to_string()))?;
    let key = idempotency::Key::of(
        "CreateIdentityProvider",
        &body.request_id,
        &CreateIdentityProviderRequest {
            request_id: String::new(),
            ..body.clone()
        },
    )?;
    let id = names::chosen_or_new_id(&body.identity_provider_id, "identity_provider_id")?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    if let Some(previous) = idempotency::previous(&txn, key.as_ref()).await? {
        let row = providers::in_tenant(&txn, &tenant, &previous).await?;
        return Ok(CreateIdentityProviderResponse {
            identity_provider: Some(message(&row)),
        });
    }
    let display_name = if given.display_name.trim().is_empty() {
        issuer.clone()
    } else {
        given.display_name.trim().to_owned()
    };
    let row = providers::insert(
        &txn,
        Model {
            name: names::child_name(&tenant, "identityProviders", &id),
            tenant_id: tenant,
            display_name,
            issuer,
            audience: given.audience.trim().to_owned(),
            jwks_json: given.jwks_json,
            upn_claim: given.upn_claim.trim().to_owned(),
            create_time: 0,
            update_time: 0,
            version: 0,
        },
    )
    .await?;
    caller
        .audit(
            &txn,
            AuditCategory::IdentityProvider,
            "create",
            &row.name,
            &row.issuer,
        )
        .await?;
    idempotency::remember(&txn, key, &row.name).await?;
    txn.commit().await?;
    Ok(CreateIdentityProviderResponse {
        identity_provider: Some(message(&row)),
    })
}

/// `GetIdentityProvider`.
pub async fn get(
    state: &State,
    request: Request<GetIdentityProviderRequest>,
) -> Result<GetIdentityProviderResponse> {
    let name = request.get_ref().name.clone();
    let (tenant, _) = names::parse_child(&name, "identityProviders", "name")?;
    guard::caller(state, &request, &tenant, &name).await?;
    let row = providers::in_tenant(&state.db, &tenant, &name).await?;
    Ok(GetIdentityProviderResponse {
        identity_provider: Some(message(&row)),
    })
}

/// `ListIdentityProviders`.
pub async fn list(
    state: &State,
    request: Request<ListIdentityProvidersRequest>,
) -> Result<ListIdentityProvidersResponse> {
    let body = request.get_ref();
    let tenant = names::parse_tenant(&body.parent, "parent")?;
    guard::caller(state, &request, &tenant, &body.parent).await?;
    let rows = providers::list(&state.db, &tenant).await?;
    let page = paging::page(rows, body.page_size, &body.page_token, &[&body.parent])?;
    Ok(ListIdentityProvidersResponse {
        identity_providers: page.items.iter().map(message).collect(),
        next_page_token: page.next_page_token,
    })
}

/// `UpdateIdentityProvider`; the issuer never changes.
pub async fn update(
    state: &State,
    request: Request<UpdateIdentityProviderRequest>,
) -> Result<UpdateIdentityProviderResponse> {
    let body = request.get_ref();
    let given = body.identity_provider.clone().unwrap_or_default();
    let (tenant, _) =
        names::parse_child(&given.name, "identityProviders", "identity_provider.name")?;
    let caller = guard::admin(state, &request, &tenant, &given.name).await?;
    let paths = guard::mask_paths(
        body.update_mask.as_ref(),
        &["display_name", "audience", "jwks_json", "upn_claim"],
    )?;
    let mut violations = Violations::new();
    for path in &paths {
        match path.as_str() {
            "audience" => {
                violations.check(
                    given.audience.trim().is_empty(),
                    "identity_provider.audience",
                    "is required",
                );
            }
            "jwks_json" => check_jwks(&mut violations, &given.jwks_json),
            _ => {}
        }
    }
    violations.into_result().map_err(Error::Invalid)?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let mut row = providers::in_tenant(&txn, &tenant, &given.name).await?;
    guard::check_etag(&given.etag, row.version)?;
    for path in &paths {
        match path.as_str() {
            "display_name" => row.display_name = given.display_name.trim().to_owned(),
            "audience" => row.audience = given.audience.trim().to_owned(),
            "jwks_json" => row.jwks_json.clone_from(&given.jwks_json),
            _ => row.upn_claim = given.upn_claim.trim().to_owned(),
        }
    }
    let row = providers::save(&txn, row).await?;
    caller
        .audit(
            &txn,
            AuditCategory::IdentityProvider,
            "update",
            &row.name,
            &row.issuer,
        )
        .await?;
    txn.commit().await?;
    Ok(UpdateIdentityProviderResponse {
        identity_provider: Some(message(&row)),
    })
}

/// `DeleteIdentityProvider`: its tokens are refused from then on.
pub async fn delete(
    state: &State,
    request: Request<DeleteIdentityProviderRequest>,
) -> Result<DeleteIdentityProviderResponse> {
    let body = request.get_ref();
    let (tenant, _) = names::parse_child(&body.name, "identityProviders", "name")?;
    let caller = guard::admin(state, &request, &tenant, &body.name).await?;
    let txn = mtm_plumbing::store::begin_write(&state.db).await?;
    let row = providers::in_tenant(&txn, &tenant, &body.name).await?;
    guard::check_etag(&body.etag, row.version)?;
    providers::delete(&txn, &row.name).await?;
    caller
        .audit(
            &txn,
            AuditCategory::IdentityProvider,
            "delete",
            &row.name,
            &row.issuer,
        )
        .await?;
    txn.commit().await?;
    Ok(DeleteIdentityProviderResponse {})
}
