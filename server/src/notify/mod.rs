//! Notifications (issue 18): the in-app inbox, the ground truth of who was
//! told what, fed in the same transaction as the domain events that cause
//! it; a live Server-Sent Events stream of it; and delivery beyond the app
//! (Web Push) through a transactional outbox and a background worker.
//!
//! A tour, in the order a notification travels:
//!
//! - [`rules`]: from a domain event to the users to tell — rule 1 (a new
//!   citizen or hotline report → the supervisors of its county and the
//!   province's supervisors without a county), rule 2 (assigned to me → me).
//!   The choice of audience is a pure function; reading the users is a query.
//! - [`fan_out`] (here): called by [`crate::events::record`] right after its
//!   insert, on the same connection, so a notification exists exactly when
//!   its event (and the change behind it) was committed — the transactional
//!   outbox. The row carries the kind and the subject id only. With it, one
//!   outbox row per push subscription of the recipient.
//! - [`store`]: the inbox's reads and writes — keyset pages newest first,
//!   unread count, mark read (own only), read all, "newer than" for streams.
//! - [`stream`]: `GET /api/v1/notifications/stream`, each event's `id:` the
//!   notification id; resumes after `Last-Event-ID`; finds new rows by an
//!   indexed poll of the table (so it sees the writes of every instance) and
//!   ends when the server shuts down.
//! - [`routes`]: the endpoints (tag `notifications`).
//! - [`outbox`]: the deliveries table — enqueue, claim with a lease (`FOR
//!   UPDATE SKIP LOCKED` on PostgreSQL), sent / failed with backoff / dead.
//! - [`worker`]: the background loop that claims, sends by channel and
//!   records outcomes (spawned by `app::serve`).
//! - [`push`]: Web Push — subscriptions, the VAPID key, the transport.
//! - [`preferences`]: muted kinds (no push queued) and quiet hours in
//!   Asia/Tehran time (the worker defers a push to their end).
//! - [`schedule`]: calendar rules (rule 4, weekly), once per period
//!   across restarts and instances.
//! - [`delivery_routes`]: push subscriptions and the server's VAPID key
//!   (tag `notifications`), the administrators' dead letters (tag `admin`).

pub mod delivery_routes;
pub mod outbox;
pub mod preferences;
pub mod push;
pub mod routes;
pub mod rules;
pub mod schedule;
pub mod store;
pub mod stream;
pub mod worker;

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::events::DomainEvent;

/// Starts this instance's delivery workers (`notify_workers`, 0 for none)
/// with the channels that are configured, and the scheduler
/// (`notify_scheduler`); they stop when `stop` is cancelled.
pub fn spawn_workers(
    state: &AppState,
    stop: CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let at = preferences::minutes(&state.config.notify_schedule_at).ok_or_else(|| {
        anyhow::anyhow!(
            "notify_schedule_at must be a time HH:MM, not {:?}",
            state.config.notify_schedule_at
        )
    })?;
    let mut jobs = Vec::new();
    if state.config.notify_scheduler {
        jobs.push(schedule::spawn(state.db.clone(), at, stop.clone()));
    }
    if state.config.notify_workers == 0 {
        return Ok(jobs);
    }
    let web_push = push::WebPush::new(state.db.clone(), state.vapid.clone(), &state.config)?;
    let channels: Arc<dyn worker::Transport> = Arc::new(worker::Channels {
        web_push: Some(Arc::new(web_push)),
        sms: None,
    });
    let settings = worker::Settings::from_config(&state.config);
    jobs.extend((0..state.config.notify_workers).map(|_| {
        worker::spawn(
            state.db.clone(),
            settings,
            channels.clone(),
            state.metrics.clone(),
            stop.clone(),
        )
    }));
    Ok(jobs)
}

/// Writes the notifications `event` causes; pass the connection (the
/// transaction) the event was written on and its new `domain_events.id`.
pub async fn fan_out(
    conn: &mut sqlx::AnyConnection,
    event: &DomainEvent<'_>,
    domain_event_id: i64,
) -> sqlx::Result<()> {
    let Some(audience) = rules::audience(event) else {
        return Ok(());
    };
    let recipients = rules::recipients(&mut *conn, &audience).await?;
    let now = crate::now_ms();
    for user_id in recipients {
        // Nobody is told of what they did themselves.
        if Some(user_id.as_str()) == event.actor_id {
            continue;
        }
        let notification_id = store::insert(
            &mut *conn,
            store::New {
                user_id: &user_id,
                kind: event.kind.as_str(),
                critical: audience.critical,
                subject_type: event.subject_type,
                subject_id: event.subject_id,
                domain_event_id,
                created_at: now,
            },
        )
        .await?;
        if !audience.critical
            && preferences::muted(&mut *conn, &user_id, event.kind.as_str()).await?
        {
            continue;
        }
        for subscription in push::targets(&mut *conn, &user_id).await? {
            outbox::enqueue(
                &mut *conn,
                notification_id,
                outbox::Channel::WebPush,
                &subscription,
                now,
            )
            .await?;
        }
    }
    Ok(())
}
