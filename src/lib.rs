//! Sharebox: an asset library with secure share links, speaking Filerobot's and Nomad's APIs.
//! `app()` builds the one application that `main` serves and the tests drive.
//!
//! Three rings, calls going one way: adapters turn HTTP or argv into calls on the services;
//! the domain decides; storage does I/O.
//!
//! ```text
//! main.rs              parse the CLI, start tracing, call cli.rs; nothing else
//! lib.rs               app() and the one route table, for main and the tests
//! state.rs             AppState, built once: config, clock, one service per area
//! cli.rs               clap (each flag with its env var), `serve`, the admin subcommands
//! config.rs, clock.rs  settings built once; the one source of "now"
//! net.rs               IPs and CIDRs: the --trusted-proxies setting
//! error.rs             AppError and its status/code table; Field, the fields a 400 names
//!
//! api/                 adapters for the JSON dialects: DTO <-> domain only
//!   mod.rs             credential extractor, JSON body extractors, query params, CORS
//!   client.rs          the client address and https behind --trusted-proxies (the one reader
//!                      of Forwarded / X-Forwarded-*): throttles, activity, the request log
//!   wire.rs            DTO building blocks: Patch<T>, Object<T>, wrong-kind messages
//!   openapi.rs         /openapi.json
//!   tus.rs             /tus/: the tus 1.0.0 protocol over TusService (headers, auth, CORS)
//!   filerobot/         v4 assets (assets.rs) and uploads (upload.rs); v5 shares: handlers
//!                      (shares.rs), the body DTO (share_body.rs) and its readers (kinds.rs);
//!                      the sharebox reader and share link (reader.rs)
//!   nomad/             account, assets, chunked upload; shares: handlers (shares.rs), the
//!                      ShareModel (share_model.rs), the body DTO (share_body.rs) and its diff
//!                      against what GET answers (share_diff.rs)
//! web/                 HTML adapters (askama)
//!   public.rs          /s/...: the share page, unlock, previews, Range downloads, the zip
//!   owner/             /login, /app/...: session, library, files, share form, shares,
//!                      file requests (list, form, detail)
//!   guard.rs           security headers; CsrfForm and CsrfHeader, the owner writes' extractors
//!   head.rs            HEAD: GET's answer with its body dropped unsent
//!
//! domain/              decisions; no actix, no adapter, no AppState
//!   shares/            ShareService: model, patch, service, open (the one gate); what an open
//!                      share holds, a page or a file at a time (tree, browse), the whole of it
//!                      a batch at a time (walk), the zip's plan and bytes (zipplan); cache
//!   assets/            AssetService: folders and files, Nomad's asset view, uploads
//!   uploads.rs         UploadService: Nomad's chunked uploads
//!   tus.rs             TusService: tus uploads (create, offset, PATCH, terminate, expire)
//!   auth.rs            AuthService: keys, API and web sessions; orgs, users, keys (CLI)
//!   accounts.rs        AccountService: your account (+ admin.rs: the org's users and keys;
//!                      links.rs: set-password links); the CLI's account commands
//!   library.rs         File, Folder, Page, Order: the library as adapters read it
//!   paging.rs          keyset pages of a folder listing (folders, then files) and their pager
//!   types.rs           newtypes and enums: Email, Name, FolderPath, FolderVisibility...
//!   window.rs          dates in IANA zones and a share's state at an instant (pure)
//!   counters.rs, throttle.rs, unlock.rs
//!
//! db/                  SQLite: the read pool, the one writer thread, every query; rows
//!                      (shared.rs: a share's contents, each query an indexed read)
//! blob.rs              file contents on disk: stream in with SHA-256 and CRC-32, serve Range
//! partial.rs           tus uploads in progress under uploads/: written at the offset, hashed
//! backup.rs            `sharebox backup` (consistent beside a running server) and `verify`
//! thumbs.rs            image thumbnails: made on demand, bounded, kept on disk by blob
//! zip.rs               the STORED zip's records, each made on its own (any offset can start)
//! mail/                compose (askama) and the outbox worker (SMTP or .eml files)
//! malloc.rs            glibc malloc settings
//! ```

