//! Answering downloads: ETag/304, Range and If-Range, Content-Disposition, risky types, and
//! bodies that report their last byte (a download counts then). The bytes come from the blob's
//! store (`Source`): a file on disk or a ranged GET from S3, streamed either way.

use super::Source;
use crate::error::AppError;
use actix_web::body::{BoxBody, MessageBody, SizedStream};
use actix_web::http::header::{self, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What a download needs to know of a file.
pub struct Download<'a> {
    /// Where the bytes are (`BlobStore::source`).
    pub source: Source,
    /// Whether this route may answer 302 to a presigned GET (the public share's file route,
    /// with `--s3-redirect`, for a blob on S3).
    pub redirect: bool,
    pub size: u64,
    pub sha256: &'a str,
    pub name: &'a str,
    pub mime: &'a str,
    /// `inline` for safe previews; downloads are attachments.
    pub inline: bool,
    /// When the content was last written (the file's `modified_at`).
    pub modified: DateTime<Utc>,
    /// The clock's now (see `last_modified`).
    pub now: DateTime<Utc>,
}

/// Types a browser would run or render as a page: always sent as octet-stream.
pub fn is_risky_type(mime: &str) -> bool {
    let m = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m == "text/html"
        || m == "application/xhtml+xml"
        || m == "image/svg+xml"
        || m == "text/xml"
        || m == "application/xml"
        || m.ends_with("+xml")
        || m.contains("javascript")
        || m.contains("ecmascript")
}

/// RFC 5987 attr-char: what may stay unencoded in `filename*`.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `<kind>; filename="<ascii>"; filename*=UTF-8''<name>` (RFC 6266). The quoted ASCII form comes
/// first for the clients that read only it (`curl -OJ`, `wget --content-disposition`, old
/// browsers): non-ASCII and control characters become `_`, `"` and `\` are escaped.
pub fn content_disposition(kind: &str, name: &str) -> String {
    let mut ascii = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                ascii.push('\\');
                ascii.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => ascii.push(c),
            _ => ascii.push('_'),
        }
    }
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    )
}

fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// `Last-Modified`, in whole seconds as HTTP dates go. Two contents written within one second
/// would share a date, so it is sent only once the second of the last write is over: whoever got
/// a date then got the current content, and any later write falls in a later second. That makes
/// the date a strong validator (RFC 9110 8.8.2.2), safe for `If-Range`.
fn last_modified(d: &Download<'_>) -> Option<std::time::SystemTime> {
    let secs = u64::try_from(d.modified.timestamp()).ok()?;
    (d.now.timestamp() > d.modified.timestamp())
        .then(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Whether a `Range` may be honoured (RFC 9110 13.1.5): no `If-Range`, or one naming the current
/// content, by its strong ETag or exactly its `Last-Modified`. Anything else (another or a weak
/// tag, another date, a date while none is sent, junk) asks for the whole content.
fn if_range_holds(req: &HttpRequest, etag: &str, modified: Option<std::time::SystemTime>) -> bool {
    let Some(value) = req.headers().get(header::IF_RANGE) else {
        return true;
    };
    let value = value.to_str().unwrap_or("").trim();
    if value.starts_with('"') {
        return value == etag;
    }
    match (value.parse::<HttpDate>(), modified) {
        (Ok(date), Some(m)) => std::time::SystemTime::from(date) == m,
        _ => false,
    }
}

/// Serves a file from disk: ETag/304, one range → 206 (unless `If-Range` names other content),
/// several → 200 whole, unsatisfiable → 416. The body streams in `CHUNK`s; `on_complete` runs
/// once the last byte of the file has been handed to the connection (a whole file, or a range
/// that ends at the last byte).
/// The part of a `size`-byte body a request asks for: its `Range` (one range; several get the
/// whole body, as API.md asks), when its `If-Range` still holds. A partial answer gets its
/// status and `Content-Range` on `builder`.
pub fn byte_range(
    req: &HttpRequest,
    etag: &str,
    modified: Option<std::time::SystemTime>,
    size: u64,
    builder: &mut actix_web::HttpResponseBuilder,
) -> Result<(u64, u64), AppError> {
    let Some(range) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_holds(req, etag, modified))
    else {
        return Ok((0, size));
    };
    match actix_files::HttpRange::parse(range, size) {
        Ok(ranges) if ranges.len() == 1 => {
            let r = &ranges[0];
            builder.status(StatusCode::PARTIAL_CONTENT).insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{}", r.start, r.start + r.length - 1, size),
            ));
            Ok((r.start, r.length))
        }
        Ok(_) => Ok((0, size)),
        Err(_) => Err(AppError::RangeNotSatisfiable { size }),
    }
}

