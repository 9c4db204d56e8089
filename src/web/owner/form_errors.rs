//! What is wrong with a posted form: one message per form field, each shown beside its field,
//! all at once. The form's own parse errors are collected field by field before any service is
//! called; a service's error (it stops at its first) is put beside the field it names. No
//! message carries API wording such as "or null" or a backquoted field name.

use crate::error::{AppError, Field};
use std::collections::HashMap;

/// Form field -> message; the first message of a field is the one shown.
#[derive(Debug, Default)]
pub struct FormErrors(HashMap<String, String>);

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_map(self) -> HashMap<String, String> {
        self.0
    }

    /// `message` beside `field`, unless that field already has one.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| form_words(&message.into()));
    }

    /// A title: required, at most `max` characters; `what` is "share", "request"...
    pub fn check_title(&mut self, title: &str, what: &str, max: usize) {
        match title.chars().count() {
            0 => self.add("title", format!("Give the {what} a title.")),
            n if n > max => self.add(
                "title",
                format!("A title has at most {max} characters; this one has {n}."),
            ),
            _ => {}
        }
    }

    /// The value of a parser's answer; its field error noted beside its field.
    pub fn take<T>(&mut self, parsed: Result<T, AppError>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(AppError::InvalidField { field, message }) => {
                self.add(&form_field(&field), message);
                None
            }
            Err(other) => {
                self.add("form", other.message());
                None
            }
        }
    }

    /// A service's field error, beside the form field it names; None for any other error.
    pub fn of_service(e: &AppError) -> Option<FormErrors> {
        match e {
            AppError::InvalidField { field, message } => {
                let mut errors = FormErrors::default();
                errors.add(&form_field(field), message.as_str());
                Some(errors)
            }
            _ => None,
        }
    }
}

/// Which form field an error belongs beside: an entry of a list (`items[2]`) beside its list;
/// the share service's own fields beside the input of the same name (the form names its inputs
/// with the service's neutral names, `Field`'s `Display`: `password`, `expires_at`, ...).
pub fn form_field(field: &Field) -> String {
    match field {
        Field::Named(path) => path.split(['[', '.']).next().unwrap_or(path).to_string(),
        other => other.to_string(),
    }
}

/// A message in the form's words: what an API client sends as null is an empty field here, and
/// field names lose the API's backquotes.
pub fn form_words(message: &str) -> String {
    message
        .replace("or null", "or empty")
        .replace(", null ", ", empty ")
        .replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_speak_the_forms_words() {
        assert_eq!(
            form_words("must be 1 to 1000000, or null for no limit"),
            "must be 1 to 1000000, or empty for no limit"
        );
        assert_eq!(form_words("`title` is required"), "title is required");
        assert_eq!(
            form_words("'x' is not an email address (like name@example.com)"),
            "'x' is not an email address (like name@example.com)"
        );
        let mut errors = FormErrors::default();
        errors.add("title", "first");
        errors.add("title", "second");
        assert!(errors.take(Ok::<_, AppError>(1)).is_some());
        assert!(errors
            .take::<()>(Err(AppError::invalid("recipients[3]", "no")))
            .is_none());
        let map = errors.into_map();
        assert_eq!(map["title"], "first");
        assert_eq!(map["recipients"], "no");
    }
}
