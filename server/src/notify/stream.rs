//! The live inbox: `GET /api/v1/notifications/stream` as Server-Sent Events.
//!
//! Each event is one notification (`event: notification`, `id:` its id,
//! `data:` its JSON). A client that reconnects with `Last-Event-ID` first
//! gets everything after that id, then the live ones; without it the
//! stream starts after the newest notification the user already has.
//!
//! New rows are found by polling the user's slice of the table every
//! [`POLL`] with an indexed query (`(user_id, id)`): it sees what any server
//! instance wrote, and no commit hook is needed in the domain code. Keep-alive
//! comments keep proxies from closing a quiet stream. The stream ends when
//! the server begins to shut down ([`crate::app::AppState::stopping`]):
//! axum's graceful shutdown waits for every open response, and a stream
//! never ends by itself.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use kudakyar_api::notifications::Notification;
use tokio_util::sync::CancellationToken;

use super::store;

/// How often an open stream looks for new notifications.
pub const POLL: Duration = Duration::from_millis(300);
/// Rows fetched per look; a longer backlog comes over the next looks.
const BATCH: i64 = 100;

struct Cursor {
    pool: sqlx::AnyPool,
    user_id: String,
    after: i64,
    pending: VecDeque<Notification>,
    stopping: CancellationToken,
    /// False for the first look, which happens at once (the backlog after
    /// `Last-Event-ID`), true for every later one.
    wait: bool,
}

/// The SSE response for `user_id`, sending what comes after `after`.
pub fn open(
    pool: sqlx::AnyPool,
    user_id: String,
    after: i64,
    stopping: CancellationToken,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let cursor = Cursor {
        pool,
        user_id,
        after,
        pending: VecDeque::new(),
        stopping,
        wait: false,
    };
    let events = futures::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(n) = c.pending.pop_front() {
                return Some((Ok(event(&n)), c));
            }
            if c.wait {
                tokio::select! {
                    _ = c.stopping.cancelled() => return None,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
            if c.stopping.is_cancelled() {
                return None;
            }
            match store::newer(&c.pool, &c.user_id, c.after, BATCH).await {
                Ok(rows) => {
                    // A full batch: more may wait, look again at once.
                    c.wait = (rows.len() as i64) < BATCH;
                    if let Some(last) = rows.last() {
                        c.after = last.id;
                    }
                    c.pending.extend(rows);
                }
                Err(e) => {
                    // The database may be back at the next look; the client
                    // has lost nothing, its cursor has not moved.
                    tracing::warn!(error = %e, "notification stream: reading new rows failed");
                    c.wait = true;
                }
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn event(n: &Notification) -> Event {
    Event::default()
        .event("notification")
        .id(n.id.to_string())
        .json_data(n)
        // A notification always serialises; an empty event is the fallback
        // that can never happen.
        .unwrap_or_default()
}
