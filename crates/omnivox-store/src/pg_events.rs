//! The event bus across instances on PostgreSQL: each instance sends its
//! events with `NOTIFY` and relays every notification it hears through
//! `LISTEN` (its own included) to its local subscribers, so every instance
//! sees every event exactly once.

use std::sync::Arc;

use omnivox_core::events::{Event, EventBus, LocalEventBus};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

const CHANNEL: &str = "omnivox_events";

pub struct PgEventBus {
    local: LocalEventBus,
    outbox: mpsc::Sender<Event>,
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
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let (outbox, pending) = mpsc::channel::<Event>(16 * MAX_BATCH);
        let bus = Arc::new(Self { local: LocalEventBus::default(), outbox });
        let relay = bus.local.sender().clone();
        let listen = async move {
            loop {
                let heard = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    heard = listener.recv() => heard,
                };
                match heard {
                    Ok(n) => match serde_json::from_str::<Event>(n.payload()) {
                        Ok(event) => {
                            let _ = relay.send(event);
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
            let publish = tokio::spawn(publish(pool, pending));
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
/// which for "this changed" events loses nothing.
async fn publish(pool: PgPool, mut pending: mpsc::Receiver<Event>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let payloads: Vec<String> = batch.drain(..).filter_map(|event| serde_json::to_string(&event).ok()).collect();
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(&payloads)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, events = payloads.len(), "could not publish events");
        }
    }
}

impl EventBus for PgEventBus {
    fn publish(&self, event: Event) {
        let _ = self.outbox.try_send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}
