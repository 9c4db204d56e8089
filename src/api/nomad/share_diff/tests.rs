//! The diff of a ShareModelBody against what a GET answers: lookups, JSON equality, items, errors.

use super::*;
use crate::api::nomad::share_model::{lookup, lookup_id, SCHEDULED, VIEW};
use crate::api::parse_json;
use crate::api::wire::Object;
use serde_json::{json, Value};

fn body(v: Value) -> Result<ShareModelBody, AppError> {
    parse_json::<Object<ShareModelBody>>(v.to_string().as_bytes()).map(|Object(b)| b)
}

/// The (field, message) of a 400.
fn invalid(e: AppError) -> (String, String) {
    match e {
        AppError::InvalidField { field, message } => (field.to_string(), message),
        other => panic!("not a 400 naming a field: {other:?}"),
    }
}

/// The 400 a body gets, when parsed or diffed against `c`.
fn rejected(v: Value, c: &Current) -> (String, String) {
    invalid(match body(v.clone()) {
        Err(e) => e,
        Ok(b) => diff(&b, c)
            .err()
            .unwrap_or_else(|| panic!("{v} was accepted")),
    })
}

fn lookup_in(v: Value) -> LookupIn {
    serde_json::from_value(v).unwrap()
}

/// A share's current fields, and its GET answer for them.
fn share() -> (Current, Value) {
    let c = Current {
        name: Some("N".into()),
        asset_id: Some("A".into()),
        shared_contents: vec!["A".into(), "B".into()],
        shared_duration: lookup(DURATIONS, 32),
        shared_duration_in_hours: Some(24),
        expiration_date: Some("2030-01-16T12:00:00Z".into()),
        shared_permissions: vec![lookup(PERMISSIONS, VIEW)],
        shared_type: lookup(TYPES, USER),
        shared_status: lookup(STATUSES, ACTIVE),
        nomad_users: vec![Lookup {
            id: "U1".into(),
            description: "u@x.test".into(),
        }],
        external_users: vec!["e@x.test".into()],
        password_protected: true,
        max_downloads: Some(5),
        state: Some(State::Active),
    };
    let answer = json!({
        "id": "S", "name": "N", "assetId": "A", "sharedContents": ["A", "B"],
        "sharedDuration": lookup(DURATIONS, 32), "sharedDurationInHours": 24,
        "expirationDate": "2030-01-16T12:00:00Z", "sharedPermissions": [lookup(PERMISSIONS, VIEW)],
        "sharedType": lookup(TYPES, USER), "sharedStatus": lookup(STATUSES, ACTIVE),
        "nomadUsers": [{"id": "U1", "description": "u@x.test"}], "externalUsers": ["e@x.test"],
        "passwordProtected": true, "maxDownloads": 5, "sharedLink": "http://x/s/p/n", "ownerId": null,
        "views": 1, "downloads": 2, "createdDate": "2030-01-15T12:00:00Z",
        "lastModifiedDate": "2030-01-15T12:00:00Z",
    });
    (c, answer)
}

fn unchanged(p: &SharePatch) -> bool {
    format!("{p:?}") == format!("{:?}", SharePatch::default())
}

#[test]
fn lookups_match_id_description_or_name() {
    let id = lookup_id(22);
    assert_eq!(id, "00000000-5b0c-4000-8000-000000000022");
    for v in [
        json!("Download"),
        json!("download"),
        json!(id),
        json!({"id": id}),
        json!({"description": "DOWNLOAD"}),
        json!({"name": "Download"}),
        json!({"id": "unknown", "description": "Download"}),
        json!({"id": 3, "name": "Download"}),
    ] {
        assert_eq!(
            pick("f", &lookup_in(v.clone()), PERMISSIONS).unwrap(),
            DOWNLOAD,
            "{v}"
        );
    }
    for v in [json!("Edit"), json!({}), json!({"id": 22})] {
        assert!(
            pick("f", &lookup_in(v.clone()), PERMISSIONS).is_err(),
            "{v}"
        );
    }
    for v in [json!(3), json!(null), json!([])] {
        assert!(
            serde_json::from_value::<LookupIn>(v.clone()).is_err(),
            "{v}"
        );
    }
}

