//! Issue 4: the asset library through Filerobot's v4 routes, through the real app.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};

fn uuid_of(v: &Value) -> String {
    v["uuid"].as_str().expect("uuid").to_string()
}

async fn root_listing(app: &TestApp) -> Value {
    let r = app.call(app.fr("GET", "/v4/folders?recursive=1")).await;
    assert_eq!(r.status, 200);
    r.json()
}

#[actix_web::test]
async fn create_folder_body_errors_change_nothing() {
    let app = TestApp::new().await;
    let before = root_listing(&app).await;
    let r = app
        .call(
            app.fr("POST", "/v4/folders")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"name\": \"/a\""),
        )
        .await;
    let j = assert_fr_error(&r, 400, "MALFORMED_JSON");
    assert_eq!(
        j,
        json!({"status":"error","code":"MALFORMED_JSON","msg":"The body is not valid JSON: EOF while parsing an object at line 1, column 13.","hint":"Send a JSON object as the body."})
    );
    let r = app
        .call(json_body(
            app.fr("POST", "/v4/folders"),
            &json!({"name": 42}),
        ))
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD"),
        json!({"status":"error","code":"INVALID_FIELD","msg":"name: invalid type: integer `42`, expected a string"})
    );
    let r = app
        .call(
            app.fr("POST", "/v4/folders")
                .insert_header(("content-type", "text/plain"))
                .set_payload("{\"name\":\"/a\"}"),
        )
        .await;
    assert_eq!(
        assert_fr_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE"),
        json!({"status":"error","code":"UNSUPPORTED_MEDIA_TYPE","msg":"The body must be JSON (application/json), not text/plain.","hint":"Send the body as Content-Type: application/json."})
    );
    let r = app
        .call(json_body(
            app.fr("POST", "/v4/folders"),
            &json!({"name": "/a/../b"}),
        ))
        .await;
    let j = assert_fr_error(&r, 400, "INVALID_FIELD");
    assert_eq!(j["msg"], "name: '..': '..' cannot be a name");
    assert_eq!(
        root_listing(&app).await,
        before,
        "a rejected request changed the library"
    );
}

