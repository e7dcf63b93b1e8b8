//! The delivery worker: claims due rows of the outbox ([`super::outbox`]),
//! hands each to the [`Transport`] of its channel, and records the outcome —
//! sent; failed, to be tried again after a backoff with jitter; dead,
//! after `notify_max_attempts` or when the target is gone; or withdrawn,
//! when it became moot before it went (an escalation whose notification
//! was read meanwhile). Each outcome is recorded when its own send ends, so
//! one hanging receiver holds up no other row's record. A non-critical
//! delivery claimed inside its recipient's quiet hours is put back, due at
//! their end.
//!
//! [`spawn`] runs [`run_once`] in a loop (spawned by `app::serve` with the
//! jobs' cancellation token) until the server stops; a round in progress
//! finishes its sends first. A worker killed between claim and outcome
//! leaves its rows `sending`: their lease lapses and a worker (this one
//! after a restart, or another instance) claims and sends them again. That
//! is the one case a message may go out twice, and why each carries its
//! idempotency key.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rand::Rng;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::outbox::{self, Channel, Claimed};
use super::preferences;
use crate::config::Config;
use crate::db::Db;
use crate::http::metrics::Metrics;

/// A transport's answer, where an error of the transport's own (a stored
/// row it cannot use, the network) is a send to try again with the usual
/// backoff.
pub fn or_retry(answer: anyhow::Result<Outcome>) -> Outcome {
    answer.unwrap_or_else(|e| Outcome::Retry {
        error: format!("{e:#}"),
        after_ms: None,
    })
}

/// What a send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Worth trying again (a timeout, a 5xx, a 429); `after_ms` when the
    /// receiver said how long to wait (`Retry-After`).
    Retry {
        error: String,
        after_ms: Option<i64>,
    },
    /// Never worth trying again: the target is gone (a push service's
    /// 404/410, whose subscription the transport has removed) or refuses
    /// the message for good.
    Give {
        error: String,
    },
    /// Not sent, and never to be: what it was to tell is moot (an
    /// escalation's notification was read before its SMS went). The row
    /// is removed.
    Withdrawn {
        reason: &'static str,
    },
}

/// The start of a peer's answer (at most 200 characters), for the error a
/// failed delivery records.
pub async fn answer_excerpt(response: reqwest::Response) -> String {
    excerpt(&response.text().await.unwrap_or_default())
}

/// The start of an answer already read: [`answer_excerpt`].
pub fn excerpt(answer: &str) -> String {
    answer.chars().take(200).collect()
}

/// The longest wait a receiver's `Retry-After` may impose.
const MAX_RETRY_AFTER_MS: i64 = 24 * 3600 * 1000;

/// A receiver's `Retry-After` — delay-seconds, or an HTTP date (FCM may
/// send either) — as milliseconds from now, at most a day.
pub fn retry_after_ms(headers: &http::HeaderMap) -> Option<i64> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value.trim(), crate::now_ms())
}

/// [`retry_after_ms`] of a header value, at `now_ms`. An HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) is an RFC 2822 date-time; a date
/// already past means no wait.
fn parse_retry_after(value: &str, now_ms: i64) -> Option<i64> {
    let ms = match value.parse::<i64>() {
        Ok(secs) => secs.saturating_mul(1000),
        Err(_) => {
            let at =
                time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822)
                    .ok()?;
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()? - now_ms
        }
    };
    Some(ms.clamp(0, MAX_RETRY_AFTER_MS))
}

/// Sends one claimed delivery by its channel.
pub trait Transport: Send + Sync + 'static {
    fn send<'a>(&'a self, delivery: &'a Claimed) -> BoxFuture<'a, Outcome>;
}

/// The worker's settings, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub max_attempts: i64,
    pub retry_base_ms: i64,
    pub retry_max_ms: i64,
    pub lease_ms: i64,
    pub batch: i64,
    pub poll: Duration,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            max_attempts: i64::from(config.notify_max_attempts.max(1)),
            retry_base_ms: config.notify_retry_base_ms as i64,
            retry_max_ms: config.notify_retry_max_ms as i64,
            lease_ms: config.notify_lease_ms as i64,
            batch: i64::from(config.notify_batch.max(1)),
            poll: Duration::from_millis(config.notify_poll_ms.max(10)),
        }
    }
}

/// What one round did, by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    /// Put back until the end of their recipient's quiet hours.
    pub deferred: usize,
    /// Moot by the time of sending, removed unsent ([`Outcome::Withdrawn`]).
    pub withdrawn: usize,
}

