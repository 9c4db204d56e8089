//! `/api/admin/asset/...`, `/api/asset/{id}/detail` and search: Nomad's view of the one library
//! (folders are assets of type 1, files of type 2, same uuids as the v4 routes). DTO <-> domain.

use crate::api::{state, time, wrong_type, Json, OptionalJson, Params};
use crate::domain::assets::{Asset, AssetFilter};
use crate::domain::auth::Principal;
use crate::domain::library::{File, Folder, Order, OrderField, Page};
use crate::domain::types::Name;
use crate::error::AppError;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub const PAGE_SIZE_DEFAULT: i64 = 100;
pub const PAGE_SIZE_MAX: i64 = 1000;

/// An asset as every Nomad route answers it.
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct AssetModel {
    pub id: String,
    /// Null for the root folder.
    pub parent_id: Option<String>,
    pub display_name: String,
    /// 1 = folder, 2 = file.
    pub asset_type: i64,
    /// `Folder` or `File`.
    pub asset_type_display: &'static str,
    /// Always `Available`.
    pub asset_status: &'static str,
    /// Null for folders.
    pub content_length: Option<i64>,
    /// The MIME type; null for folders.
    pub media_type: Option<String>,
    /// `Image`, `Video`, `Audio`, `Document` (PDF and text) or `Other`; null for folders.
    pub media_type_display: Option<&'static str>,
    /// The asset's path in the library: `/a/b/x.txt`.
    pub display_path: String,
    pub created_date: String,
    pub last_modified_date: String,
}

pub fn media_type_display(mime: &str) -> &'static str {
    let m = mime.to_ascii_lowercase();
    if m.starts_with("image/") {
        "Image"
    } else if m.starts_with("video/") {
        "Video"
    } else if m.starts_with("audio/") {
        "Audio"
    } else if m == "application/pdf" || m.starts_with("text/") {
        "Document"
    } else {
        "Other"
    }
}

impl From<&Folder> for AssetModel {
    fn from(f: &Folder) -> Self {
        AssetModel {
            id: f.uuid.clone(),
            parent_id: f.parent_uuid.clone(),
            display_name: f.name.clone(),
            asset_type: 1,
            asset_type_display: "Folder",
            asset_status: "Available",
            content_length: None,
            media_type: None,
            media_type_display: None,
            display_path: f.path.clone(),
            created_date: time(f.created_at),
            last_modified_date: time(f.updated_at),
        }
    }
}

impl From<&File> for AssetModel {
    fn from(f: &File) -> Self {
        AssetModel {
            id: f.uuid.clone(),
            parent_id: Some(f.folder_uuid.clone()),
            display_name: f.name.clone(),
            asset_type: 2,
            asset_type_display: "File",
            asset_status: "Available",
            content_length: Some(f.size),
            media_type: Some(f.mime.clone()),
            media_type_display: Some(media_type_display(&f.mime)),
            display_path: f.path(),
            created_date: time(f.created_at),
            last_modified_date: time(f.modified_at),
        }
    }
}

impl From<&Asset> for AssetModel {
    fn from(a: &Asset) -> Self {
        match a {
            Asset::Folder(f) => f.into(),
            Asset::File(f) => f.into(),
        }
    }
}

fn ok(body: impl Serialize) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(body))
}

