//! File requests (API.md "File requests"): a link through which people outside the org upload
//! files into one of its folders, within limits the server holds atomically.
//!
//! - `service`: the owner's side (create, read, list, update, revoke, restore, delete).
//! - `visit`: the public side (state, password gate, uploader cookie, own files, uploads).
//! - `notify`: the batched mail to the owner about new files.
//!
//! Limits: a tus upload takes a file slot and its declared bytes when it is created, in the
//! transaction that records it (`reserve`); the slot comes back when the upload is terminated
//! or expires. A finished file keeps its slot while it stays in the library.

mod model;
mod notify;
mod service;
mod visit;

/// A file that came through a request, as its uploader and the owner see it.
pub use crate::db::requests::SentFile;
pub use model::{
    sanitize_name, Request, RequestPatch, RequestState, LIST_MAX, MESSAGE_MAX, TITLE_MAX,
};
pub use notify::{deliver, MailOutcome};
pub use service::RequestService;
pub use visit::{Gate, Uploader, UPLOADER_DAYS};

use crate::db::assets::FileRow;
use crate::db::requests as q;
use crate::db::tus::RequestUpload;
use crate::domain::assets::AfterStore;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;

fn full() -> AppError {
    AppError::RequestFull("This request takes no more files.".into())
}

/// Takes a file slot and `length` bytes of request `request_id` for a new upload, or refuses:
/// 409 `REQUEST_FULL` without a slot, 413 `TOO_LARGE` over a byte limit. Runs in the
/// transaction that records the upload, so parallel uploads cannot pass the limits together.
pub fn reserve(c: &Connection, request_id: i64, length: i64, now: i64) -> Result<(), AppError> {
    let row = q::by_id(c, request_id)?.ok_or_else(|| AppError::not_found("The request"))?;
    let (files, bytes, _) = q::counts(c, request_id)?;
    let (uploads, reserved) = q::reserved(c, request_id, now)?;
    check_limits(&row, files + uploads, bytes + reserved, length)
}

/// Whether one more file of `length` bytes fits next to `taken` slots and `used` bytes.
fn check_limits(row: &q::RequestRow, taken: i64, used: i64, length: i64) -> Result<(), AppError> {
    if let Some(max) = row.max_file_bytes.filter(|m| length > *m) {
        return Err(AppError::TooLarge {
            limit: u64::try_from(max).unwrap_or(0),
        });
    }
    if row.max_files.is_some_and(|m| taken >= m) {
        return Err(full());
    }
    if let Some(max) = row.max_total_bytes.filter(|m| used + length > *m) {
        return Err(AppError::TooLarge {
            limit: u64::try_from(max - used).unwrap_or(0),
        });
    }
    Ok(())
}

/// Records files that came through a request, in the transaction that puts them in the
/// library: who sent them and their note, and the owner's mail queued. `check` re-checks the
/// limits first (an upload without a reservation: the plain form).
pub fn record_landing(r: RequestUpload, now: i64) -> AfterStore {
    landing(r, now, false)
}

fn landing(r: RequestUpload, now: i64, check: bool) -> AfterStore {
    Box::new(move |tx: &Connection, rows: &[FileRow]| {
        let row = q::by_id(tx, r.request_id)?.ok_or_else(|| AppError::not_found("The request"))?;
        for f in rows {
            if check {
                let (files, bytes, _) = q::counts(tx, r.request_id)?;
                let (uploads, reserved) = q::reserved(tx, r.request_id, now)?;
                check_limits(&row, files + uploads, bytes + reserved, f.size)?;
            }
            q::insert_file(
                tx,
                &q::NewSentFile {
                    request_id: r.request_id,
                    uploader_id: r.uploader_id,
                    file_id: f.id,
                    name: &f.name,
                    size: f.size,
                    note: r.note.as_deref(),
                    now,
                },
            )?;
        }
        notify::queue(tx, &row, now)
    })
}
