use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use futures_lite::BoxFuture;
use omnivox_core::store::{ClaimedJob, StoreResult};
use rand::Rng;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::{Backoff, Job, JobError, JobQueue};

mod futures_lite {
    pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;
}

type Handler<C> = Box<dyn Fn(serde_json::Value, Arc<C>) -> BoxFuture<Result<(), JobError>> + Send + Sync>;
type DeadHandler<C> = Box<dyn Fn(serde_json::Value, Arc<C>, String) -> BoxFuture<anyhow::Result<()>> + Send + Sync>;

/// The job kinds a worker knows how to run, all sharing one context `C`.
pub struct Registry<C> {
    handlers: HashMap<&'static str, Handler<C>>,
    dead_handlers: HashMap<&'static str, DeadHandler<C>>,
    kinds: Vec<&'static str>,
}

impl<C: Send + Sync + 'static> Default for Registry<C> {
    fn default() -> Self {
        Self { handlers: HashMap::new(), dead_handlers: HashMap::new(), kinds: Vec::new() }
    }
}

impl<C: Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<J: Job<Context = C>>(mut self) -> Self {
        let handler: Handler<C> = Box::new(|payload, ctx| {
            Box::pin(async move {
                let job: J = serde_json::from_value(payload)
                    .map_err(|e| JobError::Permanent(anyhow!("invalid {} payload: {e}", J::KIND)))?;
                job.run(&ctx).await
            })
        });
        let dead: DeadHandler<C> = Box::new(|payload, ctx, reason| {
            Box::pin(async move {
                let job: J =
                    serde_json::from_value(payload).map_err(|e| anyhow!("invalid {} payload: {e}", J::KIND))?;
                job.on_dead(&ctx, &reason).await
            })
        });
        self.handlers.insert(J::KIND, handler);
        self.dead_handlers.insert(J::KIND, dead);
        self.kinds.push(J::KIND);
        self
    }

    pub fn kinds(&self) -> &[&'static str] {
        &self.kinds
    }
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs run at once by this instance.
    pub concurrency: usize,
    /// How long a claim lasts without a heartbeat; renewed every third of it.
    pub lease: Duration,
    /// Longest idle wait before looking for due jobs again.
    pub poll_interval: Duration,
    /// How long a running job may take to finish after shutdown begins
    /// before it is stopped and released.
    pub shutdown_grace: Duration,
    pub backoff: Backoff,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(10),
            backoff: Backoff::default(),
        }
    }
}

/// What happened to a claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    RetryAfter(Duration),
    Dead(String),
    /// Shutdown came first; the job is back in the queue untouched.
    Released,
}

/// Claims and runs jobs. One `Worker` runs `concurrency` loops when spawned.
pub struct Worker<C> {
    id: String,
    queue: JobQueue,
    registry: Arc<Registry<C>>,
    ctx: Arc<C>,
    settings: WorkerSettings,
}

