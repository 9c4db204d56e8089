//! One mail per outbox row: text and HTML parts from askama templates, typed headers (so a CR
//! or LF in a name or title can never start a header of its own), never the password.

use crate::domain::shares::{Access, Share};
use crate::error::AppError;
use askama::Template;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;

#[derive(Template)]
#[template(path = "mail/share.txt", escape = "none")]
struct Text<'a> {
    greeting: &'a str,
    sender: &'a str,
    title: &'a str,
    description: &'a str,
    message: Option<&'a str>,
    link: &'a str,
    validity: &'a [String],
    password: bool,
    users_only: bool,
}

#[derive(Template)]
#[template(path = "mail/share.html")]
struct Html<'a> {
    greeting: &'a str,
    sender: &'a str,
    title: &'a str,
    description: &'a str,
    message: Option<&'a str>,
    link: &'a str,
    validity: &'a [String],
    password: bool,
    users_only: bool,
}

/// Control characters (CR, LF, tabs...) become spaces in one-line values.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The mail for `to` about `share`, from `from`; `sender` is who shared it.
pub fn share_mail(
    share: &Share,
    sender: &str,
    from: &str,
    to_email: &str,
    to_name: Option<&str>,
) -> Result<Message, AppError> {
    let bad = |e: &dyn std::fmt::Display| AppError::internal(format!("mail: {e}"));
    let from: Mailbox = from.parse().map_err(|e| bad(&e))?;
    let address = to_email.parse().map_err(|e| bad(&e))?;
    let name = to_name.map(one_line).filter(|n| !n.is_empty());
    let to = Mailbox::new(name.clone(), address);
    let title = one_line(&share.title);
    let greeting = match &name {
        Some(n) => format!("Hello {n},"),
        None => "Hello,".into(),
    };
    let validity = share.shown_dates();
    let (password, users_only) = (share.password_protected(), share.access == Access::Users);
    let message = share.message.as_deref();
    let text = Text {
        greeting: &greeting,
        sender,
        title: &title,
        description: &share.description,
        message,
        link: &share.share_uri,
        validity: &validity,
        password,
        users_only,
    }
    .render()
    .map_err(|e| bad(&e))?;
    let html = Html {
        greeting: &greeting,
        sender,
        title: &title,
        description: &share.description,
        message,
        link: &share.share_uri,
        validity: &validity,
        password,
        users_only,
    }
    .render()
    .map_err(|e| bad(&e))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(format!("{} shared “{title}” with you", one_line(sender)))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| bad(&e))
}

#[derive(Template)]
#[template(path = "mail/password.txt", escape = "none")]
struct PasswordText<'a> {
    email: &'a str,
    org: &'a str,
    link: &'a str,
    new_user: bool,
}

/// The mail with a set-password link (plain text only: one link, nothing to lay out).
pub fn password_mail(
    from: &str,
    to_email: &str,
    org: &str,
    link: &str,
    new_user: bool,
) -> Result<Message, AppError> {
    let bad = |e: &dyn std::fmt::Display| AppError::internal(format!("mail: {e}"));
    let from: Mailbox = from.parse().map_err(|e| bad(&e))?;
    let to = Mailbox::new(None, to_email.parse().map_err(|e| bad(&e))?);
    let text = PasswordText {
        email: to_email,
        org,
        link,
        new_user,
    }
    .render()
    .map_err(|e| bad(&e))?;
    let subject = if new_user {
        "Your Sharebox account: choose your password"
    } else {
        "Sharebox: choose a new password"
    };
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| bad(&e))
}

/// The owner's mail about files that came through a file request (plain text: a list).
pub fn request_mail(
    from: &str,
    to_email: &str,
    title: &str,
    files: &[crate::db::requests::SentFile],
    folder_link: &str,
) -> Result<Message, AppError> {
    let bad = |e: &dyn std::fmt::Display| AppError::internal(format!("mail: {e}"));
    let from: Mailbox = from.parse().map_err(|e| bad(&e))?;
    let to = Mailbox::new(None, to_email.parse().map_err(|e| bad(&e))?);
    let title = one_line(title);
    let mut text = format!("New files came through your file request \u{201c}{title}\u{201d}:\n\n");
    for f in files {
        let who = match (&f.uploader_name, &f.uploader_email) {
            (Some(n), Some(e)) => format!("{} <{}>", one_line(n), one_line(e)),
            (Some(n), None) => one_line(n),
            (None, Some(e)) => one_line(e),
            (None, None) => "someone who left no name".to_string(),
        };
        text.push_str(&format!(
            "- {} ({}) from {who}{}\n",
            one_line(&f.name),
            crate::web::size_label(f.size.max(0) as u64),
            if f.removed_at.is_some() || f.file_id.is_none() {
                " (removed since)"
            } else {
                ""
            }
        ));
        if let Some(note) = f.note.as_deref().map(one_line).filter(|n| !n.is_empty()) {
            text.push_str(&format!("  Note: {note}\n"));
        }
    }
    text.push_str(&format!("\nThey are in your library: {folder_link}\n"));
    let subject = format!(
        "{} new file{} in \u{201c}{title}\u{201d}",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| bad(&e))
}
