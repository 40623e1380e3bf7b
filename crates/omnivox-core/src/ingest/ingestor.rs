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
        let outcome = self.store.ingest(request, &*self.follow_ups).await?;
        (self.wake_workers)();
        for event in Event::from_outcome(&outcome) {
            self.events.publish(event);
        }
        Ok(outcome)
    }
}
