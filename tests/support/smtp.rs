//! A real SMTP server for the mail tests: Python's aiosmtpd (tests/sdk/smtp_sink.py, from the
//! test venv) on a loopback port, writing each mail it accepts to a directory.
//!
//! Include with `#[path = "support/smtp.rs"] mod smtp;` beside `venv` and `output` (it uses
//! `venv`, which uses `output`).
#![allow(dead_code)]

use crate::venv;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on `port`, writing what it accepts to `dir`.
pub struct Smtp {
    child: Child,
    dir: PathBuf,
}

impl Smtp {
    pub fn start(port: u16, dir: &Path, mode: &str) -> Smtp {
        let mut child = venv::script("smtp_sink.py")
            .arg(port.to_string())
            .arg(dir)
            .arg(mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Smtp {
            child,
            dir: dir.to_path_buf(),
        }
    }

    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
