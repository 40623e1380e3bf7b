//! The event bus across instances on PostgreSQL: each instance sends its
//! events with `NOTIFY` and relays every notification it hears through
//! `LISTEN` (its own included) to its local subscribers, so every instance
//! sees every event exactly once. Events it cannot send (its outbox full,
//! or `NOTIFY` failing) are counted and announced to every instance as a
//! [`Notice::Missed`] with the next events it sends: subscribers refetch
//! instead of silently missing a call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use omnivox_core::events::{Event, EventBus, LocalEventBus, Notice};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

const CHANNEL: &str = "omnivox_events";

pub struct PgEventBus {
    local: LocalEventBus,
    outbox: mpsc::Sender<Event>,
    /// Events not sent since the last notice of them.
    missed: Arc<AtomicU64>,
}

/// Most events sent in one statement.
const MAX_BATCH: usize = 512;

impl PgEventBus {
    /// Starts listening and publishing; the returned task ends when
    /// `shutdown` fires.
    pub async fn start(
        pool: PgPool,
        shutdown: CancellationToken,
    ) -> Result<(Arc<Self>, tokio::task::JoinHandle<()>), sqlx::Error> {
        Self::with_outbox(pool, shutdown, 16 * MAX_BATCH).await
    }

    async fn with_outbox(
        pool: PgPool,
        shutdown: CancellationToken,
        capacity: usize,
    ) -> Result<(Arc<Self>, tokio::task::JoinHandle<()>), sqlx::Error> {
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let (outbox, pending) = mpsc::channel::<Event>(capacity);
        let missed = Arc::new(AtomicU64::new(0));
        let bus = Arc::new(Self { local: LocalEventBus::default(), outbox, missed: Arc::clone(&missed) });
        let relay = bus.local.sender().clone();
        let listen = async move {
            loop {
                let heard = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    heard = listener.recv() => heard,
                };
                match heard {
                    Ok(n) => match serde_json::from_str::<Notice>(n.payload()) {
                        Ok(notice) => {
                            let _ = relay.send(notice);
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed event notification"),
                    },
                    Err(e) => {
                        // PgListener reconnects on the next recv; don't spin meanwhile.
                        tracing::warn!(error = %e, "event listener lost its connection");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        };
        let task = tokio::spawn(async move {
            // The publisher ends when the bus (its sender) is dropped.
            let publish = tokio::spawn(publish(pool, pending, missed));
            listen.await;
            publish.abort();
        });
        Ok((bus, task))
    }
}

/// Sends the queued events, every one waiting at once in one statement (and
/// so one transaction): under load, a callback's events cost a fraction of
/// a round trip instead of one each. Within one transaction PostgreSQL
/// delivers notifications in order, and folds identical ones into one,
/// which for "this changed" events loses nothing. Events missed so far go
/// out as one [`Notice::Missed`] after them.
async fn publish(pool: PgPool, mut pending: mpsc::Receiver<Event>, missed: Arc<AtomicU64>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut notices: Vec<Notice> = batch.drain(..).map(Notice::Event).collect();
        let lost = missed.swap(0, Ordering::Relaxed);
        if lost > 0 {
            notices.push(Notice::Missed { missed: lost });
        }
        let payloads: Vec<String> = notices.iter().filter_map(|n| serde_json::to_string(n).ok()).collect();
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(&payloads)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            // Announced with the next events that do go out.
            let events =
                notices.iter().map(|n| if let Notice::Missed { missed } = n { *missed } else { 1 }).sum::<u64>();
            missed.fetch_add(events, Ordering::Relaxed);
            tracing::warn!(error = %e, events, "could not publish events");
        }
    }
}

impl EventBus for PgEventBus {
    fn publish(&self, event: Event) {
        if self.outbox.try_send(event).is_err() {
            self.missed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.local.subscribe()
    }
}

#[cfg(test)]
mod tests;