/// Claims the deliveries due at `now` (a batch), sends them concurrently
/// and records each outcome as its send ends.
pub async fn run_once(
    db: &Db,
    settings: &Settings,
    transport: &dyn Transport,
    metrics: &Metrics,
    now: i64,
) -> sqlx::Result<Round> {
    let batch = outbox::claim(db, now, settings.lease_ms, settings.batch).await?;
    let mut round = Round {
        claimed: batch.len(),
        ..Round::default()
    };
    // Non-critical pushes inside the recipient's quiet hours wait for their end.
    let mut due = Vec::with_capacity(batch.len());
    for d in batch {
        if !d.critical {
            let quiet = preferences::quiet(db.pool(), &d.user_id).await?;
            if let Some(until) = preferences::quiet_until(now, &quiet) {
                if outbox::defer(db, &d, until).await? {
                    round.deferred += 1;
                }
                continue;
            }
        }
        due.push(d);
    }
    // Each outcome is recorded as soon as its send ends, not when the
    // batch's slowest does: a process killed while one push hangs has
    // already marked the others sent, so only the hung one goes again.
    let recorded = futures::future::join_all(due.iter().map(|d| async move {
        let outcome = transport.send(d).await;
        record(db, settings, metrics, d, outcome, now).await
    }))
    .await;
    for tally in recorded {
        match tally? {
            Some(Tally::Sent) => round.sent += 1,
            Some(Tally::Retried) => round.retried += 1,
            Some(Tally::Dead) => round.dead += 1,
            Some(Tally::Withdrawn) => round.withdrawn += 1,
            // The lease lapsed and another claim holds the row.
            None => {}
        }
    }
    Ok(round)
}

/// Which count of a [`Round`] one recorded outcome adds to.
enum Tally {
    Sent,
    Retried,
    Dead,
    Withdrawn,
}

/// Records `outcome` of `d`, claimed in the round at `now`; none when the
/// claim had lapsed (the newer claimer records its own outcome).
async fn record(
    db: &Db,
    settings: &Settings,
    metrics: &Metrics,
    d: &Claimed,
    outcome: Outcome,
    now: i64,
) -> sqlx::Result<Option<Tally>> {
    let at = crate::now_ms();
    let recorded = match outcome {
        Outcome::Sent => {
            let done = outbox::sent(db, d, at).await?;
            if done {
                metrics.delivery_sent(d.channel, at - d.notification_at);
            }
            done.then_some(Tally::Sent)
        }
        Outcome::Retry { error, .. } if d.attempts >= settings.max_attempts => {
            let error = format!("{error} (gave up after {} attempts)", d.attempts);
            let done = outbox::dead(db, d, &error).await?;
            if done {
                metrics.delivery_dead(d.channel);
            }
            done.then_some(Tally::Dead)
        }
        Outcome::Retry { error, after_ms } => {
            let jitter = rand::thread_rng().r#gen::<f64>();
            let backoff = outbox::backoff_ms(
                d.attempts,
                settings.retry_base_ms,
                settings.retry_max_ms,
                jitter,
            );
            // A receiver's own Retry-After is honoured when longer.
            let delay = backoff.max(after_ms.unwrap_or(0));
            tracing::debug!(delivery = d.id, %error, delay, "delivery failed; will retry");
            // From the round's clock, like the claim (tests move it).
            let done = outbox::failed(db, d, &error, now + delay).await?;
            if done {
                metrics.delivery_retried(d.channel);
            }
            done.then_some(Tally::Retried)
        }
        Outcome::Give { error } => {
            let done = outbox::dead(db, d, &error).await?;
            if done {
                metrics.delivery_dead(d.channel);
            }
            done.then_some(Tally::Dead)
        }
        Outcome::Withdrawn { reason } => {
            let done = outbox::withdraw(db, d).await?;
            if done {
                tracing::debug!(delivery = d.id, reason, "delivery withdrawn unsent");
            }
            done.then_some(Tally::Withdrawn)
        }
    };
    Ok(recorded)
}

/// Delivers until `stop` is cancelled: round after round while there is
/// work, then a poll every `settings.poll`.
pub fn spawn(
    db: Db,
    settings: Settings,
    transport: Arc<dyn Transport>,
    metrics: Metrics,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let idle = match run_once(&db, &settings, &*transport, &metrics, crate::now_ms()).await
            {
                Ok(round) => round.claimed == 0,
                Err(e) => {
                    tracing::warn!(error = %e, "the delivery worker could not claim or record");
                    true
                }
            };
            if stop.is_cancelled() {
                return;
            }
            if idle {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(settings.poll) => {}
                }
            }
        }
    })
}

/// The transports of the channels that are configured; a delivery by a
/// channel that is off is retried later (it may be switched on), and in
/// the end dead-lettered, visible to administrators.
#[derive(Default, Clone)]
pub struct Channels {
    pub web_push: Option<Arc<dyn Transport>>,
    pub sms: Option<Arc<dyn Transport>>,
    pub fcm: Option<Arc<dyn Transport>>,
}

impl Transport for Channels {
    fn send<'a>(&'a self, delivery: &'a Claimed) -> BoxFuture<'a, Outcome> {
        let transport = match delivery.channel {
            Channel::WebPush => &self.web_push,
            Channel::Sms => &self.sms,
            Channel::Fcm => &self.fcm,
        };
        match transport {
            Some(t) => t.send(delivery),
            None => Box::pin(async move {
                Outcome::Retry {
                    error: format!(
                        "the {} channel is not configured",
                        delivery.channel.as_str()
                    ),
                    after_ms: None,
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date_within_a_day() {
        // 2026-12-06 15:00:00 UTC.
        let now = 1_796_569_200_000;
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(parse_retry_after("-5", now), Some(0));
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(
            parse_retry_after("Sun, 06 Dec 2026 15:01:30 GMT", now),
            Some(90_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Dec 2026 14:00:00 GMT", now),
            Some(0),
            "a date already past"
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
