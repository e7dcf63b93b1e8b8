//! Totals per area and period: what a map or a time series reads when no
//! filter on the children's dimensions or on a report's source is asked for
//! (the screens' default, and every map a phone opens first).
//!
//! `atlas_counts` and `atlas_presence` keep a row per day and per dimension
//! (and per child): exact, filterable, and far too many rows to read for a
//! year of every county once the atlas holds millions of events.
//! `atlas_totals` keeps, per area and per **period** — each day, each Jalali
//! week, each Jalali month ([`Grain`]) —
//! - the sums: encounters, reports, the children they reported, incidents;
//! - the distinct children: exact on day rows (`children`), and as a
//!   [`Sketch`] on every row, exact up to 512 children and a HyperLogLog
//!   past that.
//!
//! A read cuts its range into whole months, weeks and days
//! ([`periods::pieces`]: a year is under forty of them) and adds up the rows
//! of each area: sums add, sketches merge. So **distinct children are exact
//! for a single day and area**, and for any union (a range, or a cell that
//! straddles a county line, stored as one row per county) exact up to 512
//! children and otherwise estimated with a relative standard error of
//! [`sketch::RELATIVE_ERROR`] (1.6 %); each figure says which it is, and the
//! answers say so (`distinct_children`).
//!
//! Upkeep is the rollup job's ([`super::rollup`]): its delta of events and
//! presence rows becomes a [`Totals`] delta, written after the presence rows
//! in the same transaction. Sums add; a child who came joins the sketches of
//! the day, week and month; a child who went (a merge, a moved or deleted
//! encounter, a correction) makes those rows' sketches be counted again from
//! `atlas_presence`, since a HyperLogLog cannot take a child away.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::Row;

use super::periods::{self, Grain};
use super::query::{Figure, Filter, Group, Level, Measure};
use super::sketch::{self, Sketch};
use super::subjects::{self, Event, Measures};
use crate::auth::Scope;
use crate::db::sql::{Arg, Sql};
use crate::db::{Backend, Db};
use crate::error::Result;

/// Keys per statement when reading or writing rows (12 parameters a row on
/// write, well under both backends' limits).
const CHUNK: usize = 60;

/// A row of `atlas_totals`, in its key's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TotalKey {
    pub level: String,
    pub grain: Grain,
    pub start: i64,
    pub province: String,
    pub area: String,
    pub county: String,
}

impl TotalKey {
    /// The key's columns, in the table's order, to bind.
    fn args(&self) -> [Arg; 6] {
        [
            Arg::Text(self.level.clone()),
            Arg::Text(self.grain.as_str().into()),
            Arg::Int(self.start),
            Arg::Text(self.province.clone()),
            Arg::Text(self.area.clone()),
            Arg::Text(self.county.clone()),
        ]
    }
}

/// What one round changes in a row.
#[derive(Debug, Default)]
struct Change {
    measures: Measures,
    /// Children who came less those who went (day rows' `children`).
    children: i64,
    /// Hashes of the children who came.
    came: Vec<u64>,
    /// A child went: count the sketch again from the presence rows.
    recount: bool,
}

impl Change {
    fn is_empty(&self) -> bool {
        self.measures.is_zero() && self.children == 0 && self.came.is_empty() && !self.recount
    }
}

/// The change a round of the rollup job makes to `atlas_totals`.
#[derive(Debug, Default)]
pub struct Totals {
    changes: BTreeMap<TotalKey, Change>,
}

/// Where a child is present or an event counted: (level, area, day,
/// province, county).
pub type Place<'a> = (&'a str, &'a str, i64, &'a str, &'a str);

/// The province and county a level's row is kept under. The country and a
/// province are one row each (only national staff read the country, and a
/// province is read whole, by national staff or its own); a county is in
/// one province, and a cell is kept per province and county it reaches
/// into, since staff confined to one read only their part of it.
fn place<'a>(level: &str, province: &'a str, county: &'a str) -> (&'a str, &'a str) {
    match level {
        "country" => ("", ""),
        "province" => (province, ""),
        _ => (province, county),
    }
}

