//! The delivery outbox: the table `deliveries`, one row per notification
//! and channel target, and every state change a row goes through.
//!
//! - [`enqueue`] writes a row on the transaction that wrote the
//!   notification (so a delivery exists exactly when its notification does);
//!   the idempotency key `n<notification>:<channel>:<target>` makes a second
//!   enqueue of the same thing a no-op.
//! - [`claim`] takes up to `limit` due rows for one worker: queued or failed
//!   rows whose `next_attempt_at` has come, and `sending` rows whose lease
//!   lapsed (their claimer died between claim and outcome). It sets a fresh
//!   random `claim` token and counts an attempt. On PostgreSQL the rows are
//!   chosen `FOR UPDATE SKIP LOCKED`, so instances claiming at once take
//!   disjoint rows without waiting; on SQLite the claim is one `BEGIN
//!   IMMEDIATE` transaction, the single writer.
//! - [`sent`], [`failed`], [`dead`] record the outcome, [`defer`] puts a
//!   row back for later (quiet hours), [`withdraw`] removes one that
//!   became moot before it went (an escalated notification read since),
//!   each only while the
//!   caller's claim token is still the row's: a claimer whose lease lapsed
//!   and whose row was claimed again cannot overwrite the newer outcome.
//! - [`backoff_ms`] is the retry delay: exponential, capped, with jitter so
//!   that rows failing together do not come back together.
//! - [`list_dead`] and [`retry_dead`] are the administrators' dead letters.

use kudakyar_api::notifications::DeadDelivery;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Backend, Db};

/// The channels a delivery goes by (`deliveries.channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    WebPush,
    Sms,
    /// Firebase Cloud Messaging (HTTP v1), to an Android app's token.
    Fcm,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::WebPush, Channel::Sms, Channel::Fcm];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WebPush => "web_push",
            Channel::Sms => "sms",
            Channel::Fcm => "fcm",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// The idempotency key of one notification's delivery to one target.
pub fn idempotency_key(notification_id: i64, channel: Channel, target: &str) -> String {
    format!("n{notification_id}:{}:{target}", channel.as_str())
}

/// Queues the delivery of notification `notification_id` by `channel` to
/// `target`, due at `due`; nothing when it is queued already (false).
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    notification_id: i64,
    channel: Channel,
    target: &str,
    due: i64,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO deliveries (notification_id, channel, target, state, attempts,
                                 next_attempt_at, idempotency_key, created_at)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(notification_id)
    .bind(channel.as_str())
    .bind(target)
    .bind(due)
    .bind(idempotency_key(notification_id, channel, target))
    .bind(crate::now_ms())
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Queues a digest's push to `target` (a push subscription or an FCM
/// token) by `channel`: one a day per target (`day` in the key), pointing
/// at `newest`, standing for `count`.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_digest(
    conn: &mut sqlx::AnyConnection,
    newest: i64,
    count: i64,
    user_id: &str,
    day: &str,
    channel: Channel,
    target: &str,
    due: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deliveries (notification_id, channel, target, state, attempts,
                                 next_attempt_at, idempotency_key, created_at, digest_count)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(newest)
    .bind(channel.as_str())
    .bind(target)
    .bind(due)
    .bind(format!("digest:{user_id}:{day}:{target}"))
    .bind(crate::now_ms())
    .bind(count)
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery a worker holds: what to send, to whom, and the claim token
/// its outcome must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub channel: Channel,
    pub target: String,
    /// This claim included.
    pub attempts: i64,
    pub idempotency_key: String,
    pub claim: String,
    /// The notification being delivered.
    pub notification_id: i64,
    pub user_id: String,
    pub kind: String,
    pub critical: bool,
    pub subject_type: String,
    pub subject_id: String,
    /// When the notification was committed (ms): latency is measured from it.
    pub notification_at: i64,
    /// A daily digest standing for this many notifications.
    pub digest_count: Option<i64>,
}

/// Which rows are due at `$1`: waiting ones whose time came, and claimed
/// ones whose lease lapsed.
const DUE: &str = "((state IN ('queued', 'failed') AND next_attempt_at <= $1)
                    OR (state = 'sending' AND lease_until <= $1))";

