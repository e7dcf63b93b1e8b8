//! The scheduler: rules that come from the calendar rather than from an
//! event. Each runs at most once per period whatever the number of
//! restarts and instances: a run first inserts `(rule, period)` into
//! `scheduled_runs` and writes its events on the same transaction, so the
//! instance whose insert wins is the one that runs it, and a run that fails
//! leaves no mark and is tried again.
//!
//! Both run at the first check after `notify_schedule_at` local time:
//!
//! - Rule 3, daily ([`follow_ups`]): the latest encounter of an active child
//!   whose next follow-up date has come is told to the child's assigned
//!   worker (or, with none, the worker who met the child); overdue by
//!   `notify_follow_up_overdue_days`, to the supervisors of the child's
//!   county. `encounters.follow_up_told` records how far each went, so a
//!   day the server was down is caught up the next day and nobody is told
//!   twice; a newer encounter (the follow-up itself) ends the reminders.
//! - Rule 4, weekly ([`not_seen`], the week starting Saturday, Asia/Tehran):
//!   an active child not seen for 30 days (no encounter, or none since
//!   `last_seen_at`) is told to its assigned worker.
//!
//! And after `notify_digest_at`, daily, the digests ([`digests`]): each user
//! who chose one gets a single push standing for their unread non-critical
//! notifications since the previous digest (muted kinds left out).

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::preferences;
use crate::db::Db;
use crate::events::{self, DomainEvent, Kind};

/// A child unseen this long is followed up (rule 4).
pub const NOT_SEEN_MS: i64 = 30 * 24 * 3600 * 1000;
/// How often the scheduler looks at the clock.
const CHECK: Duration = Duration::from_secs(60);

/// The Tehran week (Saturday to Friday) holding `at`, as a period key.
pub fn week(at: i64) -> String {
    let day = preferences::tehran_day(at);
    // Day 2 (1970-01-03) was a Saturday.
    format!("week-{}", (day - 2).div_euclid(7))
}

/// The Tehran day holding `at`, as a period key.
pub fn day(at: i64) -> String {
    format!("day-{}", preferences::tehran_day(at))
}

/// The Tehran calendar date `days` after 1970-01-01, as `YYYY-MM-DD` (how
/// encounters store their next follow-up).
pub fn date_of(days: i64) -> String {
    // 2440588 is the Julian day of 1970-01-01.
    let date = i32::try_from(days + 2_440_588)
        .ok()
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .unwrap_or(time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Claims `(rule, period)` on `conn`'s transaction; true when this caller
/// is the one to run it.
async fn claim(
    conn: &mut sqlx::AnyConnection,
    rule: &str,
    period: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let won: Option<String> = sqlx::query_scalar(
        "INSERT INTO scheduled_runs (rule, period, ran_at) VALUES ($1, $2, $3)
         ON CONFLICT (rule, period) DO NOTHING RETURNING rule",
    )
    .bind(rule)
    .bind(period)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(won.is_some())
}

/// Rule 4 for the week of `now`: how many children were told of, or none
/// when this week's run was done already.
pub async fn not_seen(db: &Db, now: i64) -> sqlx::Result<Option<usize>> {
    let mut tx = db.begin_write().await?;
    if !claim(&mut tx, "child_not_seen", &week(now), now).await? {
        return Ok(None);
    }
    let children: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, home_province, home_county, assigned_worker FROM children
         WHERE status = 'active' AND merged_into IS NULL AND assigned_worker IS NOT NULL
           AND COALESCE(last_seen_at, created_at) < $1
         ORDER BY id",
    )
    .bind(now - NOT_SEEN_MS)
    .fetch_all(&mut *tx)
    .await?;
    for (id, province, county, worker) in &children {
        events::record(
            &mut tx,
            DomainEvent {
                kind: Kind::ChildNotSeen,
                province: Some(province),
                county: county.as_deref(),
                subject_type: "child",
                subject_id: id,
                user_id: Some(worker),
                actor_id: None,
                detail: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(children.len()))
}

/// What one run of rule 3 told.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FollowUps {
    /// Follow-ups due, told to their worker.
    pub due: usize,
    /// Follow-ups overdue, told to the supervisors.
    pub overdue: usize,
}

/// Rule 3 for the Tehran day of `now`: follow-ups due (date on or before
/// today) and overdue (on or before today minus `overdue_days`); none when
/// today's run was done already.
pub async fn follow_ups(db: &Db, now: i64, overdue_days: i64) -> sqlx::Result<Option<FollowUps>> {
    let mut tx = db.begin_write().await?;
    if !claim(&mut tx, "follow_up", &day(now), now).await? {
        return Ok(None);
    }
    let today = preferences::tehran_day(now);
    let mut told = FollowUps::default();
    for (stage, cutoff) in [(1_i64, today), (2, today - overdue_days)] {
        // The latest encounter of each active child: an older one's date
        // was answered by the visit after it.
        let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT e.id, c.id, c.home_province, c.home_county,
                    COALESCE(c.assigned_worker, e.worker_id)
             FROM encounters e JOIN children c ON c.id = e.child_id
             WHERE e.next_follow_up IS NOT NULL AND e.next_follow_up <= $1
               AND e.follow_up_told < $2
               AND c.status = 'active' AND c.merged_into IS NULL
               AND NOT EXISTS (SELECT 1 FROM encounters l WHERE l.child_id = e.child_id
                               AND (l.at > e.at OR (l.at = e.at AND l.id > e.id)))
             ORDER BY e.id",
        )
        .bind(date_of(cutoff))
        .bind(stage)
        .fetch_all(&mut *tx)
        .await?;
        for (encounter, child, province, county, worker) in &rows {
            let (kind, user) = if stage == 1 {
                (Kind::FollowUpDue, Some(worker.as_str()))
            } else {
                (Kind::FollowUpOverdue, None)
            };
            events::record(
                &mut tx,
                DomainEvent {
                    kind,
                    province: Some(province),
                    county: county.as_deref(),
                    subject_type: "child",
                    subject_id: child,
                    user_id: user,
                    actor_id: None,
                    detail: Some(serde_json::json!({ "encounter": encounter })),
                },
            )
            .await?;
            sqlx::query("UPDATE encounters SET follow_up_told = $1 WHERE id = $2")
                .bind(stage)
                .bind(encounter)
                .execute(&mut *tx)
                .await?;
        }
        if stage == 1 {
            told.due = rows.len();
        } else {
            told.overdue = rows.len();
        }
    }
    tx.commit().await?;
    Ok(Some(told))
}

/// Rule 3's and the digests' settings, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Minutes after Tehran midnight when the rules run.
    pub rules_at: i64,
    pub overdue_days: i64,
    /// Minutes after Tehran midnight when the digests go.
    pub digest_at: i64,
}