/// The places a child's events put it in, as the totals keep them: the
/// rollup job compares a child's set before and after a change, so a child
/// met in two counties of a province on one day is one child of that
/// province's day.
pub fn presence(events: &[Event]) -> BTreeSet<(String, String, i64, String, String)> {
    events
        .iter()
        .flat_map(|e| {
            subjects::areas(e).into_iter().map(|(level, area)| {
                let (province, county) = place(&level, &e.province, &e.county);
                let (province, county) = (province.to_string(), county.to_string());
                (level, area, e.day, province, county)
            })
        })
        .collect()
}

impl Totals {
    fn change(&mut self, (level, area, day, province, county): Place, grain: Grain) -> &mut Change {
        let (province, county) = place(level, province, county);
        let key = TotalKey {
            level: level.to_string(),
            grain,
            start: grain.start(day),
            province: province.to_string(),
            area: area.to_string(),
            county: county.to_string(),
        };
        self.changes.entry(key).or_default()
    }

    /// Adds (`sign` 1) or takes away (-1) the events' sums.
    pub fn events(&mut self, events: &[Event], sign: i64) {
        for e in events {
            for (level, area) in subjects::areas(e) {
                for grain in Grain::ALL {
                    self.change((&level, &area, e.day, &e.province, &e.county), grain)
                        .measures
                        .add(&e.measures, sign);
                }
            }
        }
    }

    /// The child is now in a place ([`presence`]) and so in its periods.
    pub fn came(&mut self, place: Place, child: &str) {
        let h = sketch::hash(child);
        for grain in Grain::ALL {
            let change = self.change(place, grain);
            change.came.push(h);
            if grain == Grain::Day {
                change.children += 1;
            }
        }
    }

    /// The child is no longer in a place ([`presence`]).
    pub fn went(&mut self, place: Place) {
        for grain in Grain::ALL {
            let change = self.change(place, grain);
            change.recount = true;
            if grain == Grain::Day {
                change.children -= 1;
            }
        }
    }

    /// Writes the change, after the round's presence rows (a recount reads
    /// them). Rows are read, changed and written in key order; on
    /// PostgreSQL the job holds its lock ([`super::rollup`]), so no other
    /// round changes a sketch between the read and the write.
    pub async fn write(&self, tx: &mut crate::db::WriteTx) -> sqlx::Result<()> {
        let changed: Vec<(&TotalKey, &Change)> =
            self.changes.iter().filter(|(_, c)| !c.is_empty()).collect();
        for chunk in changed.chunks(CHUNK) {
            let mut rows = read(tx, chunk.iter().map(|(k, _)| *k)).await?;
            let mut upserts = Vec::new();
            let mut gone = Vec::new();
            for (key, change) in chunk {
                let mut row = rows.remove(*key).unwrap_or_default();
                row.measures.add(&change.measures, 1);
                if change.recount {
                    let (sketch, presence_rows) = recount(tx, key).await?;
                    row.sketch = sketch;
                    row.children = presence_rows;
                } else {
                    row.sketch.extend(change.came.iter().copied());
                    row.children += change.children;
                }
                if row.measures.is_zero() && row.sketch.is_empty() {
                    gone.push(*key);
                } else {
                    upserts.push((*key, row));
                }
            }
            if !upserts.is_empty() {
                let mut sql = Sql::new(
                    "INSERT INTO atlas_totals (level, grain, start, province, area, county,
                         encounters, reports, children_reported, incidents, children, stamp,
                         sketch) VALUES ",
                );
                sql.bind_rows(upserts.iter().map(|(k, row)| {
                    k.args().into_iter().chain([
                        Arg::Int(row.measures.encounters),
                        Arg::Int(row.measures.reports),
                        Arg::Int(row.measures.children_reported),
                        Arg::Int(row.measures.incidents),
                        // Exact on day rows only (see the migration).
                        Arg::OptInt((k.grain == Grain::Day).then_some(row.children)),
                        Arg::Int(new_stamp()),
                        Arg::Bytes(row.sketch.to_bytes()),
                    ])
                }));
                sql.push(
                    " ON CONFLICT (level, grain, start, province, area, county) DO UPDATE SET
                        encounters = excluded.encounters, reports = excluded.reports,
                        children_reported = excluded.children_reported,
                        incidents = excluded.incidents, children = excluded.children,
                        stamp = excluded.stamp, sketch = excluded.sketch",
                );
                sql.query().execute(&mut **tx).await?;
            }
            if !gone.is_empty() {
                let mut sql = Sql::new("DELETE FROM atlas_totals WHERE ");
                keys_in(&mut sql, gone.into_iter());
                sql.query().execute(&mut **tx).await?;
            }
        }
        Ok(())
    }
}

