//! Keyset pages of a folder listing (folders first, then files, each by name), as the owner's
//! library and the public share pages show them: a page starts after (or ends before) the last
//! entry seen, so the last page costs what the first does, whatever the folder holds.

/// Entries per page.
pub const PAGE_SIZE: usize = 200;

/// A place in a listing: folders sort before files, each kind by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub file: bool,
    pub name: String,
}

impl Key {
    /// `d:<name>` or `f:<name>`, as links carry it.
    pub fn parse(raw: &str) -> Option<Key> {
        let (kind, name) = raw.split_once(':')?;
        let file = match kind {
            "d" => false,
            "f" => true,
            _ => return None,
        };
        Some(Key {
            file,
            name: name.to_string(),
        })
    }

    pub fn encode(&self) -> String {
        format!("{}:{}", if self.file { "f" } else { "d" }, self.name)
    }
}

/// Which page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seek {
    #[default]
    First,
    After(Key),
    Before(Key),
}

/// What one kind's query is asked for: up to `limit` entries by name, ascending after `after`
/// (all when None), or descending before `before` (from the last when None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    After(Option<String>),
    Before(Option<String>),
}

/// One page of a listing, in listing order.
#[derive(Debug, Clone)]
pub struct Window<D, F> {
    pub folders: Vec<D>,
    pub files: Vec<F>,
    pub has_prev: bool,
    pub has_next: bool,
}