/// Get a folder or file
#[utoipa::path(get, operation_id = "nomadGetAsset", path = "/api/admin/asset/{id}", tag = "Nomad assets",
    params(("id" = String, Path, description = "a folder's or file's uuid")),
    responses((status = 200, body = AssetModel), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn get_asset(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let asset = state.assets.get_asset(p.org_id, path.into_inner()).await?;
    ok(AssetModel::from(&asset))
}

/// The asset model with the file's SHA-256 (null for folders).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetProperties {
    #[serde(flatten)]
    pub model: AssetModel,
    pub sha256: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetDetail {
    pub asset_id: String,
    pub properties: AssetProperties,
    /// The folders above the asset, root first.
    pub parents: Vec<AssetModel>,
}

async fn detail_answer(
    req: &HttpRequest,
    p: &Principal,
    id: String,
) -> Result<HttpResponse, AppError> {
    let state = state(req)?;
    let (asset, parents) = state.assets.asset_with_parents(p.org_id, id).await?;
    let sha256 = match &asset {
        Asset::File(f) => Some(f.sha256.clone()),
        Asset::Folder(_) => None,
    };
    ok(AssetDetail {
        asset_id: asset.uuid().to_string(),
        properties: AssetProperties {
            model: (&asset).into(),
            sha256,
        },
        parents: parents.iter().map(AssetModel::from).collect(),
    })
}

/// Get an asset with its SHA-256 and the folders above it
#[utoipa::path(get, operation_id = "nomadGetAssetDetail", path = "/api/admin/asset/{id}/detail", tag = "Nomad assets",
    params(("id" = String, Path)),
    responses((status = 200, body = AssetDetail), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn detail(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    detail_answer(&req, &p, path.into_inner()).await
}

/// Get an asset with its SHA-256 and the folders above it (portal route)
#[utoipa::path(get, operation_id = "nomadGetPortalAssetDetail", path = "/api/asset/{id}/detail", tag = "Nomad assets",
    params(("id" = String, Path)),
    responses((status = 200, body = AssetDetail), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn portal_detail(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    detail_answer(&req, &p, path.into_inner()).await
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFolderBody {
    pub display_name: Option<String>,
}

/// Create a folder in a folder
#[utoipa::path(post, operation_id = "nomadCreateFolder", path = "/api/admin/asset/{id}/create-folder", tag = "Nomad assets",
    params(("id" = String, Path, description = "the parent folder's uuid")),
    request_body = CreateFolderBody,
    responses((status = 200, body = AssetModel), (status = 400), (status = 404), (status = 409, description = "NAME_EXISTS")),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn create_folder(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: Json<CreateFolderBody>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let raw = body
        .0
        .display_name
        .ok_or_else(|| AppError::invalid("displayName", "`displayName` is required"))?;
    let name = Name::parse("displayName", &raw)?;
    let folder = state
        .assets
        .create_child_folder(p.org_id, path.into_inner(), name)
        .await?;
    ok(AssetModel::from(&folder))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetPage {
    pub items: Vec<AssetModel>,
    pub total_item_count: i64,
    /// Whether `items` holds anything.
    pub has_items: bool,
}

/// A sort field's name (as search's `sortFields`), any letter case.
fn sort_field(field: &str, raw: &str) -> Result<OrderField, AppError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "title" => Ok(OrderField::Name),
        "createddate" => Ok(OrderField::CreatedAt),
        "lastmodifieddate" => Ok(OrderField::UpdatedAt),
        "contentlength" => Ok(OrderField::Size),
        _ => Err(AppError::invalid(
            field,
            format!(
                "cannot sort by '{raw}': use title, createdDate, lastModifiedDate or contentLength"
            ),
        )),
    }
}

fn page_size(field: &str, raw: Option<i64>) -> Result<i64, AppError> {
    match raw {
        None => Ok(PAGE_SIZE_DEFAULT),
        Some(n) if n >= 1 => Ok(n.min(PAGE_SIZE_MAX)),
        Some(n) => Err(AppError::invalid(
            field,
            format!("{n} is not a page size: use 1 to {PAGE_SIZE_MAX}"),
        )),
    }
}

fn int_param(params: &Params, name: &str) -> Result<Option<i64>, AppError> {
    match params.get(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::invalid(name, format!("'{v}' is not an integer"))),
    }
}

/// List a folder's children, a page at a time
#[utoipa::path(get, operation_id = "nomadListChildNodes", path = "/api/admin/asset/{id}/getAssetChildNodes", tag = "Nomad assets",
    params(("id" = String, Path, description = "the folder's uuid"),
           ("pageIndex" = Option<i64>, Query, description = "from 1 (0 = 1)"),
           ("pageSize" = Option<i64>, Query, description = "1..1000, default 100"),
           ("sortColumn" = Option<String>, Query, description = "title, createdDate, lastModifiedDate, contentLength"),
           ("isDesc" = Option<bool>, Query),
           ("folderId" = Option<String>, Query, description = "ignored")),
    responses((status = 200, body = AssetPage), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn child_nodes(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let index = match int_param(&params, "pageIndex")? {
        None | Some(0) => 1,
        Some(n) if n > 0 => n,
        Some(n) => {
            return Err(AppError::invalid(
                "pageIndex",
                format!("{n} is not a page: pages count from 1"),
            ))
        }
    };
    let size = page_size("pageSize", int_param(&params, "pageSize")?)?;
    let field = sort_field("sortColumn", params.get("sortColumn").unwrap_or(""))?;
    let desc = match params.get("isDesc").map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) => match v.as_str() {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            _ => {
                return Err(AppError::invalid(
                    "isDesc",
                    format!("'{v}' is not true or false"),
                ))
            }
        },
    };
    let page = Page {
        limit: size,
        offset: (index - 1).saturating_mul(size),
    };
    let (items, total) = state
        .assets
        .child_assets(p.org_id, path.into_inner(), Order { field, desc }, page)
        .await?;
    ok(AssetPage {
        has_items: !items.is_empty(),
        items: items.iter().map(AssetModel::from).collect(),
        total_item_count: total,
    })
}

#[derive(Serialize, ToSchema)]
pub struct AssetDeleted {
    pub id: String,
}

/// Delete a file, or a folder with all it holds
#[utoipa::path(delete, operation_id = "nomadDeleteAsset", path = "/api/admin/asset/{id}", tag = "Nomad assets",
    params(("id" = String, Path)),
    responses((status = 200, body = AssetDeleted, description = "a folder goes with all it holds"), (status = 400, description = "the root"), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn delete_asset(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let asset = state
        .assets
        .delete_asset(p.org_id, path.into_inner())
        .await
        .map_err(|e| match e {
            AppError::InvalidField { message, .. } => AppError::invalid("id", message),
            other => other,
        })?;
    ok(AssetDeleted {
        id: asset.uuid().to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Search

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchIdentifiers {
    pub asset_type: i64,
    pub asset_type_display: &'static str,
    pub name: String,
    pub content_length: Option<i64>,
    pub media_type_display: Option<&'static str>,
    pub display_path: String,
    pub parent_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem {
    pub id: String,
    pub title: String,
    pub created_date: String,
    pub last_modified_date: String,
    pub identifiers: SearchIdentifiers,
}

impl From<AssetModel> for SearchItem {
    fn from(m: AssetModel) -> Self {
        SearchItem {
            id: m.id,
            title: m.display_name.clone(),
            created_date: m.created_date,
            last_modified_date: m.last_modified_date,
            identifiers: SearchIdentifiers {
                asset_type: m.asset_type,
                asset_type_display: m.asset_type_display,
                name: m.display_name,
                content_length: m.content_length,
                media_type_display: m.media_type_display,
                display_path: m.display_path,
                parent_id: m.parent_id,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchAnswer {
    pub items: Vec<SearchItem>,
    pub total_item_count: i64,
    pub has_items: bool,
}

fn opt_int(body: &Map<String, Value>, field: &str) -> Result<Option<i64>, AppError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(field, "an integer", v)),
    }
}

/// `values`: a string, a number, or a list of them.
fn filter_values(field: &str, v: Option<&Value>) -> Result<Vec<(String, Value)>, AppError> {
    match v {
        None | Some(Value::Null) => Err(AppError::invalid(field, "give one value or a list")),
        Some(Value::Array(list)) => Ok(list
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("{field}[{i}]"), x.clone()))
            .collect()),
        Some(x) => Ok(vec![(field.to_string(), x.clone())]),
    }
}

fn id_values(values: Vec<(String, Value)>) -> Result<Vec<(String, String)>, AppError> {
    values
        .into_iter()
        .map(|(field, v)| match v {
            Value::String(s) => Ok((field, s)),
            other => Err(wrong_type(&field, "a uuid string", &other)),
        })
        .collect()
}

fn type_values(values: Vec<(String, Value)>) -> Result<Vec<i64>, AppError> {
    values
        .into_iter()
        .map(|(field, v)| {
            let t = match &v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "1" | "folder" => Some(1),
                    "2" | "file" => Some(2),
                    _ => None,
                },
                _ => None,
            };
            t.filter(|t| *t == 1 || *t == 2).ok_or_else(|| {
                AppError::invalid(&field, "an assetType is 1, 2, \"Folder\" or \"File\"")
            })
        })
        .collect()
}

fn parse_filters(v: Option<&Value>) -> Result<Vec<AssetFilter>, AppError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(wrong_type("filters", "an array", other)),
    };
    let mut out = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let at = format!("filters[{i}]");
        let obj = f
            .as_object()
            .ok_or_else(|| wrong_type(&at, "an object", f))?;
        match obj.get("operator") {
            None | Some(Value::Null) => {}
            Some(Value::String(op)) if op.trim().eq_ignore_ascii_case("equals") => {}
            Some(_) => {
                return Err(AppError::invalid(
                    format!("{at}.operator"),
                    "only \"equals\" is offered",
                ))
            }
        }
        let name = obj
            .get("fieldName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                AppError::invalid(format!("{at}.fieldName"), "`fieldName` is required")
            })?;
        let values = filter_values(&format!("{at}.values"), obj.get("values"))?;
        out.push(match name.trim().to_ascii_lowercase().as_str() {
            "id" => AssetFilter::Id(id_values(values)?),
            "parentid" => AssetFilter::ParentId(id_values(values)?),
            "uuidsearchfield" => AssetFilter::Below(id_values(values)?),
            "assettype" => AssetFilter::Type(type_values(values)?),
            _ => {
                return Err(AppError::invalid(
                    format!("{at}.fieldName"),
                    format!(
                        "cannot filter on '{name}': use id, parentId, assetType or uuidSearchField"
                    ),
                ))
            }
        });
    }
    Ok(out)
}

