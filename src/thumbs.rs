//! Thumbnails of images (PNG, JPEG, WebP, GIF's first frame), made on demand with the `image`
//! crate and kept on disk as `thumbs/<blob id>.png`: a blob's bytes never change, so its
//! thumbnail never goes stale. Never made for SVG or any other type.
//!
//! Bounded: the header is read first and an image over `MAX_PIXELS` is refused before a pixel
//! is decoded (a decompression bomb gets no thumbnail, not a 5xx); the decoder also runs under
//! an allocation limit; and one decode runs at a time, so the server's memory stays within one
//! image's worth whatever the number of requests. A refusal is remembered (`<blob id>.none`)
//! so a bomb is looked at once.

use crate::blob::BlobStore;
use crate::error::AppError;
use image::{ImageFormat, ImageReader, Limits};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Largest image decoded: 16 MP (48 MB as RGB), below the crate's limits and the 40 MP a phone
/// camera tops out at, so one decode fits the server's memory budget.
pub const MAX_PIXELS: u64 = 16_000_000;
/// What the decoder may allocate for one image.
const MAX_ALLOC: u64 = 72 * 1024 * 1024;
/// The longer side of a thumbnail, in pixels.
/// The largest image fetched from S3 to be thumbnailed: a 16-megapixel image is far smaller.
const MAX_FETCH: u64 = 128 * 1024 * 1024;
pub const SIDE: u32 = 320;

#[derive(Clone, Debug)]
pub struct Thumbs {
    dir: PathBuf,
    turn: Arc<Semaphore>,
}

/// Types a thumbnail is made of (by the file's type; the bytes must agree).
pub fn thumbable(mime: &str) -> bool {
    matches!(
        mime.to_ascii_lowercase().as_str(),
        "image/png" | "image/jpeg" | "image/webp" | "image/gif"
    )
}

impl Thumbs {
    pub fn new(dir: PathBuf) -> Thumbs {
        Thumbs {
            dir,
            turn: Arc::new(Semaphore::new(1)),
        }
    }

    /// The thumbnail of blob `id` (a file of type `mime`), made now if need be; None when none
    /// can be made (another type, bytes that are not that image, too big).
    pub async fn get(
        &self,
        blobs: &BlobStore,
        id: &str,
        size: u64,
        mime: &str,
    ) -> Result<Option<PathBuf>, AppError> {
        if !thumbable(mime) {
            return Ok(None);
        }
        let (done, none) = (
            self.dir.join(format!("{id}.png")),
            self.dir.join(format!("{id}.none")),
        );
        if done.exists() {
            return Ok(Some(done));
        }
        if none.exists() {
            return Ok(None);
        }
        // One decode at a time; a request that waited may find it made meanwhile.
        let _turn = self
            .turn
            .acquire()
            .await
            .map_err(|_| AppError::internal("thumbnail queue closed"))?;
        if done.exists() {
            return Ok(Some(done));
        }
        // On S3 the image is fetched into tmp/ first (streamed; gone when `copy` drops), unless
        // it is too big to be one we would decode.
        let Some(copy) = blobs.local_copy(id, size, MAX_FETCH).await? else {
            return Ok(None);
        };
        let (src, dir) = (copy.path.clone(), self.dir.clone());
        let made = crate::db::blocking(move || make(&src, &dir, &done, &none)).await??;
        drop(copy);
        Ok(made)
    }

    /// Forgets the thumbnails of blobs that are gone.
    pub fn remove_sync(&self, ids: &[String]) {
        for id in ids {
            for ext in ["png", "none"] {
                let _ = std::fs::remove_file(self.dir.join(format!("{id}.{ext}")));
            }
        }
    }
}

/// Makes `done` from `src`, or marks `none`. Written to a temporary name, then renamed, so a
/// reader never sees half a thumbnail.
fn make(src: &Path, dir: &Path, done: &Path, none: &Path) -> Result<Option<PathBuf>, AppError> {
    std::fs::create_dir_all(dir)?;
    match thumbnail(src) {
        Ok(img) => {
            let tmp = tempfile::Builder::new().suffix(".png").tempfile_in(dir)?;
            img.save_with_format(tmp.path(), ImageFormat::Png)
                .map_err(|e| AppError::internal(format!("thumbnail not written: {e}")))?;
            tmp.persist(done)
                .map_err(|e| AppError::internal(format!("thumbnail not kept: {e}")))?;
            Ok(Some(done.to_path_buf()))
        }
        Err(why) => {
            tracing::info!(file = %src.display(), why, "no thumbnail");
            std::fs::write(none, why.as_bytes())?;
            Ok(None)
        }
    }
}

/// The scaled image, or why there is none.
fn thumbnail(src: &Path) -> Result<image::DynamicImage, String> {
    let open = || {
        ImageReader::open(src)
            .and_then(|r| r.with_guessed_format())
            .map_err(|e| format!("unreadable: {e}"))
    };
    let reader = open()?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) => {}
        other => return Err(format!("not an image we thumbnail: {other:?}")),
    }
    // The header alone: a bomb is refused before any pixel is decoded.
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("no dimensions: {e}"))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("{w} x {h} is over {MAX_PIXELS} pixels"));
    }
    let mut reader = open()?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| format!("not decoded: {e}"))?;
    // Scaled down to fit, never up.
    if img.width() <= SIDE && img.height() <= SIDE {
        return Ok(img);
    }
    Ok(img.thumbnail(SIDE, SIDE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(dir: &Path, w: u32, h: u32) -> PathBuf {
        let p = dir.join(format!("{w}x{h}.png"));
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]))
            .save_with_format(&p, ImageFormat::Png)
            .unwrap();
        p
    }

    #[test]
    fn scales_to_the_side_and_refuses_what_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let img = thumbnail(&png(dir.path(), 1000, 500)).unwrap();
        assert_eq!((img.width(), img.height()), (SIDE, SIDE / 2));
        let svg = dir.path().join("x.svg");
        std::fs::write(&svg, "<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
        assert!(thumbnail(&svg).is_err());
        assert!(!thumbable("image/svg+xml") && thumbable("image/PNG"));
    }
}
