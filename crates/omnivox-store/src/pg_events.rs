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

impl PgEventBus {
    /// Starts listening; the returned task ends when `shutdown` fires.
    pub async fn start(
        pool: PgPool,
        shutdown: CancellationToken,
    ) -> Result<(Arc<Self>, tokio::task::JoinHandle<()>), sqlx::Error> {
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let (outbox, mut pending) = mpsc::channel::<Event>(4096);
        let bus = Arc::new(Self { local: LocalEventBus::default(), outbox });
        let relay = bus.local.sender().clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    heard = listener.recv() => match heard {
                        Ok(n) => match serde_json::from_str::<Event>(n.payload()) {
                            Ok(event) => { let _ = relay.send(event); }
                            Err(e) => tracing::warn!(error = %e, "ignoring a malformed event notification"),
                        },
                        Err(e) => {
                            // PgListener reconnects on the next recv; don't spin meanwhile.
                            tracing::warn!(error = %e, "event listener lost its connection");
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        }
                    },
                    Some(event) = pending.recv() => {
                        let Ok(payload) = serde_json::to_string(&event) else { continue };
                        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&pool).await {
                            tracing::warn!(error = %e, "could not publish an event");
                        }
                    }
                }
            }
        });
        Ok((bus, task))
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