/// A row's stamp for [`super::sketch_cache`]: random, so servers writing
/// the same table need not agree on a counter, and never 0 (the stamp of
/// rows from before stamps).
fn new_stamp() -> i64 {
    loop {
        let stamp: i64 = rand::random();
        if stamp != 0 {
            return stamp;
        }
    }
}

/// A row's content.
#[derive(Debug, Default)]
struct Content {
    measures: Measures,
    /// Distinct children (kept on day rows).
    children: i64,
    sketch: Sketch,
}

/// `(level, grain, start, province, area, county) IN (VALUES (…), …)`.
fn keys_in<'k>(sql: &mut Sql, keys: impl Iterator<Item = &'k TotalKey>) {
    sql.push("(level, grain, start, province, area, county) IN (VALUES ");
    sql.bind_rows(keys.map(TotalKey::args));
    sql.push(")");
}

async fn read<'k>(
    tx: &mut crate::db::WriteTx,
    keys: impl Iterator<Item = &'k TotalKey>,
) -> sqlx::Result<HashMap<TotalKey, Content>> {
    let mut sql = Sql::new(
        "SELECT level, grain, start, province, area, county, encounters, reports,
                children_reported, incidents, children, sketch FROM atlas_totals WHERE ",
    );
    keys_in(&mut sql, keys);
    let mut out = HashMap::new();
    for row in sql.query().fetch_all(&mut **tx).await? {
        let key = key_of(&row)?;
        out.insert(
            key,
            Content {
                measures: measures_of(&row)?,
                children: row.try_get::<Option<i64>, _>("children")?.unwrap_or(0),
                sketch: sketch_of(&row)?,
            },
        );
    }
    Ok(out)
}

/// A row's key, from its key columns.
fn key_of(row: &sqlx::any::AnyRow) -> sqlx::Result<TotalKey> {
    Ok(TotalKey {
        level: row.try_get("level")?,
        grain: Grain::parse(&row.try_get::<String, _>("grain")?).unwrap_or(Grain::Day),
        start: row.try_get("start")?,
        province: row.try_get("province")?,
        area: row.try_get("area")?,
        county: row.try_get("county")?,
    })
}

fn measures_of(row: &sqlx::any::AnyRow) -> sqlx::Result<Measures> {
    Ok(Measures {
        encounters: row.try_get("encounters")?,
        reports: row.try_get("reports")?,
        children_reported: row.try_get("children_reported")?,
        incidents: row.try_get("incidents")?,
    })
}

/// The row's sketch; one that cannot be read (never written by this code)
/// fails the read rather than count nobody.
fn sketch_of(row: &sqlx::any::AnyRow) -> sqlx::Result<Sketch> {
    let bytes: Vec<u8> = row.try_get("sketch")?;
    Sketch::from_bytes(&bytes)
        .ok_or_else(|| sqlx::Error::Decode("an unreadable atlas sketch".into()))
}

