//! The job queue end to end on both backends: a real store, a manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use omnivox_core::store::{JobState, JobStore};
use omnivox_core::{Clock, ManualClock};
use omnivox_jobs::{Backoff, Job, JobError, JobQueue, Outcome, Registry, Worker, WorkerSettings};
use omnivox_testkit::{both_backends, TestDb};

const KINDS: &[&str] = &["always-fails", "not-found", "counts", "slow"];
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Ctx {
    runs: AtomicUsize,
    started: Notify,
    /// `Slow` jobs that have begun.
    begun: AtomicUsize,
    /// Reasons passed to `on_dead`.
    dead: std::sync::Mutex<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct AlwaysFails;

#[async_trait]
impl Job for AlwaysFails {
    const KIND: &'static str = "always-fails";
    const MAX_ATTEMPTS: i64 = 4;
    type Context = Ctx;
    async fn run(self, ctx: &Ctx) -> Result<(), JobError> {
        ctx.runs.fetch_add(1, Ordering::SeqCst);
        Err(anyhow::anyhow!("upstream answered 503").into())
    }
    async fn on_dead(self, ctx: &Ctx, reason: &str) -> anyhow::Result<()> {
        ctx.dead.lock().unwrap().push(reason.to_owned());
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct NotFound;

#[async_trait]
impl Job for NotFound {
    const KIND: &'static str = "not-found";
    type Context = Ctx;
    async fn run(self, _: &Ctx) -> Result<(), JobError> {
        Err(JobError::Permanent(anyhow::anyhow!("recording not found (404)")))
    }
    async fn on_dead(self, ctx: &Ctx, reason: &str) -> anyhow::Result<()> {
        ctx.dead.lock().unwrap().push(reason.to_owned());
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct Counts(String);

#[async_trait]
impl Job for Counts {
    const KIND: &'static str = "counts";
    type Context = Ctx;
    fn dedupe_key(&self) -> Option<String> {
        Some(self.0.clone())
    }
    async fn run(self, ctx: &Ctx) -> Result<(), JobError> {
        ctx.runs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct Slow(u64);

#[async_trait]
impl Job for Slow {
    const KIND: &'static str = "slow";
    type Context = Ctx;
    async fn run(self, ctx: &Ctx) -> Result<(), JobError> {
        ctx.begun.fetch_add(1, Ordering::SeqCst);
        ctx.started.notify_one();
        tokio::time::sleep(Duration::from_millis(self.0)).await;
        ctx.runs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn registry() -> Registry<Ctx> {
    Registry::new().register::<AlwaysFails>().register::<NotFound>().register::<Counts>().register::<Slow>()
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        concurrency: 2,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        shutdown_grace: Duration::from_millis(200),
        backoff: Backoff { base: Duration::from_secs(10), cap: Duration::from_secs(60) },
    }
}

struct Harness {
    clock: Arc<ManualClock>,
    queue: JobQueue,
    ctx: Arc<Ctx>,
    worker: Worker<Ctx>,
    store: Arc<dyn JobStore + Send + Sync>,
}

fn harness(db: &TestDb) -> Harness {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
    let store: Arc<dyn JobStore + Send + Sync> = db.store.clone();
    let queue = JobQueue::new(Arc::clone(&store), clock.clone());
    let ctx = Arc::new(Ctx::default());
    let worker = Worker::new(queue.clone(), registry(), Arc::clone(&ctx), settings());
    Harness { clock, queue, ctx, worker, store }
}

async fn failing_job_backs_off_more_each_time_then_goes_to_the_dead_letter(db: TestDb) {
    let h = harness(&db);
    let id = h.queue.enqueue(&AlwaysFails).await.unwrap().unwrap();
    let mut delays = Vec::new();
    loop {
        let outcomes = h.worker.run_until_empty().await.unwrap();
        assert_eq!(outcomes.len(), 1, "{outcomes:?}");
        match &outcomes[0] {
            Outcome::RetryAfter(d) => {
                delays.push(*d);
                // Not due before its delay…
                assert!(h.worker.run_until_empty().await.unwrap().is_empty());
                let due = h.store.next_job_due(KINDS).await.unwrap().unwrap();
                h.clock.set(due);
            }
            Outcome::Dead(reason) => {
                assert!(reason.contains("gave up after 4 attempts"), "{reason}");
                assert!(reason.contains("upstream answered 503"), "{reason}");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(h.ctx.runs.load(Ordering::SeqCst), 4);
    assert_eq!(delays.len(), 3);
    assert!(delays.windows(2).all(|w| w[1] >= w[0]), "delays grow: {delays:?}");
    assert!(delays[0] >= Duration::from_secs(5) && delays[2] >= Duration::from_secs(20), "{delays:?}");
    let dead = h.store.list_jobs(JobState::Dead, 10).await.unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    assert_eq!(dead[0].attempts, 4);
    let told = h.ctx.dead.lock().unwrap().clone();
    assert!(matches!(&told[..], [r] if r.contains("gave up after 4 attempts")), "on_dead once: {told:?}");
}

async fn a_permanent_error_goes_straight_to_the_dead_letter(db: TestDb) {
    let h = harness(&db);
    h.queue.enqueue(&NotFound).await.unwrap();
    let outcomes = h.worker.run_until_empty().await.unwrap();
    assert!(matches!(&outcomes[..], [Outcome::Dead(r)] if r.contains("404")), "{outcomes:?}");
    let told = h.ctx.dead.lock().unwrap().clone();
    assert!(matches!(&told[..], [r] if r.contains("404")), "on_dead once: {told:?}");
}

async fn a_job_whose_worker_died_runs_again_after_its_lease(db: TestDb) {
    let h = harness(&db);
    h.queue.enqueue(&Counts("x".into())).await.unwrap().unwrap();
    // A worker claims it and dies without a word.
    let now = h.clock.now();
    h.store.claim_job("crashed-worker", KINDS, now, now + chrono::Duration::seconds(30)).await.unwrap().unwrap();
    assert!(h.worker.run_until_empty().await.unwrap().is_empty(), "leased");
    h.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(h.worker.run_until_empty().await.unwrap(), [Outcome::Completed]);
    assert_eq!(h.ctx.runs.load(Ordering::SeqCst), 1);
    assert!(h.store.list_jobs(JobState::Queued, 10).await.unwrap().is_empty());
}

async fn duplicate_enqueues_run_once(db: TestDb) {
    let h = harness(&db);
    for _ in 0..5 {
        h.queue.enqueue(&Counts("same".into())).await.unwrap();
    }
    h.queue.enqueue(&Counts("other".into())).await.unwrap();
    assert_eq!(h.worker.run_until_empty().await.unwrap().len(), 2);
    assert_eq!(h.ctx.runs.load(Ordering::SeqCst), 2);
}

async fn shutdown_releases_a_job_that_does_not_finish_in_time(db: TestDb) {
    let h = harness(&db);
    let worker = Arc::new(Worker::new(h.queue.clone(), registry(), Arc::clone(&h.ctx), settings()));
    let id = h.queue.enqueue(&Slow(60_000)).await.unwrap().unwrap();
    let shutdown = CancellationToken::new();
    let handle = Arc::clone(&worker).spawn(shutdown.clone());
    tokio::time::timeout(Duration::from_secs(10), h.ctx.started.notified()).await.unwrap();
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle).await.unwrap().unwrap();
    let job = h.store.get_job(id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 0), "released, attempt refunded");
    assert_eq!(h.ctx.runs.load(Ordering::SeqCst), 0);
}

async fn shutdown_lets_a_quick_job_finish(db: TestDb) {
    let h = harness(&db);
    let worker = Arc::new(Worker::new(h.queue.clone(), registry(), Arc::clone(&h.ctx), settings()));
    let id = h.queue.enqueue(&Slow(50)).await.unwrap().unwrap();
    let shutdown = CancellationToken::new();
    let handle = Arc::clone(&worker).spawn(shutdown.clone());
    tokio::time::timeout(Duration::from_secs(10), h.ctx.started.notified()).await.unwrap();
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle).await.unwrap().unwrap();
    assert!(h.store.get_job(id).await.unwrap().is_none(), "completed and removed");
    assert_eq!(h.ctx.runs.load(Ordering::SeqCst), 1);
}

async fn spawned_workers_on_two_instances_run_each_job_once(db: TestDb) {
    let h = harness(&db);
    for i in 0..40 {
        h.queue.enqueue(&Counts(format!("job-{i}"))).await.unwrap();
    }
    let shutdown = CancellationToken::new();
    // Two workers, as two instances would have, sharing one database.
    let a = Arc::new(Worker::new(h.queue.clone(), registry(), Arc::clone(&h.ctx), settings()));
    let b = Arc::new(Worker::new(h.queue.clone(), registry(), Arc::clone(&h.ctx), settings()));
    let (ha, hb) = (Arc::clone(&a).spawn(shutdown.clone()), Arc::clone(&b).spawn(shutdown.clone()));
    for _ in 0..200 {
        if h.ctx.runs.load(Ordering::SeqCst) >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    shutdown.cancel();
    ha.await.unwrap();
    hb.await.unwrap();
    assert_eq!(h.ctx.runs.load(Ordering::SeqCst), 40);
}

/// Ingest enqueues jobs inside its own transaction and then wakes one idle
/// worker; a worker that claims a job wakes the next, so jobs that arrive
/// together still start together on every idle worker, long before any
/// worker's next poll.
async fn jobs_enqueued_together_start_on_every_idle_worker(db: TestDb) {
    let h = harness(&db);
    let settings = WorkerSettings { concurrency: 4, poll_interval: Duration::from_secs(60), ..settings() };
    let worker = Arc::new(Worker::new(h.queue.clone(), registry(), Arc::clone(&h.ctx), settings));
    let shutdown = CancellationToken::new();
    let handle = Arc::clone(&worker).spawn(shutdown.clone());
    // Every worker has looked, found nothing and gone idle for a minute.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = h.clock.now();
    for _ in 0..4 {
        let job = omnivox_jobs::new_job(&Slow(3000), now).unwrap();
        h.store.enqueue_job(&job, now).await.unwrap().unwrap();
    }
    h.queue.notify();
    for _ in 0..100 {
        if h.ctx.begun.load(Ordering::SeqCst) == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.ctx.begun.load(Ordering::SeqCst), 4, "all four jobs running at once");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle).await.unwrap().unwrap();
}

both_backends!(
    jobs_enqueued_together_start_on_every_idle_worker,
    failing_job_backs_off_more_each_time_then_goes_to_the_dead_letter,
    a_permanent_error_goes_straight_to_the_dead_letter,
    a_job_whose_worker_died_runs_again_after_its_lease,
    duplicate_enqueues_run_once,
    shutdown_releases_a_job_that_does_not_finish_in_time,
    shutdown_lets_a_quick_job_finish,
    spawned_workers_on_two_instances_run_each_job_once,
);
