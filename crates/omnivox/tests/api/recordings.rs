//! Recording media end to end: archived from the simulator into a local
//! folder or S3 on loopback, streamed byte-exact with ranges, downloaded,
//! relayed from Twilio before archiving, reachable only by the right
//! people, and audited.

use omnivox_core::Role;
use omnivox_twilio_sim::CallSpec;
use rand::{Rng as _, SeedableRng as _};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{delivery, error_of, spawn_app_with_twilio};
use crate::media_helpers::*;
use crate::media_matrix;
use omnivox_testkit::{both_backends, TestDb};

async fn get_range(app: &crate::helpers::TestApp, path: &str, token: &str, range: &str) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(token).header("Range", range).send().await.unwrap()
}

async fn audit(app: &crate::helpers::TestApp, token: &str) -> Vec<Value> {
    let body: Value = app.get("/api/admin/audit?limit=1000", Some(token)).await.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

media_matrix!(archived_media_is_verified_and_streams_byte_exact);

async fn archived_media_is_verified_and_streams_byte_exact(db: TestDb, storage: Storage) {
    let Some(MediaApp { app, sim, bucket }) = spawn_media_app(db, storage, &[]).await else { return };
    let token = app.admin_token().await;
    let call = sim.add_call(CallSpec { duration_secs: 20, ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let id = recording_id(&app, &call).await;
    let meta = wait_for_sync(&app, &token, id, "verified").await;
    let source = source_media(&sim, &call, "wav").await;
    assert_eq!(meta["sha256"], sha256_hex(&source), "{meta}");
    assert_eq!(meta["sizeBytes"], source.len() as u64);
    assert_eq!((meta["channels"].as_i64(), meta["durationSeconds"].as_i64()), (Some(2), Some(20)));
    assert_eq!(meta["mediaType"], "audio/wav");
    let key = meta["storageKey"].as_str().unwrap().to_owned();
    match (storage, &app.media_dir, &bucket) {
        (Storage::Local, Some(dir), _) => {
            assert_eq!(files_under(dir.path()), std::slice::from_ref(&key), "one object, no partials")
        }
        (Storage::S3, _, Some(bucket)) => assert_eq!(bucket.keys().await, [format!("recordings/{key}")]),
        other => panic!("unexpected storage {other:?}"),
    }

    let path = format!("/api/recordings/{id}/stream");
    let full = app.get(&path, Some(&token)).await;
    assert_eq!(full.status(), StatusCode::OK);
    let h = full.headers().clone();
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["content-type"], "audio/wav");
    assert_eq!(h["content-length"], source.len().to_string().as_str());
    assert_eq!(h["etag"], format!("\"{}\"", sha256_hex(&source)).as_str());
    assert!(h.contains_key("last-modified"));
    assert_eq!(full.bytes().await.unwrap(), source);

    let len = source.len() as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for _ in 0..50 {
        let first = rng.random_range(0..len);
        let last = rng.random_range(first..len);
        let r = get_range(&app, &path, &token, &format!("bytes={first}-{last}")).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.headers()["content-range"], format!("bytes {first}-{last}/{len}").as_str());
        assert_eq!(r.bytes().await.unwrap(), &source[first as usize..=last as usize]);
    }
    let suffix = get_range(&app, &path, &token, "bytes=-500").await;
    assert_eq!(suffix.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(suffix.bytes().await.unwrap(), &source[source.len() - 500..]);
    let open = get_range(&app, &path, &token, "bytes=1000-").await;
    assert_eq!(open.headers()["content-range"], format!("bytes 1000-{}/{len}", len - 1).as_str());
    assert_eq!(open.bytes().await.unwrap(), &source[1000..]);
    let beyond = get_range(&app, &path, &token, "bytes=999999999-").await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(beyond.headers()["content-range"], format!("bytes */{len}").as_str());
    let etag = h["etag"].to_str().unwrap().to_owned();
    let cached = app.client.get(app.url(&path)).bearer_auth(&token).header("If-None-Match", etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let download = app.get(&format!("/api/recordings/{id}/download"), Some(&token)).await;
    assert_eq!(download.status(), StatusCode::OK);
    let disposition = download.headers()["content-disposition"].to_str().unwrap().to_owned();
    let name = format!("_+14155550199_{}.wav\"", call.call_sid());
    assert!(disposition.starts_with("attachment; filename=\"20") && disposition.ends_with(&name), "{disposition}");
    assert_eq!(download.bytes().await.unwrap(), source);

    let peaks: Value = app.get(&format!("/api/recordings/{id}/peaks"), Some(&token)).await.json().await.unwrap();
    assert_eq!(peaks["channels"], 2);
    assert!((peaks["durationSeconds"].as_f64().unwrap() - 20.0).abs() < 0.1, "{}", peaks["durationSeconds"]);
    let first_channel = peaks["peaks"][0].as_array().unwrap();
    assert!(!first_channel.is_empty() && first_channel.len() <= 1000);
    assert!(first_channel.iter().any(|p| p.as_f64().unwrap() > 0.05), "the voice is audible in the peaks");

    let entries = audit(&app, &token).await;
    let streams: Vec<_> = entries.iter().filter(|e| e["action"] == "recording.stream").collect();
    assert_eq!(streams.len(), 1 + 50 + 3 + 1, "every stream request is audited");
    let id_text = id.to_string();
    assert!(streams.iter().all(|e| e["clientAddr"] == "127.0.0.1" && e["targetId"] == id_text.as_str()));
    assert!(streams.iter().any(|e| e["detail"].as_str().unwrap().contains("range=bytes=-500 source=storage")));
    assert_eq!(entries.iter().filter(|e| e["action"] == "recording.download").count(), 1);
    app.stop().await;
}

both_backends!(agents_reach_only_their_own_recordings, before_archiving_the_stream_relays_twilio_with_the_range);

async fn agents_reach_only_their_own_recordings(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let (alice, alice_pw) = app.create_user("alice", Role::Agent).await;
    let (_bob, bob_pw) = app.create_user("bob", Role::Agent).await;
    let call =
        sim.add_call(CallSpec { duration_secs: 5, agent_id: Some(alice.id.0.to_string()), ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let id = recording_id(&app, &call).await;
    let admin = app.admin_token().await;
    wait_for_sync(&app, &admin, id, "verified").await;

    let (alice_token, bob_token) = (app.token_for("alice", &alice_pw).await, app.token_for("bob", &bob_pw).await);
    for suffix in ["", "/stream", "/download", "/peaks"] {
        let path = format!("/api/recordings/{id}{suffix}");
        let (status, code, _) = error_of(app.get(&path, Some(&bob_token)).await).await;
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "bob on {path}");
        assert_eq!(app.get(&path, Some(&alice_token)).await.status(), StatusCode::OK, "alice on {path}");
        assert_eq!(app.get(&path, None).await.status(), StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = error_of(app.get("/api/recordings/999999/stream", Some(&alice_token)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a missing recording looks the same");
    assert_eq!(app.get("/api/admin/audit", Some(&alice_token)).await.status(), StatusCode::FORBIDDEN);

    let entries = audit(&app, &admin).await;
    let by_alice: Vec<_> = entries.iter().filter(|e| e["username"] == "alice").map(|e| e["action"].clone()).collect();
    assert_eq!(by_alice, ["recording.download", "recording.stream"], "newest first");
    assert!(entries.iter().all(|e| e["username"] != "bob"), "refused requests play nothing");
    app.stop().await;
}

async fn before_archiving_the_stream_relays_twilio_with_the_range(db: TestDb) {
    // No job workers: the recording stays pending.
    let (app, sim) = spawn_app_with_twilio(db, &[("OMNIVOX_JOB_CONCURRENCY", "0")]).await;
    let token = app.admin_token().await;
    let call = sim.add_call(CallSpec { duration_secs: 5, ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let id = recording_id(&app, &call).await;
    let source = source_media(&sim, &call, "wav").await;
    let path = format!("/api/recordings/{id}/stream");
    let partial = get_range(&app, &path, &token, "bytes=100-199").await;
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(partial.headers()["content-range"], format!("bytes 100-199/{}", source.len()).as_str());
    assert_eq!(partial.bytes().await.unwrap(), &source[100..200]);
    assert!(sim.request_log().iter().any(|r| r.range.as_deref() == Some("bytes=100-199")), "Range passed through");
    let beyond = get_range(&app, &path, &token, "bytes=999999999-").await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let full = app.get(&path, Some(&token)).await;
    assert_eq!(full.bytes().await.unwrap(), source);
    let meta: Value = app.get(&format!("/api/recordings/{id}"), Some(&token)).await.json().await.unwrap();
    assert_eq!(meta["syncStatus"], "pending");
    let (status, _, message) = error_of(app.get(&format!("/api/recordings/{id}/peaks"), Some(&token)).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    let entries = audit(&app, &token).await;
    assert!(entries.iter().any(|e| e["detail"].as_str().unwrap().contains("range=bytes=100-199 source=twilio")));
    app.stop().await;
}
