//! One page's recordings: what each needs, the work done with bounded
//! concurrency, and its result recorded.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::{StreamExt as _, TryStreamExt as _};
use omnivox_core::ingest::{
    Attribution, FoundBy, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent, RecordingStatus,
};
use omnivox_core::store::{ImportItem, ImportRun, ItemOutcome};
use omnivox_core::CallSid;
use omnivox_twilio::RecordingResource;
use tokio::sync::Semaphore;

use super::{WalkError, Walker};
use crate::events::{call_event, recording_event};

/// What happens to recordings Omnivox lacks.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mode {
    /// Only report what would be imported.
    DryRun,
    Ingest {
        found_by: FoundBy,
        campaign: (&'static str, &'static str),
    },
}

/// A recording Omnivox lacks, ready to ingest.
struct Work {
    event: RecordingEvent,
    call_known: bool,
}

/// Recordings worked on at once: twice the Twilio requests allowed, so
/// some are in the database while others wait for Twilio.
fn in_flight(concurrency: usize) -> usize {
    concurrency.max(1) * 2
}

fn item(sid: &str, outcome: ItemOutcome, reason: Option<String>) -> ImportItem {
    ImportItem { recording_sid: sid.to_owned(), outcome, reason }
}

/// Why a recording Twilio lists is not one to import, if it is not.
fn not_importable(r: &RecordingEvent) -> Option<String> {
    match r.facts.status {
        RecordingStatus::Completed => None,
        RecordingStatus::Deleted => Some("deleted at Twilio".to_owned()),
        status => {
            let code = r.facts.error_code.as_deref().map(|c| format!(", ErrorCode {c}")).unwrap_or_default();
            Some(format!("not completed at Twilio (status {}{code})", status.as_str()))
        }
    }
}

/// The listed recording as an event, or why it cannot be one.
fn parse(r: &RecordingResource) -> Result<RecordingEvent, String> {
    let call_sid = r.call_sid.as_deref().ok_or("Twilio listed the recording without a call_sid")?;
    let call_sid = CallSid::parse(call_sid).map_err(|e| format!("call_sid {call_sid:?}: {e}"))?;
    recording_event(r, call_sid)
}

impl Walker {
    async fn ingest(
        &self,
        event: IngestEvent,
        found_by: FoundBy,
        campaign: (&'static str, &'static str),
    ) -> Result<IngestOutcome, WalkError> {
        let request = IngestRequest {
            event,
            attribution: Attribution::default(),
            default_campaign: campaign,
            found_by,
            received_at: self.clock.now(),
        };
        Ok(self.ingestor.ingest(&request).await?)
    }

    /// Fetches the call's details when Omnivox does not know the call yet,
    /// then ingests the recording. A call Twilio cannot describe does not
    /// hold the recording back: it is imported, and `enrich-call` asks again.
    async fn ingest_missing(
        &self,
        work: Work,
        found_by: FoundBy,
        campaign: (&'static str, &'static str),
        slots: &Semaphore,
    ) -> Result<(String, IngestOutcome, Option<String>), WalkError> {
        let Work { mut event, call_known } = work;
        let mut note = None;
        if !call_known {
            let call_sid = event.call_sid.clone();
            // The slots bound Twilio requests in flight, not the database
            // work around them, so Twilio is kept busy at the set concurrency.
            let fetched = {
                let _slot = slots.acquire().await.map_err(|_| WalkError::Closed)?;
                self.retry.run(|| self.twilio.fetch_call(call_sid.as_str())).await
            };
            match fetched {
                Ok(call) => match call_event(&call_sid, &call, true) {
                    Some(mut call_event) => {
                        // A child leg's recording belongs to the parent's record.
                        call_event.parent_call_sid =
                            call.parent_call_sid.as_deref().and_then(|p| CallSid::parse(p).ok());
                        event.call_sid = call_event.record_call_sid().clone();
                        self.ingest(IngestEvent::CallStatus(call_event), found_by, campaign).await?;
                    }
                    None => note = Some("imported without call details: Twilio gave no known call status".to_owned()),
                },
                Err(e) => note = Some(format!("imported without call details for now ({e})")),
            }
        }
        let sid = event.recording_sid.to_string();
        let outcome = self.ingest(IngestEvent::Recording(event), found_by, campaign).await?;
        Ok((sid, outcome, note))
    }

