//! Shared by the media tests: the app on local or S3 storage, waiting for a
//! recording's sync state, and the source bytes from the simulator.

use std::time::{Duration, Instant};

use omnivox_core::RecordingSid;
use omnivox_testkit::{S3Bucket, TestDb};
use omnivox_twilio_sim::{SimCall, Simulator};
use serde_json::Value;
use sha2::Digest as _;

use crate::helpers::{spawn_app_with_twilio, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Local,
    S3,
}

/// One test body on {SQLite, PostgreSQL} × {local folder, S3 on loopback}.
#[macro_export]
macro_rules! media_matrix {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            use $crate::media_helpers::Storage;
            use omnivox_testkit::TestDb;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_local() {
                super::$name(TestDb::sqlite().await, Storage::Local).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_local() {
                let Some(db) = TestDb::postgres().await else { return };
                super::$name(db, Storage::Local).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() {
                super::$name(TestDb::sqlite().await, Storage::S3).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                let Some(db) = TestDb::postgres().await else { return };
                super::$name(db, Storage::S3).await;
            }
        }
    )+};
}

/// The storage settings for `storage`, or `None` when S3 must skip here.
pub async fn storage_env(storage: Storage) -> Option<(Vec<(String, String)>, Option<S3Bucket>)> {
    match storage {
        Storage::Local => Some((Vec::new(), None)),
        Storage::S3 => {
            let bucket = S3Bucket::create().await?;
            let mut env = bucket.settings.clone();
            env.push(("OMNIVOX_STORAGE_URL".into(), bucket.url.clone()));
            Some((env, Some(bucket)))
        }
    }
}

pub struct MediaApp {
    pub app: TestApp,
    pub sim: Simulator,
    pub bucket: Option<S3Bucket>,
}

pub async fn spawn_media_app(db: TestDb, storage: Storage, env: &[(&str, &str)]) -> Option<MediaApp> {
    let (storage_env, bucket) = storage_env(storage).await?;
    let mut all: Vec<(&str, &str)> = storage_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(env);
    let (app, sim) = spawn_app_with_twilio(db, &all).await;
    Some(MediaApp { app, sim, bucket })
}

/// The recording's id, once ingested.
pub async fn recording_id(app: &TestApp, call: &SimCall) -> i64 {
    let sid = RecordingSid::parse(call.recording_sid().unwrap()).unwrap();
    let media = app.db.store.recording_media_by_sid(&sid).await.unwrap();
    media.unwrap_or_else(|| panic!("recording {sid} not ingested")).recording.id
}

/// Polls the recording until its `syncStatus` is `want`; its metadata.
pub async fn wait_for_sync(app: &TestApp, token: &str, id: i64, want: &str) -> Value {
    let started = Instant::now();
    loop {
        let body: Value = app.get(&format!("/api/recordings/{id}"), Some(token)).await.json().await.unwrap();
        if body["syncStatus"] == want {
            return body;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "recording {id} never became {want}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The media exactly as Twilio (the simulator) serves it.
pub async fn source_media(sim: &Simulator, call: &SimCall, extension: &str) -> Vec<u8> {
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Recordings/{}.{extension}",
        sim.base_url(),
        sim.account_sid(),
        call.recording_sid().unwrap()
    );
    let response =
        reqwest::Client::new().get(url).basic_auth(sim.account_sid(), Some(sim.auth_token())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Files under `dir`, relative, with `/` separators.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Media requests the simulator answered for `recording_sid`.
pub fn media_requests(sim: &Simulator, recording_sid: &str) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.path.contains(recording_sid) && (r.path.ends_with(".wav") || r.path.ends_with(".mp3")))
        .count()
}