/// Claims up to `limit` due deliveries for `lease_ms` from `now`.
pub async fn claim(db: &Db, now: i64, lease_ms: i64, limit: i64) -> sqlx::Result<Vec<Claimed>> {
    let token = uuid::Uuid::new_v4().to_string();
    // Oldest due first, so a backlog drains in order.
    let pick = match db.backend() {
        Backend::Postgres => format!(
            "SELECT id FROM deliveries WHERE {DUE} ORDER BY next_attempt_at, id LIMIT $4
             FOR UPDATE SKIP LOCKED"
        ),
        Backend::Sqlite => {
            format!("SELECT id FROM deliveries WHERE {DUE} ORDER BY next_attempt_at, id LIMIT $4")
        }
    };
    let sql = format!(
        "UPDATE deliveries SET state = 'sending', lease_until = $2, claim = $3,
                               attempts = attempts + 1
         WHERE id IN ({pick})
         RETURNING id"
    );
    let mut tx = db.begin_write().await?;
    let ids: Vec<i64> = sqlx::query_scalar(&sql)
        .bind(now)
        .bind(now + lease_ms)
        .bind(&token)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The rows are ours by the token: read them with their notifications.
    let rows = sqlx::query(
        "SELECT d.id, d.channel, d.target, d.attempts, d.idempotency_key, d.claim, d.digest_count,
                n.id AS notification_id, n.user_id, n.kind, n.critical, n.subject_type,
                n.subject_id, n.created_at
         FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         WHERE d.claim = $1 ORDER BY d.next_attempt_at, d.id",
    )
    .bind(&token)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(claimed).collect()
}

fn claimed(row: &AnyRow) -> sqlx::Result<Claimed> {
    let channel: String = row.try_get("channel")?;
    Ok(Claimed {
        id: row.try_get("id")?,
        channel: Channel::parse(&channel).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown delivery channel {channel:?}").into())
        })?,
        target: row.try_get("target")?,
        attempts: row.try_get("attempts")?,
        idempotency_key: row.try_get("idempotency_key")?,
        claim: row.try_get("claim")?,
        notification_id: row.try_get("notification_id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        critical: row.try_get::<i64, _>("critical")? != 0,
        subject_type: row.try_get("subject_type")?,
        subject_id: row.try_get("subject_id")?,
        notification_at: row.try_get("created_at")?,
        digest_count: row.try_get("digest_count")?,
    })
}

/// Records that `d` was sent at `now`; false when the claim had lapsed and
/// the row was claimed again (the outcome is then the newer claimer's).
pub async fn sent(db: &Db, d: &Claimed, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL
         WHERE id = $2 AND claim = $3 AND state = 'sending'",
    )
    .bind(now)
    .bind(d.id)
    .bind(&d.claim)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt of `d`, to be tried again at `next_attempt_at`.
