//! Issue 21: a tus upload into a bucket that is abandoned aborts its multipart upload when it
//! expires (by the test clock), so nothing stays billed; in-process, against moto.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use sharebox::blob::s3::{S3Settings, S3Url};

const MIB: usize = 1 << 20;

#[actix_web::test]
async fn an_abandoned_tus_upload_aborts_its_multipart_upload_when_it_expires() {
    let m = moto::moto();
    let bucket = m.bucket();
    let app = TestApp::with_config(|c| {
        c.blob_store = Some(S3Url::parse(&format!("s3://{bucket}/t")).unwrap());
        c.s3 = S3Settings {
            endpoint: Some(m.endpoint.clone()),
            region: "us-east-1".into(),
            path_style: true,
            redirect: false,
        };
    })
    .await;
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
    let t0 = std::time::Instant::now();
    while m.multipart_uploads(&bucket).len() != 1 {
        assert!(t0.elapsed().as_secs() < 20, "no multipart upload");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Abandoned: 24 h after its last PATCH the cleanup drops it and aborts that upload.
    app.clock.advance(chrono::Duration::hours(25));
    assert_eq!(app.state.tus.sweep().await.unwrap(), 1);
    assert!(m.multipart_uploads(&bucket).is_empty(), "aborted");
    assert!(m.keys(&bucket).is_empty());
    assert!(TestApp::files_under(&app.data_dir().join("uploads")).is_empty());
}
