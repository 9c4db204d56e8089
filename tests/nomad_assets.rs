//! Issue 6: Nomad's asset routes and search over the one library (same uuids as v4), through
//! the real app, asserting whole answers.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/nomad.rs"]
mod nomad;

use chrono::Duration;
use common::*;
use nomad::*;
use serde_json::{json, Value};

struct Lib {
    root: Value,
    docs: Value,
    deep: Value,
    pdf: Value,
    png: Value,
    txt: Value,
}

/// /docs/report.pdf, /docs/deep/notes.txt, /logo.png, one second apart.
async fn library(app: &TestApp) -> Lib {
    let root = app.call(app.fr("GET", "/v4/folders")).await.json()["folder"].clone();
    let docs = app.mkdir("/docs").await;
    app.clock.advance(Duration::seconds(1));
    let deep = app.mkdir("/docs/deep").await;
    app.clock.advance(Duration::seconds(1));
    let pdf = app.upload_one("/docs", "report.pdf", b"%PDF-1.4 ten").await;
    app.clock.advance(Duration::seconds(1));
    let txt = app.upload_one("/docs/deep", "notes.txt", b"hello").await;
    app.clock.advance(Duration::seconds(1));
    let png = app.upload_one("/", "logo.png", b"\x89PNG img").await;
    Lib {
        root,
        docs,
        deep,
        pdf,
        png,
        txt,
    }
}

fn id(v: &Value) -> &str {
    v["uuid"].as_str().unwrap()
}

/// The asset model of a v4 folder.
fn folder_model(f: &Value) -> Value {
    json!({"id": f["uuid"], "parentId": f["parent_uuid"], "displayName": f["name"],
           "assetType": 1, "assetTypeDisplay": "Folder", "assetStatus": "Available",
           "contentLength": null, "mediaType": null, "mediaTypeDisplay": null,
           "displayPath": f["path"], "createdDate": f["created_at"], "lastModifiedDate": f["updated_at"]})
}

/// The asset model of a v4 file.
fn file_model(f: &Value, display: &str) -> Value {
    json!({"id": f["uuid"], "parentId": f["folder"]["uuid"], "displayName": f["name"],
           "assetType": 2, "assetTypeDisplay": "File", "assetStatus": "Available",
           "contentLength": f["size"]["bytes"], "mediaType": f["type"], "mediaTypeDisplay": display,
           "displayPath": f["url"]["path"], "createdDate": f["created_at"], "lastModifiedDate": f["modified_at"]})
}

fn search_item(model: &Value) -> Value {
    json!({"id": model["id"], "title": model["displayName"], "createdDate": model["createdDate"],
           "lastModifiedDate": model["lastModifiedDate"],
           "identifiers": {"assetType": model["assetType"], "assetTypeDisplay": model["assetTypeDisplay"],
               "name": model["displayName"], "contentLength": model["contentLength"],
               "mediaTypeDisplay": model["mediaTypeDisplay"], "displayPath": model["displayPath"],
               "parentId": model["parentId"]}})
}

