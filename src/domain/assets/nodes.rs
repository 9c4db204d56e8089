//! Folders and files as one kind, "assets" (Nomad's dialect): by id, parents, children, search.

use super::{folder_by_uuid, folder_not_found, parse_id, refuse_root, AssetService};
use crate::db;
use crate::db::assets::{self as q, FileRow, FolderRow};
use crate::domain::library::{File, Folder, Order, Page};
use crate::domain::types::{too_deep, Name, MAX_DEPTH};
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub enum Asset {
    Folder(Folder),
    File(File),
}

/// An asset as stored, inside this module's reads and writes.
enum Node {
    Folder(FolderRow),
    File(FileRow),
}

impl Node {
    fn uuid(&self) -> &str {
        match self {
            Node::Folder(f) => &f.uuid,
            Node::File(f) => &f.uuid,
        }
    }
}

impl From<Node> for Asset {
    fn from(n: Node) -> Asset {
        match n {
            Node::Folder(f) => Asset::Folder(f.into()),
            Node::File(f) => Asset::File(f.into()),
        }
    }
}

impl Asset {
    pub fn uuid(&self) -> &str {
        match self {
            Asset::Folder(f) => &f.uuid,
            Asset::File(f) => &f.uuid,
        }
    }
}

pub(super) fn asset_not_found() -> AppError {
    AppError::not_found("The asset")
}

fn find_asset(c: &Connection, org_id: i64, id: &str) -> Result<Option<Node>, AppError> {
    let Some(id) = parse_id(id) else {
        return Ok(None);
    };
    if let Some(f) = q::find_folder(c, org_id, &id)? {
        return Ok(Some(Node::Folder(f)));
    }
    Ok(q::find_file(c, org_id, &id)?.map(Node::File))
}

impl AssetService {
    pub async fn get_asset(&self, org_id: i64, id: String) -> Result<Asset, AppError> {
        self.db
            .read(move |c| find_asset(c, org_id, &id)?.ok_or_else(asset_not_found))
            .await
            .map(Into::into)
    }

    /// The asset and the folders above it, root first.
    pub async fn asset_with_parents(
        &self,
        org_id: i64,
        id: String,
    ) -> Result<(Asset, Vec<Folder>), AppError> {
        self.db
            .read(move |c| {
                let asset = find_asset(c, org_id, &id)?.ok_or_else(asset_not_found)?;
                let mut next = match &asset {
                    Node::Folder(f) => f.parent_uuid.clone(),
                    Node::File(f) => Some(f.folder_uuid.clone()),
                };
                let mut parents = Vec::new();
                while let Some(uuid) = next {
                    let folder = q::find_folder(c, org_id, &uuid)?.ok_or_else(folder_not_found)?;
                    next = folder.parent_uuid.clone();
                    parents.push(Folder::from(folder));
                }
                parents.reverse();
                Ok((asset.into(), parents))
            })
            .await
    }

    /// A new folder `name` in the folder `parent`; a folder of that name there → 409 NAME_EXISTS.
    pub async fn create_child_folder(
        &self,
        org_id: i64,
        parent: String,
        name: Name,
    ) -> Result<Folder, AppError> {
        let t = db::ts(self.clock.now());
        self.db
            .write(move |tx| {
                let parent = folder_by_uuid(tx, org_id, &parent)?;
                if parent.depth() >= MAX_DEPTH {
                    return Err(too_deep("parent"));
                }
                if q::child_folder(tx, parent.id, name.as_str())?.is_some() {
                    return Err(AppError::NameExists(format!(
                        "A folder named '{name}' exists already in '{}'.",
                        parent.path
                    )));
                }
                let uuid = Uuid::new_v4().to_string();
                q::insert_folder(tx, org_id, parent.id, &uuid, name.as_str(), t)?;
                q::find_folder(tx, org_id, &uuid)?.ok_or_else(folder_not_found)
            })
            .await
            .map(Into::into)
    }

    /// Deletes a file, or a folder with everything it holds (the root cannot go).
    pub async fn delete_asset(&self, org_id: i64, id: String) -> Result<Asset, AppError> {
        let (asset, gone) = self
            .db
            .write(move |tx| {
                let asset = find_asset(tx, org_id, &id)?.ok_or_else(asset_not_found)?;
                let blob_ids = match &asset {
                    Node::Folder(f) => {
                        refuse_root(f, "deleted")?;
                        let ids = q::subtree_blob_ids(tx, f)?;
                        q::delete_folder(tx, f.id)?;
                        ids
                    }
                    Node::File(f) => {
                        q::delete_file(tx, f.id)?;
                        vec![f.blob_id.clone()]
                    }
                };
                let gone = q::delete_unreferenced_blobs(tx, &blob_ids)?;
                Ok((asset, gone))
            })
            .await?;
        self.blobs.remove(gone).await;
        Ok(asset.into())
    }

