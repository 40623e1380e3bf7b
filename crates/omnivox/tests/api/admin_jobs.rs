use async_trait::async_trait;
use omnivox_core::store::JobState;
use omnivox_jobs::{Job, JobError, JobQueue};
use omnivox_testkit::{both_backends, TestDb};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app};

#[derive(Serialize, Deserialize)]
struct Doomed;

#[async_trait]
impl Job for Doomed {
    const KIND: &'static str = "doomed";
    const MAX_ATTEMPTS: i64 = 1;
    type Context = ();
    async fn run(self, _: &()) -> Result<(), JobError> {
        Err(JobError::Permanent(anyhow::anyhow!("recording not found at Twilio (404)")))
    }
}

async fn admins_see_the_dead_letter_and_can_retry(db: TestDb) {
    // A job dies in the database the app uses.
    let queue = JobQueue::new(db.store.clone(), std::sync::Arc::new(omnivox_core::SystemClock));
    let id = queue.enqueue(&Doomed).await.unwrap().unwrap();
    let worker = omnivox_jobs::Worker::new(
        queue.clone(),
        omnivox_jobs::Registry::new().register::<Doomed>(),
        std::sync::Arc::new(()),
        omnivox_jobs::WorkerSettings::default(),
    );
    // Run it directly (the app's own workers don't know this kind).
    let outcome = loop {
        let o = worker.run_until_empty().await.unwrap();
        if !o.is_empty() {
            break o;
        }
    };
    assert!(matches!(&outcome[..], [omnivox_jobs::Outcome::Dead(_)]), "{outcome:?}");

    let app = spawn_app(db).await;
    let admin = app.admin_token().await;
    let dead: Value = app.get("/api/admin/jobs?state=dead", Some(&admin)).await.json().await.unwrap();
    let item = dead["items"].as_array().unwrap().iter().find(|j| j["id"] == id.0).expect("listed").clone();
    assert_eq!(item["kind"], "doomed");
    assert_eq!(item["state"], "dead");
    assert!(item["lastError"].as_str().unwrap().contains("404"));

    let (status, _, message) = error_of(app.get("/api/admin/jobs?state=zombie", Some(&admin)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("zombie"), "{message}");

    let retried = app.post(&format!("/api/admin/jobs/{}/retry", id.0), Some(&admin), json!({})).await;
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    let row = app.db.store.get_job(id).await.unwrap().unwrap();
    assert_eq!(row.state, JobState::Queued);
    let again = app.post(&format!("/api/admin/jobs/{}/retry", id.0), Some(&admin), json!({})).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "only dead jobs can be retried");
    // Remove it before the app's workers meet a kind they do not know.
    app.stop().await;
}

both_backends!(admins_see_the_dead_letter_and_can_retry);
