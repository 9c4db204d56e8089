//! Unit tests of the share body: the path and message of each wrong field (as the hand parser
//! before the DTOs gave them), and the forms and defaults it accepts.

use super::*;
use crate::api::parse_json;
use crate::api::wire::Object;
use crate::domain::shares::TimeValue;

fn patch(body: &str, update: bool) -> Result<SharePatch, AppError> {
    parse_json::<Object<ShareBody>>(body.as_bytes()).and_then(|Object(b)| b.into_patch(update))
}

fn error(body: &str, update: bool) -> (String, String) {
    match patch(body, update) {
        Err(AppError::InvalidField { field, message }) => (field.to_string(), message),
        other => panic!("{body}: {other:?}"),
    }
}

const FOLDER: &str = r#"{"type": "folder_uuid", "identifiers": ["a"], "options": "#;
const PERMISSIONS: &str = "use \"READ\", \"READ+DOWNLOAD\", [\"view\"] or [\"view\",\"download\"]";
const NOT_EMAIL: &str =
    "'x' is not an email address (like name@example.com, at most 254 characters)";

#[test]
fn a_wrong_field_is_named_with_its_path() {
    let cases: &[(&str, &str, &str)] = &[
        ("[1]", "body", "must be a JSON object, not an array"),
        (r#"{"title": null}"#, "title", "must be a string, not null"),
        (
            r#"{"description": 5}"#,
            "description",
            "must be a string or null, not a number",
        ),
        (r#"{"items": null}"#, "items", "must be an array, not null"),
        (
            r#"{"items": [5]}"#,
            "items[0]",
            "must be an object, not a number",
        ),
        (
            r#"{"items": [["file_uuid", ["a"]]]}"#,
            "items[0]",
            "must be an object, not an array",
        ),
        (
            r#"{"items": [{"identifiers": ["a"]}]}"#,
            "items[0].type",
            ITEM_TYPES,
        ),
        (
            r#"{"items": [{"type": 5, "identifiers": ["a"]}]}"#,
            "items[0].type",
            ITEM_TYPES,
        ),
        (
            r#"{"items": [{"type": "file_uuid"}]}"#,
            "items[0].identifiers",
            "`identifiers` is required",
        ),
        (
            r#"{"items": [{"type": "file_uuid", "identifiers": []}]}"#,
            "items[0].identifiers",
            "needs at least one uuid",
        ),
        (
            r#"{"items": [{"type": "file_uuid", "identifiers": null}]}"#,
            "items[0].identifiers",
            "must be an array, not null",
        ),
        (
            r#"{"items": [{"type": "file_uuid", "identifiers": ["a"]}, {"type": "file_uuid", "identifiers": [1]}]}"#,
            "items[1].identifiers[0]",
            "must be a uuid string, not a number",
        ),
        (
            &format!("{{\"items\": [{FOLDER}5}}]}}"),
            "items[0].options",
            "must be an object, not a number",
        ),
        (
            &format!("{{\"items\": [{FOLDER}[]}}]}}"),
            "items[0].options",
            "must be an object, not an array",
        ),
        (
            &format!("{{\"items\": [{FOLDER}{{\"recursive\": 1}}}}]}}"),
            "items[0].options.recursive",
            "must be true or false, not a number",
        ),
        (
            &format!("{{\"items\": [{FOLDER}{{\"visibility\": true}}}}]}}"),
            "items[0].options.visibility",
            "must be a string, not a boolean",
        ),
        (
            &format!("{{\"items\": [{FOLDER}{{\"visibility\": \"ALL\"}}}}]}}"),
            "items[0].options.visibility",
            "must be \"PUB\", \"ORG\" or \"PUB,ORG\"",
        ),
        (
            r#"{"starts_at": 5}"#,
            "starts_at",
            "must be a string or null, not a number",
        ),
        (
            r#"{"expires_tz": []}"#,
            "expires_tz",
            "must be a string or null, not an array",
        ),
        (
            r#"{"show_starts_at": "yes"}"#,
            "show_starts_at",
            "must be true or false, not a string",
        ),
        (
            r#"{"auth": "secret"}"#,
            "auth",
            "must be an object or an array, not a string",
        ),
        (
            r#"{"auth": {"pass": 5}}"#,
            "auth.pass",
            "must be a string, not a number",
        ),
        (
            r#"{"auth": [5]}"#,
            "auth[0]",
            "must be an object, not a number",
        ),
        (
            r#"{"auth": [{"pass": []}]}"#,
            "auth[0].pass",
            "must be a string, not an array",
        ),
        (r#"{"permissions": "WRITE"}"#, "permissions", PERMISSIONS),
        (r#"{"permissions": []}"#, "permissions", PERMISSIONS),
        (
            r#"{"permissions": ["view", "edit"]}"#,
            "permissions",
            PERMISSIONS,
        ),
        (r#"{"permissions": 5}"#, "permissions", PERMISSIONS),
        (
            r#"{"max_downloads": "5"}"#,
            "max_downloads",
            "must be an integer or null, not a string",
        ),
        (
            r#"{"max_downloads": 5.5}"#,
            "max_downloads",
            "must be an integer or null, not a number",
        ),
        (
            r#"{"access": "public"}"#,
            "access",
            "must be \"link\" or \"users\"",
        ),
        (
            r#"{"access": 5}"#,
            "access",
            "must be a string, not a number",
        ),
        (r#"{"users": 5}"#, "users", "must be an array, not a number"),
        (
            r#"{"users": ["u", true]}"#,
            "users[1]",
            "must be an object or a string, not a boolean",
        ),
        (
            r#"{"users": [{"uuid": 5}]}"#,
            "users[0]",
            "give the user's \"uuid\" or \"email\"",
        ),
        (
            r#"{"recipients": {}}"#,
            "recipients",
            "must be an array, not an object",
        ),
        (
            r#"{"recipients": [5]}"#,
            "recipients[0]",
            "must be an object or an email string, not a number",
        ),
        (r#"{"recipients": ["x"]}"#, "recipients[0]", NOT_EMAIL),
        (
            r#"{"recipients": [{"email": "x"}]}"#,
            "recipients[0].email",
            NOT_EMAIL,
        ),
        (
            r#"{"recipients": [{"name": "N"}]}"#,
            "recipients[0].email",
            "`email` is required",
        ),
        (
            r#"{"recipients": ["a@x.test", "b@x.test", {"email": "c@x.test", "name": 5}]}"#,
            "recipients[2].name",
            "must be a string, not a number",
        ),
        (
            r#"{"message": false}"#,
            "message",
            "must be a string or null, not a boolean",
        ),
    ];
    for (body, field, message) in cases {
        for update in [false, true] {
            assert_eq!(
                error(body, update),
                (field.to_string(), message.to_string()),
                "{body}"
            );
        }
    }
    let status = "only \"revoked\" (revoke) or \"active\" (restore) can be set";
    for body in [r#"{"status": "expired"}"#, r#"{"status": 5}"#] {
        assert_eq!(
            error(body, true),
            ("status".into(), status.into()),
            "{body}"
        );
        assert!(
            patch(body, false).is_ok_and(|p| p.status.is_none()),
            "{body}"
        );
    }
}

#[test]
fn forms_and_defaults() {
    let p = patch("{}", true).unwrap();
    assert!(p.title.is_none() && p.items.is_none() && p.password.is_none());
    let p = patch(
        r#"{"description": null, "starts_at": "", "expires_at": null, "starts_tz": null,
            "show_starts_at": null, "auth": null, "permissions": null, "max_downloads": null,
            "access": null, "users": null, "recipients": null, "message": null, "status": null,
            "token": 5}"#,
        true,
    )
    .unwrap();
    assert_eq!(p.description.as_deref(), Some(""));
    // A blank date goes to the domain as written (which refuses it); null means none.
    assert!(matches!(&p.starts_at, Some(Some(TimeValue::Raw(s))) if s.is_empty()));
    assert!(matches!(p.expires_at, Some(None)));
    assert_eq!(p.starts_tz, Some(None));
    assert_eq!(
        (p.show_starts_at, p.permission, p.access),
        (None, None, None)
    );
    assert_eq!(
        (p.password, p.max_downloads, p.message),
        (Some(None), Some(None), Some(None))
    );
    assert!(p.users.is_some_and(|u| u.is_empty()) && p.recipients.is_some_and(|r| r.is_empty()));
    assert_eq!(p.status, None);
    for auth in [
        r#"{}"#,
        "[]",
        r#"{"pass": ""}"#,
        r#"{"pass": null}"#,
        r#"[{"pass": ""}]"#,
    ] {
        let p = patch(&format!("{{\"auth\": {auth}}}"), false).unwrap();
        assert_eq!(p.password, Some(None), "{auth}");
    }
    let p = patch(r#"{"auth": [{"pass": "pw", "user": "u"}, 5]}"#, false).unwrap();
    assert_eq!(p.password, Some(Some("pw".into())));
    for (perm, want) in [
        (r#""read""#, Permission::View),
        (r#""Read+Download""#, Permission::Download),
        (r#"["VIEW"]"#, Permission::View),
        (r#"["download"]"#, Permission::Download),
    ] {
        let p = patch(&format!("{{\"permissions\": {perm}}}"), false).unwrap();
        assert_eq!(p.permission, Some(want), "{perm}");
    }
    let p = patch(
        r#"{"access": "USERS", "users": ["a", {"uuid": "b", "email": "x"}, {"uuid": 5, "email": "c"}],
            "recipients": ["a@x.test", {"email": "b@x.test", "name": null}], "status": "revoked"}"#,
        true,
    )
    .unwrap();
    assert_eq!(p.access, Some(Access::Users));
    let users: Vec<_> = p
        .users
        .unwrap()
        .into_iter()
        .map(|u| (u.key, u.field))
        .collect();
    assert_eq!(users[1], ("b".to_string(), "users[1]".to_string()));
    assert_eq!(users[2].0, "c");
    assert_eq!(p.recipients.map(|r| r.len()), Some(2));
    assert_eq!(p.status, Some(StatusChange::Revoke));
    // A file's options are ignored, whatever they are; a folder's default to all, flat.
    let p = patch(
        r#"{"items": [{"type": "file_uuid", "identifiers": ["f"], "options": 5},
                      {"type": "folder_uuid", "identifiers": ["d", "e"], "options": null},
                      {"type": "folder_uuid", "identifiers": ["g"], "options": {"recursive": true, "visibility": "org"}}]}"#,
        false,
    )
    .unwrap();
    let items: Vec<_> = p
        .items
        .unwrap()
        .into_iter()
        .map(|i| (i.kind, i.id, i.field, i.recursive, i.visibility))
        .collect();
    assert_eq!(
        items,
        [
            (
                ItemKind::File,
                "f".into(),
                "items[0].identifiers[0]".into(),
                false,
                FolderVisibility::All
            ),
            (
                ItemKind::Folder,
                "d".into(),
                "items[1].identifiers[0]".into(),
                false,
                FolderVisibility::All
            ),
            (
                ItemKind::Folder,
                "e".into(),
                "items[1].identifiers[1]".into(),
                false,
                FolderVisibility::All
            ),
            (
                ItemKind::Folder,
                "g".into(),
                "items[2].identifiers[0]".into(),
                true,
                FolderVisibility::Org
            ),
        ]
    );
}
