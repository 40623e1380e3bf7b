//! The storage contract, on a local folder and on a real S3-compatible
//! server on loopback: byte-exact round trips and ranges, and no object
//! visible after a write that failed part way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use futures::StreamExt as _;
use omnivox_media::{Key, MediaStorage, StorageError};
use omnivox_testkit::S3Bucket;
use rand::{Rng as _, SeedableRng as _};

struct Backend {
    storage: MediaStorage,
    _dir: Option<tempfile::TempDir>,
    bucket: Option<S3Bucket>,
}

async fn local() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("media").display());
    let storage = MediaStorage::open(&url, Vec::<(String, String)>::new()).unwrap();
    Backend { storage, _dir: Some(dir), bucket: None }
}

async fn s3() -> Option<Backend> {
    let bucket = S3Bucket::create().await?;
    let storage = MediaStorage::open(&bucket.url, bucket.settings.clone()).unwrap();
    Some(Backend { storage, _dir: None, bucket: Some(bucket) })
}

macro_rules! both_storages {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn local() {
                super::$name(super::local().await).await;
            }
            #[tokio::test]
            async fn s3() {
                let Some(backend) = super::s3().await else { return };
                super::$name(backend).await;
            }
        }
    )+};
}

fn payload(len: usize) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(len as u64);
    (0..len).map(|_| rng.random()).collect()
}

fn chunks(bytes: &[u8], size: usize) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    let parts: Vec<_> = bytes.chunks(size).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures::stream::iter(parts)
}

async fn read_all(storage: &MediaStorage, key: &Key, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let mut stream = storage.read(key, range).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if storage.is_local() {
            assert!(chunk.len() <= omnivox_media::READ_CHUNK, "chunk of {} bytes", chunk.len());
        }
        out.extend_from_slice(&chunk);
    }
    out
}

both_storages!(round_trip_is_byte_exact_with_ranges, failed_write_leaves_nothing, delete_is_idempotent);

async fn round_trip_is_byte_exact_with_ranges(b: Backend) {
    // Larger than one multipart part, so S3 uploads several.
    let data = payload(6 * 1024 * 1024 + 123);
    let key = Key::from("2026/02/16/RE0123456789abcdef0123456789abcdef.wav");
    let written = b.storage.put_stream(&key, chunks(&data, 16 * 1024)).await.unwrap();
    assert_eq!(written.size, data.len() as u64);
    let expected_sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&data))
    };
    assert_eq!(written.sha256, expected_sha);
    assert_eq!(read_all(&b.storage, &key, None).await, data);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..10 {
        let start = rng.random_range(0..data.len() as u64);
        let end = rng.random_range(start + 1..=data.len() as u64);
        assert_eq!(read_all(&b.storage, &key, Some(start..end)).await, &data[start as usize..end as usize]);
    }
    let meta = b.storage.head(&key).await.unwrap().unwrap();
    assert_eq!(meta.size, data.len() as u64);
    let (back, copy) = b.storage.read_back(&key).await.unwrap();
    assert_eq!(back.sha256, expected_sha);
    assert_eq!(std::fs::read(copy.path()).unwrap(), data);
}

async fn failed_write_leaves_nothing(b: Backend) {
    let key = Key::from("2026/02/16/REffffffffffffffffffffffffffffffff.wav");
    let data = payload(6 * 1024 * 1024);
    let broken = chunks(&data, 64 * 1024)
        .chain(futures::stream::iter(vec![Err(std::io::Error::other("connection reset"))]))
        .boxed();
    let err = b.storage.put_stream(&key, broken).await.unwrap_err();
    assert!(matches!(err, StorageError::Source(_)), "{err:?}");
    assert!(b.storage.head(&key).await.unwrap().is_none(), "no object after a failed write");
    if let Some(bucket) = &b.bucket {
        assert!(bucket.keys().await.is_empty(), "nothing listed: {:?}", bucket.keys().await);
    }
    // The next attempt succeeds and is whole.
    b.storage.put_stream(&key, chunks(&data, 64 * 1024)).await.unwrap();
    assert_eq!(read_all(&b.storage, &key, None).await, data);
}

async fn delete_is_idempotent(b: Backend) {
    let key = Key::from("2026/02/16/RE00000000000000000000000000000000.mp3");
    b.storage.put_stream(&key, chunks(b"abc", 1)).await.unwrap();
    b.storage.delete(&key).await.unwrap();
    b.storage.delete(&key).await.unwrap();
    assert!(b.storage.head(&key).await.unwrap().is_none());
}

#[test]
fn bad_urls_are_explained() {
    for url in ["ftp://x", "file://", "s3://", "recordings"] {
        let err = MediaStorage::open(url, Vec::<(String, String)>::new()).unwrap_err();
        assert!(err.to_string().contains(url), "{err}");
    }
}
