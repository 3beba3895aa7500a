//! `mtm.rooms.v1.SettingsService`.

use std::sync::Arc;

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::rooms::v1::settings_service_server::SettingsService;
use mtm_proto::mtm::rooms::v1::*;
use tonic::{Request, Response, Status};

use super::{State, mask_paths};
use crate::audit::Act;
use crate::context::Caller;
use crate::names::parse_singleton;
use crate::store::settings;

/// The settings handlers.
pub struct SettingsApi(pub Arc<State>);

#[tonic::async_trait]
impl SettingsService for SettingsApi {
    async fn get_settings(
        &self,
        request: Request<GetSettingsRequest>,
    ) -> Result<Response<GetSettingsResponse>, Status> {
        let customer = parse_singleton("name", &request.get_ref().name, "settings")?;
        Caller::from_request(&request, &customer)?;
        let store = self.0.store(&customer).await?;
        let model = settings::get(store.db()).await?;
        Ok(Response::new(GetSettingsResponse {
            settings: Some(settings::to_proto(&store, &model)),
        }))
    }

    async fn update_settings(
        &self,
        request: Request<UpdateSettingsRequest>,
    ) -> Result<Response<UpdateSettingsResponse>, Status> {
        let name = request
            .get_ref()
            .settings
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let customer = parse_singleton("settings.name", &name, "settings")?;
        let caller = Caller::from_request(&request, &customer)?;
        let message = request.into_inner();
        let paths = mask_paths(message.update_mask.as_ref());
        let input = message.settings.unwrap_or_default();
        let store = self.0.store(&customer).await?;
        let act = Act::new(&customer, AuditCategory::Setting, "update", name);
        let outcome = settings::update(&store, &caller, &act, &input, &paths).await;
        let updated = act.finish(&store, &caller, outcome).await?;
        Ok(Response::new(UpdateSettingsResponse {
            settings: Some(updated),
        }))
    }
}