    /// The children of a folder, folders first, then each kind in `order`; a file has none.
    pub async fn child_assets(
        &self,
        org_id: i64,
        id: String,
        order: Order,
        page: Page,
    ) -> Result<(Vec<Asset>, i64), AppError> {
        self.db
            .read(move |c| {
                let folder = match find_asset(c, org_id, &id)?.ok_or_else(asset_not_found)? {
                    Node::Folder(f) => f,
                    Node::File(_) => return Ok((vec![], 0)),
                };
                // By name (the default), each kind is read from its index at its offset.
                if order.field == crate::domain::library::OrderField::Name {
                    let (found, total) =
                        crate::db::listing::children_by_name(c, &folder, order.desc, page.slice())?;
                    return Ok((load_assets(c, org_id, found)?, total));
                }
                let conds = [q::AssetCond::ParentIn(vec![folder.id])];
                let (found, total) =
                    q::search_assets(c, org_id, &conds, true, &[order.sort()], page.slice())?;
                Ok((load_assets(c, org_id, found)?, total))
            })
            .await
    }

    /// Every asset of the org that passes all `filters`, ordered by `sort`; a page of them and the
    /// count. An id that names nothing of the org is a 400 naming its field.
    pub async fn search(
        &self,
        org_id: i64,
        filters: Vec<AssetFilter>,
        sort: Vec<Order>,
        page: Page,
    ) -> Result<(Vec<Asset>, i64), AppError> {
        self.db
            .read(move |c| {
                let mut conds = Vec::new();
                for f in &filters {
                    conds.push(match f {
                        AssetFilter::Id(ids) => {
                            let mut uuids = Vec::new();
                            for (field, raw) in ids {
                                let asset = find_asset(c, org_id, raw)?.ok_or_else(|| {
                                    AppError::invalid(
                                        field,
                                        format!("'{raw}' is not an asset of this org"),
                                    )
                                })?;
                                uuids.push(asset.uuid().to_string());
                            }
                            q::AssetCond::Uuids(uuids)
                        }
                        AssetFilter::ParentId(ids) => q::AssetCond::ParentIn(
                            ids.iter()
                                .map(|(field, raw)| {
                                    folder_named_by(c, org_id, field, raw).map(|f| f.id)
                                })
                                .collect::<Result<_, _>>()?,
                        ),
                        AssetFilter::Below(ids) => {
                            let mut all = Vec::new();
                            for (field, raw) in ids {
                                let folder = folder_named_by(c, org_id, field, raw)?;
                                all.extend(q::subtree_ids(c, &folder)?);
                            }
                            q::AssetCond::ParentIn(all)
                        }
                        AssetFilter::Type(t) => q::AssetCond::Types(t.clone()),
                    });
                }
                let sort: Vec<_> = sort.iter().map(|o| o.sort()).collect();
                let (found, total) =
                    q::search_assets(c, org_id, &conds, false, &sort, page.slice())?;
                Ok((load_assets(c, org_id, found)?, total))
            })
            .await
    }
}

fn load_assets(
    c: &Connection,
    org_id: i64,
    found: Vec<(i64, String)>,
) -> Result<Vec<Asset>, AppError> {
    let mut out = Vec::with_capacity(found.len());
    for (kind, uuid) in found {
        let asset = if kind == q::ASSET_FOLDER {
            q::find_folder(c, org_id, &uuid)?.map(|f| Asset::Folder(f.into()))
        } else {
            q::find_file(c, org_id, &uuid)?.map(|f| Asset::File(f.into()))
        };
        out.extend(asset);
    }
    Ok(out)
}

/// One search filter; each id comes with the field that named it (for a 400).
#[derive(Debug, Clone)]
pub enum AssetFilter {
    /// The asset is one of these.
    Id(Vec<(String, String)>),
    /// The asset sits directly in one of these folders.
    ParentId(Vec<(String, String)>),
    /// The asset sits anywhere below one of these folders.
    Below(Vec<(String, String)>),
    /// 1 (folders) or 2 (files).
    Type(Vec<i64>),
}

fn folder_named_by(
    c: &Connection,
    org_id: i64,
    field: &str,
    raw: &str,
) -> Result<FolderRow, AppError> {
    parse_id(raw)
        .map(|id| q::find_folder(c, org_id, &id))
        .transpose()?
        .flatten()
        .ok_or_else(|| AppError::invalid(field, format!("'{raw}' is not a folder of this org")))
}
