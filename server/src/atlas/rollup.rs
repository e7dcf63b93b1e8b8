//! Keeping the rollups: the queue, the background job and the rebuild.
//!
//! Write paths call [`enqueue`] inside their own transaction: one
//! `atlas_queue` row naming the subject they changed. The job ([`spawn`])
//! runs [`run_once`] every [`FLUSH_INTERVAL`] (2 s), and every 20 ms while a
//! round stopped at its bound, so **the rollups lag the raw rows by about two
//! seconds plus one round** under normal load (more only while a backlog
//! drains, round after round). A round is bounded — at most [`BATCH`] queue
//! rows and about [`EVENTS_PER_ROUND`] events — so it holds the write lock
//! briefly: on SQLite every writer waits for that lock.
//!
//! One round is one write transaction:
//! 1. claim up to [`BATCH`] queue rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`,
//!    so two instances take different rows; SQLite: the immediate
//!    transaction holds the one write lock);
//! 2. on PostgreSQL take the rollup's lock, so rounds of two instances
//!    apply one after the other (a sketch in `atlas_totals` is read,
//!    merged and written back: two rounds at once would lose one's
//!    children);
//! 3. for each distinct subject (sorted, fifty at a time): read its
//!    current events ([`subjects::load`]), its previously applied events
//!    (`atlas_applied`), and add new − old to a delta;
//! 4. apply the delta to `atlas_counts` (upserts adding the differences,
//!    rows that reach zero deleted), to `atlas_presence` (the set
//!    difference) and to `atlas_totals` ([`super::totals`]), store the new
//!    events in `atlas_applied`;
//! 5. delete the claimed queue rows; commit.
//!
//! A crash before the commit leaves the queue rows for the next round and
//! nothing applied; after it, the queue rows are gone with the change
//! applied: nothing is lost, nothing applied twice.
//!
//! [`rebuild`] (`kudakyar atlas rebuild`) empties the rollups and applies
//! every subject from the raw rows with the same code, so it equals the
//! incremental result by construction — and a test checks it does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use sqlx::Row;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::subjects::{self, Dims, Event, Key, Kind, Measures};
use super::totals::{self, Totals};
use crate::db::sql::{Arg, Sql};
use crate::db::{Backend, Db};
use crate::error::{Error, Result};

/// How often the job looks at the queue.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// Queue rows claimed per round.
pub const BATCH: i64 = 500;
/// Events (old and new contributions) read per round at most: the bound on
/// how long one round holds the write lock (a child with many encounters
/// counts for all of them).
pub const EVENTS_PER_ROUND: usize = 2_000;
/// The pause between two rounds while a backlog drains, so writers waiting
/// for SQLite's one write lock get it between rounds.
const BETWEEN_ROUNDS: Duration = Duration::from_millis(20);
/// Rows per multi-row INSERT (14 parameters each, well under both
/// backends' parameter limits).
const CHUNK: usize = 60;

/// Queues a subject for the job, inside the writer's transaction.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
    subject_id: &str,
) -> sqlx::Result<()> {
    enqueue_all(conn, [(kind, subject_id)]).await
}