impl<D, F> Window<D, F> {
    pub fn len(&self) -> usize {
        self.folders.len() + self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Assembles the page `seek` names from the two kinds' queries, asking each for at most one
/// more than it needs (to know whether more follow): at most two indexed range reads.
pub fn window<D, F, E>(
    seek: &Seek,
    size: usize,
    mut folders: impl FnMut(Bound, usize) -> Result<Vec<D>, E>,
    mut files: impl FnMut(Bound, usize) -> Result<Vec<F>, E>,
) -> Result<Window<D, F>, E> {
    let (mut ds, mut fs) = (Vec::new(), Vec::new());
    let (mut has_prev, mut has_next) = (false, false);
    match seek {
        Seek::First | Seek::After(_) => {
            has_prev = matches!(seek, Seek::After(_));
            let file_after = match seek {
                Seek::After(k) if k.file => Some(k.name.clone()),
                _ => {
                    let after = match seek {
                        Seek::After(k) => Some(k.name.clone()),
                        _ => None,
                    };
                    ds = folders(Bound::After(after), size + 1)?;
                    None
                }
            };
            if ds.len() > size {
                ds.truncate(size);
                has_next = true;
            } else {
                let left = size - ds.len();
                fs = files(Bound::After(file_after), left + 1)?;
                if fs.len() > left {
                    fs.truncate(left);
                    has_next = true;
                }
            }
        }
        Seek::Before(k) => {
            has_next = true;
            let folder_before = if k.file {
                fs = files(Bound::Before(Some(k.name.clone())), size + 1)?;
                None
            } else {
                Some(k.name.clone())
            };
            if fs.len() > size {
                fs.truncate(size);
                has_prev = true;
            } else {
                let left = size - fs.len();
                ds = folders(Bound::Before(folder_before), left + 1)?;
                if ds.len() > left {
                    ds.truncate(left);
                    has_prev = true;
                }
            }
            ds.reverse();
            fs.reverse();
        }
    }
    Ok(Window {
        folders: ds,
        files: fs,
        has_prev,
        has_next,
    })
}

/// The links and the label of a page: `at` is the position of its first entry (carried by the
/// links, so no query counts the entries before it; a wrong one only mislabels the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// "1-200 of 50,000".
    pub label: String,
    /// Query strings (without `?`) for the previous and next pages, the caller's own
    /// parameters first.
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Where the page `seek` starts, read from a link's `at` (0 for the first page).
pub fn position(seek: &Seek, at: Option<&str>, total: u64) -> u64 {
    match seek {
        Seek::First => 0,
        _ => at
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(0)
            .min(total),
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The pager of a page whose first entry is at `at` of `total`, with its first and last keys
/// (`ends`, none when the page is empty).
/// `base` is the query string every link keeps (e.g. `folder=<uuid>&q=x`), already encoded.
pub fn pager(
    base: &str,
    at: u64,
    total: u64,
    len: usize,
    ends: Option<(&Key, &Key)>,
    has_prev: bool,
    has_next: bool,
) -> Pager {
    let len = len as u64;
    // A page reached backwards may have no entry before it although `at` says otherwise.
    let at = if has_prev { at } else { 0 };
    let label = if len == 0 {
        format!("0 of {}", thousands(total))
    } else {
        format!(
            "{}\u{2013}{} of {}",
            thousands(at + 1),
            thousands(at + len),
            thousands(total.max(at + len))
        )
    };
    let sep = if base.is_empty() { "" } else { "&" };
    let link = |dir: &str, key: &Key, at: u64| {
        format!(
            "{base}{sep}{dir}={}&at={at}",
            percent_encoding::utf8_percent_encode(
                &key.encode(),
                percent_encoding::NON_ALPHANUMERIC
            )
        )
    };
    Pager {
        label,
        prev: ends
            .filter(|_| has_prev)
            .map(|(k, _)| link("before", k, at.saturating_sub(PAGE_SIZE as u64))),
        next: ends
            .filter(|_| has_next)
            .map(|(_, k)| link("after", k, at + len)),
    }
}

/// The page a request names: `after=` or `before=` (an unreadable key is the first page).
pub fn seek(after: Option<&str>, before: Option<&str>) -> Seek {
    if let Some(k) = after.and_then(Key::parse) {
        return Seek::After(k);
    }
    if let Some(k) = before.and_then(Key::parse) {
        return Seek::Before(k);
    }
    Seek::First
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of `d` folders and `f` files named by number, queried like SQLite would.
    fn listing(d: usize, f: usize, seek: &Seek, size: usize) -> Window<String, String> {
        let names = |prefix: &str, n: usize| -> Vec<String> {
            (0..n).map(|i| format!("{prefix}{i:05}")).collect()
        };
        let query = |all: Vec<String>| {
            move |b: Bound, limit: usize| -> Result<Vec<String>, ()> {
                Ok(match b {
                    Bound::After(a) => all
                        .iter()
                        .filter(|n| a.as_ref().is_none_or(|a| *n > a))
                        .take(limit)
                        .cloned()
                        .collect(),
                    Bound::Before(a) => all
                        .iter()
                        .rev()
                        .filter(|n| a.as_ref().is_none_or(|a| *n < a))
                        .take(limit)
                        .cloned()
                        .collect(),
                })
            }
        };
        window(seek, size, query(names("d", d)), query(names("f", f))).unwrap()
    }

    fn keys(w: &Window<String, String>) -> Vec<Key> {
        let d = w.folders.iter().map(|n| Key {
            file: false,
            name: n.clone(),
        });
        let f = w.files.iter().map(|n| Key {
            file: true,
            name: n.clone(),
        });
        d.chain(f).collect()
    }

    #[test]
    fn walks_forward_and_back_over_the_folder_file_seam() {
        let mut seen = Vec::new();
        let mut seek = Seek::First;
        let mut pages = Vec::new();
        loop {
            let w = listing(5, 12, &seek, 4);
            let k = keys(&w);
            seen.extend(k.clone());
            pages.push(k.clone());
            if !w.has_next {
                break;
            }
            seek = Seek::After(k[k.len() - 1].clone());
        }
        assert_eq!(seen.len(), 17);
        assert!(seen.windows(2).all(|p| p[0] < p[1]), "in listing order");
        assert_eq!(pages.len(), 5);
        // Back from the last page, page by page, to the first.
        for i in (0..pages.len() - 1).rev() {
            let w = listing(5, 12, &Seek::Before(pages[i + 1][0].clone()), 4);
            assert_eq!(keys(&w), pages[i]);
            assert_eq!(w.has_prev, i > 0);
            assert!(w.has_next);
        }
    }

    #[test]
    fn pager_labels_and_links() {
        let k = |n: &str| Key {
            file: true,
            name: n.into(),
        };
        let p = pager(
            "folder=u",
            200,
            50_000,
            200,
            Some((&k("a b"), &k("z"))),
            true,
            true,
        );
        assert_eq!(p.label, "201\u{2013}400 of 50,000");
        assert_eq!(p.next.as_deref(), Some("folder=u&after=f%3Az&at=400"));
        assert_eq!(p.prev.as_deref(), Some("folder=u&before=f%3Aa%20b&at=0"));
        let first = pager("", 0, 3, 3, Some((&k("a"), &k("c"))), false, false);
        assert_eq!(
            (first.label.as_str(), first.prev, first.next),
            ("1\u{2013}3 of 3", None, None)
        );
        assert_eq!(seek(Some("f:x:y"), None), Seek::After(k("x:y")));
        assert_eq!(seek(Some("q:x"), None), Seek::First);
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
