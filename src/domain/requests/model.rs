//! A file request as the APIs and pages show it, its state, and the fields of a write.

use crate::db::requests::{self as q, RequestRow};
use crate::db::{from_ts, ts};
use crate::domain::shares::{slug, StatusChange, TimeValue};
use crate::domain::types::{split_extension, NAME_MAX};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;

pub const TITLE_MAX: usize = 255;
pub const MESSAGE_MAX: usize = 5000;
/// At most this many allowed extensions and notify addresses.
pub const LIST_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Revoked,
    Expired,
    Full,
    Scheduled,
    Active,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Revoked => "revoked",
            RequestState::Expired => "expired",
            RequestState::Full => "full",
            RequestState::Scheduled => "scheduled",
            RequestState::Active => "active",
        }
    }

    /// Files can be sent (and removed by their uploader).
    pub fn is_open(self) -> bool {
        self == RequestState::Active
    }
}

/// As shares: revoked, expired (now >= expires_at), full (finished files fill `max_files`),
/// scheduled (now < starts_at), active.
pub fn state_at(row: &RequestRow, files: i64, now: i64) -> RequestState {
    if row.revoked {
        RequestState::Revoked
    } else if row.expires_at.is_some_and(|e| now >= e) {
        RequestState::Expired
    } else if row.max_files.is_some_and(|m| files >= m) {
        RequestState::Full
    } else if row.starts_at.is_some_and(|s| now < s) {
        RequestState::Scheduled
    } else {
        RequestState::Active
    }
}

/// A request with its counts and state at the moment it was read.
#[derive(Debug, Clone)]
pub struct Request {
    pub uuid: String,
    pub puid: String,
    pub title: String,
    pub message: String,
    /// The target folder (None once it was deleted).
    pub folder_uuid: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub password_protected: bool,
    pub max_files: Option<i64>,
    pub max_file_bytes: Option<i64>,
    pub max_total_bytes: Option<i64>,
    pub extensions: Vec<String>,
    pub notify: bool,
    pub notify_emails: Vec<String>,
    pub state: RequestState,
    pub files: i64,
    pub bytes: i64,
    pub uploaders: i64,
    pub slug: String,
    pub request_uri: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The stored row (password hash, ids).
    pub row: RequestRow,
}

fn list_of(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads what a request shows besides its row: counts and folder.
pub fn load(c: &Connection, row: RequestRow, base: &str, now: i64) -> Result<Request, AppError> {
    let (files, bytes, uploaders) = q::counts(c, row.id)?;
    let folder_uuid = match row.folder_id {
        Some(id) => q::folder_uuid(c, id)?,
        None => None,
    };
    let slug = slug(&row.title);
    Ok(Request {
        uuid: row.uuid.clone(),
        puid: row.puid.clone(),
        title: row.title.clone(),
        message: row.message.clone(),
        folder_uuid,
        starts_at: row.starts_at.map(from_ts),
        expires_at: row.expires_at.map(from_ts),
        starts_tz: row.starts_tz.clone(),
        expires_tz: row.expires_tz.clone(),
        password_protected: row.password_hash.is_some(),
        max_files: row.max_files,
        max_file_bytes: row.max_file_bytes,
        max_total_bytes: row.max_total_bytes,
        extensions: list_of(&row.extensions),
        notify: row.notify,
        notify_emails: list_of(&row.notify_emails),
        state: state_at(&row, files, now),
        files,
        bytes,
        uploaders,
        request_uri: format!("{base}/r/{}/{slug}", row.puid),
        slug,
        created_at: from_ts(row.created_at),
        updated_at: from_ts(row.updated_at),
        row,
    })
}

impl Request {
    /// Whether `name`'s extension is one the request takes (any, when it names none).
    pub fn takes_extension(&self, name: &str) -> bool {
        self.extensions.is_empty()
            || split_extension(name)
                .1
                .is_some_and(|e| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
    }

    /// The 400 for a file whose extension the request does not take.
    pub fn extension_refused(&self, name: &str) -> AppError {
        AppError::invalid(
            "filename",
            format!(
                "'{name}': this request takes only {} files",
                self.extensions.join(", ")
            ),
        )
    }

    pub fn state_now(&self, now: DateTime<Utc>) -> RequestState {
        state_at(&self.row, self.files, ts(now))
    }
}

/// A write to a request: None = leave as is; `Some(None)` = remove. Create starts from the
/// defaults.
#[derive(Debug, Clone, Default)]
pub struct RequestPatch {
    pub title: Option<String>,
    pub message: Option<String>,
    pub folder_uuid: Option<Option<String>>,
    pub starts_at: Option<Option<TimeValue>>,
    pub expires_at: Option<Option<TimeValue>>,
    pub starts_tz: Option<Option<String>>,
    pub expires_tz: Option<Option<String>>,
    pub password: Option<Option<String>>,
    pub max_files: Option<Option<i64>>,
    pub max_file_bytes: Option<Option<i64>>,
    pub max_total_bytes: Option<Option<i64>>,
    pub extensions: Option<Vec<String>>,
    pub notify: Option<bool>,
    pub notify_emails: Option<Vec<String>>,
    pub status: Option<StatusChange>,
}

/// A name an uploader sent, made safe to keep: path separators, control and bidirectional
/// formatting characters become `_`, surrounding dots and spaces go, at most 255 characters
/// (the extension kept), `file` when nothing is left. Never refused: a stranger's odd name
/// is still their file.
pub fn sanitize_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' | '\u{feff}');
            if c == '/' || c == '\\' || c.is_control() || bidi {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    if name.chars().count() <= NAME_MAX {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let ext = ext.filter(|e| e.chars().count() <= 16);
    let keep = NAME_MAX - ext.map_or(0, |e| e.chars().count() + 1);
    let stem: String = stem.chars().take(keep).collect();
    match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem,
    }
}

/// The default target folder's name: the title with `/` and control characters replaced.
pub fn folder_name(title: &str) -> String {
    let n: String = title
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    let n = n.trim();
    match n {
        "" | "." | ".." => "Request".to_string(),
        _ => n.chars().take(NAME_MAX - 8).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_made_safe() {
        assert_eq!(sanitize_name("../x"), "_x");
        assert_eq!(sanitize_name("a\0b.txt"), "a_b.txt");
        assert_eq!(sanitize_name("invoice\u{202e}fdp.exe"), "invoice_fdp.exe");
        assert_eq!(sanitize_name("..."), "file");
        assert_eq!(sanitize_name(" report.pdf "), "report.pdf");
        let long = format!("{}.pdf", "x".repeat(300));
        let s = sanitize_name(&long);
        assert_eq!(s.chars().count(), NAME_MAX);
        assert!(s.ends_with("x.pdf"));
        assert!(crate::domain::types::Name::parse("n", &s).is_ok());
        assert_eq!(folder_name("Q3 / invoices"), "Q3 _ invoices");
    }
}