#[actix_web::test]
async fn asset_models_match_the_v4_library() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    assert_eq!(
        ok_json(
            &app,
            "GET",
            &format!("/api/admin/asset/{}", id(&lib.root)),
            None
        )
        .await,
        json!({"id": lib.root["uuid"], "parentId": null, "displayName": "/", "assetType": 1,
               "assetTypeDisplay": "Folder", "assetStatus": "Available", "contentLength": null,
               "mediaType": null, "mediaTypeDisplay": null, "displayPath": "/",
               "createdDate": "2030-01-15T12:00:00Z", "lastModifiedDate": "2030-01-15T12:00:00Z"})
    );
    assert_eq!(
        ok_json(
            &app,
            "GET",
            &format!("/api/admin/asset/{}", id(&lib.deep)),
            None
        )
        .await,
        folder_model(&lib.deep)
    );
    let pdf = ok_json(
        &app,
        "GET",
        &format!("/api/admin/asset/{}", id(&lib.pdf)),
        None,
    )
    .await;
    assert_eq!(pdf, file_model(&lib.pdf, "Document"));
    assert_eq!(pdf["displayPath"], "/docs/report.pdf");
    assert_eq!(pdf["mediaType"], "application/pdf");
    assert_eq!(
        ok_json(
            &app,
            "GET",
            &format!("/api/admin/asset/{}", id(&lib.png)),
            None
        )
        .await,
        file_model(&lib.png, "Image")
    );
    assert_eq!(
        ok_json(
            &app,
            "GET",
            &format!("/api/admin/asset/{}", id(&lib.txt)),
            None
        )
        .await["mediaTypeDisplay"],
        "Document"
    );
    // Unknown, malformed, another org's: 404. Upper-case ids are the same asset.
    let other = app
        .call(
            request("POST", &format!("/{OTHER_ORG}/v4/folders"))
                .insert_header(("X-Filerobot-Key", app.other_key.clone()))
                .insert_header(("content-type", "application/json"))
                .set_payload(r#"{"name":"/theirs"}"#),
        )
        .await
        .json()["folder"]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in [
        "00000000-0000-4000-8000-000000000000",
        "nope",
        other.as_str(),
    ] {
        let path = format!("/api/admin/asset/{bad}");
        let r = app.call(api(&app, "GET", &path)).await;
        let j = assert_problem(&r, 404, "NOT_FOUND", &path);
        assert_eq!(j["detail"], "The asset was not found.");
    }
    let up = id(&lib.png).to_uppercase();
    assert_eq!(
        ok_json(&app, "GET", &format!("/api/admin/asset/{up}"), None).await["id"],
        lib.png["uuid"]
    );
    // Credentials as everywhere on /api.
    let path = format!("/api/admin/asset/{}", id(&lib.png));
    assert_problem(
        &app.call(request("GET", &path)).await,
        401,
        "UNAUTHENTICATED",
        &path,
    );
    let r = app
        .call(request("GET", &path).insert_header(("X-Filerobot-Key", "wrong")))
        .await;
    assert_problem(&r, 401, "INVALID_KEY", &path);
    let (token, _) = app.admin_tokens().await;
    let r = app
        .call(request("GET", &path).insert_header(("Authorization", format!("Bearer {token}"))))
        .await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn detail_gives_sha256_and_parents_root_first() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    for prefix in ["/api/admin/asset", "/api/asset"] {
        let d = ok_json(
            &app,
            "GET",
            &format!("{prefix}/{}/detail", id(&lib.txt)),
            None,
        )
        .await;
        let mut props = file_model(&lib.txt, "Document");
        props["sha256"] = json!(sha256_hex(b"hello"));
        assert_eq!(
            d,
            json!({"assetId": lib.txt["uuid"], "properties": props,
                   "parents": [folder_model(&lib.root), folder_model(&lib.docs), folder_model(&lib.deep)]})
        );
        let d = ok_json(
            &app,
            "GET",
            &format!("{prefix}/{}/detail", id(&lib.docs)),
            None,
        )
        .await;
        let mut props = folder_model(&lib.docs);
        props["sha256"] = Value::Null;
        assert_eq!(
            d,
            json!({"assetId": lib.docs["uuid"], "properties": props, "parents": [folder_model(&lib.root)]})
        );
        let d = ok_json(
            &app,
            "GET",
            &format!("{prefix}/{}/detail", id(&lib.root)),
            None,
        )
        .await;
        assert_eq!(d["parents"], json!([]));
        let path = format!("{prefix}/nope/detail");
        assert_problem(
            &app.call(api(&app, "GET", &path)).await,
            404,
            "NOT_FOUND",
            &path,
        );
    }
}

#[actix_web::test]
async fn create_folder_and_its_errors() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    app.clock.advance(Duration::seconds(10));
    let path = format!("/api/admin/asset/{}/create-folder", id(&lib.docs));
    let f = ok_json(
        &app,
        "POST",
        &path,
        Some(&json!({"displayName": "Q3 drafts"})),
    )
    .await;
    let v4 = app
        .call(app.fr("GET", &format!("/v4/folders/{}", f["id"].as_str().unwrap())))
        .await
        .json()["folder"]
        .clone();
    assert_eq!(f, folder_model(&v4));
    assert_eq!(f["displayPath"], "/docs/Q3 drafts");
    assert_eq!(f["createdDate"], "2030-01-15T12:00:14Z");
    // A folder of that name exists: 409; a file of that name is no obstacle.
    let r = call_json(&app, "POST", &path, &json!({"displayName": "Q3 drafts"})).await;
    let j = assert_problem(&r, 409, "NAME_EXISTS", &path);
    assert_eq!(
        j["detail"],
        "A folder named 'Q3 drafts' exists already in '/docs'."
    );
    let f2 = ok_json(
        &app,
        "POST",
        &path,
        Some(&json!({"displayName": "report.pdf"})),
    )
    .await;
    assert_eq!(f2["displayPath"], "/docs/report.pdf");
    for (body, msg) in [
        (json!({}), "`displayName` is required"),
        (json!({"displayName": ""}), "'': a name cannot be empty"),
        (
            json!({"displayName": "a/b"}),
            "'a/b': a name cannot contain '/'",
        ),
    ] {
        let r = call_json(&app, "POST", &path, &body).await;
        let j = assert_problem(&r, 400, "INVALID_FIELD", &path);
        assert_eq!(j["errors"], json!({"displayName": [msg]}));
    }
    let r = call_json(&app, "POST", &path, &json!({"displayName": 5})).await;
    assert_problem(&r, 400, "INVALID_FIELD", &path);
    // The parent must be a folder of the org.
    for parent in [id(&lib.pdf), "nope"] {
        let p = format!("/api/admin/asset/{parent}/create-folder");
        let r = call_json(&app, "POST", &p, &json!({"displayName": "x"})).await;
        assert_problem(&r, 404, "NOT_FOUND", &p);
    }
    let total = app
        .call(app.fr("GET", "/v4/folders?recursive=1"))
        .await
        .json()["total"]
        .clone();
    assert_eq!(total, 4, "only the two folders made above were added");
}

