//! Emerging hot spots, computed by a job and stored, so reading them is cheap.
//!
//! A run ([`run`]) takes the weekly counts of events (encounters + reports)
//! per H3 cell from the rollups — Jalali weeks, Saturday first, the last
//! [`WEEKS`] complete ones, starting at the first week with any event — and
//! hands the cube to [`atlas_stats::emerging::analyse`]: per week the
//! Getis-Ord Gi\* z-score of each cell over its [`K_RINGS`]-ring neighbourhood
//! (binary weights, the cell included) with the Benjamini-Hochberg
//! correction; per cell the Mann-Kendall trend of its z-scores; and the
//! ArcGIS category (the rules are in `atlas_stats::emerging`). The cells are
//! those with events plus their rings (as zeros), so a lone busy cell is
//! compared with its quiet surroundings.
//!
//! With fewer than 10 weeks or 60 events the run refuses, and records why:
//! reading the hot spots then answers a 422 that says so.
//!
//! The nightly run ([`spawn`]) looks every hour; the first look of a Tehran
//! day inserts that day's row in `atlas_hotspot_runs` and runs. Another
//! instance's insert of the same (day, resolution) does nothing, so two
//! servers never both run it. `kudakyar atlas hotspots` runs on demand.
//!
//! What is stored is a pattern and z-scores per cell, no count; cells are
//! kept with the province most of their events are in, and scoped by it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use atlas_stats::emerging::{self, Kind, Pattern};
use atlas_stats::gistar::{self, Weights};
use h3o::CellIndex;
use sqlx::Row;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::periods::{self, Bucket};
use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};

/// The resolution of the nightly run and of reads that name none.
pub const DEFAULT_RES: u8 = 7;
/// Weeks analysed: a year.
pub const WEEKS: i64 = 52;
/// The neighbourhood of Gi\*: the cell and its first ring.
pub const K_RINGS: u32 = 1;
/// How often the nightly job looks whether today's run is done.
const LOOK_EVERY: Duration = Duration::from_secs(3600);
/// How often the nightly run looks again while the rollups catch up.
const CATCH_UP_POLL: Duration = Duration::from_secs(5);

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Another run of this day and resolution was already recorded.
    Skipped,
    /// Too little data; the reason, as stored.
    Refused(String),
    /// Stored: how many cells, weeks and events.
    Done {
        cells: usize,
        weeks: usize,
        events: u64,
    },
}

fn pattern_name(p: Pattern) -> String {
    let kind = |k: Kind| match k {
        Kind::New => "new",
        Kind::Consecutive => "consecutive",
        Kind::Intensifying => "intensifying",
        Kind::Persistent => "persistent",
        Kind::Diminishing => "diminishing",
        Kind::Sporadic => "sporadic",
        Kind::Oscillating => "oscillating",
        Kind::Historical => "historical",
    };
    match p {
        Pattern::NoPattern => "no_pattern".into(),
        Pattern::Hot(k) => format!("hot_{}", kind(k)),
        Pattern::Cold(k) => format!("cold_{}", kind(k)),
    }
}

