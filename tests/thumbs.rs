//! Issue 19 (in part): thumbnails. PNG, JPEG, WebP and GIF get one, on the public page and in
//! the library; SVG never does; a decompression bomb (10,000 x 10,000 pixels in a few hundred
//! KiB) gets none and no 5xx, and the real server's peak RSS stays under idle + 64 MiB; so does
//! it while 200 parallel requests get the thumbnails of 200 different 12 MP images.

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

/// The IDAT payload of a 4000 x 3000 indexed-colour (colour type 3, 8-bit) PNG, compressed once
/// by Python's zlib: bands of 25 x 25 pixels, each band's index from its column and row, so all
/// 256 palette entries are used. Rows repeat within a band, so it deflates to little.
fn indexed_idat(w: u32, h: u32) -> Vec<u8> {
    let script = format!(
        r#"
import sys, zlib
w, h = {w}, {h}
rows = [b'\x00' + bytes(((x // 25) + (band * 7)) % 256 for x in range(w)) for band in range((h + 24) // 25)]
z = zlib.compressobj(6)
sys.stdout.buffer.write(b''.join(z.compress(rows[y // 25]) for y in range(h)) + z.flush())
"#
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A PNG of `idat` (from [`indexed_idat`], `w` x `h`) with palette number `n`: the same indices,
/// other colours, so every `n` decodes to other pixels and has other bytes.
fn indexed_png(w: u32, h: u32, idat: &[u8], n: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]); // 8-bit palette indices
    let mut plte = Vec::with_capacity(3 * 256);
    for j in 0..256u32 {
        plte.extend_from_slice(&[
            ((j + 3 * n) % 256) as u8,
            ((j * 7 + 11 * n) % 256) as u8,
            ((255 - j + 5 * n) % 256) as u8,
        ]);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"PLTE", &plte);
    chunk(&mut out, b"IDAT", idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn two_hundred_12_mp_thumbnails_in_parallel_keep_memory_flat() {
    use sha2::{Digest, Sha256};
    use std::collections::HashSet;
    use std::time::Instant;

    const N: u32 = 200;
    const W: u32 = 4000;
    const H: u32 = 3000;
    let t0 = Instant::now();
    let idat = indexed_idat(W, H);
    let images: Vec<Vec<u8>> = (0..N).map(|n| indexed_png(W, H, &idat, n)).collect();
    // Honest: real 12 MP images, each decoding to its own pixels, all different files.
    let first = image::load_from_memory_with_format(&images[0], ImageFormat::Png).unwrap();
    assert_eq!((first.width(), first.height()), (W, H));
    let second = image::load_from_memory_with_format(&images[1], ImageFormat::Png).unwrap();
    assert_ne!(first.to_rgb8().as_raw(), second.to_rgb8().as_raw());
    drop((first, second));
    let digests: HashSet<Vec<u8>> = images.iter().map(|i| Sha256::digest(i).to_vec()).collect();
    assert_eq!(digests.len(), N as usize, "200 different files");
    let size = images[0].len();
    assert!(size < 1024 * 1024, "{size} bytes on disk");
    let t_made = t0.elapsed();

    let dir = tempfile::tempdir().unwrap();
    let mut srv = binary::Server::start(&dir.path().join("data"), &[]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let idle = srv.proc_status_bytes("VmRSS");
    assert!(srv.reset_peak_rss());
    let agent = binary::agent();
    let boundary = "sharebox-thumbs-load";
    let mut uuids = Vec::new();
    for (n, png) in images.iter().enumerate() {
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"photo-{n:03}.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(png);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let up = binary::json(
            agent
                .post(&format!("{}/{}/v4/upload?folder=/load", srv.url, srv.org))
                .set("X-Filerobot-Key", &srv.key)
                .set(
                    "Content-Type",
                    &format!("multipart/form-data; boundary={boundary}"),
                )
                .send_bytes(&body),
            "upload",
            &srv,
        );
        uuids.push(up["file"]["uuid"].as_str().unwrap().to_string());
    }
    drop(images);
    let share = binary::json(
        agent
            .post(&format!("{}/{}/v5/shares", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &json!({"title": "Load", "items": [{"type": "file_uuid", "identifiers": uuids}]})
                    .to_string(),
            ),
        "share",
        &srv,
    );
    let uri = share["share"]["share_uri"].as_str().unwrap();
    let path = uri[uri.find("/s/").unwrap()..].to_string();
    let t_uploaded = t0.elapsed();

    // All 200 at once, one thread each, released together.
    let start = std::sync::Arc::new(std::sync::Barrier::new(N as usize));
    let threads: Vec<_> = uuids
        .iter()
        .map(|uuid| {
            let (agent, start) = (agent.clone(), start.clone());
            let url = format!("{}{path}/files/{uuid}/thumb", srv.url);
            std::thread::spawn(move || {
                start.wait();
                let r = match agent.get(&url).call() {
                    Ok(r) => r,
                    Err(ureq::Error::Status(code, r)) => {
                        panic!("{url}: {code} {}", r.into_string().unwrap_or_default())
                    }
                    Err(e) => panic!("{url}: {e}"),
                };
                let ctype = r.content_type().to_string();
                let mut body = Vec::new();
                std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
                (ctype, body)
            })
        })
        .collect();
    let mut thumbs = HashSet::new();
    for (uuid, t) in uuids.iter().zip(threads) {
        let (ctype, body) = t
            .join()
            .unwrap_or_else(|_| panic!("thumbnail of {uuid}; server stderr:\n{}", srv.stderr()));
        assert_eq!(ctype, "image/png", "{uuid}");
        assert_eq!(dimensions(&body), (320, 240), "{uuid}");
        thumbs.insert(Sha256::digest(&body).to_vec());
    }
    assert_eq!(thumbs.len(), N as usize, "200 different thumbnails");
    let t_thumbs = t0.elapsed();
    srv.assert_alive();
    let peak = srv.proc_status_bytes("VmHWM");
    eprintln!(
        "images made: {t_made:?}; uploaded and shared: {:?}; 200 thumbnails: {:?}; \
         {size} bytes each; idle {} MiB, peak {} MiB",
        t_uploaded - t_made,
        t_thumbs - t_uploaded,
        idle >> 20,
        peak >> 20
    );
    assert!(
        peak < idle + 64 * 1024 * 1024,
        "peak {peak} over idle {idle} + 64 MiB"
    );
    srv.stop();
}