#[test]
fn a_lookup_equals_the_answer_only_with_exactly_its_keys() {
    let l = lookup(PERMISSIONS, VIEW);
    let same = |v: Value| lookup_in(v).same(&l);
    assert!(same(json!({"id": l.id, "description": "View"})));
    assert!(!same(
        json!({"id": l.id, "description": "View", "name": "View"})
    ));
    assert!(!same(
        json!({"id": l.id, "description": "View", "extra": null})
    ));
    assert!(!same(json!({"id": l.id, "description": "view"})));
    assert!(!same(json!({"id": l.id})));
    assert!(!same(json!("View")));
    // Not equal, so read: an extra key makes `Custom` a write that does nothing, and
    // `Scheduled` one that fails unless the share is scheduled.
    let (c, _) = share();
    let b = body(
        json!({"sharedStatus": {"id": lookup_id(SCHEDULED), "description": "Scheduled", "x": 1}}),
    );
    assert!(diff(&b.unwrap(), &c).is_err());
}

#[test]
fn the_get_answer_sent_back_changes_nothing() {
    let (c, answer) = share();
    assert!(unchanged(
        &diff(&body(answer.clone()).unwrap(), &c).unwrap().patch
    ));
    let nulls: serde_json::Map<String, Value> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.clone(), Value::Null))
        .collect();
    assert!(unchanged(
        &diff(&body(Value::Object(nulls)).unwrap(), &c)
            .unwrap()
            .patch
    ));
    assert!(unchanged(
        &diff(&ShareModelBody::default(), &c).unwrap().patch
    ));
    // A user by email is another form: applied again.
    let p = diff(&body(json!({"nomadUsers": ["u@x.test"]})).unwrap(), &c).unwrap();
    assert_eq!(p.patch.users.map(|u| u.len()), Some(1));
}

#[test]
fn items_are_the_given_or_current_asset_then_contents() {
    let (c, _) = share();
    let ids = |v: Value| -> Option<Vec<(String, String)>> {
        let p = diff(&body(v).unwrap(), &c).unwrap().patch;
        p.items
            .map(|items| items.into_iter().map(|i| (i.field, i.id)).collect())
    };
    let pair = |f: &str, id: &str| (f.to_string(), id.to_string());
    assert_eq!(
        ids(json!({"assetId": "A", "sharedContents": ["A", "B"]})),
        None
    );
    assert_eq!(
        ids(json!({"assetId": "C"})),
        Some(vec![
            pair("assetId", "C"),
            pair("sharedContents[0]", "A"),
            pair("sharedContents[1]", "B")
        ])
    );
    assert_eq!(
        ids(json!({"sharedContents": [{"id": "D"}]})),
        Some(vec![pair("assetId", "A"), pair("sharedContents[0]", "D")])
    );
    // Create: `[]` is the default, so no items.
    let p = diff(
        &body(json!({"sharedContents": []})).unwrap(),
        &Current::defaults(),
    )
    .unwrap();
    assert!(p.patch.items.is_none());
}