fn parse_sort(v: Option<&Value>) -> Result<Vec<Order>, AppError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(wrong_type("sortFields", "an array", other)),
    };
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let at = format!("sortFields[{i}]");
        let obj = s
            .as_object()
            .ok_or_else(|| wrong_type(&at, "an object", s))?;
        let name = obj
            .get("fieldName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                AppError::invalid(format!("{at}.fieldName"), "`fieldName` is required")
            })?;
        let field = sort_field(&format!("{at}.fieldName"), name)?;
        let desc = match obj.get("sortType") {
            None | Some(Value::Null) => false,
            Some(Value::String(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "" | "asc" | "ascending" => false,
                "desc" | "descending" => true,
                _ => {
                    return Err(AppError::invalid(
                        format!("{at}.sortType"),
                        "use \"ascending\" or \"descending\"",
                    ))
                }
            },
            Some(other) => return Err(wrong_type(&format!("{at}.sortType"), "a string", other)),
        };
        out.push(Order { field, desc });
    }
    Ok(out)
}

async fn search_answer(
    req: &HttpRequest,
    p: &Principal,
    body: Option<Value>,
) -> Result<HttpResponse, AppError> {
    let state = state(req)?;
    let body = match body {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => return Err(wrong_type("body", "a JSON object", &other)),
    };
    match body.get("searchQuery") {
        None | Some(Value::Null) => {}
        Some(Value::String(q)) if q.trim().is_empty() => {}
        Some(_) => {
            return Err(AppError::invalid(
                "searchQuery",
                "free-text search is not offered: use filters",
            ))
        }
    }
    let index = match opt_int(&body, "pageOffset")? {
        None => 0,
        Some(n) if n >= 0 => n,
        Some(n) => {
            return Err(AppError::invalid(
                "pageOffset",
                format!("{n} is not a page: pages count from 0"),
            ))
        }
    };
    let size = page_size("pageSize", opt_int(&body, "pageSize")?)?;
    let filters = parse_filters(body.get("filters"))?;
    let mut sort = parse_sort(body.get("sortFields"))?;
    if sort.is_empty() {
        sort.push(Order {
            field: OrderField::Name,
            desc: false,
        });
    }
    let page = Page {
        limit: size,
        offset: index.saturating_mul(size),
    };
    let (items, total) = state.assets.search(p.org_id, filters, sort, page).await?;
    ok(SearchAnswer {
        has_items: !items.is_empty(),
        items: items
            .iter()
            .map(|a| SearchItem::from(AssetModel::from(a)))
            .collect(),
        total_item_count: total,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct SearchBody {
    /// A zero-based page index.
    pub page_offset: Option<i64>,
    /// 1..1000, default 100.
    pub page_size: Option<i64>,
    /// `[{"fieldName": "id"|"parentId"|"assetType"|"uuidSearchField", "operator": "equals", "values"}]`
    pub filters: Option<Vec<Value>>,
    /// `[{"fieldName": "title"|"createdDate"|"lastModifiedDate"|"contentLength", "sortType": "ascending"|"descending"}]`
    pub sort_fields: Option<Vec<Value>>,
}

/// Search the library's folders and files
#[utoipa::path(post, operation_id = "nomadAdminSearch", path = "/api/admin/search", tag = "Nomad assets", request_body = SearchBody,
    responses((status = 200, body = SearchAnswer), (status = 400)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn admin_search(
    req: HttpRequest,
    p: Principal,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    search_answer(&req, &p, body.0).await
}

/// Search the library's folders and files (portal route)
#[utoipa::path(post, operation_id = "nomadPortalSearch", path = "/api/portal/search", tag = "Nomad assets", request_body = SearchBody,
    responses((status = 200, body = SearchAnswer), (status = 400)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn portal_search(
    req: HttpRequest,
    p: Principal,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    search_answer(&req, &p, body.0).await
}