/// The sketch of a row's children counted from the presence rows, and how
/// many distinct children they are.
async fn recount(tx: &mut crate::db::WriteTx, key: &TotalKey) -> sqlx::Result<(Sketch, i64)> {
    let mut sql = Sql::new("SELECT child_id FROM atlas_presence WHERE level = ");
    sql.bind(Arg::Text(key.level.clone()));
    sql.push(" AND area = ").bind(Arg::Text(key.area.clone()));
    sql.push(" AND day >= ").bind(Arg::Int(key.start));
    sql.push(" AND day <= ")
        .bind(Arg::Int(key.grain.last(key.start)));
    // Presence rows are kept per province and county at every level.
    if !key.county.is_empty() {
        sql.push(" AND province = ")
            .bind(Arg::Text(key.province.clone()));
        sql.push(" AND county = ")
            .bind(Arg::Text(key.county.clone()));
    }
    let mut children: Vec<String> = sql
        .query_as::<(String,)>()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(c,)| c)
        .collect();
    children.sort_unstable();
    children.dedup();
    let n = children.len() as i64;
    Ok((Sketch::of(children.iter().map(|c| sketch::hash(c))), n))
}

/// Can the totals answer this filter? Not with a filter on the children's
/// dimensions or on the source: those read `atlas_counts` and
/// `atlas_presence` (exact, and slower over long ranges).
pub fn answers(f: &Filter) -> bool {
    f.sex.is_none()
        && f.age_band.is_none()
        && f.nationality.is_none()
        && f.work_type.is_none()
        && f.source.is_none()
}

/// What the rows of one figure add up to.
#[derive(Default)]
struct Sum {
    measures: Measures,
    /// Its rows' keys and stamps, for their sketches.
    rows: Vec<(TotalKey, i64)>,
    /// The exact children of a day row (when the figure is one).
    day_children: Option<i64>,
}

impl Sum {
    /// One day row: its children are exact and its sketch is not needed.
    fn one_day(&self) -> Option<i64> {
        (self.rows.len() == 1)
            .then_some(self.day_children)
            .flatten()
    }
}

/// [`super::query::figures`] from the totals (see [`answers`]).
pub async fn figures(
    db: &Db,
    scope: &Scope,
    level: Level,
    f: &Filter,
    group: &Group,
) -> Result<BTreeMap<String, Figure>> {
    // Which figure each period read goes to.
    let mut owner: HashMap<(Grain, i64), String> = HashMap::new();
    match group {
        Group::Areas => {
            for piece in periods::pieces(f.from, f.to) {
                owner.insert(piece, String::new());
            }
        }
        Group::Periods { starts, .. } => {
            for (i, s) in starts.iter().enumerate() {
                let last = starts.get(i + 1).map_or(f.to, |next| (next - 1).min(f.to));
                for piece in periods::pieces((*s).max(f.from), last) {
                    owner.insert(piece, s.to_string());
                }
            }
        }
    }
    // One area's periods are its rows in `atlas_totals_area`. SQLite's
    // planner, without statistics, takes the primary key instead (level,
    // grain, start: every area's row of each period, then keeps one), as
    // it would cost no second lookup: for a county's daily series, hundreds
    // of times the rows. PostgreSQL's planner has its statistics.
    let index = match (group, db.backend()) {
        (Group::Periods { .. }, Backend::Sqlite) => " INDEXED BY atlas_totals_area",
        _ => "",
    };
    // The rows of some periods, with some columns besides the key.
    let select = |pieces: &BTreeSet<(Grain, i64)>, columns: &str| -> Sql {
        let mut sql = Sql::new("");
        for grain in Grain::ALL {
            let starts: Vec<i64> = pieces
                .iter()
                .filter(|(g, _)| *g == grain)
                .map(|(_, s)| *s)
                .collect();
            if starts.is_empty() {
                continue;
            }
            if !sql.text().is_empty() {
                sql.push(" UNION ALL ");
            }
            sql.push(&format!(
                "SELECT level, grain, start, province, area, county, {columns}
                   FROM atlas_totals{index} WHERE level = "
            ));
            sql.bind(Arg::Text(level.as_str()));
            sql.push(" AND grain = ")
                .bind(Arg::Text(grain.as_str().into()));
            // Days computed here, not text from the request.
            let list = starts
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            sql.push(&format!(" AND start IN ({list})"));
            super::query::where_place(&mut sql, scope, f, group);
        }
        sql
    };
    let every_piece: BTreeSet<(Grain, i64)> = owner.keys().copied().collect();
    let sums_sql = select(
        &every_piece,
        "encounters, reports, children_reported, incidents, children, stamp",
    );
    let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
    if !sums_sql.text().is_empty() {
        for row in sums_sql.query().fetch_all(db.pool()).await? {
            let key = key_of(&row)?;
            let figure = match group {
                Group::Areas => key.area.clone(),
                Group::Periods { .. } => owner
                    .get(&(key.grain, key.start))
                    .cloned()
                    .unwrap_or_default(),
            };
            let sum = sums.entry(figure).or_default();
            sum.measures.add(&measures_of(&row)?, 1);
            sum.day_children = row.try_get::<Option<i64>, _>("children")?;
            sum.rows.push((key, row.try_get("stamp")?));
        }
    }
    let of_children = f.measure.of_children();
    let sketches = if of_children {
        let wanted: Vec<(&TotalKey, i64)> = sums
            .values()
            .filter(|sum| sum.one_day().is_none())
            .flat_map(|sum| sum.rows.iter().map(|(k, stamp)| (k, *stamp)))
            .collect();
        sketches(db, &wanted, |pieces| select(pieces, "stamp, sketch")).await?
    } else {
        HashMap::new()
    };
    let mut out = BTreeMap::new();
    for (key, sum) in sums {
        // One day row's children are exact; a union is the sketch's count.
        let (children, estimated) = match sum.one_day() {
            Some(n) => (n, false),
            None if of_children => {
                let mut union = Sketch::default();
                for (row, _) in &sum.rows {
                    if let Some(sketch) = sketches.get(row) {
                        union.merge(sketch);
                    }
                }
                (union.count(), !union.is_exact())
            }
            None => (0, false),
        };
        let m = sum.measures;
        let (value, basis) = match f.measure {
            Measure::Children => (children, children),
            Measure::Encounters => (m.encounters, children),
            Measure::Reports => (m.reports, m.reports),
            Measure::ChildrenReported => (m.children_reported, m.reports),
            Measure::Incidents => (m.incidents, m.incidents),
        };
        if value != 0 || basis != 0 {
            out.insert(
                key,
                Figure {
                    value,
                    basis,
                    estimated: estimated && of_children,
                },
            );
        }
    }
    Ok(out)
}

