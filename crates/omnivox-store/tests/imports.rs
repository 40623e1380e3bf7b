//! Import runs on both backends: overlapping runs never both start, even
//! when asked for at once; items are recorded once; the counts are those
//! of the items; the last checkpoint freezes the totals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use omnivox_core::store::{ImportItem, ImportState, ItemOutcome, NewImportRun, IMPORT_JOB_KIND};
use omnivox_core::{DateRange, Store};
use omnivox_testkit::{both_backends, TestDb};

both_backends!(overlapping_runs_never_both_start, items_count_once_and_the_last_page_freezes_totals);

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 16, 14, 32, 0).unwrap()
}

fn run(after: &str, before: &str) -> NewImportRun {
    let (range, _, _) = DateRange::parse(Some(after), Some(before), ("after", "before")).unwrap();
    NewImportRun {
        range,
        dry_run: false,
        first_page_uri: "/2010-04-01/Accounts/AC1/Recordings.json".into(),
        created_by: None,
    }
}

fn items(outcome: ItemOutcome, sids: std::ops::Range<u32>, reason: Option<&str>) -> Vec<ImportItem> {
    sids.map(|n| ImportItem { recording_sid: format!("RE{n:032x}"), outcome, reason: reason.map(str::to_owned) })
        .collect()
}

async fn overlapping_runs_never_both_start(db: TestDb) {
    let store: Arc<dyn Store> = db.store.clone();
    // Eight overlapping requests at once: exactly one starts.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let day = format!("2026-01-{:02}", 10 + i);
                store.start_import_run(&run(&day, "2026-01-31"), t0()).await.unwrap()
            })
        })
        .collect();
    let mut started = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(run) => started.push(run),
            Err(other) => {
                assert_eq!(other.state, ImportState::Running);
                refused += 1;
            }
        }
    }
    assert_eq!((started.len(), refused), (1, 7));
    let first = &started[0];
    assert_eq!(first.next_page_uri.as_deref(), Some("/2010-04-01/Accounts/AC1/Recordings.json"));
    // Its job was queued with it.
    let jobs = store.list_jobs(omnivox_core::store::JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].kind.as_str(), jobs[0].payload["importId"].as_i64()), (IMPORT_JOB_KIND, Some(first.id)));
    // A range that does not overlap starts; once the first ends, its range is free again.
    assert!(store.start_import_run(&run("2025-01-01", "2025-12-31"), t0()).await.unwrap().is_ok());
    store.fail_import_run(first.id, "gave up", t0()).await.unwrap();
    let again = store.start_import_run(&run("2026-01-20", "2026-01-20"), t0()).await.unwrap();
    assert!(again.is_ok());
    let failed = store.import_run(first.id).await.unwrap().unwrap();
    assert_eq!((failed.state, failed.error.as_deref()), (ImportState::Failed, Some("gave up")));
}

async fn items_count_once_and_the_last_page_freezes_totals(db: TestDb) {
    let store = &db.store;
    let id = store.start_import_run(&run("2026-01-01", "2026-01-31"), t0()).await.unwrap().unwrap().id;
    store.import_page_fetched(id, 1000, t0()).await.unwrap();
    store.record_import_items(id, &items(ItemOutcome::Imported, 0..700, None)).await.unwrap();
    // A resumed page records some items again: they count once, as first recorded.
    store.record_import_items(id, &items(ItemOutcome::Skipped, 600..900, Some("already in Omnivox"))).await.unwrap();
    store.record_import_items(id, &items(ItemOutcome::Error, 900..1000, Some("bad sid"))).await.unwrap();
    let mid = store.import_run(id).await.unwrap().unwrap();
    assert_eq!((mid.progress.pages_read, mid.progress.recordings_seen, mid.progress.processed), (0, 1000, 1000));
    assert_eq!((mid.result.imported, mid.result.skipped, mid.result.errors), (700, 200, 100));
    assert_eq!(mid.result.total_twilio_recordings, None);

    store.checkpoint_import_run(id, Some("/next"), t0()).await.unwrap();
    store.import_page_fetched(id, 5, t0()).await.unwrap();
    store.record_import_items(id, &items(ItemOutcome::Imported, 1000..1005, None)).await.unwrap();
    let sids: Vec<String> =
        items(ItemOutcome::Imported, 998..1003, None).into_iter().map(|i| i.recording_sid).collect();
    assert_eq!(store.recorded_import_items(id, &sids).await.unwrap().len(), 5);
    assert_eq!(store.imported_by_any_run(&sids).await.unwrap().len(), 3);
    store.checkpoint_import_run(id, None, t0()).await.unwrap();
    let done = store.import_run(id).await.unwrap().unwrap();
    assert_eq!(done.state, ImportState::Completed);
    assert_eq!(done.result.total_twilio_recordings, Some(1005));
    assert_eq!((done.result.imported, done.result.skipped, done.result.errors), (705, 200, 100));
    assert_eq!(done.progress.pages_read, 2);

    let reasons = store.import_reasons(id).await.unwrap();
    assert_eq!(reasons.len(), 3);
    let errors = store.list_import_items(id, Some(ItemOutcome::Error), None, 60).await.unwrap();
    assert_eq!(errors.len(), 60);
    let rest = store.list_import_items(id, Some(ItemOutcome::Error), Some(errors[59].id), 60).await.unwrap();
    assert_eq!(rest.len(), 40);
    assert!(rest.iter().all(|r| r.item.reason.as_deref() == Some("bad sid")));
    assert_eq!(store.list_import_runs(10).await.unwrap().len(), 1);
}
