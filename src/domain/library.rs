//! The library's model as adapters read it: files, folders, and how a listing is paged and
//! ordered. Storage has rows of its own; they are turned into these at the domain's edge.

use crate::db::assets::{FileRow, FolderRow, Slice, Sort, SortKey};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct Folder {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    pub parent_id: Option<i64>,
    pub parent_uuid: Option<String>,
    pub name: String,
    /// `/a/b`; `/` for the root.
    pub path: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<FolderRow> for Folder {
    fn from(r: FolderRow) -> Folder {
        Folder {
            id: r.id,
            uuid: r.uuid,
            org_id: r.org_id,
            parent_id: r.parent_id,
            parent_uuid: r.parent_uuid,
            name: r.name,
            path: r.path,
            created_at: crate::db::from_ts(r.created_at),
            updated_at: crate::db::from_ts(r.updated_at),
        }
    }
}

#[derive(Debug, Clone)]
pub struct File {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    pub folder_id: i64,
    pub folder_uuid: String,
    pub folder_path: String,
    pub name: String,
    pub mime: String,
    /// `PUB` or `ORG`: what folder shares filter on.
    pub visibility: String,
    /// The server-made name of the content in the blob store.
    pub blob_id: String,
    pub size: i64,
    pub sha256: String,
    pub crc32: u32,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

impl File {
    /// `/a/b/x.txt`: the file's path in the library.
    pub fn path(&self) -> String {
        if self.folder_path == "/" {
            format!("/{}", self.name)
        } else {
            format!("{}/{}", self.folder_path, self.name)
        }
    }
}

impl From<FileRow> for File {
    fn from(r: FileRow) -> File {
        File {
            id: r.id,
            uuid: r.uuid,
            org_id: r.org_id,
            folder_id: r.folder_id,
            folder_uuid: r.folder_uuid,
            folder_path: r.folder_path,
            name: r.name,
            mime: r.mime,
            visibility: r.visibility,
            blob_id: r.blob_id,
            size: r.size,
            sha256: r.sha256,
            crc32: r.crc32,
            created_at: crate::db::from_ts(r.created_at),
            modified_at: crate::db::from_ts(r.modified_at),
        }
    }
}

/// Turns a list of rows into the model.
pub(crate) fn models<R, M: From<R>>(rows: Vec<R>) -> Vec<M> {
    rows.into_iter().map(M::from).collect()
}

/// What a listing is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    Name,
    CreatedAt,
    UpdatedAt,
    Size,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub field: OrderField,
    pub desc: bool,
}

impl Order {
    pub(crate) fn sort(self) -> Sort {
        Sort {
            key: match self.field {
                OrderField::Name => SortKey::Name,
                OrderField::CreatedAt => SortKey::CreatedAt,
                OrderField::UpdatedAt => SortKey::UpdatedAt,
                OrderField::Size => SortKey::Size,
            },
            desc: self.desc,
        }
    }
}

/// One page of a listing: at most `limit` entries after the first `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub(crate) fn slice(self) -> Slice {
        Slice {
            limit: self.limit,
            offset: self.offset,
        }
    }
}
