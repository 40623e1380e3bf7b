//! Where recording media lives: a local folder or an S3-compatible bucket,
//! both reached through `object_store`.
//!
//! Writes are streamed and never visible half-done. On a local disk the
//! bytes go to a temporary file beside the final one, which is fsynced,
//! renamed into place, and its folder fsynced (`object_store`'s local store
//! does not fsync, so this one path is written here). On S3 the bytes go up
//! as a multipart upload, which shows no object until it completes. Reads
//! stream a byte range; from a local disk in chunks of [`READ_CHUNK`].

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectMeta, ObjectStore, WriteMultipart};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _};

/// Largest chunk a read from local storage holds in memory (S3 reads come
/// in the chunks the HTTP client receives).
pub const READ_CHUNK: usize = 64 * 1024;
/// Size of each part of an S3 multipart upload (S3's minimum is 5 MiB).
const PART_SIZE: usize = 5 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The bytes being stored could not be read (the download broke off).
    #[error("reading the media failed: {0}")]
    Source(#[source] std::io::Error),
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage failed: {0}")]
    ObjectStore(#[from] object_store::Error),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// What a completed write stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
}

/// A readable local copy of an object: the stored file itself on local
/// storage, a temporary download otherwise (deleted when dropped).
pub enum LocalCopy {
    Stored(PathBuf),
    Temporary(tempfile::TempPath),
}

impl LocalCopy {
    pub fn path(&self) -> &FsPath {
        match self {
            LocalCopy::Stored(p) => p,
            LocalCopy::Temporary(p) => p,
        }
    }
}

#[derive(Clone)]
pub struct MediaStorage {
    store: Arc<dyn ObjectStore>,
    /// The folder on local storage; `None` on S3.
    local_root: Option<PathBuf>,
    /// The URL it was opened from, for logs (holds no secret).
    location: String,
}

impl std::fmt::Debug for MediaStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStorage").field("location", &self.location).finish()
    }
}

