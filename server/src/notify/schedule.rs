//! The scheduler: rules that come from the calendar rather than from an
//! event. Each runs at most once per period whatever the number of
//! restarts and instances: a run first inserts `(rule, period)` into
//! `scheduled_runs` and writes its events on the same transaction, so the
//! instance whose insert wins is the one that runs it, and a run that fails
//! leaves no mark and is tried again.
//!
//! Implemented: rule 4 — an active child not seen for 30 days (no encounter,
//! or none since `last_seen_at`) is told to its assigned worker, weekly
//! (the week starting Saturday, Asia/Tehran), at the first check after
//! `notify_schedule_at` local time. Rule 3 (follow-ups due) is not: an
//! encounter's next follow-up date lives inside its JSON details, with no
//! column to query on both backends.

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

/// Checks the clock every minute until `stop`; past `at_minute` (minutes
/// after Tehran midnight) runs the rules whose period has not run yet.
pub fn spawn(db: Db, at_minute: i64, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = crate::now_ms();
            if preferences::tehran_minute(now) >= at_minute {
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
}
