//! What a finished child process printed, for assertions and their messages.
//!
//! Include with `#[path = "support/output.rs"] mod output;` (every shared module is included
//! this way; see support/common.rs).
#![allow(dead_code)]

use std::process::Output;

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit status and both streams, labelled: the message of a failed run.
pub fn text(o: &Output) -> String {
    format!(
        "exit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