impl<C: Send + Sync + 'static> Worker<C> {
    pub fn new(queue: JobQueue, registry: Registry<C>, ctx: Arc<C>, settings: WorkerSettings) -> Self {
        let id = format!("{}-{:08x}", std::process::id(), rand::rng().random::<u32>());
        Self { id, queue, registry: Arc::new(registry), ctx, settings }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs due jobs one after another until none is due; returns how many
    /// ran. Jobs retried for later are not waited for.
    pub async fn run_until_empty(&self) -> StoreResult<Vec<Outcome>> {
        let never = CancellationToken::new();
        let mut outcomes = Vec::new();
        while let Some(outcome) = self.run_one(&never).await? {
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Claims one due job and runs it to an outcome.
    pub async fn run_one(&self, shutdown: &CancellationToken) -> StoreResult<Option<Outcome>> {
        let store = self.queue.store();
        let now = self.queue.clock().now();
        let Some(job) =
            store.claim_job(&self.id, self.registry.kinds(), now, now + chrono_duration(self.settings.lease)).await?
        else {
            return Ok(None);
        };
        // There may be more: let another idle worker look.
        self.queue.notify();
        let span = tracing::info_span!("job", kind = %job.kind, job_id = job.id.0, attempt = job.attempts);
        let outcome = self.execute(job, shutdown).instrument(span).await?;
        Ok(Some(outcome))
    }

    async fn execute(&self, job: ClaimedJob, shutdown: &CancellationToken) -> StoreResult<Outcome> {
        let store = self.queue.store();
        let clock = self.queue.clock();
        if job.attempts > job.max_attempts {
            let reason = format!(
                "the lease ran out during attempt {} of {}: the worker running it stopped",
                job.max_attempts, job.max_attempts
            );
            return self.bury(&job, reason).await;
        }
        let Some(handler) = self.registry.handlers.get(job.kind.as_str()) else {
            return self.bury(&job, format!("no handler for job kind {:?}", job.kind)).await;
        };
        let started = Instant::now();
        let mut task = tokio::spawn(handler(job.payload.clone(), Arc::clone(&self.ctx)).in_current_span());
        let period = self.settings.lease / 3;
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        let mut deadline: Option<Pin<Box<Sleep>>> = None;
        let result = loop {
            tokio::select! {
                r = &mut task => break Some(r),
                _ = heartbeat.tick() => {
                    let until = clock.now() + chrono_duration(self.settings.lease);
                    match store.extend_lease(job.id, &self.id, until).await {
                        Ok(true) => {}
                        Ok(false) => warn!("lost the lease; another worker may run this job too"),
                        Err(e) => warn!(error = %e, "could not extend the lease"),
                    }
                }
                _ = shutdown.cancelled(), if deadline.is_none() => {
                    info!("shutting down: giving the running job time to finish");
                    deadline = Some(Box::pin(tokio::time::sleep(self.settings.shutdown_grace)));
                }
                _ = sleep_or_never(&mut deadline) => {
                    task.abort();
                    break None;
                }
            }
        };
        metrics::histogram!("omnivox_job_seconds", "kind" => job.kind.clone()).record(started.elapsed().as_secs_f64());
        let now = clock.now();
        let outcome = match result {
            None => {
                store.release_job(job.id, &self.id, now).await?;
                Outcome::Released
            }
            Some(Ok(Ok(()))) => {
                if !store.complete_job(job.id, &self.id).await? {
                    warn!("finished, but the lease had passed to another worker");
                }
                Outcome::Completed
            }
            Some(Ok(Err(JobError::Permanent(e)))) => return self.bury(&job, format!("{e:#}")).await,
            Some(Ok(Err(JobError::Retry(e)))) => return self.retry(&job, format!("{e:#}")).await,
            Some(Err(join)) => return self.retry(&job, format!("the job panicked: {join}")).await,
        };
        count(&job.kind, &outcome);
        Ok(outcome)
    }

    async fn retry(&self, job: &ClaimedJob, error: String) -> StoreResult<Outcome> {
        if job.attempts >= job.max_attempts {
            return self.bury(job, format!("gave up after {} attempts: {error}", job.attempts)).await;
        }
        let delay = self.settings.backoff.delay(job.attempts);
        let now = self.queue.clock().now();
        warn!(%error, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
        self.queue.store().retry_job_later(job.id, &self.id, now + chrono_duration(delay), &error, now).await?;
        let outcome = Outcome::RetryAfter(delay);
        count(&job.kind, &outcome);
        Ok(outcome)
    }

    async fn bury(&self, job: &ClaimedJob, reason: String) -> StoreResult<Outcome> {
        error!(%reason, "job moved to the dead letter");
        let now = self.queue.clock().now();
        self.queue.store().bury_job(job.id, &self.id, &reason, now).await?;
        if let Some(on_dead) = self.registry.dead_handlers.get(job.kind.as_str()) {
            if let Err(e) = on_dead(job.payload.clone(), Arc::clone(&self.ctx), reason.clone()).await {
                warn!(error = %format!("{e:#}"), "could not record why the job died");
            }
        }
        let outcome = Outcome::Dead(reason);
        count(&job.kind, &outcome);
        Ok(outcome)
    }

    /// Starts `concurrency` worker loops. They stop when `shutdown` is
    /// cancelled, each finishing (or, past the grace period, releasing) the
    /// job it holds; the returned handle completes when all have stopped.
    pub fn spawn(self: Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let mut loops = JoinSet::new();
        for _ in 0..self.settings.concurrency.max(1) {
            let worker = Arc::clone(&self);
            let shutdown = shutdown.clone();
            loops.spawn(async move { worker.run_loop(shutdown).await });
        }
        tokio::spawn(async move {
            while let Some(r) = loops.join_next().await {
                if let Err(e) = r {
                    error!(error = %e, "a worker loop crashed");
                }
            }
        })
    }

    async fn run_loop(&self, shutdown: CancellationToken) {
        let wake = Arc::clone(self.queue.wake());
        while !shutdown.is_cancelled() {
            // Register for wake-ups before looking, so an enqueue between the
            // look and the wait is not missed.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let idle = match self.run_one(&shutdown).await {
                Ok(Some(_)) => continue,
                Ok(None) => self.idle_time().await,
                Err(e) => {
                    error!(error = %e, "job queue unavailable");
                    self.settings.poll_interval
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = &mut notified => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Until the next job is due, at most one poll interval.
    async fn idle_time(&self) -> Duration {
        let poll = self.settings.poll_interval;
        match self.queue.store().next_job_due(self.registry.kinds()).await {
            Ok(Some(due)) => (due - self.queue.clock().now()).to_std().unwrap_or(Duration::ZERO).min(poll),
            _ => poll,
        }
    }
}

fn count(kind: &str, outcome: &Outcome) {
    let label = match outcome {
        Outcome::Completed => "completed",
        Outcome::RetryAfter(_) => "retried",
        Outcome::Dead(_) => "dead",
        Outcome::Released => "released",
    };
    metrics::counter!("omnivox_jobs_total", "kind" => kind.to_owned(), "outcome" => label).increment(1);
}

async fn sleep_or_never(deadline: &mut Option<Pin<Box<Sleep>>>) {
    match deadline {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
