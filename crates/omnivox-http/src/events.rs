//! `GET /api/events`: Server-Sent Events for the Call Records page. Agents
//! hear only about their own calls. A client that falls behind gets a
//! `resync` event (refetch the list) instead of a silent gap; streams end
//! when the service shuts down, so shutdown never waits on a browser.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::{self, Stream};
use omnivox_core::events::{Event, Notice};
use omnivox_core::store::User;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::CurrentUser;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/events", get(events))
}

fn visible(user: &User, event: &Event) -> bool {
    user.role.sees_all_calls() || event.agent_id == Some(user.id)
}

#[utoipa::path(
    get, path = "/api/events", tag = "call-records",
    description = "Signed in; agents hear only of their own calls. Server-Sent Events named `call.created`, `call.updated`, `recording.updated`, `transcript.ready` whose data is an `Event`, and `resync` (data: how many were missed) after a gap: events the stream fell behind on or the bus could not deliver.",
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = Event), (status = 401, response = crate::openapi::NotSignedIn))
)]
async fn events(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = app.events.subscribe();
    let shutdown = app.shutdown.clone();
    let stream = stream::unfold((receiver, shutdown, user), |(mut receiver, shutdown, user)| async move {
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return None,
                next = receiver.recv() => next,
            };
            let sse = match next {
                Ok(Notice::Event(event)) if visible(&user, &event) => {
                    match SseEvent::default().event(event.kind.as_str()).json_data(&event) {
                        Ok(sse) => sse,
                        Err(_) => continue,
                    }
                }
                Ok(Notice::Event(_)) => continue,
                // Events this stream fell behind on, or the bus lost.
                Ok(Notice::Missed { missed }) | Err(RecvError::Lagged(missed)) => {
                    SseEvent::default().event("resync").data(missed.to_string())
                }
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(sse), (receiver, shutdown, user)));
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
