//! The storage conformance suite: every test runs against SQLite and
//! PostgreSQL (see `omnivox_testkit::both_backends!`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use omnivox_core::store::{JobId, JobState, NewAuditEntry, NewJob, NewUser, PasswordHash, UserId};
use omnivox_core::{Role, StoreError};
use omnivox_testkit::{both_backends, TestDb};

const KINDS: &[&str] = &["k", "archive", "transcribe"];

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 16, 14, 32, 0).unwrap()
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: Some(format!("{name} display")),
        role,
        password_hash: PasswordHash::new(format!("$argon2id$fake${name}")),
    }
}

fn job(kind: &str, key: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: serde_json::json!({"k": key}),
        dedupe_key: key.map(str::to_owned),
        run_at: t0(),
        max_attempts: 3,
    }
}

async fn users_are_unique_by_name(db: TestDb) {
    let s = &db.store;
    let admin = s.create_user(&new_user("ada", Role::Admin), t0()).await.unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(admin.created_at, t0());
    let dup = s.create_user(&new_user("ada", Role::Agent), t0()).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let (user, hash) = s.user_credentials("ada").await.unwrap().unwrap();
    assert_eq!(user, admin);
    assert_eq!(hash.as_str(), "$argon2id$fake$ada");
    assert_eq!(s.get_user(admin.id).await.unwrap(), Some(admin.clone()));
    assert_eq!(s.find_user_by_name("nobody").await.unwrap(), None);
    assert_eq!(s.count_users_with_role(Role::Admin).await.unwrap(), 1);
    assert_eq!(s.count_users_with_role(Role::Agent).await.unwrap(), 0);
    s.set_password(admin.id, &PasswordHash::new("new".into())).await.unwrap();
    assert_eq!(s.user_credentials("ada").await.unwrap().unwrap().1.as_str(), "new");
    assert!(matches!(s.set_password(UserId(9999), &PasswordHash::new("x".into())).await, Err(StoreError::NotFound)));
}