/// Runs the analysis for `res` as of Tehran day `today`. Unless `force`,
/// only the first run of a (day, resolution) runs; the others are skipped.
pub async fn run(db: &Db, res: u8, today: i64, force: bool) -> Result<Outcome> {
    let now = crate::now_ms();
    let claimed = sqlx::query(
        "INSERT INTO atlas_hotspot_runs (run_day, res, started_at) VALUES ($1, $2, $3)
         ON CONFLICT (run_day, res) DO NOTHING",
    )
    .bind(today)
    .bind(i64::from(res))
    .bind(now)
    .execute(db.pool())
    .await?
    .rows_affected();
    if claimed == 0 && !force {
        return Ok(Outcome::Skipped);
    }
    let end = Bucket::JWeek.start(today);
    let start = end - WEEKS * 7;
    // The weekly totals (Jalali weeks, as here): a row per cell, week and
    // county it reaches into.
    let rows = sqlx::query(
        "SELECT area, province, start AS day, encounters + reports AS n
         FROM atlas_totals
         WHERE level = $1 AND grain = 'w' AND start >= $2 AND start < $3",
    )
    .bind(format!("h{res}"))
    .bind(start)
    .bind(end)
    .fetch_all(db.pool())
    .await?;
    // cell → week → events, and cell → province → events.
    let mut counts: BTreeMap<CellIndex, BTreeMap<i64, f64>> = BTreeMap::new();
    let mut provinces: HashMap<CellIndex, BTreeMap<String, i64>> = HashMap::new();
    let mut events: u64 = 0;
    let mut first_week = end;
    for r in &rows {
        let Ok(cell) = r.try_get::<String, _>("area")?.parse::<CellIndex>() else {
            continue;
        };
        let n: i64 = r.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
        let week = Bucket::JWeek.start(r.try_get("day")?);
        first_week = first_week.min(week);
        *counts.entry(cell).or_default().entry(week).or_default() += n as f64;
        *provinces
            .entry(cell)
            .or_default()
            .entry(r.try_get("province")?)
            .or_default() += n;
        events += n.max(0) as u64;
    }
    let weeks = ((end - first_week) / 7).max(0) as usize;
    // The refusals first, in the words of atlas-stats.
    let refusal = if weeks < emerging::MIN_TIME_STEPS {
        Some(atlas_stats::Error::TooFewTimeSteps {
            need: emerging::MIN_TIME_STEPS,
            got: weeks,
        })
    } else if events < emerging::MIN_EVENTS {
        Some(atlas_stats::Error::TooFewEvents {
            need: emerging::MIN_EVENTS,
            got: events,
        })
    } else {
        None
    };
    if let Some(refusal) = refusal {
        let why = refusal.to_string();
        finish(db, today, res, weeks, events, &why).await?;
        return Ok(Outcome::Refused(why));
    }
    // The cells with events, then their rings.
    let mut cells: Vec<CellIndex> = counts.keys().copied().collect();
    let mut index: HashMap<CellIndex, usize> =
        cells.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut home: Vec<String> = cells
        .iter()
        .map(|c| {
            provinces[c]
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(p, _)| p.clone())
                .unwrap_or_default()
        })
        .collect();
    for i in 0..counts.len() {
        for n in cells[i].grid_disk::<Vec<_>>(K_RINGS) {
            if let std::collections::hash_map::Entry::Vacant(e) = index.entry(n) {
                e.insert(cells.len());
                cells.push(n);
                home.push(home[i].clone());
            }
        }
    }
    let neighbours: Vec<Vec<usize>> = cells
        .iter()
        .map(|c| {
            c.grid_disk::<Vec<_>>(K_RINGS)
                .into_iter()
                .filter_map(|n| index.get(&n).copied())
                .collect()
        })
        .collect();
    let cube: Vec<Vec<f64>> = (0..weeks)
        .map(|w| {
            let week = first_week + 7 * w as i64;
            cells
                .iter()
                .map(|c| {
                    counts
                        .get(c)
                        .and_then(|s| s.get(&week))
                        .copied()
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    let analysed = Weights::binary(&neighbours).and_then(|w| {
        let patterns = emerging::analyse(&cube, &w, events, &emerging::Params::default())?;
        Ok((w, patterns))
    });
    let (weights, patterns) = analysed.map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
    // The last week's z and (FDR-adjusted) p, as shown on the map.
    let last = cube.last().map(Vec::as_slice).unwrap_or_default();
    let z = gistar::gi_star(last, &weights).unwrap_or_else(|_| vec![0.0; cells.len()]);
    let p = gistar::benjamini_hochberg(
        &z.iter()
            .map(|z| atlas_stats::normal::two_sided_p(*z))
            .collect::<Vec<_>>(),
    );
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM atlas_hotspots WHERE res = $1")
        .bind(i64::from(res))
        .execute(&mut *tx)
        .await?;
    let mut stored = 0;
    for (i, cell) in cells.iter().enumerate() {
        let pattern = patterns[i].pattern;
        if pattern == Pattern::NoPattern && !counts.contains_key(cell) {
            continue;
        }
        sqlx::query(
            "INSERT INTO atlas_hotspots (res, cell, province, pattern, z, p, trend_z, trend_p,
                                         run_day)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(i64::from(res))
        .bind(cell.to_string())
        .bind(&home[i])
        .bind(pattern_name(pattern))
        .bind(z[i])
        .bind(p[i])
        .bind(patterns[i].trend.z)
        .bind(patterns[i].trend.p)
        .bind(today)
        .execute(&mut *tx)
        .await?;
        stored += 1;
    }
    tx.commit().await?;
    finish(db, today, res, weeks, events, "ok").await?;
    Ok(Outcome::Done {
        cells: stored,
        weeks,
        events,
    })
}

async fn finish(
    db: &Db,
    day: i64,
    res: u8,
    weeks: usize,
    events: u64,
    outcome: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE atlas_hotspot_runs SET finished_at = $1, weeks = $2, events = $3, outcome = $4
         WHERE run_day = $5 AND res = $6",
    )
    .bind(crate::now_ms())
    .bind(weeks as i64)
    .bind(events as i64)
    .bind(outcome)
    .bind(day)
    .bind(i64::from(res))
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A stored cell.
#[derive(Debug, Clone)]
pub struct StoredCell {
    pub cell: String,
    pub pattern: String,
    pub z: f64,
    pub p: f64,
    pub trend_z: f64,
    pub trend_p: f64,
}

/// The last run's cells in `scope`, with the run's description.
#[derive(Debug, Clone)]
pub struct Stored {
    pub run: serde_json::Value,
    pub cells: Vec<StoredCell>,
}

/// The stored result of the last finished run at `res`; a 422 saying why
/// when that run refused.
pub async fn read(db: &Db, scope: &Scope, res: u8) -> Result<Stored> {
    let run = sqlx::query(
        "SELECT run_day, weeks, events, outcome FROM atlas_hotspot_runs
         WHERE res = $1 AND outcome IS NOT NULL ORDER BY run_day DESC LIMIT 1",
    )
    .bind(i64::from(res))
    .fetch_optional(db.pool())
    .await?;
    let Some(run) = run else {
        return Err(Error::InsufficientData(
            "no hot-spot run has finished yet at this resolution (`kudakyar atlas hotspots`, or wait for the nightly run)".into(),
        ));
    };
    let outcome: String = run.try_get("outcome")?;
    if outcome != "ok" {
        return Err(Error::InsufficientData(format!(
            "the last hot-spot run could not classify: {outcome}"
        )));
    }
    let run_day: i64 = run.try_get("run_day")?;
    let mut sql = crate::db::sql::Sql::new(
        "SELECT cell, pattern, z, p, trend_z, trend_p FROM atlas_hotspots WHERE res = ",
    );
    sql.bind(crate::db::sql::Arg::Int(i64::from(res)));
    if let Some(p) = scope.province() {
        sql.push(" AND province = ")
            .bind(crate::db::sql::Arg::Text(p.into()));
    }
    sql.push(" ORDER BY cell");
    let rows = sql.query().fetch_all(db.pool()).await?;
    let cells = rows
        .iter()
        .map(|r| {
            Ok(StoredCell {
                cell: r.try_get("cell")?,
                pattern: r.try_get("pattern")?,
                z: r.try_get("z")?,
                p: r.try_get("p")?,
                trend_z: r.try_get("trend_z")?,
                trend_p: r.try_get("trend_p")?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Stored {
        run: serde_json::json!({
            "day": periods::format_day(run_day),
            "weeks": run.try_get::<Option<i64>, _>("weeks")?,
            "events": run.try_get::<Option<i64>, _>("events")?,
            "k_rings": K_RINGS,
        }),
        cells,
    })
}

/// The nightly run: every hour, the first look of a Tehran day runs it.
pub fn spawn(db: Db, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            // A run reads the rollups: wait until they hold everything queued
            // before now, or a start-up with a backlog (a seed, an import)
            // would store a refusal ("no weeks of data") for the whole day.
            let woke = crate::now_ms();
            loop {
                match super::rollup::caught_up(&db, woke).await {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "reading the atlas queue failed"),
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(CATCH_UP_POLL) => {}
                }
            }
            let today = periods::day_of(crate::now_ms());
            match run(&db, DEFAULT_RES, today, false).await {
                Ok(Outcome::Skipped) => {}
                Ok(outcome) => tracing::info!(?outcome, "nightly hot-spot run"),
                Err(e) => tracing::warn!(error = %e, "the nightly hot-spot run failed"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
    })
}
