//! The Python venv of the SDK and mail tests: the published client SDKs and aiosmtpd, pinned in
//! tests/sdk/setup_venv.sh, beside the scripts of tests/sdk/ that they run.
//!
//! The venv is `$SHAREBOX_SDK_VENV` (relative to the repository), default `target/sdk-venv`. The
//! first use in a test process runs setup_venv.sh, which returns at once when the venv has
//! exactly its pins and else makes or repairs it; a test that needs the venv fails (never
//! skips) when that does not work.
//!
//! Uses `output`: include with `#[path = "support/output.rs"] mod output;` and
//! `#[path = "support/venv.rs"] mod venv;` (every shared module is included this way; see
//! support/common.rs).
#![allow(dead_code)]

use crate::output::text;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The venv, set up once per test process (the tests of one crate run in parallel threads).
pub fn sdk_venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(set_up).clone()
}

/// The venv's `bin/python`.
pub fn python() -> PathBuf {
    sdk_venv().join("bin").join("python")
}

/// A file of tests/sdk/: the scripts the venv's python runs.
pub fn sdk_file(name: &str) -> PathBuf {
    Path::new(MANIFEST_DIR).join("tests").join("sdk").join(name)
}

/// `python tests/sdk/<name>` with the venv's python, run in the repository. Loopback only: no
/// proxy may catch the script's requests to the server under test.
pub fn script(name: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(sdk_file(name))
        .current_dir(MANIFEST_DIR)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    cmd
}

fn set_up() -> PathBuf {
    let venv = match std::env::var_os("SHAREBOX_SDK_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(MANIFEST_DIR).join("target").join("sdk-venv"),
    };
    let venv = if venv.is_relative() {
        Path::new(MANIFEST_DIR).join(venv)
    } else {
        venv
    };
    let t0 = Instant::now();
    let o = Command::new("bash")
        .arg(sdk_file("setup_venv.sh"))
        .arg(&venv)
        .current_dir(MANIFEST_DIR)
        .output()
        .expect("run bash tests/sdk/setup_venv.sh");
    assert!(
        o.status.success(),
        "tests/sdk/setup_venv.sh {} failed; the SDK and mail tests need that venv \
         (or SHAREBOX_SDK_VENV pointing at a ready one)\n{}",
        venv.display(),
        text(&o)
    );
    // The script is silent when the venv was ready; it reports what it made or repaired.
    let said = String::from_utf8_lossy(&o.stderr);
    if !said.trim().is_empty() {
        eprintln!("{} ({:.1}s)", said.trim(), t0.elapsed().as_secs_f64());
    }
    assert!(
        venv.join("bin").join("python").exists(),
        "setup_venv.sh succeeded but {} has no bin/python",
        venv.display()
    );
    venv
}