#[actix_web::test]
async fn child_nodes_folders_first_paged_and_sorted() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    app.clock.advance(Duration::seconds(1));
    let b = app.upload_one("/docs", "b.txt", b"123456789").await;
    app.clock.advance(Duration::seconds(1));
    let a = app.upload_one("/docs", "a.txt", b"1").await;
    let base = format!("/api/admin/asset/{}/getAssetChildNodes", id(&lib.docs));
    let models = |list: &[(&Value, Option<&str>)]| -> Vec<Value> {
        list.iter()
            .map(|(v, d)| match d {
                Some(d) => file_model(v, d),
                None => folder_model(v),
            })
            .collect()
    };
    let all = ok_json(&app, "GET", &base, None).await;
    assert_eq!(
        all,
        json!({"items": models(&[(&lib.deep, None), (&a, Some("Document")), (&b, Some("Document")), (&lib.pdf, Some("Document"))]),
               "totalItemCount": 4, "hasItems": true})
    );
    // The SDK sends every parameter; folderId is ignored; pageIndex 0 is 1.
    let q = format!(
        "{base}?folderId=whatever&sortColumn=contentLength&isDesc=True&pageIndex=0&pageSize=2"
    );
    assert_eq!(
        ok_json(&app, "GET", &q, None).await,
        json!({"items": models(&[(&lib.deep, None), (&lib.pdf, Some("Document"))]), "totalItemCount": 4, "hasItems": true})
    );
    let q = format!("{base}?sortColumn=createdDate&isDesc=false&pageIndex=2&pageSize=2");
    assert_eq!(
        ok_json(&app, "GET", &q, None).await["items"],
        json!(models(&[(&b, Some("Document")), (&a, Some("Document"))]))
    );
    let q = format!("{base}?pageIndex=3&pageSize=2");
    assert_eq!(
        ok_json(&app, "GET", &q, None).await,
        json!({"items": [], "totalItemCount": 4, "hasItems": false})
    );
    let q = format!("{base}?pageSize=5000&sortColumn=lastModifiedDate&isDesc=1");
    assert_eq!(
        ok_json(&app, "GET", &q, None).await["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // A file has no children; the root lists its own.
    let f = format!("/api/admin/asset/{}/getAssetChildNodes", id(&lib.png));
    assert_eq!(
        ok_json(&app, "GET", &f, None).await,
        json!({"items": [], "totalItemCount": 0, "hasItems": false})
    );
    let r = format!("/api/admin/asset/{}/getAssetChildNodes", id(&lib.root));
    assert_eq!(
        ok_json(&app, "GET", &r, None).await["items"],
        json!(models(&[(&lib.docs, None), (&lib.png, Some("Image"))]))
    );
    for (q, field, msg) in [
        (
            "pageIndex=-1",
            "pageIndex",
            "-1 is not a page: pages count from 1",
        ),
        ("pageIndex=x", "pageIndex", "'x' is not an integer"),
        (
            "pageSize=0",
            "pageSize",
            "0 is not a page size: use 1 to 1000",
        ),
        (
            "sortColumn=size",
            "sortColumn",
            "cannot sort by 'size': use title, createdDate, lastModifiedDate or contentLength",
        ),
        ("isDesc=maybe", "isDesc", "'maybe' is not true or false"),
    ] {
        let r = app.call(api(&app, "GET", &format!("{base}?{q}"))).await;
        let j = assert_problem(&r, 400, "INVALID_FIELD", &base);
        assert_eq!(j["errors"], json!({field: [msg]}), "{q}");
    }
    let p = "/api/admin/asset/nope/getAssetChildNodes";
    assert_problem(&app.call(api(&app, "GET", p)).await, 404, "NOT_FOUND", p);
}

#[actix_web::test]
async fn delete_takes_a_folder_with_all_it_holds() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    // A share of a file inside keeps no dangling item.
    let share = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{}/share", id(&lib.txt)),
        Some(&json!({})),
    )
    .await;
    assert_eq!(app.stored_blobs().len(), 3);
    let path = format!("/api/admin/asset/{}", id(&lib.docs));
    assert_eq!(
        ok_json(&app, "DELETE", &path, None).await,
        json!({"id": lib.docs["uuid"]})
    );
    for uuid in [id(&lib.docs), id(&lib.deep)] {
        let r = app
            .call(app.fr("GET", &format!("/v4/folders/{uuid}")))
            .await;
        assert_eq!(r.status, 404);
    }
    for uuid in [id(&lib.pdf), id(&lib.txt)] {
        let r = app.call(app.fr("GET", &format!("/v4/files/{uuid}"))).await;
        assert_eq!(r.status, 404);
    }
    assert_eq!(app.stored_blobs().len(), 1);
    let s = ok_json(
        &app,
        "GET",
        &format!("/api/share/{}", share["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s["sharedContents"], json!([]));
    assert_eq!(s["assetId"], Value::Null);
    // A file; then it is gone.
    let path = format!("/api/admin/asset/{}", id(&lib.png));
    assert_eq!(
        ok_json(&app, "DELETE", &path, None).await,
        json!({"id": lib.png["uuid"]})
    );
    assert_problem(
        &app.call(api(&app, "DELETE", &path)).await,
        404,
        "NOT_FOUND",
        &path,
    );
    assert!(app.stored_blobs().is_empty());
    // The root stays.
    let path = format!("/api/admin/asset/{}", id(&lib.root));
    let r = app.call(api(&app, "DELETE", &path)).await;
    let j = assert_problem(&r, 400, "INVALID_FIELD", &path);
    assert_eq!(
        j["errors"],
        json!({"id": ["the root folder cannot be deleted"]})
    );
    assert_eq!(ok_json(&app, "GET", &path, None).await["displayPath"], "/");
}

async fn search(app: &TestApp, body: &Value) -> Value {
    let a = ok_json(app, "POST", "/api/admin/search", Some(body)).await;
    let p = ok_json(app, "POST", "/api/portal/search", Some(body)).await;
    assert_eq!(a, p, "admin and portal search answer alike");
    a
}

fn titles(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn search_filters_sorts_and_pages() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    // Everything, by title: the root's name "/" sorts first.
    let all = search(&app, &json!({})).await;
    assert_eq!(all["totalItemCount"], 6);
    assert_eq!(all["hasItems"], true);
    assert_eq!(
        titles(&all),
        ["/", "deep", "docs", "logo.png", "notes.txt", "report.pdf"]
    );
    let pdf_item = search_item(&file_model(&lib.pdf, "Document"));
    assert_eq!(all["items"][5], pdf_item);
    assert_eq!(all["items"][1], search_item(&folder_model(&lib.deep)));
    // As the SDK sends it: pageOffset is a page index.
    let r = search(
        &app,
        &json!({"pageOffset": 1, "pageSize": 4, "filters": null, "sortFields": [{"fieldName": "createdDate", "sortType": "Descending"}]}),
    )
    .await;
    assert_eq!(titles(&r), ["docs", "/"]);
    assert_eq!(r["totalItemCount"], 6);
    let r = search(&app, &json!({"pageOffset": 7, "pageSize": 1})).await;
    assert_eq!(
        r,
        json!({"items": [], "totalItemCount": 6, "hasItems": false})
    );
    // Filters, ANDed; values one or a list.
    let docs = id(&lib.docs);
    let r = search(
        &app,
        &json!({"filters": [{"fieldName": "parentId", "operator": "Equals", "values": docs}]}),
    )
    .await;
    assert_eq!(titles(&r), ["deep", "report.pdf"]);
    let r = search(&app, &json!({"filters": [{"fieldName": "uuidSearchField", "operator": "equals", "values": [docs]},
                                              {"fieldName": "assetType", "operator": "equals", "values": ["File", 2]}]})).await;
    assert_eq!(titles(&r), ["notes.txt", "report.pdf"]);
    let r = search(
        &app,
        &json!({"filters": [{"fieldName": "assetType", "values": 1}],
                                 "sortFields": [{"fieldName": "title", "sortType": "desc"}]}),
    )
    .await;
    assert_eq!(titles(&r), ["docs", "deep", "/"]);
    let r = search(&app, &json!({"filters": [{"fieldName": "id", "operator": "equals", "values": [id(&lib.png), id(&lib.txt).to_uppercase()]}],
                                 "sortFields": [{"fieldName": "contentLength", "sortType": "ascending"}]})).await;
    assert_eq!(titles(&r), ["notes.txt", "logo.png"]);
    let r = search(
        &app,
        &json!({"filters": [{"fieldName": "parentId", "values": id(&lib.root)},
                                              {"fieldName": "assetType", "values": "folder"}]}),
    )
    .await;
    assert_eq!(titles(&r), ["docs"]);
    // An empty list of values matches nothing.
    for field in ["id", "parentId", "uuidSearchField", "assetType"] {
        let r = search(
            &app,
            &json!({"filters": [{"fieldName": field, "values": []}]}),
        )
        .await;
        assert_eq!(
            r,
            json!({"items": [], "totalItemCount": 0, "hasItems": false}),
            "{field}"
        );
    }
    // Empty or whitespace-only searchQuery is fine; others are not offered.
    assert_eq!(
        search(&app, &json!({"searchQuery": " "})).await["totalItemCount"],
        6
    );
    let r = app.call(api(&app, "POST", "/api/portal/search")).await;
    assert_eq!(r.status, 200, "an empty body searches everything");
    for (body, field, msg) in [
        (
            json!({"searchQuery": "report"}),
            "searchQuery",
            "free-text search is not offered: use filters".to_string(),
        ),
        (
            json!({"pageOffset": -1}),
            "pageOffset",
            "-1 is not a page: pages count from 0".into(),
        ),
        (
            json!({"pageOffset": "1"}),
            "pageOffset",
            "must be an integer, not a string".into(),
        ),
        (
            json!({"pageSize": 0}),
            "pageSize",
            "0 is not a page size: use 1 to 1000".into(),
        ),
        (
            json!({"filters": [{"fieldName": "title", "values": "x"}]}),
            "filters[0].fieldName",
            "cannot filter on 'title': use id, parentId, assetType or uuidSearchField".into(),
        ),
        (
            json!({"filters": [{"fieldName": "id", "operator": "contains", "values": "x"}]}),
            "filters[0].operator",
            "only \"equals\" is offered".into(),
        ),
        (
            json!({"filters": [{"values": "x"}]}),
            "filters[0].fieldName",
            "`fieldName` is required".into(),
        ),
        (
            json!({"filters": [{"fieldName": "assetType", "values": [1, 3]}]}),
            "filters[0].values[1]",
            "an assetType is 1, 2, \"Folder\" or \"File\"".into(),
        ),
        (
            json!({"filters": [{"fieldName": "parentId", "values": [id(&lib.pdf)]}]}),
            "filters[0].values[0]",
            format!("'{}' is not a folder of this org", id(&lib.pdf)),
        ),
        (
            json!({"filters": [{"fieldName": "id", "values": "00000000-0000-4000-8000-000000000000"}]}),
            "filters[0].values",
            "'00000000-0000-4000-8000-000000000000' is not an asset of this org".into(),
        ),
        (
            json!({"filters": [{"fieldName": "uuidSearchField", "values": 5}]}),
            "filters[0].values",
            "must be a uuid string, not a number".into(),
        ),
        (
            json!({"filters": "x"}),
            "filters",
            "must be an array, not a string".into(),
        ),
        (
            json!({"sortFields": [{"fieldName": "size"}]}),
            "sortFields[0].fieldName",
            "cannot sort by 'size': use title, createdDate, lastModifiedDate or contentLength"
                .into(),
        ),
        (
            json!({"sortFields": [{"fieldName": "title", "sortType": "up"}]}),
            "sortFields[0].sortType",
            "use \"ascending\" or \"descending\"".into(),
        ),
    ] {
        for path in ["/api/admin/search", "/api/portal/search"] {
            let r = call_json(&app, "POST", path, &body).await;
            let j = assert_problem(&r, 400, "INVALID_FIELD", path);
            assert_eq!(j["errors"], json!({field: [msg]}), "{body}");
        }
    }
    // Another org's assets are never found.
    let r = app
        .call(json_body(
            request("POST", "/api/admin/search")
                .insert_header(("X-Filerobot-Key", app.other_key.clone())),
            &json!({}),
        ))
        .await;
    assert_eq!(titles(&r.json()), ["/"]);
}
