//! Blobs in an S3-compatible bucket, through `object_store` (its signer, its multipart upload,
//! its retries): objects are `<prefix>/<blob id>`, ids made by the server as on disk.

use crate::error::AppError;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, MultipartId, ObjectStore, ObjectStoreExt,
    PutPayload, RetryConfig,
};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Multipart part size: S3's smallest allowed part, so an upload holds at most
/// `PART * (PARTS_IN_FLIGHT + 1)` bytes in memory (the parts in flight and the one being read).
pub(crate) const PART: usize = 5 * 1024 * 1024;
pub(crate) const PARTS_IN_FLIGHT: usize = 2;
/// The most one upload holds in memory.
pub(crate) const MAX_HELD: u64 = (PART * (PARTS_IN_FLIGHT + 1)) as u64;
/// How long a presigned GET stays valid (API.md: at most 60 s).
pub const PRESIGN_SECS: u64 = 60;

/// The S3 settings besides the bucket (API.md's flag table); one set for every bucket.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `http(s)://host:port`; None = AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub path_style: bool,
    /// Public file downloads 302 to a presigned GET.
    pub redirect: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: None,
            region: "us-east-1".into(),
            path_style: false,
            redirect: true,
        }
    }
}

/// `s3://bucket/prefix`, parsed; `url()` is the canonical form the database records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
}

impl S3Url {
    pub fn parse(raw: &str) -> Result<S3Url, String> {
        let rest = raw
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{raw:?} is neither fs nor s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(ok) {
            return Err(format!("{raw:?}: {bucket:?} is not an S3 bucket name"));
        }
        let prefix = prefix.trim_matches('/').to_string();
        if prefix.split('/').any(|p| p == "." || p == "..")
            || prefix.contains("//")
            || prefix.chars().any(|c| c.is_control())
        {
            return Err(format!("{raw:?}: the prefix is not a plain path"));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix,
        })
    }

    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// One bucket and prefix, with its client.
#[derive(Debug)]
pub struct S3 {
    pub url: S3Url,
    store: AmazonS3,
    pub redirect: bool,
    /// Multipart uploads that failed and whose abort failed too (the store was down).
    unaborted: parking_lot::Mutex<Vec<(ObjectPath, MultipartId)>>,
}

/// An object store failure as the client sees it: a missing object is our bug or a lost
/// object (500); anything else means the store is not answering as it should (503).
pub fn store_error(e: object_store::Error) -> AppError {
    match e {
        object_store::Error::NotFound { path, .. } => {
            AppError::internal(format!("object {path} is not in the bucket"))
        }
        other => {
            tracing::error!(error = %other, "blob store failure");
            AppError::Unavailable("The file store is not answering; try again shortly.".into())
        }
    }
}

fn io_error(e: object_store::Error) -> std::io::Error {
    std::io::Error::other(e)
}

