//! Notifications (issue 18): the in-app inbox, the ground truth of who was
//! told what, fed in the same transaction as the domain events that cause
//! it; a live Server-Sent Events stream of it; and delivery beyond the app
//! (Web Push) through a transactional outbox and a background worker.
//!
//! A tour, in the order a notification travels:
//!
//! - [`rules`]: from a domain event to the users to tell (rules 1–7 of
//!   issue 18: reports, assignments, follow-ups, unseen children, iris
//!   duplicates, referrals and full centres, children at risk).
//!   The choice of audience is a pure function; reading the users is a query.
//! - [`fan_out`] (here): called by [`crate::events::record`] right after its
//!   insert, on the same connection, so a notification exists exactly when
//!   its event (and the change behind it) was committed — the transactional
//!   outbox. The row carries the kind and the subject id only. With it, one
//!   outbox row per push subscription of the recipient.
//! - [`store`]: the inbox's reads and writes — keyset pages newest first,
//!   unread count, mark read (own only), read all, "newer than" for streams.
//! - [`stream`]: `GET /api/v1/notifications/stream`, each event's `id:` the
//!   notification id; resumes after `Last-Event-ID`; finds new rows through
//!   one poll of the table per instance, the [`stream::Hub`] (so it sees
//!   the writes of every instance, at one query per poll however many
//!   streams are open) and ends when the server shuts down.
//! - [`routes`]: the endpoints (tag `notifications`).
//! - [`outbox`]: the deliveries table — enqueue, claim with a lease (`FOR
//!   UPDATE SKIP LOCKED` on PostgreSQL), sent / failed with backoff / dead.
//! - [`worker`]: the background loop that claims, sends by channel and
//!   records outcomes (spawned by `app::serve`).
//! - [`push`]: Web Push — subscriptions, the VAPID key, the transport.
//! - [`preferences`]: muted kinds (no push queued) and quiet hours in
//!   Asia/Tehran time (the worker defers a push to their end).
//! - [`sms`]: the SMS gateway (a generic HTTP template or Kavenegar) and
//!   the escalation of critical notifications left unread.
//! - [`schedule`]: calendar rules (rule 3 daily, rule 4 weekly), once per
//!   period across restarts and instances.
//! - [`delivery_routes`]: push subscriptions and the server's VAPID key
//!   (tag `notifications`), the administrators' dead letters (tag `admin`).

pub mod delivery_routes;
pub mod outbox;
pub mod preferences;
pub mod push;
pub mod routes;
pub mod rules;
pub mod schedule;
pub mod sms;
pub mod store;
pub mod stream;
pub mod worker;

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::events::DomainEvent;

/// How often unread critical notifications are looked for (an SMS goes at
/// most this long after its delay, never before).
const ESCALATION_SCAN: std::time::Duration = std::time::Duration::from_secs(15);

/// Starts this instance's delivery workers (`notify_workers`, 0 for none)
/// with the channels that are configured, and the scheduler
/// (`notify_scheduler`); they stop when `stop` is cancelled.
pub fn spawn_workers(
    state: &AppState,
    stop: CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let time = |setting: &str, value: &str| {
        preferences::minutes(value)
            .ok_or_else(|| anyhow::anyhow!("{setting} must be a time HH:MM, not {value:?}"))
    };
    let plan = schedule::Plan {
        rules_at: time("notify_schedule_at", &state.config.notify_schedule_at)?,
        overdue_days: i64::from(state.config.notify_follow_up_overdue_days),
        digest_at: time("notify_digest_at", &state.config.notify_digest_at)?,
    };
    let mut jobs = Vec::new();
    if state.config.notify_scheduler {
        jobs.push(schedule::spawn(state.db.clone(), plan, stop.clone()));
    }
    if state.config.notify_workers == 0 {
        return Ok(jobs);
    }
    let web_push = push::WebPush::new(state.db.clone(), state.vapid.clone(), &state.config)?;
    let sms = match state.sms.gateway() {
        Some(gateway) => {
            // Escalations are queued only while there is a channel to send
            // them, by the instances that deliver.
            jobs.push(sms::spawn_escalation(
                state.db.clone(),
                state.config.sms_escalate_after_mins as i64 * 60_000,
                ESCALATION_SCAN,
                state.metrics.clone(),
                stop.clone(),
            ));
            let timeout = std::time::Duration::from_millis(state.config.push_timeout_ms);
            let sms: Arc<dyn worker::Transport> =
                Arc::new(sms::Sms::new(state.db.clone(), gateway, timeout)?);
            Some(sms)
        }
        None => None,
    };
    let channels: Arc<dyn worker::Transport> = Arc::new(worker::Channels {
        web_push: Some(Arc::new(web_push)),
        sms,
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
        // Muted, or left for the daily digest: the inbox only.
        if !audience.critical
            && !preferences::push_now(&mut *conn, &user_id, event.kind.as_str()).await?
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