impl MediaStorage {
    /// Opens `file://PATH` (relative or absolute; created when missing) or
    /// `s3://bucket/prefix`. For S3, credentials, region and endpoint come
    /// from `aws_settings`: the standard `AWS_*` variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, …) as name–value pairs.
    pub fn open<I, K, V>(url: &str, aws_settings: I) -> StorageResult<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let invalid = |reason: &str| StorageError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(invalid("the folder is missing (file://PATH)"));
            }
            std::fs::create_dir_all(path)?;
            let root = std::fs::canonicalize(path)?;
            let store = LocalFileSystem::new_with_prefix(&root)?;
            return Ok(Self { store: Arc::new(store), local_root: Some(root), location: url.to_owned() });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("the bucket is missing (s3://bucket/prefix)"));
            }
            let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
            for (name, value) in aws_settings {
                if let Ok(key) = name.as_ref().to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                    builder = builder.with_config(key, value);
                }
            }
            let s3 = builder.build()?;
            let prefix = prefix.trim_matches('/');
            let store: Arc<dyn ObjectStore> =
                if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
            return Ok(Self { store, local_root: None, location: url.to_owned() });
        }
        Err(invalid("use file://PATH or s3://bucket/prefix"))
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// Streams `body` to `key`, hashing as it goes. The object appears at
    /// `key` only once every byte is durable; on any error nothing does.
    pub async fn put_stream<S>(&self, key: &Key, body: S) -> StorageResult<Written>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        match &self.local_root {
            Some(root) => put_local(&root.join(key.as_ref()), body).await,
            None => self.put_multipart(key, body).await,
        }
    }

    async fn put_multipart<S>(&self, key: &Key, mut body: S) -> StorageResult<Written>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let upload = self.store.put_multipart(key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    abort(writer).await;
                    return Err(StorageError::Source(e));
                }
            };
            if let Err(e) = writer.wait_for_capacity(2).await {
                abort(writer).await;
                return Err(e.into());
            }
            hasher.update(&chunk);
            size += chunk.len() as u64;
            writer.write(&chunk);
        }
        writer.finish().await?;
        Ok(Written { size, sha256: hex::encode(hasher.finalize()) })
    }

    /// Size and modification time, or `None` when there is no such object.
    pub async fn head(&self, key: &Key) -> StorageResult<Option<ObjectMeta>> {
        match self.store.head(key).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The bytes of `range` (all of them for `None`), streamed.
    pub async fn read(
        &self,
        key: &Key,
        range: Option<Range<u64>>,
    ) -> StorageResult<BoxStream<'static, std::io::Result<Bytes>>> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.store.get_opts(key, options).await?;
        let range = result.range.clone();
        match result.payload {
            GetResultPayload::File(file, _) => {
                let mut file = tokio::fs::File::from_std(file);
                file.seek(std::io::SeekFrom::Start(range.start)).await?;
                let limited = tokio::io::AsyncReadExt::take(file, range.end - range.start);
                Ok(tokio_util::io::ReaderStream::with_capacity(limited, READ_CHUNK).boxed())
            }
            GetResultPayload::Stream(stream) => Ok(stream.map_err(std::io::Error::other).boxed()),
        }
    }

    /// Removes `key`; an object already gone counts as removed.
    pub async fn delete(&self, key: &Key) -> StorageResult<()> {
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the stored object back: its SHA-256, its size and a local copy
    /// to decode.
    pub async fn read_back(&self, key: &Key) -> StorageResult<(Written, LocalCopy)> {
        let mut stream = self.read(key, None).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let (copy, mut temp) = match &self.local_root {
            Some(root) => (LocalCopy::Stored(root.join(key.as_ref())), None),
            None => {
                let (file, path) = tempfile::NamedTempFile::new()?.into_parts();
                (LocalCopy::Temporary(path), Some(tokio::fs::File::from_std(file)))
            }
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            if let Some(file) = temp.as_mut() {
                file.write_all(&chunk).await?;
            }
        }
        if let Some(mut file) = temp {
            file.flush().await?;
        }
        Ok((Written { size, sha256: hex::encode(hasher.finalize()) }, copy))
    }
}

async fn abort(writer: WriteMultipart) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "could not abort a multipart upload; the bucket's lifecycle rule must clean it up");
    }
}

/// Temporary files are named `{final name}#{random}`: never a key the
/// service asks for, and skipped by `object_store`'s local listing.
async fn put_local<S>(target: &FsPath, mut body: S) -> StorageResult<Written>
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
{
    let (Some(folder), Some(name)) = (target.parent(), target.file_name().and_then(|n| n.to_str())) else {
        return Err(StorageError::Io(std::io::Error::other(format!("{} is not a file path", target.display()))));
    };
    tokio::fs::create_dir_all(folder).await?;
    remove_stale_partials(folder, name).await;
    let temp = folder.join(format!("{name}#{}", rand::random::<u32>()));
    let written = async {
        let file = tokio::fs::File::create(&temp).await?;
        let mut out = tokio::io::BufWriter::with_capacity(READ_CHUNK, file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StorageError::Source)?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        out.into_inner().sync_all().await?;
        tokio::fs::rename(&temp, target).await?;
        sync_folder(folder).await?;
        Ok(Written { size, sha256: hex::encode(hasher.finalize()) })
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    written
}

/// Temporary files left by a process that died mid-write.
async fn remove_stale_partials(folder: &FsPath, name: &str) {
    let Ok(mut entries) = tokio::fs::read_dir(folder).await else { return };
    let prefix = format!("{name}#");
    while let Ok(Some(entry)) = entries.next_entry().await {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}

/// Makes a rename in `folder` durable.
async fn sync_folder(folder: &FsPath) -> std::io::Result<()> {
    let folder = folder.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(folder)?.sync_all()).await.map_err(std::io::Error::other)?
}
