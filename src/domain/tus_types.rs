//! The values of tus uploads (API.md "Resumable uploads"): the route's policy, a creation
//! request, and an upload as the protocol reports it.

use crate::db::from_ts;
use crate::db::tus::{RequestUpload, TusRow};
use crate::domain::assets::FolderRef;
use crate::domain::types::Name;
use crate::partial::Checksum;
use chrono::{DateTime, Duration, Utc};

/// A library upload expires this long after its last PATCH.
pub const LIBRARY_TTL_HOURS: i64 = 24;

/// What differs between routes that take tus uploads.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Stored with each upload: a route sees only uploads of its own kind.
    pub kind: &'static str,
    /// An upload expires this long after its creation or last PATCH.
    pub ttl: Duration,
    /// The largest `Upload-Length` taken (`Tus-Max-Size`).
    pub max_bytes: u64,
}

/// A file request's upload expires this long after its last PATCH (its slot comes back then).
pub const REQUEST_TTL_HOURS: i64 = 1;

impl Policy {
    /// `/r/{puid}/tus/`: uploads through file requests.
    pub fn request(max_bytes: u64) -> Policy {
        Policy {
            kind: "request",
            ttl: Duration::hours(REQUEST_TTL_HOURS),
            max_bytes,
        }
    }

    /// `/tus/`: the library of the caller's org.
    pub fn library(max_bytes: u64) -> Policy {
        Policy {
            kind: "library",
            ttl: Duration::hours(LIBRARY_TTL_HOURS),
            max_bytes,
        }
    }
}

/// A creation request, its metadata parsed.
#[derive(Debug, Clone)]
pub struct NewTus {
    pub length: u64,
    pub name: Name,
    pub filetype: Option<String>,
    pub folder: FolderRef,
    /// The `Upload-Metadata` header as sent, for HEAD to echo.
    pub metadata: String,
    /// Through a file request: it holds a slot of the request while it lives.
    pub request: Option<RequestUpload>,
}

/// The body of a creation request (creation-with-upload).
pub struct FirstChunk<S> {
    pub check: Option<Checksum>,
    /// Its Content-Length.
    pub declared: Option<u64>,
    pub body: S,
}

/// An upload as the protocol reports it.
#[derive(Debug, Clone)]
pub struct TusState {
    pub id: String,
    pub length: u64,
    pub offset: u64,
    pub expires_at: DateTime<Utc>,
    pub metadata: String,
    /// The library file, once the upload is complete.
    pub file_uuid: Option<String>,
}

impl From<&TusRow> for TusState {
    fn from(r: &TusRow) -> TusState {
        TusState {
            id: r.uuid.clone(),
            length: r.length as u64,
            offset: r.received as u64,
            expires_at: from_ts(r.expires_at),
            metadata: r.metadata.clone(),
            file_uuid: r.file_uuid.clone(),
        }
    }
}