/// The sketches of `wanted` rows at their stamps: from the database's
/// [`super::sketch_cache`] where it has them; the rest are read with the
/// rows of their periods (`rows_of`: the read's own query over those
/// periods, selecting `stamp, sketch`) and kept there. Rows change a period
/// at a time — the rollup job writes today's day, week and month of every
/// area it touches — so one query over the periods with a changed row reads
/// them all, where a query by key would take dozens of statements. A row
/// gone since its stamp was read is left out; one written since comes at
/// its new stamp.
async fn sketches(
    db: &Db,
    wanted: &[(&TotalKey, i64)],
    rows_of: impl FnOnce(&BTreeSet<(Grain, i64)>) -> Sql,
) -> Result<HashMap<TotalKey, std::sync::Arc<Sketch>>> {
    let cache = db.sketches();
    let mut out = HashMap::with_capacity(wanted.len());
    let mut stale = BTreeSet::new();
    for ((key, _), cached) in wanted.iter().zip(cache.get(wanted)) {
        match cached {
            Some(sketch) => {
                out.insert((*key).clone(), sketch);
            }
            None => {
                stale.insert((key.grain, key.start));
            }
        }
    }
    if stale.is_empty() {
        return Ok(out);
    }
    let mut read = Vec::new();
    for row in rows_of(&stale).query().fetch_all(db.pool()).await? {
        let sketch = std::sync::Arc::new(sketch_of(&row)?);
        read.push((key_of(&row)?, row.try_get::<i64, _>("stamp")?, sketch));
    }
    for (key, _, sketch) in &read {
        out.entry(key.clone()).or_insert_with(|| sketch.clone());
    }
    cache.put(read);
    Ok(out)
}