pub mod api;
pub mod backup;
pub mod blob;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod malloc;
pub mod net;
pub mod partial;
pub mod state;
pub mod thumbs;
pub mod web;
pub mod zip;

use crate::api::filerobot::assets as fr_assets;
use crate::api::filerobot::requests as fr_requests;
use crate::api::filerobot::shares as fr_shares;
use crate::api::{filerobot, nomad};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Logger};
use actix_web::{web as aw, App, HttpResponse};
use error::AppError;
use serde::Serialize;

pub use state::AppState;

/// Registers resources, one per path with all its methods (so a wrong method is a 405), and
/// returns `(method, path)` for each route: the list the OpenAPI test checks. Every `get` answers
/// HEAD too, through the same handler (same checks, status and headers); `web::head` drops the
/// body unsent. HEAD is not listed: it is GET without a body.
macro_rules! routes {
    ($cfg:expr; $( $path:literal => { $( $method:ident : $handler:expr ),+ $(,)? } )* ) => {{
        let mut seen: Vec<(&'static str, &'static str)> = Vec::new();
        $(
            $cfg.service(aw::resource($path) $( .route(method_route!($method).to($handler)) )+ );
            $( seen.push((stringify!($method), $path)); )+
        )*
        seen
    }};
}

/// The route of one method; GET's takes HEAD too.
macro_rules! method_route {
    (get) => {
        aw::route()
            .guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
    };
    ($method:ident) => {
        aw::$method()
    };
}

