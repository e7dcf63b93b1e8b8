//! The live inbox: `GET /api/v1/notifications/stream` as Server-Sent Events.
//!
//! Each event is one notification (`event: notification`, `id:` its id,
//! `data:` its JSON). A client that reconnects with `Last-Event-ID` first
//! gets everything after that id, then the live ones; without it the
//! stream starts after the newest notification the user already has.
//!
//! New rows are found by polling, so that a stream sees what any server
//! instance wrote and no commit hook is needed in the domain code: one
//! [`Hub`] per instance reads the ids and users of new rows every [`POLL`]
//! and announces the users; a stream whose user is announced reads its
//! user's new rows with an indexed query (`(user_id, id)`). Keep-alive
//! comments keep proxies from closing a quiet stream. The stream ends when
//! the server begins to shut down ([`crate::app::AppState::stopping`]):
//! axum's graceful shutdown waits for every open response, and a stream
//! never ends by itself.

use std::collections::{BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use kudakyar_api::notifications::Notification;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::store;

/// How often the instance's [`Hub`] looks for new notifications.
pub const POLL: Duration = Duration::from_millis(300);
/// Rows fetched per look of a stream; a longer backlog comes over the next
/// looks.
const BATCH: i64 = 100;
/// How far below the newest id the hub looks again: on PostgreSQL a
/// transaction may take its ids before another's and commit after it;
/// its rows are still announced when they land within this many ids.
const LOOK_BACK: i64 = 256;
/// Announcements a slow stream may fall behind before it is told it
/// lagged (it then looks at once, missing nothing).
const BACKLOG: usize = 64;

/// The users who have new notifications, as one look of the hub found
/// them (sorted, each once).
type News = Arc<Vec<String>>;

/// One poll of the notifications table per instance for all its open
/// streams: every [`POLL`] it reads the ids and users of rows newer than
/// it has seen and announces the users; a stream queries its user's rows
/// only when its user is announced. Idle, 1,000 open streams cost one
/// query per poll rather than 1,000.
#[derive(Clone)]
pub struct Hub {
    news: broadcast::Sender<News>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        Hub {
            news: broadcast::channel(BACKLOG).0,
        }
    }

    /// Polls until `stop` is cancelled (`app::serve` runs it as a
    /// background job).
    pub fn spawn(&self, pool: sqlx::AnyPool, stop: CancellationToken) -> JoinHandle<()> {
        let news = self.news.clone();
        tokio::spawn(async move {
            // Announced ids above `newest - LOOK_BACK`, so a look again at
            // that window announces only the rows it had not seen.
            let mut announced = BTreeSet::new();
            let mut newest = match store::max_id(&pool).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::warn!(error = %e, "notification hub: reading the newest id failed");
                    0
                }
            };
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(POLL) => {}
                }
                let rows = match store::since(&pool, newest - LOOK_BACK).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        // The next look covers this one's rows: nothing is lost.
                        tracing::warn!(error = %e, "notification hub: reading new rows failed");
                        continue;
                    }
                };
                let mut users = Vec::new();
                for (id, user) in rows {
                    if id > newest - LOOK_BACK && announced.insert(id) {
                        users.push(user);
                    }
                    newest = newest.max(id);
                }
                announced = announced.split_off(&(newest - LOOK_BACK + 1));
                if !users.is_empty() {
                    users.sort_unstable();
                    users.dedup();
                    // No receiver (no open stream) is no error.
                    let _ = news.send(Arc::new(users));
                }
            }
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<News> {
        self.news.subscribe()
    }
}

struct Cursor {
    pool: sqlx::AnyPool,
    user_id: String,
    after: i64,
    pending: VecDeque<Notification>,
    news: broadcast::Receiver<News>,
    stopping: CancellationToken,
    /// When to look next.
    next: Next,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    /// At once: the first look (the backlog after `Last-Event-ID`), or
    /// after a full batch.
    Now,
    /// When the hub announces this user (or says the stream lagged).
    News,
    /// After a [`POLL`]: the last look failed.
    Retry,
}

/// The SSE response for `user_id`, sending what comes after `after`; the
/// stream looks again when `hub` announces its user.
pub fn open(
    pool: sqlx::AnyPool,
    hub: Hub,
    user_id: String,
    after: i64,
    stopping: CancellationToken,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let cursor = Cursor {
        pool,
        user_id,
        after,
        pending: VecDeque::new(),
        news: hub.subscribe(),
        stopping,
        next: Next::Now,
    };
    let events = futures::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(n) = c.pending.pop_front() {
                return Some((Ok(event(&n)), c));
            }
            match c.next {
                Next::Now => {}
                Next::Retry => tokio::select! {
                    _ = c.stopping.cancelled() => return None,
                    _ = tokio::time::sleep(POLL) => {}
                },
                Next::News => loop {
                    tokio::select! {
                        _ = c.stopping.cancelled() => return None,
                        heard = c.news.recv() => match heard {
                            Ok(users) if users.binary_search(&c.user_id).is_ok() => break,
                            Ok(_) => {}
                            // Announcements were missed: one may have been ours.
                            Err(broadcast::error::RecvError::Lagged(_)) => break,
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                    }
                },
            }
            if c.stopping.is_cancelled() {
                return None;
            }
            match store::newer(&c.pool, &c.user_id, c.after, BATCH).await {
                Ok(rows) => {
                    // A full batch: more may wait, look again at once.
                    c.next = if (rows.len() as i64) < BATCH {
                        Next::News
                    } else {
                        Next::Now
                    };
                    if let Some(last) = rows.last() {
                        c.after = last.id;
                    }
                    c.pending.extend(rows);
                }
                Err(e) => {
                    // The database may be back at the next look; the client
                    // has lost nothing, its cursor has not moved.
                    tracing::warn!(error = %e, "notification stream: reading new rows failed");
                    c.next = Next::Retry;
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
