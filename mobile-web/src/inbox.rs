//! The inbox's unread count, shown as a badge on the navigation bar and kept
//! live while the app is open.
//!
//! [`Inbox::provide`] (the shell) holds the count and, every
//! [`CHECK_EVERY_MS`] while someone is logged in and no watch is running,
//! starts [`watch`] (loaded on demand, `pages::deferred::watch_inbox`,
//! once the first screen has settled — `crate::settle`): it
//! reads the count, then follows `GET /api/v1/notifications/stream`. The
//! browser's `EventSource` cannot send the bearer token, so the stream is
//! read with `fetch` and its body's reader; each notification re-reads the
//! count (notifications read on another phone lower it too). Offline or
//! when the stream ends, the watch returns and the next check starts it
//! again: the count is then at most a check late.

use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::session::{Auth, Session};

/// How often the shell makes sure a watch runs (and so how late the badge
/// may be after the stream broke, e.g. offline).
pub const CHECK_EVERY_MS: u64 = 20_000;

#[derive(Clone, Copy)]
pub struct Inbox {
    pub unread: RwSignal<i64>,
    /// A watch is running (one at a time).
    pub watching: RwSignal<bool>,
}

pub fn use_inbox() -> Inbox {
    expect_context::<Inbox>()
}

impl Inbox {
    /// Provides the count and keeps a watch running while logged in.
    pub fn provide(session: Session) -> Inbox {
        let inbox = Inbox {
            unread: RwSignal::new(0),
            watching: RwSignal::new(false),
        };
        provide_context(inbox);
        let check = move || {
            let Some(token) = session.token() else {
                inbox.unread.set(0);
                return;
            };
            if inbox.watching.get_untracked() {
                return;
            }
            inbox.watching.set(true);
            leptos::task::spawn_local(async move {
                // Its code and stream wait for the first screen (`settle`).
                crate::settle::settled().await;
                crate::pages::deferred::watch_inbox(token, session, inbox).await;
                inbox.watching.set(false);
            });
        };
        // At login (or a restored session) and then periodically.
        let present = Memo::new(move |_| !matches!(session.auth.get(), Auth::LoggedOut));
        Effect::new(move |_| {
            if present.get() {
                check();
            }
        });
        let _ = set_interval_with_handle(check, std::time::Duration::from_millis(CHECK_EVERY_MS));
        inbox
    }

    /// Reads the count again (after marking notifications read).
    pub async fn refresh(self, token: &str) {
        if let Ok(n) = api::unread_count(token).await {
            self.unread.set(n);
        }
    }
}

/// Follows the stream until it ends, fails, or the session changes.
pub async fn watch(token: String, session: Session, inbox: Inbox) {
    inbox.refresh(&token).await;
    let mine = token.clone();
    let _: Result<(), ApiError> =
        api::follow_stream(&token, "/api/v1/notifications/stream", move |line| {
            // Logged out or another user: this stream is not theirs.
            if session.token().as_deref() != Some(mine.as_str()) {
                return false;
            }
            // One `data:` line per notification (`notify::stream`).
            if line.starts_with(b"data:") {
                let token = mine.clone();
                leptos::task::spawn_local(async move { inbox.refresh(&token).await });
            }
            true
        })
        .await;
}
