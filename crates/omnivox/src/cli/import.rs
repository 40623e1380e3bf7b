//! `omnivox import twilio`: the same import as the API, run in this
//! process with a progress bar. Rerunning the same command after a crash
//! or Ctrl-C resumes the run where it stopped.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use omnivox_core::store::{ImportRun, ImportState, ItemOutcome};
use omnivox_core::{Clock, Store, SystemClock};
use omnivox_import::{start_import, StartError, StartImport};
use omnivox_jobs::{Registry, Worker, WorkerSettings};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::jobs::{ImportTwilioRecordings, JobContext};
use crate::startup::{self, job_context, job_lease};

/// How often the progress bar reads the run.
const POLL: Duration = Duration::from_millis(250);

pub async fn import_twilio(
    config: &Config,
    since: Option<String>,
    until: Option<String>,
    dry_run: bool,
) -> anyhow::Result<()> {
    config.twilio_credentials("import twilio")?;
    let store = startup::open_store(config).await?;
    let result = run(config, Arc::clone(&store), since, until, dry_run).await;
    store.close().await;
    result
}

async fn run(
    config: &Config,
    store: Arc<dyn Store>,
    since: Option<String>,
    until: Option<String>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stopping = startup::shutdown_on_signals();
    let (events, event_bus) = omnivox_store::start_event_bus(&config.database_url, stopping.child_token())
        .await
        .context("starting the live event bus")?;
    let ctx = Arc::new(job_context(config, Arc::clone(&store), Arc::clone(&clock), events)?);
    let twilio = ctx.twilio.clone().context("Twilio is not configured")?;
    let request = StartImport {
        date_created_after: since,
        date_created_before: until,
        dry_run,
        created_by: None,
        fields: ("--since", "--until"),
    };
    let run = match start_import(store.as_ref(), &twilio, &request, clock.now()).await {
        Ok(run) => {
            eprintln!("import #{} started: recordings created {}", run.id, run.range());
            run
        }
        // The same range still running: this command (or the service) was
        // stopped while importing it. Carry on with it.
        Err(StartError::Overlaps(other)) if same_request(&other, &request) => {
            eprintln!("resuming import #{} ({} recordings done so far)", other.id, other.progress.processed);
            *other
        }
        Err(e) => return Err(e.into()),
    };
    let worker = Worker::new(
        ctx.jobs.clone(),
        Registry::new().register::<ImportTwilioRecordings>(),
        Arc::clone(&ctx),
        WorkerSettings { concurrency: 1, lease: job_lease(config), ..WorkerSettings::default() },
    );
    let finished = follow(&worker, &ctx, run.id, &stopping).await;
    stopping.cancel();
    if let Some(task) = event_bus {
        let _ = task.await;
    }
    let run = finished?;
    report(&ctx, &run).await
}

fn same_request(run: &ImportRun, request: &StartImport) -> bool {
    let asked = omnivox_core::DateRange::parse(
        request.date_created_after.as_deref(),
        request.date_created_before.as_deref(),
        request.fields,
    );
    matches!(asked, Ok((range, _, _)) if range == run.range() && run.dry_run == request.dry_run)
}

/// Runs import jobs here (unless an instance of the service got to this
/// one first) and shows the run's progress until it ends.
async fn follow(
    worker: &Worker<JobContext>,
    ctx: &JobContext,
    id: i64,
    stopping: &CancellationToken,
) -> anyhow::Result<ImportRun> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} recordings  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let working = async {
        loop {
            if worker.run_one(stopping).await?.is_none() {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stopping.cancelled() => return anyhow::Ok(()),
                }
            }
            if stopping.is_cancelled() {
                return Ok(());
            }
        }
    };
    let watching = async {
        loop {
            let run = ctx.store.import_run(id).await?.context("the import run disappeared")?;
            bar.set_length(u64::try_from(run.progress.recordings_seen).unwrap_or(0));
            bar.set_position(u64::try_from(run.progress.processed).unwrap_or(0));
            bar.set_message(format!(
                "page {} · imported {} · skipped {} · errors {}",
                run.progress.pages_read + 1,
                run.result.imported,
                run.result.skipped,
                run.result.errors
            ));
            if run.state != ImportState::Running {
                return anyhow::Ok(run);
            }
            tokio::time::sleep(POLL).await;
        }
    };
    let run = tokio::select! {
        run = watching => run?,
        worked = working => {
            worked?;
            bar.abandon_with_message("stopped");
            anyhow::bail!("stopped; run the same command again to resume import #{id}");
        }
    };
    bar.finish_and_clear();
    Ok(run)
}

async fn report(ctx: &JobContext, run: &ImportRun) -> anyhow::Result<()> {
    let r = &run.result;
    let total = r.total_twilio_recordings.map_or_else(|| "?".to_owned(), |t| t.to_string());
    let verb = if run.dry_run { "would import" } else { "imported" };
    println!(
        "import #{} {}: {total} recordings in Twilio; {verb} {}, skipped {}, errors {}",
        run.id,
        run.state.as_str(),
        r.imported,
        r.skipped,
        r.errors
    );
    for reason in ctx.store.import_reasons(run.id).await? {
        if reason.outcome != ItemOutcome::Imported || reason.reason.is_some() {
            let why = reason.reason.as_deref().unwrap_or("no reason given");
            println!("  {} {}: {why}", reason.count, reason.outcome.as_str());
        }
    }
    if let Some(error) = &run.error {
        println!("  the run failed: {error}");
    }
    if run.state == ImportState::Failed {
        anyhow::bail!("import #{} failed", run.id);
    }
    if !run.dry_run && r.imported > 0 {
        println!("Their media is archived by the job workers of `omnivox serve`.");
    }
    Ok(())
}