#[actix_web::test]
async fn folders_by_path_with_missing_parents() {
    let app = TestApp::new().await;
    let r = app
        .call(json_body(
            app.fr("POST", "/v4/folders"),
            &json!({"name": "//a/b/c/"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    let j = r.json();
    assert_eq!(j["status"], "success");
    assert_eq!(j["action"], "folder_created");
    let c = j["folder"].clone();
    assert_eq!(j["folder_uuid"], c["uuid"]);
    assert_eq!(c["name"], "c");
    assert_eq!(c["path"], "/a/b/c");
    assert_eq!(c["created_at"], "2030-01-15T12:00:00Z");
    assert_eq!(c["updated_at"], "2030-01-15T12:00:00Z");
    assert_eq!(c.as_object().unwrap().len(), 6);

    let r = app.call(app.fr("GET", "/v4/folders?folder=/a/b")).await;
    let j = r.json();
    assert_eq!(j["folder"]["path"], "/a/b");
    assert_eq!(j["folder"]["uuid"], c["parent_uuid"]);
    assert_eq!(j["folders"], json!([c]));
    assert_eq!(j["total"], 1);

    let r = app.call(app.fr("GET", "/v4/folders")).await;
    let j = r.json();
    assert_eq!(j["folder"]["name"], "/");
    assert_eq!(j["folder"]["path"], "/");
    assert_eq!(j["folder"]["parent_uuid"], Value::Null);
    assert_eq!(j["total"], 1);
    assert_eq!(j["folders"][0]["path"], "/a");

    // By uuid, and recursive listings.
    let r = app
        .call(app.fr("GET", &format!("/v4/folders/{}", uuid_of(&c))))
        .await;
    assert_eq!(r.json(), json!({"status": "success", "folder": c}));
    let r = app
        .call(app.fr("GET", "/v4/folders?folder=/a&recursive=true"))
        .await;
    let mut paths: Vec<String> = r.json()["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/a/b", "/a/b/c"]);

    // Existing path → 403; the root exists from the start.
    for path in ["/a/b/c", "a/b/c", "/"] {
        let r = app
            .call(json_body(
                app.fr("POST", "/v4/folders"),
                &json!({"name": path}),
            ))
            .await;
        let j = assert_fr_error(&r, 403, "FOLDER_EXISTS");
        assert!(j["msg"].as_str().unwrap().contains("exists already"));
    }
    // Unknown folder path or uuid → 404.
    let r = app.call(app.fr("GET", "/v4/folders?folder=/nope")).await;
    assert_fr_error(&r, 404, "NOT_FOUND");
    for id in ["not-a-uuid", "00000000-0000-4000-8000-000000000000"] {
        let r = app.call(app.fr("GET", &format!("/v4/folders/{id}"))).await;
        assert_eq!(
            assert_fr_error(&r, 404, "NOT_FOUND"),
            json!({"status":"error","code":"NOT_FOUND","msg":"The folder was not found."})
        );
    }
}

#[actix_web::test]
async fn rename_and_move_rules() {
    let app = TestApp::new().await;
    let a = app.mkdir("/a").await;
    let b = app.mkdir("/b").await;
    let ab = app.mkdir("/a/b").await;
    let root = app.call(app.fr("GET", "/v4/folders")).await.json()["folder"].clone();

    // Folder rename onto a sibling's name → 400 FOLDER_EXISTS; the root cannot be renamed.
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/folders/{}", uuid_of(&a))),
            &json!({"name": "b"}),
        ))
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "FOLDER_EXISTS"),
        json!({"status":"error","code":"FOLDER_EXISTS","msg":"A folder named 'b' exists already in this folder."})
    );
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/folders/{}", uuid_of(&root))),
            &json!({"name": "x"}),
        ))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    app.clock.advance(Duration::seconds(5));
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/folders/{}", uuid_of(&a))),
            &json!({"name": "a2"}),
        ))
        .await;
    assert_eq!(r.status, 200);
    let j = r.json()["folder"].clone();
    assert_eq!(
        (j["name"].as_str(), j["path"].as_str()),
        (Some("a2"), Some("/a2"))
    );
    assert_eq!(j["updated_at"], "2030-01-15T12:00:05Z");
    // Children follow: /a/b is now /a2/b.
    let r = app
        .call(app.fr("GET", &format!("/v4/folders/{}", uuid_of(&ab))))
        .await;
    assert_eq!(r.json()["folder"]["path"], "/a2/b");

    // Move into itself or below itself → 400.
    for dest in [uuid_of(&a), uuid_of(&ab)] {
        let r = app
            .call(app.fr(
                "PUT",
                &format!("/v4/folders/{}/folders/{dest}", uuid_of(&a)),
            ))
            .await;
        let j = assert_fr_error(&r, 400, "INVALID_FIELD");
        assert_eq!(
            j["msg"],
            "dest: a folder cannot be moved into itself or one of its sub-folders"
        );
    }
    // Move /b into /a2 where a "b" exists → 409.
    let r = app
        .call(app.fr(
            "PUT",
            &format!("/v4/folders/{}/folders/{}", uuid_of(&b), uuid_of(&a)),
        ))
        .await;
    assert_eq!(
        assert_fr_error(&r, 409, "NAME_EXISTS"),
        json!({"status":"error","code":"NAME_EXISTS","msg":"A folder named 'b' exists already in '/a2'."})
    );
    // Move /a2/b to the root → clash with /b; move /b into /a2/b → fine.
    let r = app
        .call(app.fr(
            "PUT",
            &format!("/v4/folders/{}/folders/{}", uuid_of(&b), uuid_of(&ab)),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["folder"]["path"], "/a2/b/b");
    assert_eq!(r.json()["folder"]["parent_uuid"], ab["uuid"]);
    let r = app
        .call(app.fr("PUT", &format!("/v4/folders/{}/folders/nope", uuid_of(&b))))
        .await;
    assert_fr_error(&r, 404, "NOT_FOUND");

    // Files: rename onto a taken name → 409; same name → no-op 200; move with clash → 409.
    let x = app.upload_one("/a2", "x.txt", b"x").await;
    let y = app.upload_one("/a2", "y.txt", b"y").await;
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{}", uuid_of(&y))),
            &json!({"name": "x.txt"}),
        ))
        .await;
    assert_eq!(
        assert_fr_error(&r, 409, "NAME_EXISTS"),
        json!({"status":"error","code":"NAME_EXISTS","msg":"A file named 'x.txt' exists already in '/a2'."})
    );
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{}", uuid_of(&y))),
            &json!({"name": "y.txt"}),
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["file"], y);
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{}", uuid_of(&y))),
            &json!({"name": "z.txt", "visibility": "PUB"}),
        ))
        .await;
    let z = r.json()["file"].clone();
    assert_eq!(
        (z["name"].as_str(), z["visibility"].as_str()),
        (Some("z.txt"), Some("PUB"))
    );
    assert_eq!(z["url"]["path"], "/a2/z.txt");
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{}", uuid_of(&y))),
            &json!({"visibility": "secret"}),
        ))
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD")["msg"],
        "visibility: 'secret' is not a visibility: use PUB or ORG"
    );
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{}", uuid_of(&y))),
            &json!({"name": "a/b"}),
        ))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    let other_x = app.upload_one("/b", "x.txt", b"other").await;
    let r = app
        .call(app.fr(
            "PUT",
            &format!("/v4/files/{}/folders/{}", uuid_of(&other_x), uuid_of(&a)),
        ))
        .await;
    assert_fr_error(&r, 409, "NAME_EXISTS");
    let r = app
        .call(app.fr(
            "PUT",
            &format!("/v4/files/{}/folders/{}", uuid_of(&x), uuid_of(&root)),
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["file"]["folder"],
        json!({"uuid": root["uuid"], "name": "/"})
    );
    assert_eq!(r.json()["file"]["url"]["path"], "/x.txt");
}