impl S3 {
    /// A client for `url`; credentials only from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    /// Makes no request (see `check`).
    pub fn new(url: S3Url, settings: &S3Settings) -> Result<S3, AppError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(AppError::internal(format!(
                "blob store {}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                url.url()
            )));
        };
        // Few, quick retries: a store that is down must become a 503 in seconds, not minutes.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        };
        // No whole-request timeout: a large download legitimately streams for long. A stalled
        // one ends on the read timeout.
        let options = ClientOptions::new()
            .with_allow_http(true)
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout_disabled()
            .with_read_timeout(Duration::from_secs(30));
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&url.bucket)
            .with_region(&settings.region)
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_retry(retry)
            .with_client_options(options);
        if let Some(token) = var("AWS_SESSION_TOKEN") {
            b = b.with_token(token);
        }
        if let Some(endpoint) = &settings.endpoint {
            b = b.with_endpoint(endpoint.trim_end_matches('/'));
        }
        let store = b
            .build()
            .map_err(|e| AppError::internal(format!("blob store {}: {e}", url.url())))?;
        Ok(S3 {
            url,
            store,
            redirect: settings.redirect,
            unaborted: parking_lot::Mutex::default(),
        })
    }

    fn key(&self, id: &str) -> ObjectPath {
        if self.url.prefix.is_empty() {
            ObjectPath::from(id)
        } else {
            ObjectPath::from(format!("{}/{id}", self.url.prefix))
        }
    }

    /// At start: the bucket exists and these credentials may list in it, and (`write`) write
    /// and delete. Any failure is an error naming the bucket, for the operator.
    pub async fn check(&self, write: bool) -> Result<(), AppError> {
        let fail = |what: &str, e: object_store::Error| {
            AppError::internal(format!(
                "blob store {}: cannot {what} (wrong bucket, endpoint or credentials?): {e}",
                self.url.url()
            ))
        };
        let prefix =
            (!self.url.prefix.is_empty()).then(|| ObjectPath::from(self.url.prefix.as_str()));
        self.store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map_err(|e| fail("list the bucket", e))?;
        if !write {
            return Ok(());
        }
        let probe = self.key(&format!(".probe-{}", uuid::Uuid::new_v4().simple()));
        self.store
            .put(&probe, PutPayload::from_static(b"ok"))
            .await
            .map_err(|e| fail("write to the bucket", e))?;
        self.store
            .delete(&probe)
            .await
            .map_err(|e| fail("delete from the bucket", e))?;
        Ok(())
    }

    /// Whether the store answers (for /healthz): a HEAD of a key that is not there is a 404
    /// from a store that is up and lets us in.
    pub async fn ping(&self) -> Result<(), AppError> {
        match self.store.head(&self.key(".healthz")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Uploads the file at `path` as blob `id`: one PUT when it fits a part, else a multipart
    /// upload with at most `PARTS_IN_FLIGHT` parts in flight. One that fails is aborted; an
    /// abort that fails too (the store is down) is retried before the next upload.
    pub async fn put_file(
        &self,
        id: &str,
        path: &std::path::Path,
        size: u64,
    ) -> Result<(), AppError> {
        self.retry_aborts().await;
        let key = self.key(id);
        let mut file = tokio::fs::File::open(path).await?;
        if size <= PART as u64 {
            let mut buf = Vec::with_capacity(size as usize);
            file.read_to_end(&mut buf).await?;
            self.store
                .put(&key, PutPayload::from(buf))
                .await
                .map_err(store_error)?;
            return Ok(());
        }
        let upload = self
            .store
            .create_multipart(&key)
            .await
            .map_err(store_error)?;
        match self.put_parts(&key, &upload, file).await {
            Ok(parts) => {
                let done = self.store.complete_multipart(&key, &upload, parts).await;
                if let Err(e) = done {
                    self.abort(key, upload).await;
                    return Err(store_error(e));
                }
                Ok(())
            }
            Err(e) => {
                self.abort(key, upload).await;
                Err(e)
            }
        }
    }

    /// Starts a multipart upload of blob `id` (aborts that failed before are retried first).
    pub async fn begin(&self, id: &str) -> Result<MultipartId, AppError> {
        self.retry_aborts().await;
        self.store
            .create_multipart(&self.key(id))
            .await
            .map_err(store_error)
    }

    /// Sends part `idx` (0-based) of multipart upload `upload` of blob `id`; returns its ETag.
    pub async fn part(
        &self,
        id: &str,
        upload: &MultipartId,
        idx: usize,
        data: Bytes,
    ) -> Result<String, AppError> {
        let part = self
            .store
            .put_part(&self.key(id), upload, idx, PutPayload::from(data))
            .await
            .map_err(store_error)?;
        Ok(part.content_id)
    }

    /// Completes multipart upload `upload` of blob `id` from its parts' ETags, in order.
    pub async fn complete(
        &self,
        id: &str,
        upload: &MultipartId,
        etags: Vec<String>,
    ) -> Result<(), AppError> {
        let parts = etags
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        self.store
            .complete_multipart(&self.key(id), upload, parts)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Aborts multipart upload `upload` of blob `id`; when the store does not answer, the abort
    /// is retried before the next upload.
    pub async fn abort_upload(&self, id: &str, upload: MultipartId) {
        self.abort(self.key(id), upload).await;
    }

    /// Stores `data` as blob `id` in one PUT (what fits one part).
    pub async fn put_bytes(&self, id: &str, data: Bytes) -> Result<(), AppError> {
        self.store
            .put(&self.key(id), PutPayload::from(data))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// The file's parts, read one `PART` at a time, sent at most `PARTS_IN_FLIGHT` at once.
    async fn put_parts(
        &self,
        key: &ObjectPath,
        upload: &MultipartId,
        mut file: tokio::fs::File,
    ) -> Result<Vec<PartId>, AppError> {
        let mut parts: Vec<PartId> = Vec::new();
        let mut flying = futures_util::stream::FuturesOrdered::new();
        let mut idx = 0;
        loop {
            let mut buf = Vec::with_capacity(PART);
            (&mut file).take(PART as u64).read_to_end(&mut buf).await?;
            let last = buf.len() < PART;
            if !buf.is_empty() {
                let store = &self.store;
                flying.push_back(async move {
                    store
                        .put_part(key, upload, idx, PutPayload::from(buf))
                        .await
                });
                idx += 1;
            }
            while flying.len() >= PARTS_IN_FLIGHT || (last && !flying.is_empty()) {
                if let Some(part) = flying.next().await {
                    parts.push(part.map_err(store_error)?);
                }
            }
            if last {
                return Ok(parts);
            }
        }
    }

    /// Aborts a multipart upload so that nothing stays billed; if the store does not answer,
    /// keeps it for `retry_aborts`.
    async fn abort(&self, key: ObjectPath, upload: MultipartId) {
        if let Err(e) = self.store.abort_multipart(&key, &upload).await {
            tracing::warn!(key = %key, error = %e, "multipart upload not aborted yet; will retry");
            self.unaborted.lock().push((key, upload));
        }
    }

    /// Aborts the multipart uploads whose abort failed before.
    pub async fn retry_aborts(&self) {
        let pending: Vec<(ObjectPath, MultipartId)> = std::mem::take(&mut *self.unaborted.lock());
        for (key, upload) in pending {
            self.abort(key, upload).await;
        }
    }

    /// `len` bytes of blob `id` from `start`, streamed as the store sends them.
    pub async fn get_range(
        &self,
        id: &str,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, AppError> {
        if len == 0 {
            return Ok(futures_util::stream::empty().boxed());
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(start..start + len)),
            ..Default::default()
        };
        let got = self
            .store
            .get_opts(&self.key(id), opts)
            .await
            .map_err(store_error)?;
        Ok(got.into_stream().map_err(io_error).boxed())
    }

    /// Deletes blob `id`; a missing object is fine.
    pub async fn delete(&self, id: &str) -> Result<(), AppError> {
        match self.store.delete(&self.key(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// The blob ids directly under the prefix (for `blobs migrate --delete-source`).
    pub async fn ids(&self) -> Result<Vec<String>, AppError> {
        let prefix =
            (!self.url.prefix.is_empty()).then(|| ObjectPath::from(self.url.prefix.as_str()));
        let mut list = self.store.list(prefix.as_ref());
        let mut ids = Vec::new();
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(store_error)?;
            let key = meta.location.as_ref();
            let name = match &prefix {
                Some(p) => key.strip_prefix(&format!("{}/", p.as_ref())).unwrap_or(""),
                None => key,
            };
            if !name.is_empty() && !name.contains('/') {
                ids.push(name.to_string());
            }
        }
        Ok(ids)
    }

    /// Size and SHA-256 of blob `id`, hashed as it streams; None when it is not there.
    pub async fn hash(&self, id: &str) -> Result<Option<(u64, String)>, AppError> {
        let got = match self.store.get(&self.key(id)).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(store_error(e)),
        };
        let mut stream = got.into_stream();
        let (mut sha, mut size) = (Sha256::new(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(store_error)?;
            sha.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok(Some((size, hex::encode(sha.finalize()))))
    }

    /// A GET of blob `id` valid for `PRESIGN_SECS`, answering with these headers.
    pub async fn presign(
        &self,
        id: &str,
        content_type: &str,
        disposition: &str,
    ) -> Result<String, AppError> {
        let opts = SignedUrlOptions::default().with_query([
            ("response-content-type", content_type),
            ("response-content-disposition", disposition),
            // As our own downloads: a cache keeps no copy past a revoke.
            ("response-cache-control", "private, no-cache"),
        ]);
        let url = self
            .store
            .signed_url_opts(
                http::Method::GET,
                &self.key(id),
                Duration::from_secs(PRESIGN_SECS),
                &opts,
            )
            .await
            .map_err(store_error)?;
        Ok(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = S3Url::parse("s3://my-bucket/a/b/").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("my-bucket", "a/b"));
        assert_eq!(u.url(), "s3://my-bucket/a/b");
        assert_eq!(S3Url::parse("s3://bkt").unwrap().url(), "s3://bkt");
        for bad in ["fs", "s3://", "s3://A_B", "s3://bkt/../x", "http://bkt"] {
            assert!(S3Url::parse(bad).is_err(), "{bad}");
        }
    }
}
