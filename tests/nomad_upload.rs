//! Issue 6: Nomad's chunked upload through the real app: start, parts in any order, repeated
//! and in parallel, part complete, complete, cancel, replace, expiry, and every bad input.

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

const MIB: usize = 1024 * 1024;

/// Deterministic bytes that differ per position.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

fn crc32(b: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(b);
    h.finalize()
}

fn is_uuid(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok() && s == s.to_lowercase())
}

async fn root_uuid(app: &TestApp) -> String {
    let r = app.call(app.fr("GET", "/v4/folders")).await;
    r.json()["folder"]["uuid"].as_str().unwrap().to_string()
}

/// The blob row of a file: (size, sha256, crc32).
fn blob_of(app: &TestApp, file_uuid: &str) -> (i64, String, u32) {
    let uuid = file_uuid.to_string();
    app.state
        .db
        .read_sync(move |c| {
            Ok(c.query_row(
                "SELECT b.size, b.sha256, b.crc32 FROM files f JOIN blobs b ON b.id = f.blob_id WHERE f.uuid = ?1",
                [&uuid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .unwrap()
}

async fn download(app: &TestApp, file_uuid: &str) -> Vec<u8> {
    let r = app
        .call(app.fr("GET", &format!("/v4/get/{file_uuid}/download")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.body.to_vec()
}

fn uploads_count(app: &TestApp) -> i64 {
    app.state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT COUNT(*) FROM uploads", [], |r| r.get(0))?))
        .unwrap()
}

fn complete_path(s: &Value) -> String {
    format!("/api/asset/upload/{}/complete", s["id"].as_str().unwrap())
}

#[actix_web::test]
async fn start_answers_the_parts_whole() {
    let app = TestApp::new().await;
    let root = root_uuid(&app).await;
    let s = start_upload(
        &app,
        &json!({"displayName": "clip.mp4", "contentLength": 20 * MIB + 5, "chunkSize": 8 * MIB,
                "parentId": null, "uploadOverwriteOption": "continue", "existingAssetId": null,
                "relatedContentId": null, "languageId": null, "uploadReplaceOptions": null}),
    )
    .await;
    assert!(is_uuid(&s["id"]) && is_uuid(&s["assetId"]), "{s}");
    assert_ne!(s["id"], s["assetId"]);
    let parts = s["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    let mut secrets = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let id = p["id"].as_str().unwrap();
        assert!(is_uuid(&p["id"]));
        let url = p["url"].as_str().unwrap();
        let prefix = format!("{BASE}/api/asset/upload/part/{id}?token=");
        assert!(url.starts_with(&prefix), "{url}");
        let secret = &url[prefix.len()..];
        // >= 128 bits, URL-safe.
        assert!(secret.len() >= 22, "{secret}");
        assert!(secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        secrets.push(secret.to_string());
        let start = (i * 8 * MIB) as u64;
        let end = if i == 2 {
            20 * MIB + 4
        } else {
            (i + 1) * 8 * MIB - 1
        } as u64;
        assert_eq!(
            p,
            &json!({"id": id, "partNumber": i + 1, "url": url, "startingPosition": start,
                    "endingPosition": end, "isCompleted": false})
        );
    }
    assert_eq!(
        s,
        json!({"id": s["id"], "assetId": s["assetId"], "contentLength": 20 * MIB + 5,
               "startDate": "2030-01-15T12:00:00Z", "parts": s["parts"]})
    );
    // The secret is kept hashed, never as sent.
    let stored: String = app
        .state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT secret_hash FROM uploads", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(stored, sha256_hex(secrets[0].as_bytes()));
    assert!(!stored.contains(&secrets[0]));
    // One sparse file under tmp/, server-named; the asset does not exist yet.
    let tmp = files_in(&app, "tmp");
    assert_eq!(tmp.len(), 1, "{tmp:?}");
    let tmp_name = tmp[0].file_name().unwrap().to_str().unwrap();
    assert!(tmp_name.starts_with("chunked-") && !tmp_name.contains("clip"));
    let r = app
        .call(api(
            &app,
            "GET",
            &format!("/api/admin/asset/{}", s["assetId"].as_str().unwrap()),
        ))
        .await;
    assert_problem(
        &r,
        404,
        "NOT_FOUND",
        &format!("/api/admin/asset/{}", s["assetId"].as_str().unwrap()),
    );
    let files = app.call(app.fr("GET", "/v4/files")).await.json();
    assert_eq!(files["total"], 0);
    // Name from relativePath's last component; root by default.
    let s2 = start_upload(
        &app,
        &json!({"relativePath": "a/b\\c/report.pdf", "contentLength": 3}),
    )
    .await;
    assert_eq!(s2["parts"].as_array().unwrap().len(), 1);
    let part = &s2["parts"][0];
    assert_eq!(
        put_part(&app, part["url"].as_str().unwrap(), b"pdf")
            .await
            .status,
        200
    );
    let a = ok_json(&app, "POST", &complete_path(&s2), None).await;
    assert_eq!(a["displayName"], "report.pdf");
    assert_eq!(a["parentId"], root.as_str());
    assert_eq!(a["displayPath"], "/report.pdf");
}

#[actix_web::test]
async fn parts_in_any_order_repeated_then_complete() {
    let app = TestApp::new().await;
    let folder = app.mkdir("/media/raw").await;
    let folder_uuid = folder["uuid"].as_str().unwrap();
    let data = bytes(2 * MIB + 123, 7);
    let chunk = MIB;
    let s = start_upload(
        &app,
        &json!({"displayName": "take 1.mov", "contentLength": data.len(), "chunkSize": chunk, "parentId": folder_uuid}),
    )
    .await;
    let parts = s["parts"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 3);
    let slice = |i: usize| {
        let a = parts[i]["startingPosition"].as_u64().unwrap() as usize;
        let b = parts[i]["endingPosition"].as_u64().unwrap() as usize;
        data[a..=b].to_vec()
    };
    let url = |i: usize| parts[i]["url"].as_str().unwrap().to_string();
    // Completing early names the missing parts.
    let r = app.call(api(&app, "POST", &complete_path(&s))).await;
    let j = assert_problem(&r, 409, "UPLOAD_INCOMPLETE", &complete_path(&s));
    assert_eq!(
        j["detail"],
        "3 of 3 parts are missing: 1-3. PUT their bytes, then complete again."
    );
    // Last part first; the first one twice, the first time with wrong bytes (the last wins).
    let r = put_part(&app, &url(2), &slice(2)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let tag2 = sha256_hex(&slice(2));
    assert_eq!(r.header("etag"), Some(format!("\"{tag2}\"").as_str()));
    assert_eq!(r.json(), json!({"id": parts[2]["id"], "etag": tag2}));
    let wrong = vec![0u8; slice(0).len()];
    assert_eq!(put_part(&app, &url(0), &wrong).await.status, 200);
    let r = app.call(api(&app, "POST", &complete_path(&s))).await;
    let j = assert_problem(&r, 409, "UPLOAD_INCOMPLETE", &complete_path(&s));
    assert_eq!(
        j["detail"],
        "1 of 3 parts are missing: 2. PUT their bytes, then complete again."
    );
    // Part complete: optional, quotes ignored, a mismatch is a 400 naming etag.
    let pc = |i: usize| {
        format!(
            "/api/asset/upload/part/{}/complete",
            parts[i]["id"].as_str().unwrap()
        )
    };
    let r = call_json(
        &app,
        "POST",
        &pc(0),
        &json!({"etag": format!("\"{tag2}\"")}),
    )
    .await;
    let j = assert_problem(&r, 400, "INVALID_FIELD", &pc(0));
    assert_eq!(
        j["errors"],
        json!({"etag": [format!("'\"{tag2}\"' is not the ETag of the bytes part 1 holds")]})
    );
    let r = call_json(&app, "POST", &pc(1), &json!({"etag": "x"})).await;
    let j = assert_problem(&r, 409, "UPLOAD_INCOMPLETE", &pc(1));
    assert_eq!(
        j["detail"],
        "Part 2 has no bytes yet: PUT them to its URL first."
    );
    let r = put_part(&app, &url(0), &slice(0)).await;
    let tag0 = sha256_hex(&slice(0));
    assert_eq!(r.json()["etag"], tag0.as_str());
    assert_eq!(
        ok_json(
            &app,
            "POST",
            &pc(0),
            Some(&json!({"etag": format!("\"{tag0}\"")}))
        )
        .await,
        json!({"id": parts[0]["id"], "isCompleted": true})
    );
    assert_eq!(
        ok_json(
            &app,
            "POST",
            &pc(2),
            Some(&json!({"etag": tag2.to_uppercase()}))
        )
        .await,
        json!({"id": parts[2]["id"], "isCompleted": true})
    );
    let r = put_part(&app, &url(1), &slice(1)).await;
    assert_eq!(r.status, 200);
    // Without a body, part complete only checks the bytes are there.
    let r = app.call(api(&app, "POST", &pc(1))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    app.clock.advance(Duration::seconds(30));
    let a = ok_json(&app, "POST", &complete_path(&s), None).await;
    assert_eq!(
        a,
        json!({"id": s["assetId"], "parentId": folder_uuid, "displayName": "take 1.mov",
               "assetType": 2, "assetTypeDisplay": "File", "assetStatus": "Available",
               "contentLength": data.len(), "mediaType": "video/quicktime", "mediaTypeDisplay": "Video",
               "displayPath": "/media/raw/take 1.mov",
               "createdDate": "2030-01-15T12:00:30Z", "lastModifiedDate": "2030-01-15T12:00:30Z"})
    );
    // The same library: v4 sees it with the same uuid; SHA-256 and CRC-32 of the whole file.
    let uuid = s["assetId"].as_str().unwrap();
    let v4 = app
        .call(app.fr("GET", &format!("/v4/files/{uuid}")))
        .await
        .json();
    assert_eq!(v4["file"]["hash"]["sha256"], sha256_hex(&data));
    assert_eq!(v4["file"]["folder"]["uuid"], folder_uuid);
    assert_eq!(
        blob_of(&app, uuid),
        (data.len() as i64, sha256_hex(&data), crc32(&data))
    );
    assert_eq!(download(&app, uuid).await, data);
    assert!(files_in(&app, "tmp").is_empty());
    // Repeating complete answers the same asset; the part URLs are dead.
    assert_eq!(ok_json(&app, "POST", &complete_path(&s), None).await, a);
    let r = put_part(&app, &url(1), &slice(1)).await;
    assert_problem(&r, 404, "NOT_FOUND", &part_path(&url(1)));
    let r = app.call(api(&app, "POST", &pc(1))).await;
    assert_problem(&r, 404, "NOT_FOUND", &pc(1));
    let cancel = format!("/api/asset/upload/{}/cancel", s["id"].as_str().unwrap());
    let r = app.call(api(&app, "POST", &cancel)).await;
    assert_problem(&r, 404, "NOT_FOUND", &cancel);
    assert_eq!(
        app.call(app.fr("GET", "/v4/files?recursive=1"))
            .await
            .json()["total"],
        1
    );
}

#[actix_web::test]
async fn parts_in_parallel() {
    let app = TestApp::new().await;
    let data = bytes(5 * 64 * 1024 + 9, 3);
    let s = start_upload(
        &app,
        &json!({"displayName": "par.bin", "contentLength": data.len(), "chunkSize": 64 * 1024}),
    )
    .await;
    let parts = s["parts"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 6);
    let calls = parts.iter().rev().map(|p| {
        let a = p["startingPosition"].as_u64().unwrap() as usize;
        let b = p["endingPosition"].as_u64().unwrap() as usize;
        let url = p["url"].as_str().unwrap().to_string();
        let chunk = data[a..=b].to_vec();
        let app = &app;
        async move { put_part(app, &url, &chunk).await.status }
    });
    // The same part twice at once, too.
    let p0 = &parts[0];
    let extra = put_part(&app, p0["url"].as_str().unwrap(), &data[..64 * 1024]);
    let (statuses, extra) =
        futures_util::future::join(futures_util::future::join_all(calls), extra).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(extra.status, 200);
    let a = ok_json(&app, "POST", &complete_path(&s), None).await;
    assert_eq!(
        blob_of(&app, a["id"].as_str().unwrap()),
        (data.len() as i64, sha256_hex(&data), crc32(&data))
    );
}

#[actix_web::test]
async fn wrong_length_and_bad_tokens_change_nothing() {
    let app = TestApp::new().await;
    let s = start_upload(
        &app,
        &json!({"displayName": "x.txt", "contentLength": 10, "chunkSize": 4}),
    )
    .await;
    let parts = s["parts"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 3);
    let url = parts[0]["url"].as_str().unwrap();
    let path = local(url);
    let bare = path.split('?').next().unwrap().to_string();
    for body in [&b"abc"[..], b"abcde", b""] {
        let r = put_part(&app, url, body).await;
        let j = assert_problem(&r, 400, "INVALID_FIELD", &bare);
        assert_eq!(
            j["errors"],
            json!({"body": [format!("part 1 needs exactly 4 bytes (positions 0-3), got {}", body.len())]})
        );
    }
    // The last part is shorter.
    let r = put_part(&app, parts[2]["url"].as_str().unwrap(), b"xyz").await;
    assert_problem(
        &r,
        400,
        "INVALID_FIELD",
        &part_path(parts[2]["url"].as_str().unwrap()),
    );
    // No token, a wrong one, another part's id with this token, a malformed id: 404.
    let other = start_upload(&app, &json!({"displayName": "y.txt", "contentLength": 1})).await;
    let other_token = other["parts"][0]["url"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string();
    for p in [
        bare.clone(),
        format!("{bare}?token="),
        format!("{bare}?token=up_wrong"),
        format!("{bare}?token={other_token}"),
        format!("/api/asset/upload/part/not-a-uuid?token={other_token}"),
    ] {
        let r = app
            .call(request("PUT", &p).set_payload(b"abcd".to_vec()))
            .await;
        assert_problem(&r, 404, "NOT_FOUND", p.split('?').next().unwrap());
    }
    let r = app.call(api(&app, "POST", &complete_path(&s))).await;
    let j = assert_problem(&r, 409, "UPLOAD_INCOMPLETE", &complete_path(&s));
    assert_eq!(
        j["detail"],
        "3 of 3 parts are missing: 1-3. PUT their bytes, then complete again."
    );
    // A part PUT needs no credential and takes any content type; a bad credential is ignored.
    let r = app
        .call(
            request("PUT", &path)
                .insert_header(("Content-Type", "image/png"))
                .insert_header(("Authorization", "Bearer nonsense"))
                .set_payload(b"abcd".to_vec()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[actix_web::test]
async fn empty_files_and_chunk_sizes() {
    let app = TestApp::new().await;
    let s = start_upload(
        &app,
        &json!({"displayName": "empty.txt", "contentLength": 0}),
    )
    .await;
    assert_eq!(s["parts"], json!([]));
    let a = ok_json(&app, "POST", &complete_path(&s), None).await;
    assert_eq!(a["contentLength"], 0);
    assert_eq!(a["mediaType"], "text/plain");
    assert_eq!(a["mediaTypeDisplay"], "Document");
    assert_eq!(download(&app, a["id"].as_str().unwrap()).await, b"");
    // Default 8 MiB; clamped to 64 MiB and to 1 byte.
    for (chunk, len, parts, first_end) in [
        (Value::Null, 17 * MIB, 3, 8 * MIB - 1),
        (json!(100 * MIB), 130 * MIB, 3, 64 * MIB - 1),
        (json!(0), 3, 3, 0),
        (json!(-5), 2, 2, 0),
    ] {
        let s = start_upload(
            &app,
            &json!({"displayName": "c.bin", "contentLength": len, "chunkSize": chunk}),
        )
        .await;
        let p = s["parts"].as_array().unwrap();
        assert_eq!(p.len(), parts, "{chunk}");
        assert_eq!(p[0]["endingPosition"], first_end, "{chunk}");
        assert_eq!(p[parts - 1]["endingPosition"], len - 1, "{chunk}");
    }
    // Too many parts: a 400 naming chunkSize, and nothing recorded.
    let before = uploads_count(&app);
    let tmp_before = files_in(&app, "tmp").len();
    let r = call_json(
        &app,
        "POST",
        "/api/asset/upload/start",
        &json!({"displayName": "c.bin", "contentLength": 20_001, "chunkSize": 2}),
    )
    .await;
    let j = assert_problem(&r, 400, "INVALID_FIELD", "/api/asset/upload/start");
    assert_eq!(
        j["errors"],
        json!({"chunkSize": ["10001 parts are too many (at most 10000): use a chunkSize of at least 3 bytes"]})
    );
    assert_eq!(uploads_count(&app), before);
    assert_eq!(files_in(&app, "tmp").len(), tmp_before);
}

#[actix_web::test]
async fn bad_start_requests() {
    let app = TestApp::with_config(|c| c.max_upload_bytes = 1000).await;
    let path = "/api/asset/upload/start";
    let file = app.upload_one("/", "taken.txt", b"old").await;
    let r = call_json(
        &app,
        "POST",
        path,
        &json!({"displayName": "big.bin", "contentLength": 1001}),
    )
    .await;
    let j = assert_problem(&r, 413, "TOO_LARGE", path);
    assert_eq!(
        j["detail"],
        "The file is larger than the limit of 1000 bytes."
    );
    for (body, field, msg) in [
        (
            json!({"displayName": "a.txt"}),
            "contentLength",
            "`contentLength` is required",
        ),
        (
            json!({"displayName": "a.txt", "contentLength": "9"}),
            "contentLength",
            "invalid type: string \"9\", expected i64",
        ),
        (
            json!({"displayName": "a.txt", "contentLength": -1}),
            "contentLength",
            "must be a number of bytes, 0 or more",
        ),
        (
            json!({"contentLength": 1}),
            "displayName",
            "`displayName` (or `relativePath`) is required",
        ),
        (
            json!({"displayName": "a/b", "contentLength": 1}),
            "displayName",
            "'a/b': a name cannot contain '/'",
        ),
        (
            json!({"relativePath": "dir/..", "contentLength": 1}),
            "relativePath",
            "'..': '..' cannot be a name",
        ),
        (
            json!({"displayName": "a.txt", "contentLength": 1, "parentId": "nope"}),
            "parentId",
            "'nope' is not a uuid",
        ),
        (
            json!({"displayName": "a.txt", "contentLength": 1, "parentId": file["uuid"]}),
            "parentId",
            &*format!(
                "'{}' is not a folder of this org",
                file["uuid"].as_str().unwrap()
            ),
        ),
        (
            json!({"displayName": "a.txt", "contentLength": 1, "existingAssetId": "00000000-0000-4000-8000-000000000000"}),
            "existingAssetId",
            "'00000000-0000-4000-8000-000000000000' is not a file of this org",
        ),
        (
            json!({"displayName": "a.txt", "contentLength": 1, "uploadOverwriteOption": "merge"}),
            "uploadOverwriteOption",
            "use \"continue\", \"replace\" or \"cancel\"",
        ),
        (
            json!({"displayName": "a.txt", "contentLength": 1, "chunkSize": 1.5}),
            "chunkSize",
            "invalid type: floating point `1.5`, expected i64",
        ),
    ] {
        let r = call_json(&app, "POST", path, &body).await;
        let j = assert_problem(&r, 400, "INVALID_FIELD", path);
        assert_eq!(j["errors"], json!({field: [msg]}), "{body}");
    }
    // Name taken with "cancel": 409 at once.
    let r = call_json(
        &app,
        "POST",
        path,
        &json!({"displayName": "taken.txt", "contentLength": 1, "uploadOverwriteOption": "Cancel"}),
    )
    .await;
    let j = assert_problem(&r, 409, "NAME_EXISTS", path);
    assert_eq!(
        j["detail"],
        "A file named 'taken.txt' exists already in '/'."
    );
    // Credentials: none, unknown key, a token of nobody (403 on /api).
    let r = app.call(json_body(request("POST", path), &json!({}))).await;
    assert_problem(&r, 401, "UNAUTHENTICATED", path);
    let r = app
        .call(json_body(
            request("POST", path).insert_header(("Authorization", "Bearer nope")),
            &json!({}),
        ))
        .await;
    assert_problem(&r, 403, "INVALID_TOKEN", path);
    let r = app
        .call(
            request("POST", path)
                .insert_header(("Authorization", format!("ApiKey {}", app.key)))
                .set_payload("{}"),
        )
        .await;
    assert_problem(&r, 415, "UNSUPPORTED_MEDIA_TYPE", path);
    assert_eq!(uploads_count(&app), 0);
    assert!(files_in(&app, "tmp").is_empty());
}

#[actix_web::test]
async fn taken_names_continue_or_replace() {
    let app = TestApp::new().await;
    let old = app.upload_one("/docs", "plan.txt", b"version one").await;
    let old_uuid = old["uuid"].as_str().unwrap();
    let docs = old["folder"]["uuid"].as_str().unwrap();
    // A share of the old file serves the new bytes afterwards.
    let share = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{old_uuid}/share"),
        Some(&json!({})),
    )
    .await;
    let puid = share["sharedLink"]
        .as_str()
        .unwrap()
        .split('/')
        .nth(4)
        .unwrap()
        .to_string();
    let blobs_before = app.stored_blobs();
    assert_eq!(blobs_before.len(), 1);
    // Free-name rule by default ("continue" or nothing).
    let a = upload_chunked(&app, "plan.txt", Some(docs), b"another", 4).await;
    assert_eq!(a["displayName"], "plan (2).txt");
    assert_ne!(a["id"], old_uuid);
    // "replace": same id, new bytes, old blob gone.
    let s = start_upload(&app, &json!({"displayName": "plan.txt", "parentId": docs, "contentLength": 11, "uploadOverwriteOption": "replace"})).await;
    assert_eq!(s["assetId"], old_uuid);
    assert_eq!(
        put_part(&app, s["parts"][0]["url"].as_str().unwrap(), b"version two")
            .await
            .status,
        200
    );
    app.clock.advance(Duration::seconds(5));
    let a = ok_json(&app, "POST", &complete_path(&s), None).await;
    assert_eq!(a["id"], old_uuid);
    assert_eq!(a["displayName"], "plan.txt");
    assert_eq!(a["createdDate"], "2030-01-15T12:00:00Z");
    assert_eq!(a["lastModifiedDate"], "2030-01-15T12:00:05Z");
    assert_eq!(download(&app, old_uuid).await, b"version two");
    assert!(
        !app.stored_blobs().contains(&blobs_before[0]),
        "the old blob stays"
    );
    assert_eq!(app.stored_blobs().len(), 2);
    let r = app
        .call(request("GET", &format!("/{ORG}/v4/share/{puid}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["files"][0]["size"]["bytes"], 11);
    // existingAssetId: that file, whatever the name says.
    let s = start_upload(&app, &json!({"displayName": "ignored.bin", "existingAssetId": old_uuid.to_uppercase(), "contentLength": 5})).await;
    assert_eq!(s["assetId"], old_uuid);
    assert_eq!(
        put_part(&app, s["parts"][0]["url"].as_str().unwrap(), b"three")
            .await
            .status,
        200
    );
    let a = ok_json(&app, "POST", &complete_path(&s), None).await;
    assert_eq!(
        (a["id"].as_str(), a["displayName"].as_str()),
        (Some(old_uuid), Some("plan.txt"))
    );
    assert_eq!(download(&app, old_uuid).await, b"three");
    assert_eq!(app.stored_blobs().len(), 2);
    // A replaced file deleted before completion: 404, and the upload is gone.
    let s = start_upload(
        &app,
        &json!({"existingAssetId": old_uuid, "contentLength": 1}),
    )
    .await;
    assert_eq!(
        put_part(&app, s["parts"][0]["url"].as_str().unwrap(), b"x")
            .await
            .status,
        200
    );
    ok_json(
        &app,
        "DELETE",
        &format!("/api/admin/asset/{old_uuid}"),
        None,
    )
    .await;
    let r = app.call(api(&app, "POST", &complete_path(&s))).await;
    assert_problem(&r, 404, "NOT_FOUND", &complete_path(&s));
    assert_eq!(app.stored_blobs().len(), 1);
}

#[actix_web::test]
async fn cancel_expiry_restart_and_other_orgs() {
    let mut app = TestApp::new().await;
    let s = start_upload(
        &app,
        &json!({"displayName": "c.txt", "contentLength": 8, "chunkSize": 4}),
    )
    .await;
    let url0 = s["parts"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(put_part(&app, &url0, b"abcd").await.status, 200);
    let id = s["id"].as_str().unwrap();
    // Another org's key sees nothing of it.
    let cancel = format!("/api/asset/upload/{id}/cancel");
    let other = |method: &str, path: &str| {
        request(method, path).insert_header(("Authorization", format!("ApiKey {}", app.other_key)))
    };
    for path in [
        cancel.clone(),
        complete_path(&s),
        format!(
            "/api/asset/upload/part/{}/complete",
            s["parts"][0]["id"].as_str().unwrap()
        ),
    ] {
        let r = app.call(other("POST", &path)).await;
        assert_problem(&r, 404, "NOT_FOUND", &path);
    }
    assert_eq!(
        ok_json(&app, "POST", &cancel, None).await,
        json!({"id": id, "cancelled": true})
    );
    assert!(files_in(&app, "tmp").is_empty());
    assert_eq!(uploads_count(&app), 0);
    let r = put_part(&app, &url0, b"abcd").await;
    assert_eq!(r.status, 404);
    for path in [cancel.clone(), complete_path(&s)] {
        let r = app.call(api(&app, "POST", &path)).await;
        assert_problem(&r, 404, "NOT_FOUND", &path);
    }
    // 24 hours after its start an unfinished upload is dead, and the next start sweeps it.
    let s = start_upload(&app, &json!({"displayName": "d.txt", "contentLength": 4})).await;
    let url = s["parts"][0]["url"].as_str().unwrap().to_string();
    app.clock
        .advance(Duration::hours(24) - Duration::seconds(1));
    assert_eq!(put_part(&app, &url, b"abcd").await.status, 200);
    app.clock.advance(Duration::seconds(1));
    assert_eq!(put_part(&app, &url, b"abcd").await.status, 404);
    let r = app.call(api(&app, "POST", &complete_path(&s))).await;
    assert_problem(&r, 404, "NOT_FOUND", &complete_path(&s));
    assert_eq!(files_in(&app, "tmp").len(), 1);
    let s2 = start_upload(&app, &json!({"displayName": "e.txt", "contentLength": 2})).await;
    assert_eq!(uploads_count(&app), 1);
    assert_eq!(files_in(&app, "tmp").len(), 1);
    // A completed upload is kept 24 hours, so a repeated complete still answers.
    assert_eq!(
        put_part(&app, s2["parts"][0]["url"].as_str().unwrap(), b"ok")
            .await
            .status,
        200
    );
    let a = ok_json(&app, "POST", &complete_path(&s2), None).await;
    app.clock.advance(Duration::hours(23));
    assert_eq!(ok_json(&app, "POST", &complete_path(&s2), None).await, a);
    // A start clears tmp/ (here by hand): uploads begun before are dead.
    let s3 = start_upload(&app, &json!({"displayName": "f.txt", "contentLength": 2})).await;
    app.restart().await;
    for f in files_in(&app, "tmp") {
        std::fs::remove_file(f).unwrap();
    }
    let r = put_part(&app, s3["parts"][0]["url"].as_str().unwrap(), b"ok").await;
    assert_eq!(r.status, 404, "{}", r.text());
    let r = app.call(api(&app, "POST", &complete_path(&s3))).await;
    assert_problem(&r, 404, "NOT_FOUND", &complete_path(&s3));
}

#[actix_web::test]
async fn bearer_tokens_work_and_own_nothing_special() {
    let app = TestApp::new().await;
    let (token, _) = app.admin_tokens().await;
    let r = app
        .call(json_body(
            request("POST", "/api/asset/upload/start")
                .insert_header(("Authorization", format!("Bearer {token}"))),
            &json!({"displayName": "t.txt", "contentLength": 2}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    assert_eq!(
        put_part(&app, s["parts"][0]["url"].as_str().unwrap(), b"hi")
            .await
            .status,
        200
    );
    // Completed with the org's API key: uploads belong to the org.
    let a = ok_json(&app, "POST", &complete_path(&s), None).await;
    assert_eq!(a["displayName"], "t.txt");
}
