//! The whole of a share, depth first, a batch at a time: the zip and the sharebox reader read
//! it this way. A `Cursor` is where a walk stands (the top level's position, and per open
//! folder the last names read): small, cloneable and free of rows, so a walk holds no list and
//! no connection between batches, and can start again from any cursor kept earlier.
//!
//! Order, at every level: the files by name, then each folder by name with what it holds.

use super::tree::{file_in, folder_name_in, shown, Top, TreeFile};
use super::FolderOptions;
use crate::db::shared as sq;
use crate::domain::paging::Bound;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;

#[derive(Debug, Clone)]
struct Frame {
    id: i64,
    options: FolderOptions,
    /// The folder's path in the walk, `a/b/`.
    dir: String,
    /// The last file read; None before the first.
    file_after: Option<String>,
    files_done: bool,
    /// The last sub-folder entered.
    folder_after: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Cursor {
    top_files: usize,
    top_folders: usize,
    stack: Vec<Frame>,
    done: bool,
}

impl Cursor {
    pub fn is_done(&self) -> bool {
        self.done
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    /// A folder opens (its shown name); its files and folders follow, then `Leave`.
    Enter(String),
    /// A file, with its path from the top (`a/b/x.txt`, shown names).
    File {
        path: String,
        file: TreeFile,
    },
    Leave,
}

impl Frame {
    fn new(id: i64, options: FolderOptions, dir: String) -> Frame {
        Frame {
            id,
            options,
            dir,
            file_after: None,
            files_done: false,
            folder_after: None,
        }
    }
}

/// Up to `files` file events from `cur` on (and the folder events around them, at most
/// `4 * files + 4` events in all), advancing `cur`. Empty only when the walk is done.
pub fn step(
    c: &Connection,
    top: &Top,
    cur: &mut Cursor,
    files: usize,
) -> Result<Vec<Event>, AppError> {
    let mut out = Vec::new();
    let mut taken = 0;
    let cap = 4 * files + 4;
    while taken < files && out.len() < cap && !cur.done {
        let Some(fr) = cur.stack.last_mut() else {
            if let Some(f) = top.files.get(cur.top_files) {
                cur.top_files += 1;
                taken += 1;
                out.push(Event::File {
                    path: f.name.clone(),
                    file: f.clone(),
                });
            } else if let Some(f) = top.folders.get(cur.top_folders) {
                cur.top_folders += 1;
                cur.stack
                    .push(Frame::new(f.id, f.options, format!("{}/", f.name)));
                out.push(Event::Enter(f.name.clone()));
            } else {
                cur.done = true;
            }
            continue;
        };
        let vis = shown(fr.options.visibility);
        if !fr.files_done {
            let want = files - taken;
            let range = Bound::After(fr.file_after.clone());
            let rows = sq::files_in(c, fr.id, vis, fr.options.recursive, &range, None, want)?;
            fr.files_done = rows.len() < want;
            for r in rows {
                fr.file_after = Some(r.name.clone());
                let file = file_in(c, r, fr.options)?;
                taken += 1;
                out.push(Event::File {
                    path: format!("{}{}", fr.dir, file.name),
                    file,
                });
            }
            continue;
        }
        let next = if fr.options.recursive {
            let range = Bound::After(fr.folder_after.clone());
            sq::folders_in(c, fr.id, vis, &range, None, 1)?.pop()
        } else {
            None
        };
        match next {
            None => {
                cur.stack.pop();
                out.push(Event::Leave);
            }
            Some(sub) => {
                fr.folder_after = Some(sub.name.clone());
                let name = folder_name_in(c, &sub, fr.options)?;
                let frame = Frame::new(sub.id, fr.options, format!("{}{name}/", fr.dir));
                cur.stack.push(frame);
                out.push(Event::Enter(name));
            }
        }
    }
    Ok(out)
}