#[actix_web::test]
async fn delete_rules_and_blobs() {
    let app = TestApp::new().await;
    let a = app.mkdir("/a/b/c").await;
    let top = app
        .call(app.fr("GET", "/v4/folders?folder=/a"))
        .await
        .json()["folder"]
        .clone();
    app.upload_one("/a", "1.txt", b"one").await;
    app.upload_one("/a/b/c", "2.txt", b"two").await;
    assert_eq!(app.stored_blobs().len(), 2);

    let r = app
        .call(app.fr("DELETE", &format!("/v4/folders/{}", uuid_of(&top))))
        .await;
    let j = assert_fr_error(&r, 409, "FOLDER_NOT_EMPTY");
    assert_eq!(j["msg"], "The folder '/a' holds 2 folder(s) and 2 file(s); delete with recursive=true to remove them too.");
    let r = app
        .call(app.fr(
            "DELETE",
            &format!("/v4/folders/{}?recursive=maybe", uuid_of(&top)),
        ))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    // An empty folder goes without recursive.
    let r = app
        .call(app.fr("DELETE", &format!("/v4/folders/{}", uuid_of(&a))))
        .await;
    assert_fr_error(&r, 409, "FOLDER_NOT_EMPTY");
    let empty = app.mkdir("/a/empty").await;
    let r = app
        .call(app.fr("DELETE", &format!("/v4/folders/{}", uuid_of(&empty))))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["deleted"], json!({"folders": 1, "files": 0}));

    let r = app
        .call(app.fr(
            "DELETE",
            &format!("/v4/folders/{}?recursive=1", uuid_of(&top)),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"status":"success","msg":format!("Successfully deleted the folder with uuid={}", uuid_of(&top)),"deleted":{"folders":3,"files":2}})
    );
    assert_eq!(root_listing(&app).await["total"], 0);
    let r = app.call(app.fr("GET", "/v4/files?recursive=1")).await;
    assert_eq!(r.json()["total"], 0);
    assert!(app.stored_blobs().is_empty(), "blobs left in the store");

    // File delete removes its blob; then it is 404.
    let f = app.upload_one("/", "f.txt", b"f").await;
    let r = app
        .call(app.fr("DELETE", &format!("/v4/files/{}", uuid_of(&f))))
        .await;
    assert_eq!(
        r.json(),
        json!({"status":"success","msg":format!("Successfully deleted the file with uuid={}", uuid_of(&f))})
    );
    assert!(app.stored_blobs().is_empty());
    let r = app
        .call(app.fr("DELETE", &format!("/v4/files/{}", uuid_of(&f))))
        .await;
    assert_eq!(
        assert_fr_error(&r, 404, "NOT_FOUND"),
        json!({"status":"error","code":"NOT_FOUND","msg":"The file was not found."})
    );
    // The root cannot be deleted.
    let root = app.call(app.fr("GET", "/v4/folders")).await.json()["folder"].clone();
    let r = app
        .call(app.fr(
            "DELETE",
            &format!("/v4/folders/{}?recursive=true", uuid_of(&root)),
        ))
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD")["msg"],
        "uuid: the root folder cannot be deleted"
    );
}

