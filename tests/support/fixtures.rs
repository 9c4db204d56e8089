//! The request bodies real clients send, kept in this repository under `tests/fixtures/` (its
//! README.md says what each one is), read with their `{{placeholders}}` filled. The project's
//! originals are in `../shared/fixtures/`; `check_copies` compares the two when that folder is
//! there, and no test reads anything outside the repository.
//!
//! Include with `#[path = "support/fixtures.rs"] mod fixtures;` (every shared module is included
//! this way; see support/common.rs).
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every fixture the tests read. `fixture` reads no other name, so a new fixture is listed here
/// (and copied into tests/fixtures/) before a test can use it.
pub const FIXTURES: &[&str] = &[
    "filerobot-create-seed.json",
    "filerobot-create-widget-file.json",
    "filerobot-create-widget-folder.json",
    "nomad-asset-share.json",
    "nomad-share-create.json",
    "nomad-share-update.json",
];

/// `tests/fixtures/` of this repository.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// `../shared/fixtures/` beside the repository: the originals, when the project is checked out
/// with its shared folder.
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("fixtures")
}

/// A fixture of tests/fixtures/ with its `{{placeholders}}` filled.
pub fn fixture(name: &str, fill: &[(&str, &str)]) -> Value {
    assert!(
        FIXTURES.contains(&name),
        "{name} is not listed in FIXTURES (tests/support/fixtures.rs)"
    );
    let path = dir().join(name);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (k, v) in fill {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Every fixture the tests read is in tests/fixtures/; and when `../shared/fixtures/` exists,
/// every file of tests/fixtures/ that is also there is byte-identical to it. Without
/// `../shared` (a lone clone) only the first half can be checked, which it says on stderr.
pub fn check_copies() {
    let ours = dir();
    for name in FIXTURES {
        assert!(
            ours.join(name).is_file(),
            "tests/fixtures/{name} is missing, and a test reads it"
        );
    }
    let shared = shared_dir();
    if !shared.is_dir() {
        eprintln!(
            "{} does not exist: tests/fixtures/ is not compared with the shared fixtures",
            shared.display()
        );
        return;
    }
    let mut names: Vec<_> = std::fs::read_dir(&ours)
        .unwrap_or_else(|e| panic!("{}: {e}", ours.display()))
        .map(|e| e.expect("dir entry").file_name())
        .collect();
    names.sort();
    let mut same = Vec::new();
    for name in names {
        let theirs = shared.join(&name);
        if !theirs.is_file() {
            continue;
        }
        let mine = std::fs::read(ours.join(&name)).expect("read our copy");
        let original =
            std::fs::read(&theirs).unwrap_or_else(|e| panic!("{}: {e}", theirs.display()));
        let name = name.to_string_lossy().into_owned();
        assert!(
            mine == original,
            "tests/fixtures/{name} differs from {}: copy it again",
            theirs.display()
        );
        same.push(name);
    }
    eprintln!(
        "tests/fixtures/ matches {} byte for byte: {}",
        shared.display(),
        same.join(", ")
    );
}