pub async fn serve(
    req: &HttpRequest,
    d: Download<'_>,
    on_complete: Option<Box<dyn FnOnce() + 'static>>,
) -> Result<HttpResponse, AppError> {
    let etag = format!("\"{}\"", d.sha256);
    let modified = last_modified(&d);
    let mime = if is_risky_type(d.mime) {
        "application/octet-stream"
    } else {
        d.mime
    };
    let disposition = content_disposition(if d.inline { "inline" } else { "attachment" }, d.name);
    let mut builder = HttpResponse::build(StatusCode::OK);
    builder
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_DISPOSITION, disposition.clone()))
        // A 304 carries it too (RFC 9110 15.4.5).
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if let Some(m) = modified {
        builder.insert_header((header::LAST_MODIFIED, HttpDate::from(m)));
    }
    if etag_matches(req, &etag) {
        return Ok(builder.status(StatusCode::NOT_MODIFIED).finish());
    }
    // A HEAD's body is never sent (`web::head`); only an empty file would count at once, here.
    let on_complete = on_complete.filter(|_| req.method() != Method::HEAD);
    if let Source::S3(s3, id) = &d.source {
        // The store cannot check our If-Range validator: such a request is proxied.
        if d.redirect && s3.redirect && !req.headers().contains_key(header::IF_RANGE) {
            return redirect(req, &d, s3, id, mime, &disposition, on_complete).await;
        }
    }
    let (start, len) = byte_range(req, &etag, modified, d.size, &mut builder)?;
    let complete_at_end = start + len == d.size;
    let stream = match &d.source {
        // No GET to the store for a HEAD: its body is never read.
        Source::S3(..) if req.method() == Method::HEAD => futures_util::stream::empty().boxed(),
        source => source.stream(start, len).await?,
    };
    let stream = at_end(
        stream,
        len,
        if complete_at_end { on_complete } else { None },
    );
    Ok(builder
        .content_type(mime)
        .body(SizedStream::new(len, stream)))
}

/// 302 to a presigned GET of the blob carrying our Content-Type and Content-Disposition; the
/// store answers Range itself. Counted now, when the request asks for the last byte (no Range,
/// or one ending there, API.md's rule), since the bytes no longer pass through us.
async fn redirect(
    req: &HttpRequest,
    d: &Download<'_>,
    s3: &super::s3::S3,
    id: &str,
    mime: &str,
    disposition: &str,
    on_complete: Option<Box<dyn FnOnce() + 'static>>,
) -> Result<HttpResponse, AppError> {
    let reaches_end = match req.headers().get(header::RANGE) {
        None => true,
        Some(v) => {
            let v = v.to_str().unwrap_or("");
            match actix_files::HttpRange::parse(v, d.size) {
                Ok(ranges) if ranges.len() == 1 => ranges[0].start + ranges[0].length == d.size,
                // Several ranges: the store sends the whole object.
                Ok(_) => true,
                Err(_) => return Err(AppError::RangeNotSatisfiable { size: d.size }),
            }
        }
    };
    let url = s3.presign(id, mime, disposition).await?;
    if reaches_end {
        if let Some(done) = on_complete {
            done();
        }
    }
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, url))
        // The URL expires within a minute: never keep the answer.
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .finish())
}

/// Runs `done` once the stream has yielded `len` bytes: the whole body went to the connection.
/// A transfer dropped early never runs it.
pub fn at_end<S>(
    stream: S,
    len: u64,
    done: Option<Box<dyn FnOnce() + 'static>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>>
where
    S: futures_util::Stream<Item = std::io::Result<Bytes>>,
{
    let mut done = done;
    if len == 0 {
        // An empty body is complete at once: the stream never yields.
        if let Some(d) = done.take() {
            d();
        }
    }
    let mut sent: u64 = 0;
    stream.map(move |chunk| {
        if let Ok(bytes) = &chunk {
            sent += bytes.len() as u64;
            if sent == len {
                if let Some(d) = done.take() {
                    d();
                }
            }
        }
        chunk
    })
}

/// `res` with `done` run once its whole body has gone to the connection: a view counts when its
/// page went out, so a HEAD (whose body is never sent) or a connection dropped early counts
/// nothing. For bodies that have bytes: actix never polls an empty one.
pub fn on_sent(res: HttpResponse, done: Box<dyn FnOnce() + 'static>) -> HttpResponse {
    res.map_body(|_, body| {
        BoxBody::new(OnSent {
            body,
            done: Some(done),
        })
    })
}

struct OnSent {
    body: BoxBody,
    done: Option<Box<dyn FnOnce() + 'static>>,
}

impl MessageBody for OnSent {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> actix_web::body::BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        let next = std::task::ready!(std::pin::Pin::new(&mut self.body).poll_next(cx));
        if next.is_none() {
            if let Some(done) = self.done.take() {
                done();
            }
        }
        std::task::Poll::Ready(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_are_rfc6266() {
        assert_eq!(
            content_disposition("attachment", "a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            content_disposition("attachment", "résumé \"x\";.pdf"),
            "attachment; filename=\"r_sum_ \\\"x\\\";.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22%3B.pdf"
        );
        assert_eq!(
            content_disposition("inline", "a\\b\tc 日本.txt"),
            "inline; filename=\"a\\\\b_c __.txt\"; filename*=UTF-8''a%5Cb%09c%20%E6%97%A5%E6%9C%AC.txt"
        );
    }

    #[test]
    fn risky_types() {
        for t in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/xml",
            "text/javascript",
            "application/atom+xml",
        ] {
            assert!(is_risky_type(t), "{t}");
        }
        for t in ["image/png", "application/pdf", "text/plain", "video/mp4"] {
            assert!(!is_risky_type(t), "{t}");
        }
    }
}