async fn sessions_expire_and_end_at_logout(db: TestDb) {
    let s = &db.store;
    let u = s.create_user(&new_user("sam", Role::Supervisor), t0()).await.unwrap();
    s.create_session("hash-1", u.id, t0(), t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(s.session_user("hash-1", t0()).await.unwrap().map(|u| u.id), Some(u.id));
    assert_eq!(s.session_user("hash-1", t0() + Duration::hours(2)).await.unwrap(), None, "expired");
    assert_eq!(s.session_user("other", t0()).await.unwrap(), None);
    assert!(s.delete_session("hash-1").await.unwrap());
    assert_eq!(s.session_user("hash-1", t0()).await.unwrap(), None, "logged out");
    s.create_session("hash-2", u.id, t0(), t0() + Duration::minutes(1)).await.unwrap();
    assert_eq!(s.delete_expired_sessions(t0() + Duration::minutes(2)).await.unwrap(), 1);
}

async fn a_job_is_claimed_by_exactly_one_of_two_workers(db: TestDb) {
    let s = &db.store;
    for i in 0..20 {
        s.enqueue_job(&job("k", Some(&format!("job-{i}"))), t0()).await.unwrap().unwrap();
    }
    let lease = t0() + Duration::minutes(5);
    let worker = |name: &'static str| {
        let store = Arc::clone(&db.store);
        tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(j) = store.claim_job(name, KINDS, t0(), lease).await.unwrap() {
                mine.push(j.id);
            }
            mine
        })
    };
    let (a, b) = (worker("a"), worker("b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut all: Vec<JobId> = a.iter().chain(b.iter()).copied().collect();
    all.sort_by_key(|j| j.0);
    all.dedup();
    assert_eq!(all.len(), 20, "every job claimed");
    assert_eq!(a.len() + b.len(), 20, "no job claimed twice");
}

async fn jobs_are_deduplicated_while_pending(db: TestDb) {
    let s = &db.store;
    let first = s.enqueue_job(&job("archive", Some("RE1")), t0()).await.unwrap();
    assert!(first.is_some());
    assert_eq!(s.enqueue_job(&job("archive", Some("RE1")), t0()).await.unwrap(), None);
    assert!(s.enqueue_job(&job("transcribe", Some("RE1")), t0()).await.unwrap().is_some(), "other kind");
    assert!(s.enqueue_job(&job("archive", None), t0()).await.unwrap().is_some(), "no key");
    assert!(s.enqueue_job(&job("archive", None), t0()).await.unwrap().is_some(), "no key");
    // Running still dedupes; once done, the key is free again.
    let claimed = loop {
        let j = s.claim_job("w", KINDS, t0(), t0() + Duration::minutes(1)).await.unwrap().unwrap();
        if Some(j.id) == first {
            break j;
        }
        s.complete_job(j.id, "w").await.unwrap();
    };
    assert_eq!(s.enqueue_job(&job("archive", Some("RE1")), t0()).await.unwrap(), None);
    assert!(s.complete_job(claimed.id, "w").await.unwrap());
    assert!(s.enqueue_job(&job("archive", Some("RE1")), t0()).await.unwrap().is_some());
}

async fn job_lifecycle_retry_bury_release_requeue(db: TestDb) {
    let s = &db.store;
    let lease = t0() + Duration::minutes(1);
    let id = s.enqueue_job(&job("k", Some("x")), t0()).await.unwrap().unwrap();
    assert!(s.claim_job("w", KINDS, t0() - Duration::seconds(1), lease).await.unwrap().is_none(), "not due yet");

    let j = s.claim_job("w", KINDS, t0(), lease).await.unwrap().unwrap();
    assert_eq!((j.id, j.attempts, j.max_attempts, j.kind.as_str()), (id, 1, 3, "k"));
    assert_eq!(j.payload, serde_json::json!({"k": "x"}));
    assert!(!s.complete_job(id, "intruder").await.unwrap(), "only the lease holder may finish it");

    let later = t0() + Duration::seconds(30);
    assert!(s.retry_job_later(id, "w", later, "boom", t0()).await.unwrap());
    assert_eq!(s.next_job_due(KINDS).await.unwrap(), Some(later));
    let row = s.get_job(id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts, row.last_error.as_deref()), (JobState::Queued, 1, Some("boom")));
    assert!(s.claim_job("w", KINDS, t0(), lease).await.unwrap().is_none(), "backing off");

    let j = s.claim_job("w", KINDS, later, later + Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(j.attempts, 2);
    assert!(s.release_job(id, "w", later).await.unwrap());
    assert_eq!(s.get_job(id).await.unwrap().unwrap().attempts, 1, "a released claim costs no attempt");

    let j = s.claim_job("w", KINDS, later, later + Duration::minutes(1)).await.unwrap().unwrap();
    assert!(s.bury_job(j.id, "w", "gave up", later).await.unwrap());
    let dead = s.list_jobs(JobState::Dead, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("gave up"));
    assert!(s.claim_job("w", KINDS, later + Duration::days(1), later + Duration::days(2)).await.unwrap().is_none());

    assert!(s.requeue_dead_job(id, later).await.unwrap());
    let j = s.claim_job("w", KINDS, later, later + Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(j.attempts, 1, "fresh budget");
    assert!(s.complete_job(j.id, "w").await.unwrap());
    assert!(s.get_job(id).await.unwrap().is_none());
}

async fn an_expired_lease_is_claimed_again(db: TestDb) {
    let s = &db.store;
    let id = s.enqueue_job(&job("k", None), t0()).await.unwrap().unwrap();
    let lease = t0() + Duration::seconds(30);
    s.claim_job("crashed", KINDS, t0(), lease).await.unwrap().unwrap();
    assert!(s.claim_job("rescuer", KINDS, t0() + Duration::seconds(10), lease).await.unwrap().is_none());
    assert_eq!(s.next_job_due(KINDS).await.unwrap(), Some(lease));
    let j = s
        .claim_job("rescuer", KINDS, lease + Duration::seconds(1), lease + Duration::seconds(60))
        .await
        .unwrap()
        .expect("taken over after the lease");
    assert_eq!((j.id, j.attempts), (id, 2));
    assert!(!s.complete_job(id, "crashed").await.unwrap(), "the old holder lost it");
    assert!(!s.extend_lease(id, "crashed", lease + Duration::hours(1)).await.unwrap());
    assert!(s.extend_lease(id, "rescuer", lease + Duration::hours(1)).await.unwrap());
    assert!(s.complete_job(id, "rescuer").await.unwrap());
}

async fn audit_entries_list_newest_first(db: TestDb) {
    let s = &db.store;
    let u = s.create_user(&new_user("aud", Role::Admin), t0()).await.unwrap();
    for i in 0..5 {
        s.append_audit(&NewAuditEntry {
            at: t0() + Duration::seconds(i),
            user_id: Some(u.id),
            username: Some(u.username.clone()),
            action: "recording.stream".into(),
            target_kind: Some("recording".into()),
            target_id: Some(i.to_string()),
            client_addr: Some("127.0.0.1".into()),
            detail: Some("bytes=0-".into()),
        })
        .await
        .unwrap();
    }
    let page = s.list_audit(None, 3).await.unwrap();
    assert_eq!(page.iter().map(|e| e.target_id.clone().unwrap()).collect::<Vec<_>>(), ["4", "3", "2"]);
    let next = s.list_audit(Some(page[2].id), 3).await.unwrap();
    assert_eq!(next.len(), 2);
    assert_eq!(next[0].at, t0() + Duration::seconds(1));
}

async fn migrations_are_idempotent_and_ping_works(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

both_backends!(
    users_are_unique_by_name,
    sessions_expire_and_end_at_logout,
    a_job_is_claimed_by_exactly_one_of_two_workers,
    jobs_are_deduplicated_while_pending,
    job_lifecycle_retry_bury_release_requeue,
    an_expired_lease_is_claimed_again,
    audit_entries_list_newest_first,
    migrations_are_idempotent_and_ping_works,
);
