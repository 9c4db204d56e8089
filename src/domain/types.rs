//! Newtypes that cannot hold an invalid value: parse, don't validate.

use crate::error::{AppError, Field};
use std::fmt;

/// Paths the router owns; an org token may not shadow them.
pub const RESERVED_TOKENS: &[&str] = &[
    "s",
    "r",
    "tus",
    "api",
    "app",
    "static",
    "login",
    "logout",
    "healthz",
    "metrics",
    "openapi.json",
];
pub const ORG_TOKEN_MAX: usize = 32;

/// An org's token: `^[a-z0-9][a-z0-9-]{1,31}$`, not a reserved word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgToken(String);

impl OrgToken {
    pub fn parse(raw: &str) -> Result<OrgToken, AppError> {
        let ok_len = (2..=ORG_TOKEN_MAX).contains(&raw.len());
        let mut chars = raw.chars();
        let ok_first = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !(ok_len && ok_first && ok_rest) {
            return Err(AppError::invalid(
                "token",
                format!(
                    "'{raw}' is not a valid org token: use 2 to {ORG_TOKEN_MAX} characters a-z, 0-9 \
                     and '-', starting with a letter or digit"
                ),
            ));
        }
        if RESERVED_TOKENS.contains(&raw) {
            return Err(AppError::invalid(
                "token",
                format!("'{raw}' is a reserved word and cannot be an org token"),
            ));
        }
        Ok(OrgToken(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const EMAIL_MAX: usize = 254;

/// An email address as users type it: one `@`, something on both sides, no spaces or
/// control characters. Stored as given; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Email, AppError> {
        let s = raw.trim();
        let valid = s.len() <= EMAIL_MAX
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if !valid {
            return Err(AppError::invalid(
                field,
                format!("'{raw}' is not an email address (like name@example.com, at most {EMAIL_MAX} characters)"),
            ));
        }
        Ok(Email(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 200;

/// A user's new password (account passwords; share passwords have their own rule).
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(field: &str, raw: &str) -> Result<NewPassword, AppError> {
        let n = raw.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Err(AppError::invalid(
                field,
                format!("a password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
            ));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

pub const NAME_MAX: usize = 255;

/// A file or folder display name: 1..255 characters, no `/`, no control characters, not `.`
/// or `..`. Never a path on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Name, AppError> {
        let n = raw.chars().count();
        let problem = if n == 0 {
            Some("a name cannot be empty".to_string())
        } else if n > NAME_MAX {
            Some(format!("a name has at most {NAME_MAX} characters"))
        } else if raw.contains('/') {
            Some("a name cannot contain '/'".into())
        } else if raw.chars().any(char::is_control) {
            Some("a name cannot contain control characters".into())
        } else if raw == "." || raw == ".." {
            Some(format!("'{raw}' cannot be a name"))
        } else {
            None
        };
        match problem {
            Some(p) => Err(AppError::invalid(
                field,
                format!("'{}': {p}", raw.escape_debug()),
            )),
            None => Ok(Name(raw.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `stem (n).ext`: the n-th candidate for a taken name (n >= 2).
    pub fn numbered(&self, n: u32) -> Name {
        let (stem, ext) = split_extension(&self.0);
        Name(match ext {
            Some(ext) => format!("{stem} ({n}).{ext}"),
            None => format!("{stem} ({n})"),
        })
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// (stem, extension) at the last dot; a leading dot alone (`.bashrc`) is no extension.
pub fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    }
}

/// The lower-case extension of a name, `""` if none.
pub fn extension_of(name: &str) -> String {
    split_extension(name).1.unwrap_or("").to_lowercase()
}

/// 1024-based with two decimals (`65.87 KB`); plain bytes below 1 KB (`512 B`).
pub fn pretty_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// A folder path: `/`-separated names, empty segments dropped (`//a/b/` = `/a/b`); no segments
/// is the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderPath(Vec<Name>);

/// The deepest a folder may sit (levels below the root). A change to a folder's contents climbs
/// to the root through one SQLite trigger per level (schema version 10), and SQLite stops at
/// 1000; no real library comes near this.
pub const MAX_DEPTH: usize = 200;

/// The 400 for a folder that would sit deeper than [`MAX_DEPTH`].
pub fn too_deep(field: &str) -> AppError {
    AppError::invalid(
        field,
        format!("folders nest at most {MAX_DEPTH} levels deep"),
    )
}

impl FolderPath {
    pub fn parse(field: &str, raw: &str) -> Result<FolderPath, AppError> {
        let path = raw
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| Name::parse(field, s))
            .collect::<Result<Vec<_>, _>>()?;
        if path.len() > MAX_DEPTH {
            return Err(too_deep(field));
        }
        Ok(FolderPath(path))
    }

    pub fn segments(&self) -> &[Name] {
        &self.0
    }
}

/// A file's label for folder shares' filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Pub,
    Org,
}

impl Visibility {
    pub fn parse(field: &str, raw: &str) -> Result<Visibility, AppError> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "PUB" => Ok(Visibility::Pub),
            "ORG" => Ok(Visibility::Org),
            _ => Err(AppError::invalid(
                field,
                format!("'{raw}' is not a visibility: use PUB or ORG"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Pub => "PUB",
            Visibility::Org => "ORG",
        }
    }
}

/// Which files of a shared folder the share shows, by the files' own visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderVisibility {
    Pub,
    Org,
    /// Both: every file.
    All,
}

impl FolderVisibility {
    /// `PUB`, `ORG` or `PUB,ORG` (`ORG,PUB` too), in any letter case and spacing; nothing else.
    pub fn parse(field: impl Into<Field>, raw: &str) -> Result<FolderVisibility, AppError> {
        let norm: Vec<String> = raw
            .to_ascii_uppercase()
            .split(',')
            .map(|p| p.trim().to_string())
            .collect();
        match norm
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["PUB"] => Ok(FolderVisibility::Pub),
            ["ORG"] => Ok(FolderVisibility::Org),
            ["PUB", "ORG"] | ["ORG", "PUB"] => Ok(FolderVisibility::All),
            _ => Err(AppError::invalid(
                field,
                "must be \"PUB\", \"ORG\" or \"PUB,ORG\"",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FolderVisibility::Pub => "PUB",
            FolderVisibility::Org => "ORG",
            FolderVisibility::All => "PUB,ORG",
        }
    }

    /// Whether a file of visibility `file` (`PUB` or `ORG`) shows.
    pub fn shows(self, file: &str) -> bool {
        match self {
            FolderVisibility::Pub => file == "PUB",
            FolderVisibility::Org => file == "ORG",
            FolderVisibility::All => file == "PUB" || file == "ORG",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_visibilities() {
        for (raw, want) in [
            ("PUB", FolderVisibility::Pub),
            ("org", FolderVisibility::Org),
            ("pub, org", FolderVisibility::All),
            ("ORG,PUB", FolderVisibility::All),
        ] {
            assert_eq!(FolderVisibility::parse("v", raw).unwrap(), want, "{raw}");
        }
        for raw in ["", "PUBLIC", "PUB,ORG,PUB", "PUB;ORG", "ORG,"] {
            assert!(FolderVisibility::parse("v", raw).is_err(), "{raw}");
        }
        assert!(FolderVisibility::All.shows("PUB") && !FolderVisibility::Pub.shows("ORG"));
    }

    #[test]
    fn names_and_paths() {
        for ok in ["a", "x.txt", "...", "a b", &"é".repeat(255)] {
            assert!(Name::parse("n", ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\nb", "a\u{7f}", &"x".repeat(256)] {
            assert!(Name::parse("n", bad).is_err(), "{bad:?}");
        }
        let p = FolderPath::parse("folder", "//a/b/").unwrap();
        assert_eq!(
            p.segments().iter().map(Name::as_str).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(FolderPath::parse("folder", "/")
            .unwrap()
            .segments()
            .is_empty());
        assert!(FolderPath::parse("folder", "a/../b").is_err());
        let n = Name::parse("n", "x.txt").unwrap();
        assert_eq!(n.numbered(2).as_str(), "x (2).txt");
        assert_eq!(
            Name::parse("n", "README").unwrap().numbered(3).as_str(),
            "README (3)"
        );
        assert_eq!(
            Name::parse("n", ".env").unwrap().numbered(2).as_str(),
            ".env (2)"
        );
        assert_eq!(extension_of("Photo.JPG"), "jpg");
        assert_eq!(extension_of("a.tar.gz"), "gz");
        assert_eq!(extension_of(".bashrc"), "");
        assert_eq!(extension_of("trailing."), "");
        assert_eq!(pretty_size(0), "0 B");
        assert_eq!(pretty_size(1500), "1.46 KB");
        assert_eq!(pretty_size(67_451), "65.87 KB");
        assert_eq!(pretty_size(256 * 1024 * 1024), "256.00 MB");
    }

    #[test]
    fn org_tokens() {
        for ok in ["ab", "default", "acme-2", "0x", &"a".repeat(32)] {
            assert!(OrgToken::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "-ab",
            "Acme",
            "a_b",
            "a b",
            "",
            &"a".repeat(33),
            "api",
            "s",
            "openapi.json",
            "healthz",
        ] {
            assert!(OrgToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("e", " a@b.c ").unwrap().as_str(), "a@b.c");
        assert!(Email::parse("e", "admin@localhost").is_ok());
        for bad in ["", "a", "@b", "a@", "a@b@c", "a b@c", "a@b\r\nBcc: x@y"] {
            assert!(Email::parse("e", bad).is_err(), "{bad}");
        }
    }
}
