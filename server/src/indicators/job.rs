//! Materialising the indicators: the nightly job and `kudakyar indicators
//! rebuild`.
//!
//! A day's figures are replaced as a whole in one write transaction (delete
//! the day's rows, insert the new ones), so a reader sees the old day or the
//! new one, never half; stores of the same day take turns (`Db::lock_key`). The nightly job runs in every server instance; each
//! claims yesterday in `indicator_runs` (the primary key lets one instance
//! win; a claim left unfinished for an hour is taken over, after a crash) and
//! records when it finished, so restarts and several instances make one run
//! per day. A rebuild recomputes each day from `--from` whatever was there:
//! computing a day twice stores the same figures.

use std::time::Duration;

use time::Date;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::definitions::{Computed, compute};
use super::facts::Facts;
use super::period;
use crate::db::Db;
use crate::error::Result;

/// A claim older than this with no finish is taken to be dead.
const STALE_CLAIM_MS: i64 = 3_600_000;
/// How often an instance looks whether yesterday needs a run.
const CHECK_EVERY: Duration = Duration::from_secs(600);
/// Rows per multi-row INSERT (PostgreSQL allows 65,535 parameters).
const BATCH: usize = 500;

/// Stores `computed` as the figures of `day`, replacing any.
pub async fn store(db: &Db, day: Date, computed: &Computed) -> Result<()> {
    let day = period::day_string(day);
    let mut tx = db.begin_write().await?;
    // Two stores of one day at once (the job, and a report computing a day
    // it found missing; or two reports) would both delete nothing and both
    // insert on PostgreSQL: one a unique violation. One at a time, the
    // second replaces the first's rows with the same figures.
    db.lock_key(&mut tx, &format!("indicators:{day}")).await?;
    for table in ["indicator_values", "indicator_workers", "indicator_cohorts"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE day = $1"))
            .bind(&day)
            .execute(&mut *tx)
            .await?;
    }
    for chunk in computed.figures.chunks(BATCH) {
        let sql = insert_sql(
            "indicator_values (day, indicator, area, figure, value, children)",
            6,
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for f in chunk {
            q = q
                .bind(&day)
                .bind(f.indicator.name())
                .bind(&f.area)
                .bind(&f.figure)
                .bind(f.value)
                .bind(f.children);
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in computed.workers.chunks(BATCH) {
        let sql = insert_sql(
            "indicator_workers (day, worker_id, province, county, open_cases, visits, verified,
                                overdue_follow_ups)",
            8,
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for w in chunk {
            q = q
                .bind(&day)
                .bind(&w.worker_id)
                .bind(&w.province)
                .bind(&w.county)
                .bind(w.open_cases)
                .bind(w.visits)
                .bind(w.verified)
                .bind(w.overdue_follow_ups);
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in computed.cohorts.chunks(BATCH) {
        let sql = insert_sql(
            "indicator_cohorts (day, cohort, province, sex, age_band, nationality, months, outcome, children)",
            9,
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q
                .bind(&day)
                .bind(&c.cohort)
                .bind(&c.province)
                .bind(&c.sex)
                .bind(&c.age_band)
                .bind(&c.nationality)
                .bind(c.months)
                .bind(&c.outcome)
                .bind(c.children);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `INSERT INTO {target} VALUES ($1, …), (…)` for `rows` rows of `columns`.
fn insert_sql(target: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {target} VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * columns + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// Tries to claim `day` for `instance`: true when this caller should run it
/// (no run yet, or a dead one); false when it is done or running elsewhere.
async fn claim(db: &Db, day: &str, instance: &str) -> Result<bool> {
    let now = crate::now_ms();
    let inserted = sqlx::query(
        "INSERT INTO indicator_runs (day, claimed_by, claimed_at) VALUES ($1, $2, $3)
         ON CONFLICT (day) DO NOTHING",
    )
    .bind(day)
    .bind(instance)
    .bind(now)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(true);
    }
    // Take over a claim that never finished, if nobody else did first.
    let taken = sqlx::query(
        "UPDATE indicator_runs SET claimed_by = $2, claimed_at = $3
         WHERE day = $1 AND finished_at IS NULL AND claimed_at < $4",
    )
    .bind(day)
    .bind(instance)
    .bind(now)
    .bind(now - STALE_CLAIM_MS)
    .execute(db.pool())
    .await?;
    Ok(taken.rows_affected() == 1)
}

async fn finish(db: &Db, day: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO indicator_runs (day, claimed_by, claimed_at, finished_at)
         VALUES ($1, 'rebuild', $2, $2)
         ON CONFLICT (day) DO UPDATE SET finished_at = $2",
    )
    .bind(day)
    .bind(crate::now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Materialises `day` unless it was already (or is being) run: the nightly
/// job's step. True when this call ran it.
pub async fn run_day(db: &Db, day: Date, instance: &str) -> Result<bool> {
    Ok(run_days(db, &[day], instance).await? == 1)
}

/// Materialises each of `days` that no instance has run or is running,
/// reading the registry once for all of them; how many this call ran.
pub async fn run_days(db: &Db, days: &[Date], instance: &str) -> Result<usize> {
    // The days already run, in one read: the job asks for every quarter end
    // each time it looks, and a claim is a write (on SQLite, the one lock).
    let Some(first) = days.iter().min() else {
        return Ok(0);
    };
    let finished: std::collections::HashSet<String> = sqlx::query_scalar(
        "SELECT day FROM indicator_runs WHERE finished_at IS NOT NULL AND day >= $1",
    )
    .bind(period::day_string(*first))
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .collect();
    let mut claimed = Vec::new();
    for &day in days {
        let name = period::day_string(day);
        if !finished.contains(&name) && claim(db, &name, instance).await? {
            claimed.push(day);
        }
    }
    if claimed.is_empty() {
        return Ok(0);
    }
    let facts = Facts::load(db).await?;
    for &day in &claimed {
        store(db, day, &compute(&facts, day)).await?;
        finish(db, &period::day_string(day)).await?;
    }
    Ok(claimed.len())
}

/// The last day of every quarter that has ended since the first
/// registration, up to `yesterday`: the days a quarterly report is read
/// from.
pub async fn quarter_ends(db: &Db, yesterday: Date) -> Result<Vec<Date>> {
    let Some(first) = first_day(db).await? else {
        return Ok(Vec::new());
    };
    let mut quarter = period::Quarter::of_ms(period::start_ms(first));
    let mut ends = Vec::new();
    while quarter.last_day() <= yesterday {
        ends.push(quarter.last_day());
        quarter = period::Quarter::of_ms(period::end_ms(quarter.last_day()));
    }
    Ok(ends)
}

/// Recomputes every day from `from` to `to` (inclusive), reading the
/// registry once; `progress` is told after each day.
pub async fn rebuild(db: &Db, from: Date, to: Date, mut progress: impl FnMut(u64)) -> Result<u64> {
    let facts = Facts::load(db).await?;
    let mut day = from;
    let mut done = 0;
    while day <= to {
        store(db, day, &compute(&facts, day)).await?;
        finish(db, &period::day_string(day)).await?;
        progress(1);
        done += 1;
        day = day.next_day().unwrap_or(Date::MAX);
    }
    Ok(done)
}

/// The first day a rebuild covers by default: the first registration's.
pub async fn first_day(db: &Db) -> Result<Option<Date>> {
    let first: Option<i64> = sqlx::query_scalar("SELECT MIN(created_at) FROM children")
        .fetch_one(db.pool())
        .await?;
    Ok(first.map(period::day_of))
}

/// The nightly job: every [`CHECK_EVERY`], materialises yesterday (Iran
/// time) and the last day of every ended quarter ([`quarter_ends`]) that no
/// instance has; stops when `stop` is cancelled.
///
/// The quarter ends are what `kudakyar report quarterly` reads. Computing a
/// day reads the whole registry (tens of seconds at a province's full
/// size), so a report of a quarter never materialised would make its reader
/// wait that long; after a deployment or an import of past records, the
/// job's first round materialises them all in one pass instead.
pub fn spawn(db: Db, stop: CancellationToken) -> JoinHandle<()> {
    let instance = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        loop {
            let yesterday = period::today() - time::Duration::days(1);
            let days = quarter_ends(&db, yesterday).await.map(|mut days| {
                days.push(yesterday);
                days
            });
            match days {
                Ok(days) => match run_days(&db, &days, &instance).await {
                    Ok(0) => {}
                    Ok(ran) => {
                        tracing::info!(days = ran, last = %yesterday, "indicators materialised")
                    }
                    Err(e) => tracing::error!(error = %e, "materialising the indicators"),
                },
                Err(e) => tracing::error!(error = %e, "finding the days to materialise"),
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(CHECK_EVERY) => {}
            }
        }
    })
}
