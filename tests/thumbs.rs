//! Issue 19 (in part): thumbnails. PNG, JPEG, WebP and GIF get one, on the public page and in
//! the library; SVG never does; a decompression bomb (10,000 x 10,000 pixels in a few hundred
//! KiB) gets none and no 5xx, and the real server's peak RSS stays under idle + 64 MiB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/common.rs"]
mod common;

use common::*;
use image::ImageFormat;
use serde_json::json;
use std::io::Cursor;

fn encoded(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// A PNG that says 10,000 x 10,000 (100 MP, 300 MB as RGB) in a few hundred KiB: every row
/// is zeros, deflated. Made by Python's zlib, row by row, never held whole.
fn bomb() -> Vec<u8> {
    let script = r#"
import sys, zlib, struct
w = h = 10000
def chunk(t, d):
    c = struct.pack('>I', len(d)) + t + d
    return c + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
z = zlib.compressobj(9)
row = b'\x00' * (1 + 3 * w)
idat = b''.join(z.compress(row) for _ in range(h)) + z.flush()
sys.stdout.buffer.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', idat) + chunk(b'IEND', b''))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.len() < 1024 * 1024, "{} bytes", out.stdout.len());
    out.stdout
}

fn dimensions(png: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(png, ImageFormat::Png).unwrap();
    (img.width(), img.height())
}

#[actix_web::test]
async fn images_get_thumbnails_and_nothing_else_does() {
    let app = TestApp::new().await;
    let folder = app.mkdir("/pics").await;
    let cases = [
        ("a.png", encoded(ImageFormat::Png, 800, 600)),
        ("b.jpg", encoded(ImageFormat::Jpeg, 600, 1200)),
        ("c.webp", encoded(ImageFormat::WebP, 640, 640)),
        ("d.gif", encoded(ImageFormat::Gif, 200, 100)),
    ];
    let mut uuids = Vec::new();
    for (name, bytes) in &cases {
        uuids.push(
            app.upload_one("/pics", name, bytes).await["uuid"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let svg = app
        .upload_one(
            "/pics",
            "e.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#,
        )
        .await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let fake = app.upload_one("/pics", "f.png", b"not a png at all").await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let s = create_share(
        &app,
        &json!({"title": "Pics", "permissions": "READ", "items": [{"type": "folder_uuid",
            "identifiers": [folder["uuid"]]}]}),
    )
    .await;
    let base = share_path(&s);
    let expected = [(320, 240), (160, 320), (320, 320), (200, 100)];
    for (uuid, want) in uuids.iter().zip(expected) {
        let r = app
            .call(request("GET", &format!("{base}/files/{uuid}/thumb")))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.content_type(), "image/png");
        assert_eq!(dimensions(&r.body), want);
        // Kept: the second answer is the same file.
        let again = app
            .call(request("GET", &format!("{base}/files/{uuid}/thumb")))
            .await;
        assert_eq!(again.body, r.body);
    }
    for uuid in [&svg, &fake] {
        let r = app
            .call(request("GET", &format!("{base}/files/{uuid}/thumb")))
            .await;
        assert_eq!(r.status, 404, "{uuid}");
    }
    let page = app
        .call(request(
            "GET",
            &format!("{base}?folder={}", folder["uuid"].as_str().unwrap()),
        ))
        .await
        .text();
    assert_eq!(
        page.matches("class=\"thumb\"").count(),
        5,
        "png, jpg, webp, gif, and the fake png"
    );
    assert!(!page.contains(&format!("{svg}/thumb")));
    // Five images of six files: the page is a grid of thumbnails.
    assert!(page.contains("<ul class=\"entries grid\">"));

    // The owner's library shows them too, through its own route.
    let (_, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let session = session.unwrap();
    let lib = get_as(
        &app,
        &session,
        &format!("/app?folder_uuid={}", folder["uuid"].as_str().unwrap()),
    )
    .await
    .text();
    assert!(lib.contains(&format!("/app/files/{}/thumb", uuids[0])));
    let r = get_as(&app, &session, &format!("/app/files/{}/thumb", uuids[1])).await;
    assert_eq!((r.status.as_u16(), dimensions(&r.body)), (200, (160, 320)));
    assert_eq!(
        get_as(&app, &session, &format!("/app/files/{svg}/thumb"))
            .await
            .status,
        404
    );
}

#[test]
fn a_decompression_bomb_gets_no_thumbnail_and_memory_stays_flat() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = binary::Server::start(&dir.path().join("data"), &[]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let idle = srv.proc_status_bytes("VmRSS");
    assert!(srv.reset_peak_rss());
    let agent = binary::agent();
    let boundary = "sharebox-thumbs";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bomb.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bomb());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let up = binary::json(
        agent
            .post(&format!("{}/{}/v4/upload", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body),
        "upload",
        &srv,
    );
    let uuid = up["file"]["uuid"].as_str().unwrap().to_string();
    let share = binary::json(
        agent
            .post(&format!("{}/{}/v5/shares", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &json!({"title": "Bomb", "items": [{"type": "file_uuid", "identifiers": [uuid]}]})
                    .to_string(),
            ),
        "share",
        &srv,
    );
    let uri = share["share"]["share_uri"].as_str().unwrap();
    let path = &uri[uri.find("/s/").unwrap()..];
    for _ in 0..3 {
        let status = match agent
            .get(&format!("{}{path}/files/{uuid}/thumb", srv.url))
            .call()
        {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(status, 404);
    }
    srv.assert_alive();
    let peak = srv.proc_status_bytes("VmHWM");
    assert!(
        peak < idle + 64 * 1024 * 1024,
        "peak {peak} over idle {idle} + 64 MiB"
    );
    srv.stop();
}
