//! Issues 21 and 18: a tus upload into a bucket that is abandoned aborts its multipart upload
//! when it expires (by the test clock), and so does one whose file request is deleted, so
//! nothing stays billed; in-process, against moto.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/requests.rs"]
mod requests;

use common::*;
use requests::*;
use sharebox::blob::s3::{S3Settings, S3Url};

const MIB: usize = 1 << 20;

/// An app whose blobs go to a fresh bucket of `m`.
async fn app_on(m: &moto::Moto, bucket: &str) -> TestApp {
    let (bucket, endpoint) = (bucket.to_string(), m.endpoint.clone());
    TestApp::with_config(move |c| {
        c.blob_store = Some(S3Url::parse(&format!("s3://{bucket}/t")).unwrap());
        c.s3 = S3Settings {
            endpoint: Some(endpoint),
            region: "us-east-1".into(),
            path_style: true,
            redirect: false,
        };
    })
    .await
}

/// Waits until `n` multipart uploads are open in `bucket` (parts go up in the background).
async fn wait_for_multipart(m: &moto::Moto, bucket: &str, n: usize) {
    let t0 = std::time::Instant::now();
    while m.multipart_uploads(bucket).len() != n {
        assert!(t0.elapsed().as_secs() < 20, "no multipart upload");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn an_abandoned_tus_upload_aborts_its_multipart_upload_when_it_expires() {
    let m = moto::moto();
    let bucket = m.bucket();
    let app = app_on(m, &bucket).await;
    let tus = |method: &str, path: &str| {
        request(method, path)
            .insert_header(("Tus-Resumable", "1.0.0"))
            .insert_header(("X-Filerobot-Key", app.key.clone()))
    };
    let r = app
        .call(
            tus("POST", "/tus/")
                .insert_header(("Upload-Length", (12 * MIB).to_string()))
                .insert_header(("Upload-Metadata", "filename bGVmdC5iaW4=")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let path = r
        .header("location")
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string();
    let r = app
        .call(
            tus("PATCH", &path)
                .insert_header(("Content-Type", "application/offset+octet-stream"))
                .insert_header(("Upload-Offset", "0"))
                .set_payload(vec![7u8; 6 * MIB]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // Its first part goes up in the background: a multipart upload is open in the bucket.
    wait_for_multipart(m, &bucket, 1).await;

    // Abandoned: 24 h after its last PATCH the cleanup drops it and aborts that upload.
    app.clock.advance(chrono::Duration::hours(25));
    assert_eq!(app.state.tus.sweep().await.unwrap(), 1);
    assert!(m.multipart_uploads(&bucket).is_empty(), "aborted");
    assert!(m.keys(&bucket).is_empty());
    assert!(TestApp::files_under(&app.data_dir().join("uploads")).is_empty());
}

#[actix_web::test]
async fn deleting_a_file_request_ends_its_uploads_in_progress() {
    let m = moto::moto();
    let bucket = m.bucket();
    let app = app_on(m, &bucket).await;
    let r = create_request(&app, &serde_json::json!({"title": "Scans"})).await;
    let v = visit(&app, &r).await;
    let puid = r["puid"].as_str().unwrap();
    let created = app
        .call(tus_create(
            puid,
            Some(&v.cookie),
            &[("filename", "scan.bin")],
            12 * MIB,
            Some(&vec![7u8; 6 * MIB]),
        ))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_multipart(m, &bucket, 1).await;
    assert_eq!(
        TestApp::files_under(&app.data_dir().join("uploads")).len(),
        1
    );
    let uuid = r["uuid"].as_str().unwrap();
    let gone = app
        .call(app.fr("DELETE", &format!("/v5/requests/{uuid}")))
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text());
    // At once, not at the next start or by the bucket's lifecycle rule.
    assert!(m.multipart_uploads(&bucket).is_empty(), "aborted");
    assert!(m.keys(&bucket).is_empty());
    assert!(TestApp::files_under(&app.data_dir().join("uploads")).is_empty());
    // The upload's URL is dead.
    let path = created
        .header("location")
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string();
    let head = app
        .call(
            request("HEAD", &path)
                .insert_header(("Tus-Resumable", "1.0.0"))
                .insert_header(("cookie", v.cookie.clone())),
        )
        .await;
    assert_eq!(head.status, 404);
}