/// The daily digests for the Tehran day of `now`: one push per
/// subscription of each user who chose a digest and has unread
/// non-critical notifications (not muted) since the previous run (or the
/// last day); how many users, or none when today's were done already.
pub async fn digests(db: &Db, now: i64) -> sqlx::Result<Option<usize>> {
    let mut tx = db.begin_write().await?;
    let since: Option<i64> =
        sqlx::query_scalar("SELECT MAX(ran_at) FROM scheduled_runs WHERE rule = 'digest'")
            .fetch_one(&mut *tx)
            .await?;
    if !claim(&mut tx, "digest", &day(now), now).await? {
        return Ok(None);
    }
    let since = since.unwrap_or(now - 24 * 3600 * 1000);
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT n.user_id, n.id, n.kind, p.muted_kinds
         FROM notifications n JOIN notification_preferences p ON p.user_id = n.user_id
         WHERE p.digest = 1 AND n.critical = 0 AND n.read_at IS NULL
           AND n.created_at > $1 AND n.created_at <= $2
         ORDER BY n.user_id, n.id",
    )
    .bind(since)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    // (user, newest id, count), muted kinds left out.
    let mut per_user: Vec<(String, i64, i64)> = Vec::new();
    for (user, id, kind, muted) in rows {
        if muted.split(',').any(|k| k == kind) {
            continue;
        }
        match per_user.last_mut() {
            Some((u, newest, count)) if *u == user => {
                *newest = id;
                *count += 1;
            }
            _ => per_user.push((user, id, 1)),
        }
    }
    let today = day(now);
    for (user, newest, count) in &per_user {
        for (channel, target) in super::push_targets(&mut tx, user).await? {
            super::outbox::enqueue_digest(
                &mut tx, *newest, *count, user, &today, channel, &target, now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(Some(per_user.len()))
}

/// Checks the clock every minute until `stop`; past `plan`'s times runs
/// the rules and digests whose period has not run yet.
pub fn spawn(db: Db, plan: Plan, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = crate::now_ms();
            if preferences::tehran_minute(now) >= plan.digest_at {
                match digests(&db, now).await {
                    Ok(Some(n)) => tracing::info!(users = n, "daily digests"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "the scheduler could not send digests"),
                }
            }
            if preferences::tehran_minute(now) >= plan.rules_at {
                match follow_ups(&db, now, plan.overdue_days).await {
                    Ok(Some(n)) => {
                        tracing::info!(due = n.due, overdue = n.overdue, "rule 3: follow-ups")
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "the scheduler could not run rule 3"),
                }
                match not_seen(&db, now).await {
                    Ok(Some(n)) => {
                        tracing::info!(children = n, "rule 4: children not seen for 30 days")
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "the scheduler could not run rule 4"),
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(CHECK) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ms(t: time::OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    #[test]
    fn a_week_runs_saturday_to_friday_in_tehran() {
        // 2026-12-12 is a Saturday, 2026-12-18 a Friday.
        let saturday = week(ms(datetime!(2026-12-12 00:00 +03:30)));
        assert_eq!(saturday, week(ms(datetime!(2026-12-18 23:59 +03:30))));
        assert_ne!(saturday, week(ms(datetime!(2026-12-11 23:59 +03:30))));
        assert_ne!(saturday, week(ms(datetime!(2026-12-19 00:00 +03:30))));
    }

    #[test]
    fn a_day_is_tehrans_and_its_date_reads_like_a_follow_up() {
        // 00:10 in Tehran on the 8th is still the 7th in UTC.
        let early = ms(datetime!(2026-12-08 00:10 +03:30));
        assert_eq!(date_of(preferences::tehran_day(early)), "2026-12-08");
        assert_eq!(day(early), day(ms(datetime!(2026-12-08 23:59 +03:30))));
        assert_ne!(day(early), day(ms(datetime!(2026-12-07 23:59 +03:30))));
        assert_eq!(date_of(0), "1970-01-01");
    }
}