fn register(cfg: &mut aw::ServiceConfig) -> Vec<(&'static str, &'static str)> {
    routes! { cfg;
        "/healthz" => { get: health }
        "/openapi.json" => { get: api::openapi::openapi_json }
        "/" => { get: web::index }
        "/static/{name}" => { get: web::static_file }
        "/login" => { get: web::owner::session::login_form, post: web::owner::session::login }
        "/logout" => { post: web::owner::session::logout }
        "/app" => { get: web::owner::library::library }
        "/app/upload" => { post: web::owner::library::upload }
        "/app/folders" => { post: web::owner::library::create_folder }
        "/app/shares" => { get: web::owner::shares::list_shares, post: web::owner::share_form::create_share }
        "/app/shares/new" => { get: web::owner::share_form::new_share }
        "/app/shares/{uuid}" => { get: web::owner::detail::share_detail, post: web::owner::share_form::update_share }
        "/app/shares/{uuid}/edit" => { get: web::owner::share_form::edit_share }
        "/app/shares/{uuid}/activity" => { get: web::owner::activity::share_activity }
        "/app/requests" => { get: web::owner::requests::list_requests, post: web::owner::request_form::create_request }
        "/app/requests/new" => { get: web::owner::request_form::new_request }
        "/app/requests/{uuid}" => {
            get: web::owner::requests::request_detail, post: web::owner::request_form::update_request
        }
        "/app/requests/{uuid}/edit" => { get: web::owner::request_form::edit_request }
        // Before `/app/{kind}/{uuid}/delete`, the library's.
        "/app/requests/{uuid}/delete" => {
            get: web::owner::requests::confirm_delete, post: web::owner::requests::delete
        }
        "/app/requests/{uuid}/{action}" => { post: web::owner::requests::request_action }
        "/app/account" => { get: web::owner::account::account }
        "/app/account/password" => { post: web::owner::account::change_password }
        "/app/account/keys" => { post: web::owner::account::create_key }
        "/app/account/keys/{id}/revoke" => { post: web::owner::account::revoke_key }
        "/app/admin/users" => { get: web::owner::admin::users, post: web::owner::admin::add_user }
        "/password" => { get: web::owner::password_link::form, post: web::owner::password_link::set }
        "/app/admin/users/{uuid}/{action}" => { post: web::owner::admin::user_action }
        "/app/admin/keys/{id}/revoke" => { post: web::owner::admin::revoke_key }
        "/app/files/{uuid}" => { get: web::owner::files::download }
        "/app/files/{uuid}/preview" => { get: web::owner::files::preview }
        "/app/files/{uuid}/thumb" => { get: web::owner::files::thumb }
        "/app/{kind}/{uuid}/rename" => { post: web::owner::library::rename }
        "/app/{kind}/{uuid}/delete" => { get: web::owner::library::confirm_delete, post: web::owner::library::delete }
        "/app/shares/{uuid}/{action}" => { post: web::owner::shares::share_action }
        "/s/{puid}" => { get: web::public::share_bare }
        "/s/{puid}/unlock" => { post: web::public::unlock }
        "/s/{puid}/{slug}" => { get: web::public::share_page }
        "/s/{puid}/{slug}/zip" => { get: web::public::zip_all }
        "/s/{puid}/{slug}/files/{file}" => { get: web::public::download }
        "/s/{puid}/{slug}/files/{file}/preview" => { get: web::public::preview }
        "/s/{puid}/{slug}/files/{file}/thumb" => { get: web::public::thumb }
        "/r/{puid}" => { get: web::requests::request_bare }
        "/r/{puid}/unlock" => { post: web::requests::unlock }
        "/r/{puid}/upload" => { post: web::requests::upload_form }
        "/r/{puid}/tus/" => { post: web::requests::tus_create }
        "/r/{puid}/tus/{id}" => {
            head: web::requests::tus_head, patch: web::requests::tus_patch, delete: web::requests::tus_terminate
        }
        "/r/{puid}/uploads/{file}/delete" => { post: web::requests::remove }
        "/r/{puid}/{slug}" => { get: web::requests::request_page }

        "/api/account/login" => { post: nomad::account::login }
        "/api/account/refresh-token" => { post: nomad::account::refresh_token }
        "/api/account/logout" => { post: nomad::account::logout }
        "/api/asset/upload/start" => { post: nomad::upload::start }
        "/api/asset/upload/part/{partId}" => { put: nomad::upload::put_part }
        "/api/asset/upload/part/{partId}/complete" => { post: nomad::upload::complete_part }
        "/api/asset/upload/{id}/complete" => { post: nomad::upload::complete }
        "/api/asset/upload/{id}/cancel" => { post: nomad::upload::cancel }
        "/api/admin/asset/{id}" => { get: nomad::assets::get_asset, delete: nomad::assets::delete_asset }
        "/api/admin/asset/{id}/detail" => { get: nomad::assets::detail }
        "/api/admin/asset/{id}/create-folder" => { post: nomad::assets::create_folder }
        "/api/admin/asset/{id}/getAssetChildNodes" => { get: nomad::assets::child_nodes }
        "/api/asset/{id}/detail" => { get: nomad::assets::portal_detail }
        "/api/admin/search" => { post: nomad::assets::admin_search }
        "/api/portal/search" => { post: nomad::assets::portal_search }
        "/api/asset/{assetId}/share" => { post: nomad::shares::share_asset }
        "/api/share" => { post: nomad::shares::share }
        // Before `/api/share/{id}/...`: `expire` is a word here, not a share id.
        "/api/share/expire/{id}" => { post: nomad::shares::expire }
        "/api/share/{id}" => { get: nomad::shares::get, put: nomad::shares::put, delete: nomad::shares::delete }
        "/api/share/{id}/notification" => { post: nomad::shares::notify }

        "/tus" => { post: api::tus::create_bare }
        "/tus/" => { post: api::tus::create }
        "/tus/{id}" => { head: api::tus::head, patch: api::tus::patch, delete: api::tus::terminate }

        "/{token}/v4/meta/model/fields" => { get: filerobot::meta_model_fields }
        "/{token}/v4/key/info" => { get: filerobot::key_info }
        "/{token}/v4/folders" => { get: fr_assets::list_folders, post: fr_assets::create_folder }
        "/{token}/v4/folders/{uuid}" => {
            get: fr_assets::get_folder, patch: fr_assets::rename_folder, delete: fr_assets::delete_folder
        }
        "/{token}/v4/folders/{uuid}/folders/{dest}" => { put: fr_assets::move_folder }
        "/{token}/v4/upload" => { post: filerobot::upload::upload }
        "/{token}/v4/files" => { get: fr_assets::list_files, post: filerobot::upload::upload_files }
        "/{token}/v4/files/{uuid}" => {
            get: fr_assets::get_file, patch: fr_assets::update_file, delete: fr_assets::delete_file
        }
        "/{token}/v4/files/{uuid}/folders/{dest}" => { put: fr_assets::move_file }
        "/{token}/v4/get/{uuid}/download" => { get: fr_assets::download }
        "/{token}/v4/share/{puid}" => { get: filerobot::reader::read }
        "/{token}/v5/shares" => { get: fr_shares::list, post: fr_shares::create }
        "/{token}/v5/share" => { get: fr_shares::list, post: fr_shares::create }
        "/{token}/v5/shares/{uuid}" => { get: fr_shares::get, put: fr_shares::update, delete: fr_shares::delete }
        "/{token}/v5/share/{uuid}" => { get: fr_shares::get, put: fr_shares::update, delete: fr_shares::delete }
        "/{token}/v5/shares/{uuid}/activity" => { get: fr_shares::activity }
        "/{token}/v5/share/{uuid}/activity" => { get: fr_shares::activity }
        "/{token}/v5/requests" => { get: fr_requests::list, post: fr_requests::create }
        "/{token}/v5/requests/{uuid}" => {
            get: fr_requests::get, put: fr_requests::update, delete: fr_requests::delete
        }
        "/{token}/v5/requests/{uuid}/revoke" => { post: fr_requests::revoke }
        "/{token}/v5/requests/{uuid}/restore" => { post: fr_requests::restore }

        // Tried after every other route: three segments that are nothing else.
        "/{company}/{token}/{puid}" => { get: filerobot::reader::share_link }
    }
}

