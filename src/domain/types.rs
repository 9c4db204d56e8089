//! Newtypes that cannot hold an invalid value: parse, don't validate.

use crate::error::AppError;
use std::fmt;

/// Paths the router owns; an org token may not shadow them.
pub const RESERVED_TOKENS: &[&str] = &[
    "s",
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

#[cfg(test)]
mod tests {
    use super::*;

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
