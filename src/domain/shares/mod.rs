//! Shares: the one share service every dialect and page calls (create, read, list, update,
//! delete, notify), and `open`, which alone decides whether a visitor gets in.
//!
//! - model: `Share` and its parts as adapters read them;
//! - patch: a write (`SharePatch`), checked and applied;
//! - service: `ShareService` and its reads and writes;
//! - open: the gate for visitors, and counting views and downloads;
//! - tree: what an open share holds: its top level, one file, one page of a folder;
//! - walk: the whole share depth first, a batch at a time (the zip and the reader);
//! - zipplan: the zip's length, ETag and checkpoints from one pass, and its bytes from any offset;
//! - browse: the service's reads of an opened share;
//! - cache: opened shares and zip plans kept while nothing was written.

mod browse;
mod cache;
mod model;
mod open;
mod patch;
mod service;
mod tree;
mod walk;
mod zipplan;

pub use model::{
    share_uri, slug, Access, FolderOptions, Item, Member, Permission, Recipient, Share,
};
pub use open::{Denied, Opened, Visitor};
pub use patch::{
    apply_window, hash_new_password, ItemKind, ItemSpec, RecipientSpec, SharePatch, StatusChange,
    TimeValue, Times, TimesPatch, UserSpec,
};
pub use service::{parse_state, Activity, DayCount, ShareService};
pub use tree::{previewable, text_like, ListedFolder, Listing, Place, Top, TopFolder, TreeFile};
pub use walk::{Cursor, Event};
pub use zipplan::ZipPlan;

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
