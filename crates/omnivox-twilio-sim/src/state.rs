//! The simulator's shared state: recordings in listing order, calls, the fault settings and
//! the request log. One `Mutex` each; no lock is held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::faults::FaultState;
use crate::resources::{CallResource, RecordingResource};

/// One request as the simulator answered it; tests assert on these ("media fetched once").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and raw query, e.g. `/2010-04-01/Accounts/AC…/Recordings.json?PageSize=50`.
    pub path: String,
    pub status: u16,
    /// The `Range` header as sent, if any.
    pub range: Option<String>,
}

/// Position of a recording in the listing: Twilio lists newest first, so the list is this
/// key in descending order. The SID breaks ties between recordings of the same second, which
/// makes the order total and a page token (a key) an exact position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RecordingKey {
    pub created: i64,
    pub sid: String,
}

impl RecordingKey {
    pub fn of(recording: &RecordingResource) -> Self {
        Self { created: recording.date_created.timestamp(), sid: recording.sid.clone() }
    }
}

/// Where a page starts.
pub(crate) enum PageStart<'a> {
    /// The first `offset` matches are skipped (a `Page` without a `PageToken`).
    Offset(usize),
    /// Matches listed after this key (a `next_page_uri`).
    After(&'a RecordingKey),
    /// The `limit` matches listed just before this key (a `previous_page_uri`).
    Before(&'a RecordingKey),
}

/// A page of recordings and whether more follow it in listing order.
pub(crate) struct Page {
    pub items: Vec<RecordingResource>,
    pub more_after: bool,
}

#[derive(Default)]
pub(crate) struct Store {
    recordings: BTreeMap<RecordingKey, RecordingResource>,
    recording_keys: HashMap<String, RecordingKey>,
    calls: HashMap<String, CallResource>,
    /// Insertion order, so `Simulator::calls` is stable.
    call_order: Vec<String>,
}

impl Store {
    pub fn insert_call(&mut self, call: CallResource) {
        if self.calls.insert(call.sid.clone(), call.clone()).is_none() {
            self.call_order.push(call.sid);
        }
    }

    pub fn insert_recording(&mut self, recording: RecordingResource) {
        let key = RecordingKey::of(&recording);
        if let Some(old) = self.recording_keys.insert(recording.sid.clone(), key.clone()) {
            self.recordings.remove(&old);
        }
        self.recordings.insert(key, recording);
    }

    pub fn call(&self, sid: &str) -> Option<&CallResource> {
        self.calls.get(sid)
    }

    pub fn calls(&self) -> Vec<CallResource> {
        self.call_order.iter().filter_map(|sid| self.calls.get(sid).cloned()).collect()
    }

    pub fn recording(&self, sid: &str) -> Option<&RecordingResource> {
        self.recording_keys.get(sid).and_then(|key| self.recordings.get(key))
    }

    pub fn recording_mut(&mut self, sid: &str) -> Option<&mut RecordingResource> {
        let key = self.recording_keys.get(sid)?;
        self.recordings.get_mut(key)
    }

    /// All recordings, newest first.
    pub fn recordings(&self) -> Vec<RecordingResource> {
        self.recordings.values().rev().cloned().collect()
    }

    /// Up to `limit` recordings matching `keep`, newest first, starting at `start`.
    pub fn page(&self, start: PageStart<'_>, limit: usize, keep: impl Fn(&RecordingResource) -> bool) -> Page {
        let matching = |r: &&RecordingResource| keep(r);
        match start {
            PageStart::Offset(offset) => {
                let mut listed = self.recordings.values().rev().filter(matching).skip(offset);
                let items: Vec<_> = listed.by_ref().take(limit).cloned().collect();
                let more_after = listed.next().is_some();
                Page { items, more_after }
            }
            PageStart::After(key) => {
                let range = (Bound::Unbounded, Bound::Excluded(key));
                let mut listed = self.recordings.range::<RecordingKey, _>(range).rev().map(|(_, r)| r).filter(matching);
                let items: Vec<_> = listed.by_ref().take(limit).cloned().collect();
                let more_after = listed.next().is_some();
                Page { items, more_after }
            }
            PageStart::Before(key) => {
                // Walk towards newer recordings, then restore newest-first order.
                let range = (Bound::Excluded(key), Bound::Unbounded);
                let listed = self.recordings.range::<RecordingKey, _>(range);
                let mut items: Vec<_> = listed.map(|(_, r)| r).filter(matching).take(limit).cloned().collect();
                items.reverse();
                // The page we came back from follows this one.
                Page { items, more_after: true }
            }
        }
    }
}

/// Locks `mutex`, carrying on after a panic elsewhere: every critical section leaves the
/// state consistent, so a poisoned lock holds nothing half-written.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Everything the server and the handle share.
pub(crate) struct Shared {
    pub account_sid: String,
    pub auth_token: String,
    pub base_url: String,
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<Vec<LoggedRequest>>,
}