/// [`enqueue`] of several subjects in one statement (none: nothing).
pub async fn enqueue_all<'s>(
    conn: &mut sqlx::AnyConnection,
    subjects: impl IntoIterator<Item = (Kind, &'s str)>,
) -> sqlx::Result<()> {
    let now = crate::now_ms();
    let rows: Vec<[Arg; 3]> = subjects
        .into_iter()
        .map(|(kind, id)| {
            [
                Arg::Text(kind.as_str().to_string()),
                Arg::Text(id.to_string()),
                Arg::Int(now),
            ]
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("INSERT INTO atlas_queue (kind, subject_id, queued_at) VALUES ");
    sql.bind_rows(rows);
    sql.query().execute(conn).await?;
    Ok(())
}

/// One round: claims a batch of the queue and applies it. Returns how many
/// queue rows it took.
pub async fn run_once(db: &Db) -> Result<Round> {
    let mut tx = db.begin_write().await?;
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let claimed = sqlx::query(&format!(
        "SELECT id, kind, subject_id FROM atlas_queue ORDER BY id LIMIT $1{lock}"
    ))
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if claimed.is_empty() {
        return Ok(Round::default());
    }
    // Queue rows by subject: a subject's rows all go once it is applied.
    let mut queued: BTreeMap<(Kind, String), Vec<i64>> = BTreeMap::new();
    for row in &claimed {
        let kind = Kind::parse(&row.try_get::<String, _>("kind")?);
        let key = (
            kind.unwrap_or(Kind::Child),
            row.try_get::<String, _>("subject_id")?,
        );
        queued
            .entry(key)
            .or_default()
            .push(row.try_get::<i64, _>("id")?);
    }
    let subjects: Vec<(Kind, String)> = queued.keys().cloned().collect();
    let applied = apply(db, &mut tx, &subjects).await?;
    let ids: Vec<i64> = subjects[..applied]
        .iter()
        .flat_map(|s| queued[s].iter().copied())
        .collect();
    for chunk in ids.chunks(CHUNK * 10) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(&format!("DELETE FROM atlas_queue WHERE id IN ({list})"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Round {
        taken: ids.len(),
        full: claimed.len() as i64 == BATCH || applied < subjects.len(),
    })
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Queue rows applied and deleted.
    pub taken: usize,
    /// Whether the round stopped at a bound ([`BATCH`] queue rows, or
    /// [`EVENTS_PER_ROUND`]) rather than at the queue's end.
    pub full: bool,
}

/// A presence row: (level, area, day, province, county, child, dims).
type Presence = (String, String, i64, String, String, String, Dims);

fn presence(child: &str, events: &[Event]) -> BTreeSet<Presence> {
    events
        .iter()
        .flat_map(|e| {
            subjects::areas(e).into_iter().map(|(level, area)| {
                (
                    level,
                    area,
                    e.day,
                    e.province.clone(),
                    e.county.clone(),
                    child.to_string(),
                    e.dims.clone(),
                )
            })
        })
        .collect()
}

/// Subjects loaded together: one statement per table for each group.
const GROUP: usize = 50;

/// Replaces the applied contribution of the first subjects (in order) by
/// their current one, a [`GROUP`] at a time, stopping once
/// [`EVENTS_PER_ROUND`] events were read, so one transaction holds the
/// write lock briefly (on SQLite every writer waits for it). Returns how
/// many subjects it applied (at least one group).
async fn apply(db: &Db, tx: &mut crate::db::WriteTx, subjects: &[(Kind, String)]) -> Result<usize> {
    let mut applied = 0;
    let mut events = 0;
    let mut delta: BTreeMap<Key, Measures> = BTreeMap::new();
    let mut gone: BTreeSet<Presence> = BTreeSet::new();
    let mut came: BTreeSet<Presence> = BTreeSet::new();
    let mut tally = Totals::default();
    // What `atlas_applied` becomes: the subjects' new events, or none.
    let mut now_applied: Vec<(Kind, &str, Option<String>)> = Vec::new();
    db.lock_key(tx, "atlas:rollup").await?;
    for group in subjects.chunks(GROUP) {
        if applied > 0 && events >= EVENTS_PER_ROUND {
            break;
        }
        let mut old: HashMap<(Kind, String), Vec<Event>> = HashMap::new();
        let mut new: HashMap<(Kind, String), Vec<Event>> = HashMap::new();
        for kind in [Kind::Child, Kind::Sighting, Kind::Incident] {
            let ids: Vec<&str> = group
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| id.as_str())
                .collect();
            if ids.is_empty() {
                continue;
            }
            for (id, events) in applied_events(tx, kind, &ids).await? {
                old.insert((kind, id), events);
            }
            for (id, events) in subjects::load(tx, kind, &ids).await? {
                new.insert((kind, id), events);
            }
        }
        for subject in group {
            applied += 1;
            let (kind, id) = (subject.0, subject.1.as_str());
            let old = old.remove(subject).unwrap_or_default();
            let new = new.remove(subject).unwrap_or_default();
            events += old.len() + new.len();
            if old == new {
                continue;
            }
            subjects::accumulate(&mut delta, &old, -1);
            subjects::accumulate(&mut delta, &new, 1);
            tally.events(&old, -1);
            tally.events(&new, 1);
            if kind == Kind::Child {
                let (was, is) = (presence(id, &old), presence(id, &new));
                gone.extend(was.difference(&is).cloned());
                came.extend(is.difference(&was).cloned());
                let (was, is) = (totals::presence(&old), totals::presence(&new));
                for (level, area, day, province, county) in was.difference(&is) {
                    tally.went((level, area, *day, province, county));
                }
                for (level, area, day, province, county) in is.difference(&was) {
                    tally.came((level, area, *day, province, county), id);
                }
            }
            let rows = (!new.is_empty()).then(|| serde_json::to_string(&new).unwrap_or_default());
            now_applied.push((kind, id, rows));
        }
    }
    write_applied(tx, &now_applied).await?;
    delta.retain(|_, m| !m.is_zero());
    write_counts(tx, &delta).await?;
    write_presence(tx, &gone, &came).await?;
    // After the presence rows: a child who went is counted again from them.
    tally.write(tx).await?;
    Ok(applied)
}

/// The events last applied for these subjects of one kind, by id.
async fn applied_events(
    tx: &mut crate::db::WriteTx,
    kind: Kind,
    ids: &[&str],
) -> sqlx::Result<HashMap<String, Vec<Event>>> {
    let mut sql = Sql::on(
        tx.backend(),
        "SELECT subject_id, rows FROM atlas_applied WHERE kind = ",
    );
    sql.bind(Arg::Text(kind.as_str().into()));
    sql.push(" AND subject_id IN ")
        .bind_list(ids.iter().map(|id| id.to_string()));
    let mut out = HashMap::new();
    for row in sql.query().fetch_all(&mut **tx).await? {
        // Rows that cannot be read (never written by this code) count as
        // nothing applied, as an absent row does.
        if let Ok(events) = serde_json::from_str(&row.try_get::<String, _>("rows")?) {
            out.insert(row.try_get("subject_id")?, events);
        }
    }
    Ok(out)
}

/// Stores each subject's applied events (`None`: it has none now).
async fn write_applied(
    tx: &mut crate::db::WriteTx,
    subjects: &[(Kind, &str, Option<String>)],
) -> sqlx::Result<()> {
    for kind in [Kind::Child, Kind::Sighting, Kind::Incident] {
        let without: Vec<String> = subjects
            .iter()
            .filter(|(k, _, rows)| *k == kind && rows.is_none())
            .map(|(_, id, _)| id.to_string())
            .collect();
        for chunk in without.chunks(CHUNK * 5) {
            let mut sql = Sql::on(tx.backend(), "DELETE FROM atlas_applied WHERE kind = ");
            sql.bind(Arg::Text(kind.as_str().into()));
            sql.push(" AND subject_id IN ")
                .bind_list(chunk.iter().cloned());
            sql.query().execute(&mut **tx).await?;
        }
    }
    let with: Vec<(Kind, &str, &String)> = subjects
        .iter()
        .filter_map(|(kind, id, rows)| Some((*kind, *id, rows.as_ref()?)))
        .collect();
    for chunk in with.chunks(CHUNK * 4) {
        let mut sql = Sql::on(
            tx.backend(),
            "INSERT INTO atlas_applied (kind, subject_id, rows) VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|(kind, id, rows)| {
            [
                Arg::Text(kind.as_str().into()),
                Arg::Text(id.to_string()),
                Arg::Text(rows.to_string()),
            ]
        }));
        sql.push(" ON CONFLICT (kind, subject_id) DO UPDATE SET rows = excluded.rows");
        sql.query().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Adds the delta to `atlas_counts`, in key order (two PostgreSQL instances
/// lock rows in the same order, so they cannot deadlock), then deletes the
/// rows a negative delta may have brought to zero.
async fn write_counts(
    tx: &mut crate::db::WriteTx,
    delta: &BTreeMap<Key, Measures>,
) -> sqlx::Result<()> {
    let entries: Vec<(&Key, &Measures)> = delta.iter().collect();
    for chunk in entries.chunks(CHUNK) {
        let mut sql = Sql::on(
            tx.backend(),
            "INSERT INTO atlas_counts (level, area, day, province, county, source, sex, age_band,
                 nationality, work_type, encounters, reports, children_reported, incidents) VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|(k, m)| {
            [
                Arg::Text(k.level.clone()),
                Arg::Text(k.area.clone()),
                Arg::Int(k.day),
                Arg::Text(k.province.clone()),
                Arg::Text(k.county.clone()),
                Arg::Text(k.source.clone()),
                Arg::Text(k.dims.sex.clone()),
                Arg::Text(k.dims.age_band.clone()),
                Arg::Text(k.dims.nationality.clone()),
                Arg::Text(k.dims.work_type.clone()),
                Arg::Int(m.encounters),
                Arg::Int(m.reports),
                Arg::Int(m.children_reported),
                Arg::Int(m.incidents),
            ]
        }));
        sql.push(
            " ON CONFLICT (level, area, day, province, county, source, sex, age_band, nationality,
                work_type) DO UPDATE SET
                encounters = atlas_counts.encounters + excluded.encounters,
                reports = atlas_counts.reports + excluded.reports,
                children_reported = atlas_counts.children_reported + excluded.children_reported,
                incidents = atlas_counts.incidents + excluded.incidents",
        );
        sql.query().execute(&mut **tx).await?;
    }
    for (k, _) in entries.iter().filter(|(_, m)| {
        m.encounters < 0 || m.reports < 0 || m.children_reported < 0 || m.incidents < 0
    }) {
        sqlx::query(
            "DELETE FROM atlas_counts WHERE level = $1 AND area = $2 AND day = $3
               AND province = $4 AND county = $5 AND source = $6 AND sex = $7 AND age_band = $8
               AND nationality = $9 AND work_type = $10 AND encounters = 0 AND reports = 0
               AND children_reported = 0 AND incidents = 0",
        )
        .bind(k.level.as_str())
        .bind(k.area.as_str())
        .bind(k.day)
        .bind(k.province.as_str())
        .bind(k.county.as_str())
        .bind(k.source.as_str())
        .bind(k.dims.sex.as_str())
        .bind(k.dims.age_band.as_str())
        .bind(k.dims.nationality.as_str())
        .bind(k.dims.work_type.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Removes the presence rows that went, then inserts those that came.
async fn write_presence(
    tx: &mut crate::db::WriteTx,
    gone: &BTreeSet<Presence>,
    came: &BTreeSet<Presence>,
) -> sqlx::Result<()> {
    for (level, area, day, province, county, child, _) in gone {
        sqlx::query(
            "DELETE FROM atlas_presence WHERE level = $1 AND area = $2 AND day = $3
               AND province = $4 AND county = $5 AND child_id = $6",
        )
        .bind(level.as_str())
        .bind(area.as_str())
        .bind(*day)
        .bind(province.as_str())
        .bind(county.as_str())
        .bind(child.as_str())
        .execute(&mut **tx)
        .await?;
    }
    let came: Vec<&Presence> = came.iter().collect();
    for chunk in came.chunks(CHUNK) {
        let mut sql = Sql::on(
            tx.backend(),
            "INSERT INTO atlas_presence (level, area, day, province, county, child_id, sex,
                 age_band, nationality, work_type) VALUES ",
        );
        sql.bind_rows(
            chunk
                .iter()
                .map(|(level, area, day, province, county, child, dims)| {
                    [
                        Arg::Text(level.clone()),
                        Arg::Text(area.clone()),
                        Arg::Int(*day),
                        Arg::Text(province.clone()),
                        Arg::Text(county.clone()),
                        Arg::Text(child.clone()),
                        Arg::Text(dims.sex.clone()),
                        Arg::Text(dims.age_band.clone()),
                        Arg::Text(dims.nationality.clone()),
                        Arg::Text(dims.work_type.clone()),
                    ]
                }),
        );
        sql.query().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Whether every change queued before `since` (ms) is in the rollups. A
/// reader that must not see rollups still catching up (the nightly hot-spot
/// run, after a start-up with a backlog from a seed or an import) waits for
/// this; changes queued later do not hold it back, so a busy server still
/// gets there.
pub async fn caught_up(db: &Db, since: i64) -> Result<bool> {
    let behind: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_queue WHERE queued_at < $1")
        .bind(since)
        .fetch_one(db.pool())
        .await?;
    Ok(behind == 0)
}

/// Runs rounds until the queue is empty; how many queue rows it took.
/// A round that found the database too busy to begin (every connection
/// waiting for the write lock) is tried again, as the job would. A round
/// that found nothing to claim may have passed over rows another round
/// holds (on PostgreSQL a round skips locked rows: the job's, beside this
/// one): those are waited for, so that what was queued before the call is
/// applied when it returns.
pub async fn drain(db: &Db) -> Result<usize> {
    let mut total = 0;
    loop {
        let round = match run_once(db).await {
            Err(Error::Overloaded { .. }) => {
                tokio::time::sleep(BETWEEN_ROUNDS).await;
                continue;
            }
            other => other?,
        };
        total += round.taken;
        if round.taken == 0 {
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_queue")
                .fetch_one(db.pool())
                .await?;
            if left == 0 {
                return Ok(total);
            }
            tokio::time::sleep(BETWEEN_ROUNDS).await;
        }
    }
}

/// Other write transactions a second above which the database is busy
/// (intake under a burst of reports): the job then waits.
const BUSY_WRITES_PER_SEC: f64 = 20.0;
/// The longest the job waits for a busy database: then a round runs anyway,
/// so the atlas is never more than about this much behind.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Were `writes` other write transactions begun over `window` a busy
/// database's?
fn busy(writes: u64, window: Duration) -> bool {
    writes as f64 > BUSY_WRITES_PER_SEC * window.as_secs_f64()
}

/// Runs the job every [`FLUSH_INTERVAL`] (sooner while a backlog drains)
/// until `stop` is cancelled; a round in progress finishes first.
///
/// The job gives way to intake: while other writers begin more than
/// [`BUSY_WRITES_PER_SEC`] transactions a second it starts no round, for up
/// to [`MAX_WAIT`]. A round holds SQLite's one write lock for tens of
/// milliseconds and a backlog is drained round after round, so during a
/// burst of reports every round was a stall for the reports waiting behind
/// it (intake's p99 went from about 24 ms to 140 ms, BENCHMARKS.md). The
/// queue keeps every change: the atlas is only later, and catches up when
/// the burst is over.
pub fn spawn(db: Db, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let full = match run_once(&db).await {
                Ok(round) => round.full,
                Err(e) => {
                    tracing::warn!(error = %e, "the atlas rollup round failed; it will be retried");
                    false
                }
            };
            let last_round = tokio::time::Instant::now();
            let mut pause = if full { BETWEEN_ROUNDS } else { FLUSH_INTERVAL };
            loop {
                let before = db.writes_begun();
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
                let others = db.writes_begun().saturating_sub(before);
                if !busy(others, pause) || last_round.elapsed() >= MAX_WAIT {
                    break;
                }
                pause = FLUSH_INTERVAL;
            }
        }
    })
}

/// How many subjects a rebuild goes through (for its progress bar).
pub async fn subject_total(db: &Db) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM children) + (SELECT COUNT(*) FROM sightings)
              + (SELECT COUNT(*) FROM incidents)",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(n as u64)
}