#[actix_web::test]
async fn upload_two_files_whole_answer() {
    let app = TestApp::new().await;
    let one = vec![7u8; 67_451];
    let two = b"hello, world\n".to_vec();
    let r = app
        .upload(
            "folder=/docs",
            &[
                ("file1", Some("photo.JPG"), Some("image/jpeg"), &one),
                ("anything", Some("notes"), Some("text/markdown"), &two),
                ("visibility", None, None, b"PUB"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    let j = r.json();
    assert_eq!(j["status"], "success");
    assert!(j.get("file").is_none(), "`file` only when exactly one");
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let folder = app
        .call(app.fr("GET", "/v4/folders?folder=/docs"))
        .await
        .json()["folder"]
        .clone();
    let f = &files[0];
    let uuid = uuid_of(f);
    assert_eq!(
        *f,
        json!({
            "uuid": uuid, "name": "photo.JPG", "extension": "jpg", "type": "image/jpeg",
            "size": {"bytes": 67451, "pretty": "65.87 KB"},
            "hash": {"sha256": sha256_hex(&one)},
            "visibility": "PUB",
            "folder": {"uuid": folder["uuid"], "name": "/docs"},
            "url": {"permalink": format!("http://sharebox.test/acme/v4/get/{uuid}/download"), "path": "/docs/photo.JPG"},
            "meta": {},
            "created_at": "2030-01-15T12:00:00Z", "modified_at": "2030-01-15T12:00:00Z"
        })
    );
    // No extension: the part's type; sizes and hashes match the bytes sent.
    assert_eq!(files[1]["type"], "text/markdown");
    assert_eq!(files[1]["extension"], "");
    assert_eq!(files[1]["size"]["bytes"], two.len());
    assert_eq!(files[1]["hash"]["sha256"], sha256_hex(&two));
    assert_ne!(files[0]["uuid"], files[1]["uuid"]);
    let r = app.call(app.fr("GET", &format!("/v4/files/{uuid}"))).await;
    assert_eq!(r.json(), json!({"status": "success", "file": f}));
    let r = app
        .call(app.fr("GET", &format!("/v4/get/{uuid}/download")))
        .await;
    assert_eq!(r.body.as_ref(), one.as_slice());

    // POST /files is the same route.
    let r = app
        .call(
            app.fr("POST", "/v4/files?folder=/docs")
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(multipart(&[("file", Some("c.txt"), None, b"c")])),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["file"]["name"], "c.txt");
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn taken_names_and_client_paths() {
    let app = TestApp::new().await;
    for expected in ["x.txt", "x (2).txt", "x (3).txt"] {
        let f = app.upload_one("/", "x.txt", b"x").await;
        assert_eq!(f["name"], expected);
    }
    // Two parts of one request with the same name are disambiguated too.
    let r = app
        .upload(
            "",
            &[
                ("a", Some("dup"), None, b"1"),
                ("b", Some("dup"), None, b"2"),
            ],
        )
        .await;
    let j = r.json();
    let names: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dup", "dup (2)"]);

    let f = app.upload_one("/", "../../../escape.txt", b"secret").await;
    assert_eq!(f["name"], "escape.txt");
    let f = app.upload_one("/", "/etc/passwd", b"w").await;
    assert_eq!(f["name"], "passwd");
    // No file named after the client anywhere on disk, in or out of the data dir.
    let everything = TestApp::files_under(app.dir.path());
    assert!(
        !everything.iter().any(|p| p
            .file_name()
            .is_some_and(|n| n == "escape.txt" || n == "passwd")),
        "{everything:?}"
    );
    assert!(!app.dir.path().parent().unwrap().join("escape.txt").exists());

    // A name that is still invalid → 400 naming `file`; nothing stored.
    let before = app.call(app.fr("GET", "/v4/files")).await.json()["total"].clone();
    let r = app
        .upload(
            "",
            &[
                ("file", Some("ok.txt"), None, b"1"),
                ("file", Some(".."), None, b"2"),
            ],
        )
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD")["msg"],
        "file: '..': '..' cannot be a name"
    );
    assert_eq!(
        app.call(app.fr("GET", "/v4/files")).await.json()["total"],
        before
    );
    assert!(TestApp::files_under(&app.data_dir().join("tmp")).is_empty());
}

#[actix_web::test]
async fn base64_urls_and_missing_files() {
    let app = TestApp::new().await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    // Wrapped at 76 columns, padding dropped, fields sent with filenames as the SDK does.
    let wrapped: String = encoded
        .trim_end_matches('=')
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
        .collect();
    let r = app
        .upload(
            "folder=/b64",
            &[
                ("data", Some("data"), None, wrapped.as_bytes()),
                ("postactions", Some("postactions"), None, b"decode_base64"),
                ("name", Some("name"), None, b"decoded.bin"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let f = r.json()["file"].clone();
    assert_eq!(f["name"], "decoded.bin");
    assert_eq!(f["size"]["bytes"], 1000);
    assert_eq!(f["hash"]["sha256"], sha256_hex(&bytes));

    let r = app
        .upload(
            "",
            &[
                ("postactions", None, None, b"decode_base64"),
                ("name", None, None, b"x.bin"),
                ("data", None, None, b"!!!notbase64"),
            ],
        )
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD")["msg"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("data")
    );
    let r = app
        .upload(
            "",
            &[
                ("postactions", None, None, b"decode_base64"),
                ("data", None, None, b"aGk="),
            ],
        )
        .await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD")["msg"],
        "name: '': a name cannot be empty"
    );

    let r = app
        .call(json_body(
            app.fr("POST", "/v4/upload"),
            &json!({"files_urls": [{"url": "http://169.254.169.254/latest/meta-data"}]}),
        ))
        .await;
    let j = assert_fr_error(&r, 400, "UNSUPPORTED");
    assert!(j["msg"].as_str().unwrap().contains("SSRF"));
    let r = app.upload("", &[("visibility", None, None, b"PUB")]).await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD"),
        json!({"status":"error","code":"INVALID_FIELD","msg":"file: the request has no file: send a multipart part with a filename"})
    );
    let r = app
        .call(
            app.fr("POST", "/v4/upload")
                .insert_header(("content-type", "text/plain"))
                .set_payload("x"),
        )
        .await;
    assert_fr_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    let r = app
        .upload(
            "",
            &[
                ("visibility", None, None, b"both"),
                ("file", Some("v.txt"), None, b"v"),
            ],
        )
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    assert_eq!(
        app.call(app.fr("GET", "/v4/files")).await.json()["total"],
        0
    );
}

#[actix_web::test]
async fn over_the_limit_is_413_and_tmp_is_empty() {
    let app = TestApp::with_config(|c| c.max_upload_bytes = 1000).await;
    let r = app
        .upload("", &[("file", Some("small.bin"), None, &[1u8; 1000])])
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .upload(
            "",
            &[
                ("file", Some("ok.bin"), None, &[1u8; 10]),
                ("file", Some("big.bin"), None, &[1u8; 1001]),
            ],
        )
        .await;
    assert_eq!(
        assert_fr_error(&r, 413, "TOO_LARGE"),
        json!({"status":"error","code":"TOO_LARGE","msg":"The file is larger than the limit of 1000 bytes."})
    );
    assert!(TestApp::files_under(&app.data_dir().join("tmp")).is_empty());
    assert_eq!(app.stored_blobs().len(), 1);
    assert_eq!(
        app.call(app.fr("GET", "/v4/files")).await.json()["total"],
        1
    );
}

#[actix_web::test]
async fn pagination_and_order() {
    let app = TestApp::new().await;
    for (i, name) in ["c.txt", "a.txt", "d.txt", "b.txt"].iter().enumerate() {
        app.clock.advance(Duration::seconds(10));
        app.upload_one("/p", name, &vec![b'x'; (i + 1) * 10]).await;
        app.mkdir(&format!("/p/{}", name.trim_end_matches(".txt")))
            .await;
    }
    let names = |j: &Value, key: &str| -> Vec<String> {
        j[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    let app = &app;
    let list = |q: &'static str| {
        let req = app.fr("GET", &format!("/v4/files?folder=/p&{q}"));
        async move { app.call(req).await }
    };
    let j = list("").await.json();
    assert_eq!(names(&j, "files"), ["a.txt", "b.txt", "c.txt", "d.txt"]);
    assert_eq!(j["total"], 4);
    let j = list("order=name,desc&limit=2&offset=1").await.json();
    assert_eq!(names(&j, "files"), ["c.txt", "b.txt"]);
    assert_eq!(j["total"], 4);
    assert_eq!(
        names(&list("order=created_at:asc").await.json(), "files"),
        ["c.txt", "a.txt", "d.txt", "b.txt"]
    );
    assert_eq!(
        names(&list("sort=size,desc").await.json(), "files"),
        ["b.txt", "d.txt", "a.txt", "c.txt"]
    );
    assert_eq!(
        names(&list("order=updated_at,desc").await.json(), "files"),
        ["b.txt", "d.txt", "a.txt", "c.txt"]
    );
    assert_eq!(
        names(&list("offset=10").await.json(), "files"),
        Vec::<String>::new()
    );
    assert_eq!(list("limit=5000").await.status, 200);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("order=colour,asc", "order"),
        ("order=name,up", "order"),
        ("recursive=yes", "recursive"),
    ] {
        let r = list(q).await;
        let j = assert_fr_error(&r, 400, "INVALID_FIELD");
        assert!(
            j["msg"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}: ")),
            "{q}: {j}"
        );
    }
    let r = app
        .call(app.fr("GET", "/v4/folders?folder=/p&order=size,asc"))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    let r = app
        .call(app.fr("GET", "/v4/folders?folder=/p&order=name,desc&limit=3"))
        .await;
    let j = r.json();
    assert_eq!(names(&j, "folders"), ["d", "c", "b"]);
    assert_eq!(j["total"], 4);
    // Recursive file listing covers the subtree.
    app.upload_one("/p/a", "deep.txt", b"deep").await;
    let r = app
        .call(app.fr(
            "GET",
            "/v4/files?folder=/p&recursive=1&limit=2&order=name,asc",
        ))
        .await;
    let j = r.json();
    assert_eq!(j["total"], 5);
    assert_eq!(names(&j, "files"), ["a.txt", "b.txt"]);
    let r = app.call(app.fr("GET", "/v4/files?folder=/p/a")).await;
    assert_eq!(names(&r.json(), "files"), ["deep.txt"]);
}

#[actix_web::test]
async fn another_org_sees_nothing() {
    let app = TestApp::new().await;
    let f = app.upload_one("/private", "p.txt", b"p").await;
    let folder_uuid = f["folder"]["uuid"].as_str().unwrap().to_string();
    let other = |method: &str, path: String| {
        request(method, &format!("/{OTHER_ORG}{path}"))
            .insert_header(("X-Filerobot-Key", app.other_key.clone()))
    };
    for (method, path) in [
        ("GET", format!("/v4/files/{}", uuid_of(&f))),
        ("GET", format!("/v4/get/{}/download", uuid_of(&f))),
        ("DELETE", format!("/v4/files/{}", uuid_of(&f))),
        ("GET", format!("/v4/folders/{folder_uuid}")),
        ("DELETE", format!("/v4/folders/{folder_uuid}?recursive=1")),
        ("GET", format!("/v4/files?folder_uuid={folder_uuid}")),
    ] {
        let r = app.call(other(method, path.clone())).await;
        assert_fr_error(&r, 404, "NOT_FOUND");
    }
    let r = app.call(other("GET", "/v4/files?recursive=1".into())).await;
    assert_eq!(r.json()["total"], 0);
    // The file is untouched.
    assert_eq!(
        app.call(app.fr("GET", &format!("/v4/files/{}", uuid_of(&f))))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn download_headers_ranges_and_etag() {
    let app = TestApp::new().await;
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let f = app.upload_one("/", "data résumé.bin", &bytes).await;
    let url = format!("/v4/get/{}/download", uuid_of(&f));
    let etag = format!("\"{}\"", sha256_hex(&bytes));

    let r = app.call(app.fr("GET", &url)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), bytes.as_slice());
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"data r_sum_.bin\"; filename*=UTF-8''data%20r%C3%A9sum%C3%A9.bin")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.content_type(), "application/octet-stream");

    let r = app
        .call(
            app.fr("GET", &url)
                .insert_header(("Range", "bytes=100-199")),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), &bytes[100..200]);
    assert_eq!(r.header("content-range"), Some("bytes 100-199/1000"));
    assert_eq!(r.body.len(), 100);

    let r = app
        .call(app.fr("GET", &url).insert_header(("Range", "bytes=-100")))
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), &bytes[900..]);
    assert_eq!(r.header("content-range"), Some("bytes 900-999/1000"));

    let r = app
        .call(app.fr("GET", &url).insert_header(("Range", "bytes=990-")))
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), &bytes[990..]);

    let r = app
        .call(
            app.fr("GET", &url)
                .insert_header(("Range", "bytes=0-9,20-29")),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), bytes.as_slice());

    let r = app
        .call(
            app.fr("GET", &url)
                .insert_header(("Range", "bytes=5000-6000")),
        )
        .await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */1000"));
    assert_fr_error(&r, 416, "RANGE_NOT_SATISFIABLE");

    let r = app
        .call(
            app.fr("GET", &url)
                .insert_header(("If-None-Match", etag.as_str())),
        )
        .await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let r = app
        .call(
            app.fr("GET", &url)
                .insert_header(("If-None-Match", "\"other\"")),
        )
        .await;
    assert_eq!(r.status, 200);

    // Risky types never leave as themselves.
    for (name, body) in [
        ("page.html", &b"<script>alert(1)</script>"[..]),
        ("pic.svg", b"<svg onload=alert(1)/>"),
        ("a.js", b"alert(1)"),
    ] {
        let f = app.upload_one("/", name, body).await;
        let r = app
            .call(app.fr("GET", &format!("/v4/get/{}/download", uuid_of(&f))))
            .await;
        assert_eq!(r.content_type(), "application/octet-stream", "{name}");
        assert!(r
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment;"));
    }
    let png = app.upload_one("/", "img.png", b"\x89PNG").await;
    let r = app
        .call(app.fr("GET", &format!("/v4/get/{}/download", uuid_of(&png))))
        .await;
    assert_eq!(r.content_type(), "image/png");

    let r = app.call(app.fr("GET", "/v4/get/not-a-uuid/download")).await;
    assert_fr_error(&r, 404, "NOT_FOUND");
}

#[actix_web::test]
async fn everything_survives_a_restart() {
    let mut app = TestApp::new().await;
    let f = app.upload_one("/keep/me", "k.txt", b"kept bytes").await;
    let before_files = app
        .call(app.fr("GET", "/v4/files?recursive=1"))
        .await
        .json();
    let before_folders = root_listing(&app).await;
    app.restart().await;
    assert_eq!(
        app.call(app.fr("GET", "/v4/files?recursive=1"))
            .await
            .json(),
        before_files
    );
    assert_eq!(root_listing(&app).await, before_folders);
    let r = app
        .call(app.fr("GET", &format!("/v4/get/{}/download", uuid_of(&f))))
        .await;
    assert_eq!(r.body.as_ref(), b"kept bytes");
}