pub async fn failed(db: &Db, d: &Claimed, error: &str, next_attempt_at: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET state = 'failed', next_attempt_at = $1, lease_until = NULL,
                               last_error = $2
         WHERE id = $3 AND claim = $4 AND state = 'sending'",
    )
    .bind(next_attempt_at)
    .bind(truncate(error))
    .bind(d.id)
    .bind(&d.claim)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts `d` back unsent until `until` (the end of its recipient's quiet
/// hours); the claim does not count as an attempt.
pub async fn defer(db: &Db, d: &Claimed, until: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET state = 'queued', next_attempt_at = $1, lease_until = NULL,
                               attempts = attempts - 1
         WHERE id = $2 AND claim = $3 AND state = 'sending'",
    )
    .bind(until)
    .bind(d.id)
    .bind(&d.claim)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up on `d`: it waits in the dead letters for an administrator.
pub async fn dead(db: &Db, d: &Claimed, error: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = $1
         WHERE id = $2 AND claim = $3 AND state = 'sending'",
    )
    .bind(truncate(error))
    .bind(d.id)
    .bind(&d.claim)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes `d` unsent: what it was to deliver became moot after it was
/// queued (an SMS escalation whose notification has been read). The row
/// goes rather than taking a state: it was never attempted, is no failure
/// for the dead letters, and its escalation is not queued again (only
/// unread notifications are).
pub async fn withdraw(db: &Db, d: &Claimed) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM deliveries WHERE id = $1 AND claim = $2 AND state = 'sending'")
            .bind(d.id)
            .bind(&d.claim)
            .execute(db.pool())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Errors are kept for the administrators, bounded (a push service may
/// answer with a whole HTML page).
fn truncate(error: &str) -> &str {
    const MAX: usize = 500;
    if error.len() <= MAX {
        return error;
    }
    let mut end = MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    &error[..end]
}

/// The delay before attempt `attempts + 1`, after `attempts` failed ones:
/// `base · 2^(attempts − 1)`, at most `max`, then scaled by `jitter` in
/// [0, 1] into its upper half ([delay/2, delay]) — spread, yet never much
/// shorter than the exponential step. Pure; the worker passes a random
/// jitter.
pub fn backoff_ms(attempts: i64, base_ms: i64, max_ms: i64, jitter: f64) -> i64 {
    let exponent = attempts.saturating_sub(1).clamp(0, 40) as u32;
    let delay = base_ms
        .saturating_mul(2_i64.saturating_pow(exponent))
        .min(max_ms)
        .max(0);
    let half = delay / 2;
    half + (half as f64 * jitter.clamp(0.0, 1.0)).round() as i64
}

fn dead_delivery(row: &AnyRow) -> sqlx::Result<DeadDelivery> {
    Ok(DeadDelivery {
        id: row.try_get("id")?,
        notification_id: row.try_get("notification_id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        channel: row.try_get("channel")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
    })
}

const DEAD_COLUMNS: &str = "d.id, d.notification_id, n.user_id, n.kind, d.channel, d.attempts,
                            d.last_error, d.created_at";

/// A page of dead deliveries, newest first: ids below `before`; `limit + 1`
/// rows, for the pager.
pub async fn list_dead(
    db: &Db,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<DeadDelivery>> {
    let mut sql = format!(
        "SELECT {DEAD_COLUMNS} FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         WHERE d.state = 'dead'"
    );
    if before.is_some() {
        sql.push_str(" AND d.id < $1");
    }
    sql.push_str(&format!(" ORDER BY d.id DESC LIMIT {}", limit + 1));
    let mut query = sqlx::query(&sql);
    if let Some(before) = before {
        query = query.bind(before);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(dead_delivery).collect()
}

/// Queues dead delivery `id` again, due now, with a fresh count of
/// attempts; none when there is no such dead delivery (a second retry of
/// the same one finds it queued: none too).
pub async fn retry_dead(db: &Db, id: i64, now: i64) -> sqlx::Result<Option<DeadDelivery>> {
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = $1,
                               lease_until = NULL, claim = NULL
         WHERE id = $2 AND state = 'dead'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {DEAD_COLUMNS} FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    dead_delivery(&row).map(Some)
}

/// Delivery rows by channel and state, for the metrics' gauges.
pub async fn counts(db: &Db) -> sqlx::Result<Vec<(String, String, i64)>> {
    let rows =
        sqlx::query("SELECT channel, state, COUNT(*) AS n FROM deliveries GROUP BY channel, state")
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("channel")?, r.try_get("state")?, r.try_get("n")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_spreads_the_upper_half() {
        // No jitter: the lower bound, half the exponential step.
        assert_eq!(backoff_ms(1, 1000, 60_000, 0.0), 500);
        assert_eq!(backoff_ms(2, 1000, 60_000, 0.0), 1000);
        assert_eq!(backoff_ms(3, 1000, 60_000, 0.0), 2000);
        // Full jitter: the whole step.
        assert_eq!(backoff_ms(1, 1000, 60_000, 1.0), 1000);
        assert_eq!(backoff_ms(4, 1000, 60_000, 1.0), 8000);
        // Capped, and no overflow however many attempts.
        assert_eq!(backoff_ms(10, 1000, 60_000, 1.0), 60_000);
        assert_eq!(backoff_ms(i64::MAX, 1000, 60_000, 1.0), 60_000);
        assert_eq!(backoff_ms(0, 1000, 60_000, 1.0), 1000);
        for jitter in [0.0, 0.3, 0.7, 1.0] {
            let d = backoff_ms(5, 1000, 60_000, jitter);
            assert!((8000..=16_000).contains(&d), "{d}");
        }
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let persian = "خطا".repeat(200);
        let cut = truncate(&persian);
        assert!(cut.len() <= 500 && cut.len() > 490, "{}", cut.len());
        assert_eq!(truncate("short"), "short");
    }
}