#[test]
fn wrong_kinds_name_their_field() {
    let (c, _) = share();
    // `id` is read by POST only (PUT ignores it, whatever it is).
    let b = body(json!({"id": 5})).unwrap();
    assert_eq!(
        b.id,
        Some(Given::Wrong(
            "must be a share's id or null, not a number".into()
        ))
    );
    assert!(unchanged(&diff(&b, &c).unwrap().patch));
    for (v, field, msg) in [
        (
            json!({"name": ["x"]}),
            "name",
            "must be a string, not an array",
        ),
        (
            json!({"assetId": 5}),
            "assetId",
            "must be a uuid string, not a number",
        ),
        (json!({"assetId": {}}), "assetId", "give the asset's \"id\""),
        (
            json!({"sharedContents": "A"}),
            "sharedContents",
            "must be an array, not a string",
        ),
        (
            json!({"sharedContents": [{}, 7]}),
            "sharedContents[0]",
            "give the asset's \"id\"",
        ),
        (
            json!({"sharedContents": ["A", 7]}),
            "sharedContents[1]",
            "must be a uuid string, not a number",
        ),
        (
            json!({"sharedType": 2}),
            "sharedType",
            "must be a lookup object or a string, not a number",
        ),
        (
            json!({"sharedPermissions": 5}),
            "sharedPermissions[0]",
            "must be a lookup object or a string, not a number",
        ),
        (
            json!({"sharedPermissions": ["Edit", 5]}),
            "sharedPermissions[0]",
            "use one of: View, Download",
        ),
        (
            json!({"sharedPermissions": []}),
            "sharedPermissions",
            "give [View] or [View, Download]",
        ),
        (
            json!({"expirationDate": 5}),
            "expirationDate",
            "must be a date string, not a number",
        ),
        (
            json!({"sharedDurationInHours": "5"}),
            "sharedDurationInHours",
            "must be a whole number of hours, 1 to 87600",
        ),
        (
            json!({"sharedDurationInHours": 0}),
            "sharedDurationInHours",
            "must be a whole number of hours, 1 to 87600",
        ),
        (
            json!({"nomadUsers": "x"}),
            "nomadUsers",
            "must be an array, not a string",
        ),
        (
            json!({"nomadUsers": [{}, 5]}),
            "nomadUsers[0]",
            "give the user's \"id\" or \"email\"",
        ),
        (
            json!({"externalUsers": ["a@x.test", true]}),
            "externalUsers[1]",
            "must be an email string or an object, not a boolean",
        ),
        (
            json!({"password": 5}),
            "password",
            "must be a string, not a number",
        ),
        (
            json!({"passwordProtected": "yes"}),
            "passwordProtected",
            "must be true or false, not a string",
        ),
        (
            json!({"maxDownloads": "3"}),
            "maxDownloads",
            "must be an integer, not a string",
        ),
        (
            json!({"maxDownloads": 1.5}),
            "maxDownloads",
            "must be an integer, not a number",
        ),
        (json!([1]), "body", "must be a JSON object, not an array"),
    ] {
        assert_eq!(
            rejected(v.clone(), &c),
            (field.to_string(), msg.to_string()),
            "{v}"
        );
    }
}

#[test]
fn expiry_password_and_limit() {
    let (c, _) = share();
    let p = diff(&body(json!({"expirationDate": "2030-01-16T12:00:00Z", "sharedDurationInHours": 5, "sharedDuration": "Never"})).unwrap(), &c).unwrap();
    assert_eq!(p.expiry_field, "sharedDurationInHours");
    let p = diff(&body(json!({"sharedDuration": "never"})).unwrap(), &c).unwrap();
    assert_eq!(
        (p.expiry_field, format!("{:?}", p.patch.expires_at)),
        ("sharedDuration", "Some(None)".into())
    );
    let p = diff(&body(json!({"passwordProtected": false})).unwrap(), &c).unwrap();
    assert_eq!(p.patch.password, Some(None));
    let p = diff(
        &body(json!({"password": "pw", "passwordProtected": false})).unwrap(),
        &c,
    )
    .unwrap();
    assert_eq!(p.patch.password, Some(Some("pw".into())));
    let p = diff(
        &body(json!({"password": ""})).unwrap(),
        &Current::defaults(),
    )
    .unwrap();
    assert_eq!(p.patch.password, Some(None));
    let e = diff(
        &body(json!({"passwordProtected": true, "password": ""})).unwrap(),
        &Current::defaults(),
    );
    assert_eq!(invalid(e.err().unwrap()).0, "passwordProtected");
    let p = diff(&body(json!({"maxDownloads": 0})).unwrap(), &c).unwrap();
    assert_eq!(p.patch.max_downloads, Some(None));
    let p = diff(&body(json!({"maxDownloads": 5})).unwrap(), &c).unwrap();
    assert_eq!(p.patch.max_downloads, None);
}
