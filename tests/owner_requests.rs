//! Issue 20 (in part), the owner's pages for file requests through the real app: the form
//! (its CSRF token required, its errors all at once beside their fields, never the password
//! echoed), the request's page with a one-line confirmation after each action (create,
//! revoke, restore, delete), and what came through it: the uploader's name and note.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;

fn notice(html: &str) -> Option<String> {
    let start = html.find("<p class=\"notice-ok\" role=\"status\">")?;
    let rest = &html[start..];
    let open = rest.find('>')? + 1;
    Some(rest[open..rest.find("</p>")?].to_string())
}

/// How many requests the org has, by the API.
async fn request_count(app: &TestApp) -> i64 {
    let r = app.call(app.fr("GET", "/v5/requests")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["total"].as_i64().unwrap()
}

/// A request as the API shows it.
async fn request_json(app: &TestApp, uuid: &str) -> serde_json::Value {
    let r = app
        .call(app.fr("GET", &format!("/v5/requests/{uuid}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["request"].clone()
}

/// POSTs `path` with the session's token and follows the redirect; the confirmation there.
async fn act(app: &TestApp, s: &Session, path: &str) -> (String, Option<String>) {
    let r = post_form(app, Some(s), path, &[("csrf_token", s.csrf.as_str())]).await;
    assert_eq!(r.status, 303, "{path}: {}", r.text());
    let to = r.header("location").unwrap().to_string();
    let page = get_as(app, s, &to).await;
    assert_eq!(page.status, 200, "{to}");
    (to, notice(&page.text()))
}

#[actix_web::test]
async fn the_owner_makes_watches_revokes_and_deletes_a_request() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = s.unwrap();

    let form = get_as(&app, &s, "/app/requests/new").await;
    assert_eq!(form.status, 200);
    let html = form.text();
    assert!(html.contains("<a href=\"/app/requests\" aria-current=\"page\">Requests</a>"));
    assert!(
        html.contains("name=\"notify\" value=\"1\" checked"),
        "on by default"
    );

    let fields = [
        ("title", "Q3 <invoices>"),
        ("message", "PDFs please"),
        ("password", "open sesame"),
        ("max_files", "5"),
        ("max_file_mib", "2"),
        ("max_total_mib", "0.5"),
        ("extensions", "pdf, .TXT"),
        ("notify", "1"),
        ("notify_emails", "books@acme.test"),
        ("expires_in", "7d"),
    ];

    // Without the form token: 403, and nothing made.
    let forged = post_form(&app, Some(&s), "/app/requests", &fields).await;
    assert_eq!(forged.status, 403);
    assert_eq!(request_count(&app).await, 0);

    // Every error at once, each beside its field; the password never comes back.
    let mut bad = vec![("csrf_token", s.csrf.as_str())];
    bad.extend_from_slice(&fields);
    bad.extend_from_slice(&[
        ("title", "  "),
        ("max_file_mib", "lots"),
        ("extensions", "p-d-f"),
        ("notify_emails", "nope"),
    ]);
    let r = post_form(&app, Some(&s), "/app/requests", &bad).await;
    assert_eq!(r.status, 400);
    let html = r.text();
    assert!(html.contains("4 fields need a look"), "{html}");
    assert!(
        html.contains("<p class=\"field-error\" id=\"error-title\">Give the request a title.</p>")
    );
    assert!(html.contains("id=\"error-max_file_mib\">A size in MiB above 0"));
    assert!(html.contains("id=\"error-extensions\">&#39;p-d-f&#39; is not a file extension"));
    assert!(html.contains("id=\"error-notify_emails\">"));
    assert!(html.contains("value=\"PDFs please\"") || html.contains(">PDFs please</textarea>"));
    assert!(!html.contains("open sesame"), "a password is never echoed");
    // A folder path that is not there is named too.
    let mut nowhere = vec![("csrf_token", s.csrf.as_str())];
    nowhere.extend_from_slice(&fields);
    nowhere.push(("folder_path", "/No/Such"));
    let r = post_form(&app, Some(&s), "/app/requests", &nowhere).await;
    assert_eq!(r.status, 400);
    assert!(r
        .text()
        .contains("id=\"error-folder_path\">There is no folder"));
    assert_eq!(request_count(&app).await, 0);

    // Created: its page, which says so.
    let mut good = vec![("csrf_token", s.csrf.as_str())];
    good.extend_from_slice(&fields);
    let r = post_form(&app, Some(&s), "/app/requests", &good).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.header("location").unwrap().to_string();
    assert!(to.ends_with("?done=created"), "{to}");
    let uuid = to
        .trim_start_matches("/app/requests/")
        .trim_end_matches("?done=created")
        .to_string();
    let api = app
        .call(app.fr("GET", &format!("/v5/requests/{uuid}")))
        .await
        .json()["request"]
        .clone();
    assert_eq!(api["max_file_bytes"], 2 * 1024 * 1024);
    assert_eq!(api["max_total_bytes"], 512 * 1024);
    assert_eq!(api["max_files"], 5);
    assert_eq!(api["password_protected"], true);
    assert_eq!(api["extensions"], serde_json::json!(["pdf", "txt"]));
    assert_eq!(api["notify_emails"], serde_json::json!(["books@acme.test"]));
    assert!(api["expires_at"].is_string(), "{api}");
    let folder = api["folder_uuid"].as_str().unwrap().to_string();

    let page = get_as(&app, &s, &to).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert_eq!(
        notice(&html).as_deref(),
        Some("Request “Q3 &#60;invoices&#62;” created: send its link to whoever should upload.")
    );
    let link = api["request_uri"].as_str().unwrap();
    assert!(html.contains(&format!("data-copy=\"{link}\"")));
    assert!(html.contains(&format!(
        "<a href=\"/app?folder_uuid={folder}\">/Requests/Q3 &#60;invoices&#62;</a>"
    )));
    assert!(html.contains("<li>Up to 5 files in all (5 left).</li>"));
    assert!(html.contains("<li>Each file up to 2 MiB (and the server&#39;s upload limit).</li>"));
    assert!(html.contains("<li>Only pdf, txt files.</li>"));
    assert!(html.contains("Nothing yet."));
    assert!(!html.contains("open sesame"));

    // The list: a card with its title, state, counts and password yes.
    let list = get_as(&app, &s, "/app/requests").await.text();
    assert!(list.contains(&format!(
        "<a href=\"/app/requests/{uuid}\">Q3 &#60;invoices&#62;</a>"
    )));
    assert!(list.contains("<span class=\"badge active\">active</span>"));
    assert!(list.contains("Password: yes"));
    assert!(list.contains("0 files, 0 bytes · 0 uploaders"));

    // A stranger sends a file through the plain form, with a name and a note.
    let puid = api["puid"].as_str().unwrap();
    let path = link.trim_start_matches("http://sharebox.test");
    let unlock = app
        .call(
            request("POST", &format!("/r/{puid}/unlock"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("password=open+sesame"),
        )
        .await;
    assert_eq!(unlock.status, 303);
    let cookie = cookie_pair(set_cookie(&unlock, "sb_uploader").unwrap());
    let public = app
        .call(request("GET", path).insert_header(("cookie", cookie.clone())))
        .await;
    let csrf = hidden(&public.text(), "csrf_token");
    let body = multipart(&[
        ("name", None, None, b"Ann <Uploader>"),
        ("email", None, None, b"ann@example.com"),
        ("note", None, None, b"for the audit"),
        (
            "file",
            Some("q3.pdf"),
            Some("application/pdf"),
            b"%PDF-1.4 q3",
        ),
    ]);
    let sent = app
        .call(
            request("POST", &format!("/r/{puid}/upload?csrf_token={csrf}"))
                .insert_header(("cookie", cookie))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(body),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text());

    let html = get_as(&app, &s, &format!("/app/requests/{uuid}"))
        .await
        .text();
    assert!(html.contains(">q3.pdf</a>"), "{html}");
    assert!(html.contains(
        "From <span class=\"uploader\">Ann &#60;Uploader&#62; &#60;ann@example.com&#62;</span>"
    ));
    assert!(html.contains("<p class=\"description note\">for the audit</p>"));
    assert!(html.contains("1 file, 11 bytes from 1 uploader"));
    let list = get_as(&app, &s, "/app/requests").await.text();
    assert!(list.contains("1 file, 11 bytes · 1 uploader"));

    // The library's folder offers a request into it: the form comes with its path filled in.
    let lib = get_as(&app, &s, &format!("/app?folder_uuid={folder}"))
        .await
        .text();
    assert!(lib.contains(&format!(
        "href=\"/app/requests/new?folder_uuid={folder}\">Request files here</a>"
    )));
    let pre = get_as(&app, &s, &format!("/app/requests/new?folder_uuid={folder}")).await;
    assert!(pre
        .text()
        .contains("name=\"folder_path\" type=\"text\" value=\"/Requests/Q3 &#60;invoices&#62;\""));

    // Revoke, restore, delete: each says what it did.
    let detail = format!("/app/requests/{uuid}");
    let (to, said) = act(&app, &s, &format!("{detail}/revoke")).await;
    assert_eq!(to, format!("{detail}?done=revoked"));
    assert_eq!(
        said.as_deref(),
        Some("Request “Q3 &#60;invoices&#62;” revoked: its link no longer takes files.")
    );
    let html = get_as(&app, &s, &detail).await.text();
    assert!(html.contains("<span class=\"badge revoked\">revoked</span>"));
    assert!(html.contains(&format!("action=\"{detail}/restore\"")));
    assert_eq!(app.call(request("GET", path)).await.status, 404);
    let (_, said) = act(&app, &s, &format!("{detail}/restore")).await;
    assert_eq!(
        said.as_deref(),
        Some("Request “Q3 &#60;invoices&#62;” restored.")
    );
    // The delete's confirmation page, then the delete; the file stays in the library.
    let confirm = get_as(&app, &s, &format!("{detail}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm
        .text()
        .contains(&format!("action=\"{detail}/delete\"")));
    let unconfirmed = post_form(&app, Some(&s), &format!("{detail}/delete"), &[]).await;
    assert_eq!(unconfirmed.status, 403);
    let (to, said) = act(&app, &s, &format!("{detail}/delete")).await;
    assert_eq!(to, "/app/requests?done=deleted");
    assert_eq!(
        said.as_deref(),
        Some("The request was deleted; the files it brought stay in the library.")
    );
    assert_eq!(request_count(&app).await, 0);
    assert_eq!(get_as(&app, &s, &detail).await.status, 404);
    let files = app
        .call(app.fr("GET", &format!("/v4/files?folder_uuid={folder}")))
        .await
        .json();
    assert_eq!(files["files"][0]["name"], "q3.pdf", "{files}");
}

#[actix_web::test]
async fn the_target_folder_comes_from_the_list_or_a_path() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = s.unwrap();
    let clients = app.mkdir("/Clients").await;
    let acme = app.mkdir("/Clients/Acme").await;
    let clients_uuid = clients["uuid"].as_str().unwrap();

    // The top folders are offered; a deeper one is reached by its path.
    let form = get_as(&app, &s, "/app/requests/new").await.text();
    assert!(form.contains(&format!(
        "<option value=\"{clients_uuid}\" >/Clients/</option>"
    )));
    let create = |extra: Vec<(&'static str, String)>| {
        let mut fields = vec![
            ("csrf_token", s.csrf.clone()),
            ("title", "Contracts".to_string()),
        ];
        fields.extend(extra);
        fields
    };
    for (extra, want) in [
        (
            vec![("folder_uuid", clients_uuid.to_string())],
            clients_uuid,
        ),
        (
            vec![
                ("folder_uuid", clients_uuid.to_string()),
                ("folder_path", "Clients/Acme/".to_string()),
            ],
            acme["uuid"].as_str().unwrap(),
        ),
    ] {
        let fields = create(extra);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, Some(&s), "/app/requests", &pairs).await;
        assert_eq!(r.status, 303, "{}", r.text());
        let to = r.header("location").unwrap();
        let uuid = to
            .trim_start_matches("/app/requests/")
            .trim_end_matches("?done=created");
        let api = app
            .call(app.fr("GET", &format!("/v5/requests/{uuid}")))
            .await
            .json();
        assert_eq!(api["request"]["folder_uuid"], want, "{api}");
    }

    // A folder that is not the org's: the service's refusal, beside the list.
    let fields = create(vec![(
        "folder_uuid",
        "0b5c7a3e-1111-4222-8333-944445555666".to_string(),
    )]);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, Some(&s), "/app/requests", &pairs).await;
    assert_eq!(r.status, 400);
    assert!(
        r.text()
            .contains("<p class=\"field-error\" id=\"error-folder_uuid\">"),
        "{}",
        r.text()
    );
    assert_eq!(request_count(&app).await, 2);
}

#[actix_web::test]
async fn the_owner_edits_a_request_and_keeps_or_drops_its_password() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = s.unwrap();
    let acme = app.mkdir("/Clients/Acme").await;
    let made = [
        ("csrf_token", s.csrf.as_str()),
        ("title", "Contracts"),
        ("folder_path", "/Clients/Acme"),
        ("password", "open sesame"),
        ("max_files", "5"),
        ("max_file_mib", "1.5"),
        ("extensions", "pdf"),
        ("notify", "1"),
        ("notify_emails", "books@acme.test"),
        ("expires_at", "2030-02-01T09:30"),
        ("expires_tz", "Europe/Paris"),
    ];
    let r = post_form(&app, Some(&s), "/app/requests", &made).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let uuid = r
        .header("location")
        .unwrap()
        .trim_start_matches("/app/requests/")
        .trim_end_matches("?done=created")
        .to_string();
    let before = request_json(&app, &uuid).await;
    let page = format!("/app/requests/{uuid}");
    assert!(get_as(&app, &s, &page)
        .await
        .text()
        .contains(&format!("href=\"/app/requests/{uuid}/edit\">Edit</a>")));

    // The form, filled in as the request is; the password is never in it.
    let form = get_as(&app, &s, &format!("{page}/edit")).await;
    assert_eq!(form.status, 200);
    let html = form.text();
    for shown in [
        "<h1>Edit “Contracts”</h1>".to_string(),
        format!("action=\"/app/requests/{uuid}\""),
        "value=\"Contracts\"".into(),
        "value=\"/Clients/Acme\"".into(),
        "value=\"5\"".into(),
        "value=\"1.5\"".into(),
        "value=\"pdf\"".into(),
        "value=\"books@acme.test\"".into(),
        "value=\"2030-02-01T09:30\"".into(),
        "value=\"Europe/Paris\"".into(),
        "name=\"keep_password\" value=\"1\" checked".into(),
    ] {
        assert!(html.contains(&shown), "{shown} in {html}");
    }
    assert!(!html.contains("open sesame"));

    // Saved as posted back, the password kept; the page says so.
    let mut edit: Vec<(&str, &str)> = made.to_vec();
    edit.retain(|(k, _)| *k != "password");
    edit.extend_from_slice(&[
        ("title", "Contracts 2030"),
        ("max_files", "10"),
        ("keep_password", "1"),
    ]);
    let forged: Vec<(&str, &str)> = edit.iter().skip(1).copied().collect();
    assert_eq!(post_form(&app, Some(&s), &page, &forged).await.status, 403);
    let r = post_form(&app, Some(&s), &page, &edit).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location").unwrap(),
        format!("{page}?done=updated")
    );
    let shown = get_as(&app, &s, &format!("{page}?done=updated")).await;
    assert_eq!(
        notice(&shown.text()).as_deref(),
        Some("Request “Contracts 2030” saved.")
    );
    let after = request_json(&app, &uuid).await;
    assert_eq!(after["title"], "Contracts 2030");
    assert_eq!(after["max_files"], 10);
    assert_eq!(after["max_file_bytes"], 1_572_864);
    assert_eq!(after["folder_uuid"], acme["uuid"]);
    assert_eq!(after["expires_at"], before["expires_at"]);
    assert_eq!(after["password_protected"], true);
    assert_eq!(after["puid"], before["puid"], "the link stays the same");

    // A bad field: 400 beside it, nothing changed.
    let mut bad = edit.clone();
    bad.push(("max_files", "x"));
    let r = post_form(&app, Some(&s), &page, &bad).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("id=\"error-max_files\">"));
    assert_eq!(request_json(&app, &uuid).await["max_files"], 10);

    // Unticked with an empty password: the password goes.
    edit.retain(|(k, _)| *k != "keep_password");
    let r = post_form(&app, Some(&s), &page, &edit).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(request_json(&app, &uuid).await["password_protected"], false);
}