/// The one route table, for `main` and the tests.
pub fn configure(cfg: &mut aw::ServiceConfig) {
    register(cfg);
}

/// Every registered route as `(method, path)`.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    let mut list = Vec::new();
    let _ = App::new().configure(|cfg| list = register(cfg));
    list
}

/// The application: state, routes, and the middleware every response passes through.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(aw::Data::new(state))
        .configure(configure)
        .default_service(aw::to(not_found))
        .wrap(from_fn(error::render_errors))
        .wrap(from_fn(web::security_headers))
        .wrap(from_fn(api::cors))
        .wrap(from_fn(web::head::without_body))
        // `%a` would log the proxy: the client address is the one throttles see.
        .wrap(
            Logger::new("%{client}xi \"%{request}xi\" %s %b %Dms")
                .custom_request_replace("client", |req| api::client_addr(req.request()))
                .custom_request_replace("request", logged_request_line),
        )
}

/// Query parameters that carry secrets: never written to the log.
const SECRET_PARAMS: &[&str] = &["token", "password", "access", "key", "csrf_token"];

/// The request line as the log writes it: the values of `SECRET_PARAMS` in the query are
/// replaced, so a set-password link, an unlock token or a reader password never reach a log.
fn logged_request_line(req: &ServiceRequest) -> String {
    let query = req.query_string();
    let query = if query.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split('=').next().unwrap_or_default();
                if SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str()) {
                    format!("{name}=(hidden)")
                } else {
                    pair.to_string()
                }
            })
            .collect();
        format!("?{}", parts.join("&"))
    };
    format!("{} {}{query} {:?}", req.method(), req.path(), req.version())
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::not_found("This route"))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Check that the server can read its database and write its data dir
#[utoipa::path(get, operation_id = "health", path = "/healthz", tag = "Server",
    responses((status = 200, body = Health), (status = 503, description = "UNAVAILABLE: the database, the data dir or the blob store, named")))]
pub async fn health(state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.check_health().await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
