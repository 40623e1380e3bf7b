//! An event the bus cannot send is not a silent gap: every subscriber hears
//! how many were missed, after the events that did go out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use omnivox_core::events::EventKind;
use omnivox_testkit::TestDb;

use super::*;

fn event(n: i64) -> Event {
    Event { kind: EventKind::CallUpdated, call_record_id: 900_000_000 + n, recording_id: None, agent_id: None }
}

async fn next(heard: &mut broadcast::Receiver<Notice>) -> Notice {
    tokio::time::timeout(Duration::from_secs(10), heard.recv()).await.expect("a notice within 10 s").unwrap()
}

// One thread: the publisher cannot run while the test fills the outbox.
#[tokio::test(flavor = "current_thread")]
async fn events_lost_to_a_full_outbox_are_announced_as_missed() {
    let Some(db) = TestDb::postgres().await else { return };
    let pool = PgPool::connect(&db.url).await.unwrap();
    let shutdown = CancellationToken::new();
    let (bus, task) = PgEventBus::with_outbox(pool, shutdown.clone(), 2).await.unwrap();
    let mut heard = bus.subscribe();

    for n in 0..10 {
        bus.publish(event(n));
    }
    assert_eq!(next(&mut heard).await, Notice::Event(event(0)));
    assert_eq!(next(&mut heard).await, Notice::Event(event(1)));
    assert_eq!(next(&mut heard).await, Notice::Missed { missed: 8 });

    // Told once: the next event goes out alone.
    bus.publish(event(10));
    assert_eq!(next(&mut heard).await, Notice::Event(event(10)));
    assert!(heard.try_recv().is_err(), "nothing more");

    shutdown.cancel();
    task.await.unwrap();
}

#[test]
fn notices_keep_the_event_json_on_the_wire() {
    let json = serde_json::to_string(&Notice::Event(event(1))).unwrap();
    assert_eq!(json, serde_json::to_string(&event(1)).unwrap());
    assert_eq!(serde_json::from_str::<Notice>(&json).unwrap(), Notice::Event(event(1)));
    let missed = serde_json::to_string(&Notice::Missed { missed: 3 }).unwrap();
    assert_eq!(missed, r#"{"missed":3}"#);
    assert_eq!(serde_json::from_str::<Notice>(&missed).unwrap(), Notice::Missed { missed: 3 });
}
