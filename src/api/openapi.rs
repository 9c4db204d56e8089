//! `GET /openapi.json`: OpenAPI 3 of both dialects, generated from the handlers' annotations.

use crate::api::{filerobot, nomad};
use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Sharebox", description = "Filerobot (/{token}/v4, /{token}/v5) and Nomad (/api) dialects over one asset library and share service."),
    paths(
        crate::health,
        openapi_json,
        filerobot::meta_model_fields,
        filerobot::key_info,
        filerobot::assets::create_folder,
        filerobot::assets::list_folders,
        filerobot::assets::get_folder,
        filerobot::assets::rename_folder,
        filerobot::assets::move_folder,
        filerobot::assets::delete_folder,
        filerobot::upload::upload,
        filerobot::upload::upload_files,
        filerobot::assets::list_files,
        filerobot::assets::get_file,
        filerobot::assets::update_file,
        filerobot::assets::move_file,
        filerobot::assets::delete_file,
        filerobot::assets::download,
        filerobot::reader::read,
        filerobot::reader::share_link,
        filerobot::shares::create,
        filerobot::shares::list,
        filerobot::shares::get,
        filerobot::shares::update,
        filerobot::shares::delete,
        filerobot::shares::activity,
        filerobot::requests::create,
        filerobot::requests::list,
        filerobot::requests::get,
        filerobot::requests::update,
        filerobot::requests::revoke,
        filerobot::requests::restore,
        filerobot::requests::delete,
        nomad::account::login,
        nomad::account::refresh_token,
        nomad::account::logout,
        nomad::upload::start,
        nomad::upload::put_part,
        nomad::upload::complete_part,
        nomad::upload::complete,
        nomad::upload::cancel,
        nomad::assets::get_asset,
        nomad::assets::delete_asset,
        nomad::assets::detail,
        nomad::assets::portal_detail,
        nomad::assets::create_folder,
        nomad::assets::child_nodes,
        nomad::assets::admin_search,
        nomad::assets::portal_search,
        nomad::shares::share_asset,
        nomad::shares::share,
        nomad::shares::expire,
        nomad::shares::get,
        nomad::shares::put,
        nomad::shares::delete,
        nomad::shares::notify,
        crate::api::tus::create,
        crate::api::tus::create_bare,
        crate::api::tus::head,
        crate::api::tus::patch,
        crate::api::tus::terminate,
        crate::web::requests::tus::tus_create,
        crate::web::requests::tus::tus_head,
        crate::web::requests::tus::tus_patch,
        crate::web::requests::tus::tus_terminate,
    ),
    modifiers(&Security, &Aliases)
)]
pub struct ApiDoc;

struct Security;

/// `share/` works wherever `shares/` does: the document lists both spellings, each alias
/// operation with an id of its own (`<id>ViaShare`).
struct Aliases;

impl Modify for Aliases {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let aliases: Vec<(String, utoipa::openapi::PathItem)> = openapi
            .paths
            .paths
            .iter()
            .filter(|(p, _)| p.contains("/v5/shares"))
            .map(|(p, item)| {
                let mut item = item.clone();
                for op in [
                    &mut item.get,
                    &mut item.put,
                    &mut item.post,
                    &mut item.delete,
                    &mut item.patch,
                ]
                .into_iter()
                .flatten()
                {
                    op.operation_id = op.operation_id.take().map(|id| format!("{id}ViaShare"));
                    op.summary = op
                        .summary
                        .take()
                        .map(|s| format!("{s} (the `/v5/share` spelling)"));
                }
                (p.replace("/v5/shares", "/v5/share"), item)
            })
            .collect();
        openapi.paths.paths.extend(aliases);
    }
}

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "filerobot_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Filerobot-Key"))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`ApiKey <key>`",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Get this OpenAPI document
#[utoipa::path(get, operation_id = "getOpenApi", path = "/openapi.json", tag = "Server",
    responses((status = 200, description = "this document")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
