//! Notifications (issue 18): the in-app inbox, the ground truth of who was
//! told what, fed in the same transaction as the domain events that cause
//! it; a live Server-Sent Events stream of it; and delivery beyond the app
//! (Web Push, FCM, SMS) through a transactional outbox and a background
//! worker.
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
//!   outbox row per push subscription and FCM token of the recipient.
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
//! - [`fcm`]: Firebase Cloud Messaging (HTTP v1, off by default) to an
//!   Android app's registration tokens: a service account's signed JWT
//!   traded for an OAuth token, cached; the same payload as Web Push.
//! - [`ChannelStatus`] (here): whether an optional channel (SMS, FCM) is
//!   on, or why not — `/api/v1/ready` shows it.
//! - [`schedule`]: calendar rules (rule 3 daily, rule 4 weekly), once per
//!   period across restarts and instances.
//! - [`delivery_routes`]: push subscriptions, FCM tokens and the server's VAPID key
//!   (tag `notifications`), the administrators' dead letters (tag `admin`).

pub mod delivery_routes;
pub mod fcm;
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
    let sms = match state.sms.active() {
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
    let fcm = match state.fcm.active() {
        Some(account) => {
            let fcm: Arc<dyn worker::Transport> =
                Arc::new(fcm::Fcm::new(state.db.clone(), account, &state.config)?);
            Some(fcm)
        }
        None => None,
    };
    let channels: Arc<dyn worker::Transport> = Arc::new(worker::Channels {
        web_push: Some(Arc::new(web_push)),
        sms,
        fcm,
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

/// Whether an optional delivery channel (SMS, FCM) is on, as
/// `/api/v1/ready` tells it. Its settings are read once at start-up; bad
/// ones are logged and shown there while the server serves without it.
#[derive(Debug)]
pub enum ChannelStatus<T> {
    Off,
    On(Arc<T>),
    /// Misconfigured: the reason (no secret in it). The channel is off.
    Broken(String),
}

// Not derived: a derive would ask `T: Clone`, and the channel is shared.
impl<T> Clone for ChannelStatus<T> {
    fn clone(&self) -> Self {
        match self {
            ChannelStatus::Off => ChannelStatus::Off,
            ChannelStatus::On(t) => ChannelStatus::On(t.clone()),
            ChannelStatus::Broken(e) => ChannelStatus::Broken(e.clone()),
        }
    }
}

impl<T> ChannelStatus<T> {
    /// From what reading `channel`'s settings gave: nothing (off), the
    /// channel, or an error, logged.
    pub fn from_settings(channel: &str, read: Result<Option<T>, String>) -> ChannelStatus<T> {
        match read {
            Ok(None) => ChannelStatus::Off,
            Ok(Some(t)) => ChannelStatus::On(Arc::new(t)),
            Err(e) => {
                tracing::error!(
                    channel,
                    error = %e,
                    "a delivery channel is misconfigured; serving without it"
                );
                ChannelStatus::Broken(e)
            }
        }
    }

    /// The channel, when it is on.
    pub fn active(&self) -> Option<Arc<T>> {
        match self {
            ChannelStatus::On(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// `off`, `on` or `error`.
    pub fn label(&self) -> &'static str {
        match self {
            ChannelStatus::Off => "off",
            ChannelStatus::On(_) => "on",
            ChannelStatus::Broken(_) => "error",
        }
    }

    pub fn error(&self) -> Option<String> {
        match self {
            ChannelStatus::Broken(e) => Some(e.clone()),
            _ => None,
        }
    }
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
        for (channel, target) in push_targets(&mut *conn, &user_id).await? {
            outbox::enqueue(&mut *conn, notification_id, channel, &target, now).await?;
        }
    }
    Ok(())
}

/// A user's push devices of one kind: Web Push subscriptions (named by
/// their endpoint) or FCM registration tokens (named by the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Devices {
    WebPush,
    Fcm,
}

impl Devices {
    /// The table, the column that names a device, and the delivery channel.
    fn table(self) -> (&'static str, &'static str, outbox::Channel) {
        match self {
            Devices::WebPush => ("push_subscriptions", "endpoint", outbox::Channel::WebPush),
            Devices::Fcm => ("fcm_tokens", "token", outbox::Channel::Fcm),
        }
    }

    /// Removes `user_id`'s device named `name`; false when they have none
    /// such (another user's is not theirs to remove).
    pub async fn remove(self, db: &crate::db::Db, user_id: &str, name: &str) -> sqlx::Result<bool> {
        let (table, column, _) = self.table();
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE {column} = $1 AND user_id = $2"
        ))
        .bind(name.trim())
        .bind(user_id)
        .execute(db.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Where a push to `user_id` goes: each of their Web Push subscriptions
/// and FCM registration tokens, by delivery channel and device id (by
/// [`fan_out`] and the daily digests).
pub async fn push_targets(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
) -> sqlx::Result<Vec<(outbox::Channel, String)>> {
    let mut targets = Vec::new();
    for devices in [Devices::WebPush, Devices::Fcm] {
        let (table, _, channel) = devices.table();
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM {table} WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
        targets.extend(ids.into_iter().map(|id| (channel, id)));
    }
    Ok(targets)
}