    /// Works through one import page and records an item for every recording on it.
    pub(super) async fn import_page(
        &self,
        run: &ImportRun,
        page_number: i64,
        recordings: &[RecordingResource],
        mode: Mode,
        slots: &Semaphore,
    ) -> Result<(), WalkError> {
        let sids: Vec<String> = recordings.iter().filter_map(|r| r.sid.clone()).collect();
        let recorded = self.store.recorded_import_items(run.id, &sids).await?;
        let known = self.store.known_recordings(&sids).await?;
        let imported_sids: Vec<String> =
            known.iter().filter(|(_, f)| **f == FoundBy::Import).map(|(s, _)| s.clone()).collect();
        let imported_by_a_run = self.store.imported_by_any_run(&imported_sids).await?;

        let mut done = Vec::new();
        let mut work = Vec::new();
        for (index, r) in recordings.iter().enumerate() {
            let Some(sid) = r.sid.as_deref() else {
                let at = format!("(no sid: page {page_number}, item {})", index + 1);
                done.push(item(&at, ItemOutcome::Error, Some("Twilio listed a recording without a sid".into())));
                continue;
            };
            if recorded.contains(sid) {
                continue;
            }
            let event = match parse(r) {
                Ok(event) => event,
                Err(reason) => {
                    done.push(item(sid, ItemOutcome::Error, Some(reason)));
                    continue;
                }
            };
            match known.get(sid) {
                // Ingested by this run before a crash cut it off, not yet recorded.
                Some(FoundBy::Import) if !imported_by_a_run.contains(sid) => {
                    done.push(item(sid, ItemOutcome::Imported, None));
                }
                Some(found_by) => {
                    let reason = format!("already in Omnivox (found by {})", found_by.as_str());
                    done.push(item(sid, ItemOutcome::Skipped, Some(reason)));
                }
                None => match (not_importable(&event), mode) {
                    (Some(reason), _) => done.push(item(sid, ItemOutcome::Skipped, Some(reason))),
                    (None, Mode::DryRun) => {
                        done.push(item(sid, ItemOutcome::Imported, Some("dry run: would be imported".into())));
                    }
                    (None, Mode::Ingest { .. }) => work.push(event),
                },
            }
        }
        self.store.record_import_items(run.id, &done).await?;
        let Mode::Ingest { found_by, campaign } = mode else { return Ok(()) };
        let known_calls = self.known_calls(&work).await?;
        // Each recording is recorded by the future that ingested it: the
        // stream is drained without awaiting anything else, so in-flight
        // futures never sit unpolled holding database connections.
        futures::stream::iter(work.into_iter().map(|event| {
            let call_known = known_calls.contains(event.call_sid.as_str());
            async move {
                let (sid, outcome, note) =
                    self.ingest_missing(Work { event, call_known }, found_by, campaign, slots).await?;
                let done = if outcome.recording_created {
                    item(&sid, ItemOutcome::Imported, note)
                } else {
                    item(&sid, ItemOutcome::Skipped, Some("already in Omnivox (arrived during the import)".into()))
                };
                self.store.record_import_items(run.id, std::slice::from_ref(&done)).await?;
                Ok::<_, WalkError>(())
            }
        }))
        .buffer_unordered(in_flight(self.concurrency))
        .try_collect::<()>()
        .await
    }

    async fn known_calls(&self, work: &[RecordingEvent]) -> Result<HashSet<String>, WalkError> {
        let mut call_sids: Vec<String> = work.iter().map(|e| e.call_sid.to_string()).collect();
        call_sids.sort_unstable();
        call_sids.dedup();
        Ok(self.store.known_calls(&call_sids).await?)
    }

    /// Ingests the page's completed recordings Omnivox lacks; returns the
    /// SIDs it created and how many were too recent to judge.
    pub(super) async fn sweep_page(
        &self,
        recordings: &[RecordingResource],
        settled_before: DateTime<Utc>,
        found_by: FoundBy,
        campaign: (&'static str, &'static str),
        slots: &Semaphore,
    ) -> Result<(Vec<String>, u64), WalkError> {
        let sids: Vec<String> = recordings.iter().filter_map(|r| r.sid.clone()).collect();
        let known: HashMap<String, FoundBy> = self.store.known_recordings(&sids).await?;
        let mut deferred = 0u64;
        let mut work = Vec::new();
        for r in recordings {
            let Some(sid) = r.sid.as_deref() else { continue };
            if known.contains_key(sid) {
                continue;
            }
            let Ok(event) = parse(r) else { continue };
            if not_importable(&event).is_some() {
                continue;
            }
            let updated = r.date_updated.as_deref().or(r.date_created.as_deref());
            if updated.and_then(omnivox_core::ingest::parse_time).is_none_or(|t| t > settled_before) {
                deferred += 1;
                continue;
            }
            work.push(event);
        }
        let known_calls = self.known_calls(&work).await?;
        let found: Vec<String> = futures::stream::iter(work.into_iter().map(|event| {
            let call_known = known_calls.contains(event.call_sid.as_str());
            self.ingest_missing(Work { event, call_known }, found_by, campaign, slots)
        }))
        .buffer_unordered(in_flight(self.concurrency))
        .try_filter_map(|(sid, outcome, _)| async move { Ok(outcome.recording_created.then_some(sid)) })
        .try_collect()
        .await?;
        for sid in &found {
            tracing::warn!(recording_sid = %sid, "the sweep found a recording whose webhook never arrived");
        }
        metrics::counter!("omnivox_sync_gaps_found_total").increment(found.len() as u64);
        Ok((found, deferred))
    }
}
