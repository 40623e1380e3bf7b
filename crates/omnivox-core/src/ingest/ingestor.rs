use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{FollowUps, IngestOutcome, IngestRequest};
use crate::events::{Event, EventBus};
use crate::store::StoreResult;
use crate::Store;

/// The one way facts about calls enter Omnivox: the webhooks, the import
/// and the reconciliation sweep all call [`Ingestor::ingest`]. It commits the
/// facts and their follow-up jobs in one transaction, then wakes the local
/// workers and announces the change.
#[derive(Clone)]
pub struct Ingestor {
    store: Arc<dyn Store>,
    follow_ups: Arc<FollowUps>,
    events: Arc<dyn EventBus>,
    wake_workers: Arc<dyn Fn() + Send + Sync>,
}

impl Ingestor {
    pub fn new(
        store: Arc<dyn Store>,
        follow_ups: Arc<FollowUps>,
        events: Arc<dyn EventBus>,
        wake_workers: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        Self { store, follow_ups, events, wake_workers }
    }

    pub async fn ingest(&self, request: &IngestRequest) -> StoreResult<IngestOutcome> {
        // Remembers whether this ingest queued any job, so that workers are
        // woken only when there is something new for them.
        let queued = Arc::new(AtomicBool::new(false));
        let follow_ups: Arc<FollowUps> = {
            let (inner, queued) = (Arc::clone(&self.follow_ups), Arc::clone(&queued));
            Arc::new(move |req: &IngestRequest, out: &IngestOutcome| {
                let jobs = inner(req, out);
                // A batch may apply an event again after a failed commit; the
                // last application decides, and only a committed one is returned.
                queued.store(!jobs.is_empty(), Ordering::Relaxed);
                jobs
            })
        };
        let outcome = self.store.ingest(request, &follow_ups).await?;
        if queued.load(Ordering::Relaxed) {
            (self.wake_workers)();
        }
        for event in Event::from_outcome(&outcome) {
            self.events.publish(event);
        }
        Ok(outcome)
    }
}
