//! `/{token}/v4` asset routes: folders, files, upload, download. DTO <-> domain only.

use super::success;
use crate::api::{state, time, Params};
use crate::blob;
use crate::domain::assets::FolderRef;
use crate::domain::auth::Principal;
use crate::domain::library::{File, Folder, Order, OrderField, Page};
use crate::domain::types::{pretty_size, FolderPath, Name, Visibility};
use crate::error::AppError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const LIMIT_DEFAULT: i64 = 100;
pub const LIMIT_MAX: i64 = 1000;

#[derive(Serialize, ToSchema)]
pub struct FolderDto {
    pub uuid: String,
    pub name: String,
    pub path: String,
    pub parent_uuid: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Folder> for FolderDto {
    fn from(f: &Folder) -> Self {
        FolderDto {
            uuid: f.uuid.clone(),
            name: f.name.clone(),
            path: f.path.clone(),
            parent_uuid: f.parent_uuid.clone(),
            created_at: time(f.created_at),
            updated_at: time(f.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SizeDto {
    pub bytes: i64,
    /// 1024-based, two decimals: `65.87 KB`.
    pub pretty: String,
}

#[derive(Serialize, ToSchema)]
pub struct HashDto {
    pub sha256: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileFolderDto {
    pub uuid: String,
    /// The folder's path.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileUrlDto {
    pub permalink: String,
    /// The file's path in the library.
    pub path: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileDto {
    pub uuid: String,
    pub name: String,
    pub extension: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub size: SizeDto,
    pub hash: HashDto,
    pub visibility: String,
    pub folder: FileFolderDto,
    pub url: FileUrlDto,
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub created_at: String,
    pub modified_at: String,
}

impl FileDto {
    pub fn new(f: &File, base_url: &str, token: &str) -> FileDto {
        let path = if f.folder_path == "/" {
            format!("/{}", f.name)
        } else {
            format!("{}/{}", f.folder_path, f.name)
        };
        FileDto {
            uuid: f.uuid.clone(),
            name: f.name.clone(),
            extension: crate::domain::types::extension_of(&f.name),
            mime: f.mime.clone(),
            size: SizeDto {
                bytes: f.size,
                pretty: pretty_size(f.size as u64),
            },
            hash: HashDto {
                sha256: f.sha256.clone(),
            },
            visibility: f.visibility.clone(),
            folder: FileFolderDto {
                uuid: f.folder_uuid.clone(),
                name: f.folder_path.clone(),
            },
            url: FileUrlDto {
                permalink: format!("{base_url}/{token}/v4/get/{}/download", f.uuid),
                path,
            },
            meta: Default::default(),
            created_at: time(f.created_at),
            modified_at: time(f.modified_at),
        }
    }
}

fn file_dto(state: &AppState, p: &Principal, f: &File) -> FileDto {
    FileDto::new(f, &state.config.base_url, &p.org_token)
}

/// The listing parameters of `GET /folders` and `GET /files`.
struct ListQuery {
    folder: FolderRef,
    recursive: bool,
    order: Order,
    page: Page,
}

fn int_param(params: &Params, name: &str, default: i64, min: i64) -> Result<i64, AppError> {
    match params.get(name) {
        None | Some("") => Ok(default),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| {
                AppError::invalid(name, format!("'{v}' is not an integer of at least {min}"))
            }),
    }
}

fn bool_param(params: &Params, name: &str) -> Result<bool, AppError> {
    match params.get(name).map(str::trim) {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(v) => Err(AppError::invalid(
            name,
            format!("'{v}' is not one of 0, 1, false, true"),
        )),
    }
}

pub(super) fn folder_param(params: &Params) -> Result<FolderRef, AppError> {
    match (params.get("folder_uuid"), params.get("folder")) {
        (Some(u), _) if !u.is_empty() => Ok(FolderRef::Uuid(u.to_string())),
        (_, Some(p)) => Ok(FolderRef::Path(FolderPath::parse("folder", p)?)),
        _ => Ok(FolderRef::Path(FolderPath::parse("folder", "/")?)),
    }
}

fn order_param(params: &Params, files: bool) -> Result<Order, AppError> {
    let (name, raw) = match (params.get("order"), params.get("sort")) {
        (Some(o), _) => ("order", o),
        (None, Some(s)) => ("sort", s),
        (None, None) => {
            return Ok(Order {
                field: OrderField::Name,
                desc: false,
            })
        }
    };
    let (field, dir) = match raw.split_once([',', ':']) {
        Some((f, d)) => (f.trim(), d.trim()),
        None => (raw.trim(), "asc"),
    };
    let field = match field {
        "name" | "" => OrderField::Name,
        "created_at" => OrderField::CreatedAt,
        "updated_at" | "modified_at" => OrderField::UpdatedAt,
        "size" if files => OrderField::Size,
        other => {
            let fields = if files {
                "name, created_at, updated_at, size"
            } else {
                "name, created_at, updated_at"
            };
            return Err(AppError::invalid(
                name,
                format!("cannot order by '{other}': use one of {fields}"),
            ));
        }
    };
    let desc = match dir.to_ascii_lowercase().as_str() {
        "asc" | "" => false,
        "desc" => true,
        other => {
            return Err(AppError::invalid(
                name,
                format!("'{other}' is not a direction: use asc or desc"),
            ))
        }
    };
    Ok(Order { field, desc })
}

/// `limit` 1..1000 (default 100, larger clamped) and `offset` >= 0.
pub fn page_param(params: &Params) -> Result<Page, AppError> {
    Ok(Page {
        limit: int_param(params, "limit", LIMIT_DEFAULT, 1)?.min(LIMIT_MAX),
        offset: int_param(params, "offset", 0, 0)?,
    })
}

fn list_query(params: &Params, files: bool) -> Result<ListQuery, AppError> {
    Ok(ListQuery {
        folder: folder_param(params)?,
        recursive: bool_param(params, "recursive")?,
        order: order_param(params, files)?,
        page: page_param(params)?,
    })
}

#[derive(Serialize, ToSchema)]
pub struct FolderCreated {
    pub status: &'static str,
    pub action: &'static str,
    pub folder_uuid: String,
    pub folder: FolderDto,
}

#[derive(Deserialize, ToSchema)]
pub struct FolderBody {
    /// A folder path (`/a/b`) on create; a name on rename.
    pub name: String,
}

/// Create a folder, and any missing folders above it
#[utoipa::path(post, operation_id = "createFolder", path = "/{token}/v4/folders", tag = "Filerobot assets",
    params(("token" = String, Path)), request_body = FolderBody,
    responses((status = 200, body = FolderCreated), (status = 400), (status = 403, description = "FOLDER_EXISTS")),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn create_folder(
    req: HttpRequest,
    p: Principal,
    body: crate::api::Json<FolderBody>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let path = FolderPath::parse("name", &body.0.name)?;
    let folder = state.assets.create_folder(p.org_id, path).await?;
    success(FolderCreated {
        status: "success",
        action: "folder_created",
        folder_uuid: folder.uuid.clone(),
        folder: (&folder).into(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct FolderList {
    pub status: &'static str,
    pub folder: FolderDto,
    pub folders: Vec<FolderDto>,
    pub total: i64,
}

/// List the folders in a folder
#[utoipa::path(get, operation_id = "listFolders", path = "/{token}/v4/folders", tag = "Filerobot assets",
    params(("token" = String, Path), ("folder" = Option<String>, Query), ("folder_uuid" = Option<String>, Query),
           ("recursive" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
           ("order" = Option<String>, Query)),
    responses((status = 200, body = FolderList), (status = 400), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn list_folders(
    req: HttpRequest,
    p: Principal,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let q = list_query(&params, false)?;
    let (folder, rows, total) = state
        .assets
        .list_folders(p.org_id, q.folder, q.recursive, q.order, q.page)
        .await?;
    success(FolderList {
        status: "success",
        folder: (&folder).into(),
        folders: rows.iter().map(FolderDto::from).collect(),
        total,
    })
}

#[derive(Serialize, ToSchema)]
pub struct FolderAnswer {
    pub status: &'static str,
    pub folder: FolderDto,
}

fn folder_answer(f: &Folder) -> Result<HttpResponse, AppError> {
    success(FolderAnswer {
        status: "success",
        folder: f.into(),
    })
}

/// Get a folder
#[utoipa::path(get, operation_id = "getFolder", path = "/{token}/v4/folders/{uuid}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = FolderAnswer), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn get_folder(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let folder = state
        .assets
        .get_folder(p.org_id, FolderRef::Uuid(path.into_inner().1))
        .await?;
    folder_answer(&folder)
}

/// Rename a folder
#[utoipa::path(patch, operation_id = "renameFolder", path = "/{token}/v4/folders/{uuid}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path)), request_body = FolderBody,
    responses((status = 200, body = FolderAnswer), (status = 400, description = "FOLDER_EXISTS, or the root"), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn rename_folder(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    body: crate::api::Json<FolderBody>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let name = Name::parse("name", &body.0.name)?;
    let folder = state
        .assets
        .rename_folder(p.org_id, path.into_inner().1, name)
        .await?;
    folder_answer(&folder)
}

/// Move a folder into another folder
#[utoipa::path(put, operation_id = "moveFolder", path = "/{token}/v4/folders/{uuid}/folders/{dest}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path), ("dest" = String, Path)),
    responses((status = 200, body = FolderAnswer), (status = 400), (status = 404), (status = 409)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn move_folder(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (_, uuid, dest) = path.into_inner();
    let folder = state.assets.move_folder(p.org_id, uuid, dest).await?;
    folder_answer(&folder)
}

#[derive(Serialize, ToSchema)]
pub struct DeletedCounts {
    pub folders: i64,
    pub files: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FolderDeleted {
    pub status: &'static str,
    pub msg: String,
    pub deleted: DeletedCounts,
}

/// Delete a folder (with what it holds when `recursive`)
#[utoipa::path(delete, operation_id = "deleteFolder", path = "/{token}/v4/folders/{uuid}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path), ("recursive" = Option<String>, Query)),
    responses((status = 200, body = FolderDeleted), (status = 400), (status = 404), (status = 409, description = "FOLDER_NOT_EMPTY")),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn delete_folder(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let recursive = bool_param(&params, "recursive")?;
    let uuid = path.into_inner().1;
    let (folders, files) = state
        .assets
        .delete_folder(p.org_id, uuid.clone(), recursive)
        .await?;
    success(FolderDeleted {
        status: "success",
        msg: format!("Successfully deleted the folder with uuid={uuid}"),
        deleted: DeletedCounts { folders, files },
    })
}

#[derive(Serialize, ToSchema)]
pub struct FileList {
    pub status: &'static str,
    pub files: Vec<FileDto>,
    pub total: i64,
}

/// List the files in a folder
#[utoipa::path(get, operation_id = "listFiles", path = "/{token}/v4/files", tag = "Filerobot assets",
    params(("token" = String, Path), ("folder" = Option<String>, Query), ("folder_uuid" = Option<String>, Query),
           ("recursive" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
           ("order" = Option<String>, Query)),
    responses((status = 200, body = FileList), (status = 400), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn list_files(
    req: HttpRequest,
    p: Principal,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let q = list_query(&params, true)?;
    let (_, rows, total) = state
        .assets
        .list_files(p.org_id, q.folder, q.recursive, q.order, q.page)
        .await?;
    success(FileList {
        status: "success",
        files: rows.iter().map(|f| file_dto(&state, &p, f)).collect(),
        total,
    })
}

#[derive(Serialize, ToSchema)]
pub struct FileAnswer {
    pub status: &'static str,
    pub file: FileDto,
}

/// Get a file's details
#[utoipa::path(get, operation_id = "getFile", path = "/{token}/v4/files/{uuid}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = FileAnswer), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn get_file(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let file = state.assets.get_file(p.org_id, path.into_inner().1).await?;
    success(FileAnswer {
        status: "success",
        file: file_dto(&state, &p, &file),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct FilePatch {
    pub name: Option<String>,
    /// `PUB` or `ORG`.
    pub visibility: Option<String>,
}

/// Rename a file or change its visibility
#[utoipa::path(patch, operation_id = "updateFile", path = "/{token}/v4/files/{uuid}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path)), request_body = FilePatch,
    responses((status = 200, body = FileAnswer), (status = 400), (status = 404), (status = 409, description = "NAME_EXISTS")),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn update_file(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    body: crate::api::Json<FilePatch>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let body = body.0;
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let visibility = body
        .visibility
        .as_deref()
        .map(|v| Visibility::parse("visibility", v))
        .transpose()?;
    let file = state
        .assets
        .update_file(p.org_id, path.into_inner().1, name, visibility)
        .await?;
    success(FileAnswer {
        status: "success",
        file: file_dto(&state, &p, &file),
    })
}

/// Move a file into another folder
#[utoipa::path(put, operation_id = "moveFile", path = "/{token}/v4/files/{uuid}/folders/{dest}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path), ("dest" = String, Path)),
    responses((status = 200, body = FileAnswer), (status = 404), (status = 409)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn move_file(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (_, uuid, dest) = path.into_inner();
    let file = state.assets.move_file(p.org_id, uuid, dest).await?;
    success(FileAnswer {
        status: "success",
        file: file_dto(&state, &p, &file),
    })
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    pub status: &'static str,
    pub msg: String,
}

/// Delete a file
#[utoipa::path(delete, operation_id = "deleteFile", path = "/{token}/v4/files/{uuid}", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = Deleted), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn delete_file(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let file = state
        .assets
        .delete_file(p.org_id, path.into_inner().1)
        .await?;
    success(Deleted {
        status: "success",
        msg: format!("Successfully deleted the file with uuid={}", file.uuid),
    })
}

/// Download a file's bytes (ranges and conditional requests)
#[utoipa::path(get, operation_id = "downloadFile", path = "/{token}/v4/get/{uuid}/download", tag = "Filerobot assets",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, description = "the bytes"), (status = 206), (status = 304), (status = 404), (status = 416)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn download(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let file = state.assets.get_file(p.org_id, path.into_inner().1).await?;
    blob::serve(
        &req,
        blob::Download {
            source: state.blobs.source(&file.blob_id).await?,
            redirect: false,
            size: file.size as u64,
            sha256: &file.sha256,
            name: &file.name,
            mime: &file.mime,
            inline: false,
            modified: file.modified_at,
            now: state.clock.now(),
        },
        None,
    )
    .await
}
