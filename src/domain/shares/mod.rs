//! Shares: the one share service every dialect and page calls (create, read, list, update,
//! delete, notify), and `open`, which alone decides whether a visitor gets in.
//!
//! - model: `Share` and its parts as adapters read them;
//! - patch: a write (`SharePatch`), checked and applied;
//! - service: `ShareService` and its reads and writes;
//! - open: the gate for visitors, and counting views and downloads;
//! - tree: what an open share holds, level by level;
//! - cache: opened shares kept while nothing was written.

mod cache;
mod model;
mod open;
mod patch;
mod service;
mod tree;

pub use model::{
    share_uri, slug, Access, FolderOptions, Item, Member, Permission, Recipient, Share,
};
pub use open::{Denied, Opened, Visitor};
pub use patch::{ItemKind, ItemSpec, RecipientSpec, SharePatch, StatusChange, TimeValue, UserSpec};
pub use service::{parse_state, Activity, ShareService};
pub use tree::{previewable, Tree, TreeFile, TreeFolder};

use crate::error::AppError;

pub const TITLE_MAX: usize = 200;
pub const TEXT_MAX: usize = 2000;
pub const SHARE_PASSWORD_MAX: usize = 200;
pub const MAX_DOWNLOADS_MAX: i64 = 1_000_000;
pub const RECIPIENTS_MAX: usize = 50;
pub const SLUG_MAX: usize = 80;
pub const USER_AGENT_MAX: usize = 256;

fn share_not_found() -> AppError {
    AppError::not_found("The share")
}