/// Recomputes every rollup from the raw rows: empties them (and the queue
/// as it stands: everything queued is recomputed anyway), then applies every
/// child, report and incident in batches, each batch its own transaction.
/// `progress` hears how many subjects each batch went through.
pub async fn rebuild(db: &Db, mut progress: impl FnMut(u64)) -> Result<()> {
    let mut tx = db.begin_write().await?;
    for table in [
        "atlas_counts",
        "atlas_presence",
        "atlas_totals",
        "atlas_applied",
        "atlas_queue",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    for (kind, table) in [
        (Kind::Child, "children"),
        (Kind::Sighting, "sightings"),
        (Kind::Incident, "incidents"),
    ] {
        let mut after = String::new();
        loop {
            let ids: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT id FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(&after)
            .bind(BATCH)
            .fetch_all(db.pool())
            .await?;
            let Some(last) = ids.last() else { break };
            after = last.clone();
            let batch: Vec<(Kind, String)> = ids.iter().map(|id| (kind, id.clone())).collect();
            let mut rest = batch.as_slice();
            while !rest.is_empty() {
                let mut tx = db.begin_write().await?;
                let applied = apply(db, &mut tx, rest).await?;
                tx.commit().await?;
                progress(applied as u64);
                rest = &rest[applied..];
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_writes_is_busy_and_a_trickle_is_not() {
        let window = Duration::from_secs(2);
        assert!(!busy(0, window));
        assert!(!busy(40, window), "20 a second is the line");
        assert!(busy(41, window));
        // A short pause between a backlog's rounds: one other write in it
        // is already a burst's rate.
        assert!(!busy(0, BETWEEN_ROUNDS));
        assert!(busy(1, BETWEEN_ROUNDS));
    }
}
