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
use std::sync::Arc;

use sqlx::Row;

use super::periods::{self, Grain};
use super::piece_cache::{AreaSum, Checksum, Piece, STAMP_PRIME};
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
    /// them). A row whose children did not change (more encounters of
    /// children already counted there, a report, an incident) only adds
    /// its sums, in the statement that writes it ([`add_sums`]); the rest
    /// are read, changed and written ([`rewrite`]). Both go in key order;
    /// on PostgreSQL the job holds its lock ([`super::rollup`]), so no
    /// other round changes a sketch between the read and the write.
    pub async fn write(&self, tx: &mut crate::db::WriteTx) -> sqlx::Result<()> {
        let (rewritten, added): (Vec<_>, Vec<_>) = self
            .changes
            .iter()
            .filter(|(_, c)| !c.is_empty())
            .partition(|(_, c)| c.recount || !c.came.is_empty());
        for chunk in rewritten.chunks(CHUNK) {
            rewrite(tx, chunk).await?;
        }
        for chunk in added.chunks(CHUNK) {
            add_sums(tx, chunk).await?;
        }
        Ok(())
    }
}

/// `INSERT INTO atlas_totals (…) VALUES ` and one row of values a key.
fn upsert<'k>(
    tx: &crate::db::WriteTx,
    rows: impl Iterator<Item = (&'k TotalKey, Measures, i64, Vec<u8>)>,
) -> Sql {
    let mut sql = Sql::on(
        tx.backend(),
        "INSERT INTO atlas_totals (level, grain, start, province, area, county, encounters,
             reports, children_reported, incidents, children, stamp, sketch) VALUES ",
    );
    sql.bind_rows(rows.map(|(k, m, children, sketch)| {
        k.args().into_iter().chain([
            Arg::Int(m.encounters),
            Arg::Int(m.reports),
            Arg::Int(m.children_reported),
            Arg::Int(m.incidents),
            // Exact on day rows only (see the migration).
            Arg::OptInt((k.grain == Grain::Day).then_some(children)),
            Arg::Int(new_stamp()),
            Arg::Bytes(sketch),
        ])
    }));
    sql
}

/// Rows whose children changed: read, changed, written back (or deleted
/// once they count nothing and nobody).
async fn rewrite(tx: &mut crate::db::WriteTx, chunk: &[(&TotalKey, &Change)]) -> sqlx::Result<()> {
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
        let mut sql = upsert(
            tx,
            upserts
                .iter()
                .map(|(k, row)| (*k, row.measures, row.children, row.sketch.to_bytes())),
        );
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
        let mut sql = Sql::on(tx.backend(), "DELETE FROM atlas_totals WHERE ");
        keys_in(&mut sql, gone.into_iter());
        sql.query().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows whose children did not change: their sums added where they are,
/// no read. A new row starts with nobody (no child came to it); one whose
/// sums went down is deleted if they reached zero with nobody in it, as
/// [`rewrite`] would.
async fn add_sums(tx: &mut crate::db::WriteTx, chunk: &[(&TotalKey, &Change)]) -> sqlx::Result<()> {
    let nobody = Sketch::default().to_bytes();
    let mut sql = upsert(
        tx,
        chunk
            .iter()
            .map(|(k, change)| (*k, change.measures, 0, nobody.clone())),
    );
    sql.push(
        " ON CONFLICT (level, grain, start, province, area, county) DO UPDATE SET
            encounters = atlas_totals.encounters + excluded.encounters,
            reports = atlas_totals.reports + excluded.reports,
            children_reported = atlas_totals.children_reported + excluded.children_reported,
            incidents = atlas_totals.incidents + excluded.incidents,
            stamp = excluded.stamp",
    );
    sql.query().execute(&mut **tx).await?;
    let fell: Vec<&TotalKey> = chunk
        .iter()
        .filter(|(_, c)| {
            let m = &c.measures;
            m.encounters < 0 || m.reports < 0 || m.children_reported < 0 || m.incidents < 0
        })
        .map(|(k, _)| *k)
        .collect();
    if !fell.is_empty() {
        let mut sql = Sql::on(tx.backend(), "DELETE FROM atlas_totals WHERE ");
        keys_in(&mut sql, fell.into_iter());
        sql.push(
            " AND encounters = 0 AND reports = 0 AND children_reported = 0 AND incidents = 0
              AND sketch = ",
        )
        .bind(Arg::Bytes(nobody));
        sql.query().execute(&mut **tx).await?;
    }
    Ok(())
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

/// `(level = … AND grain = … AND …) OR (…)`: the rows of these keys, each
/// found by the primary key. Not `(level, …) IN (VALUES …)`: SQLite plans
/// that as a scan of the whole table (`EXPLAIN QUERY PLAN`), which the job
/// paid for every 60 keys it changed — a cost that grew with the atlas.
fn keys_in<'k>(sql: &mut Sql, keys: impl Iterator<Item = &'k TotalKey>) {
    const COLUMNS: [&str; 6] = ["level", "grain", "start", "province", "area", "county"];
    sql.push("(");
    for (i, key) in keys.enumerate() {
        sql.push(if i == 0 { "(" } else { " OR (" });
        for (j, (column, arg)) in COLUMNS.iter().zip(key.args()).enumerate() {
            if j > 0 {
                sql.push(" AND ");
            }
            sql.push(&format!("{column} = ")).bind(arg);
        }
        sql.push(")");
    }
    sql.push(")");
}

async fn read<'k>(
    tx: &mut crate::db::WriteTx,
    keys: impl Iterator<Item = &'k TotalKey>,
) -> sqlx::Result<HashMap<TotalKey, Content>> {
    let mut sql = Sql::on(
        tx.backend(),
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

/// [`super::query::figures`] from the totals (see [`answers`]): each period
/// of the range from [`super::piece_cache`] when its checksum is the one
/// held there, else read ([`read_pieces`]); then the periods added up per
/// figure.
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
    if owner.is_empty() {
        return Ok(BTreeMap::new());
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
    // `SELECT {head} … {tail}` over the rows of some periods: one SELECT
    // per grain, joined by UNION ALL.
    let select = |pieces: &BTreeSet<(Grain, i64)>, head: &str, tail: &str| -> Sql {
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
                "SELECT {head} FROM atlas_totals{index} WHERE level = "
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
            sql.push(tail);
        }
        sql
    };
    // The shape of the read: which rows a period holds for it.
    let shape: Arc<str> = {
        let mut place = Sql::new("");
        super::query::where_place(&mut place, scope, f, group);
        format!("{} {} {:?}", level.as_str(), place.text(), place.args()).into()
    };
    let every_piece: BTreeSet<(Grain, i64)> = owner.keys().copied().collect();
    let mut checksums: BTreeMap<(Grain, i64), Checksum> = BTreeMap::new();
    let checksum_sql = select(
        &every_piece,
        &format!(
            "grain, start, COUNT(*) AS n, CAST(SUM(stamp % {STAMP_PRIME}) AS BIGINT) AS stamps"
        ),
        " GROUP BY grain, start",
    );
    for row in checksum_sql.query().fetch_all(db.pool()).await? {
        let grain = Grain::parse(&row.try_get::<String, _>("grain")?).unwrap_or(Grain::Day);
        let checksum = Checksum {
            rows: row.try_get("n")?,
            stamps: row.try_get("stamps")?,
        };
        checksums.insert((grain, row.try_get("start")?), checksum);
    }
    // Periods without rows have no checksum and nothing to add.
    let of_children = f.measure.of_children();
    let present: Vec<(Grain, i64)> = checksums.keys().copied().collect();
    let cache = db.pieces();
    let mut pieces = Vec::with_capacity(present.len());
    let mut stale = BTreeSet::new();
    for (period, held) in present.iter().zip(cache.get(&shape, &present)) {
        match held {
            Some(piece)
                if piece.checksum == checksums[period] && (piece.sketches || !of_children) =>
            {
                pieces.push((*period, piece));
            }
            _ => {
                stale.insert(*period);
            }
        }
    }
    if !stale.is_empty() {
        let read = read_pieces(db, &stale, &checksums, of_children, |periods, head| {
            select(periods, head, "")
        })
        .await?;
        cache.put(&shape, read.iter().cloned());
        pieces.extend(read);
    }
    // The periods' areas, by figure.
    // Borrowed names: a year of the country's counties is ≈ 11,000 parts.
    let mut parts: BTreeMap<&str, Vec<&AreaSum>> = BTreeMap::new();
    for (period, piece) in &pieces {
        for part in &piece.areas {
            let figure = match group {
                Group::Areas => part.area.as_str(),
                Group::Periods { .. } => owner.get(period).map_or("", String::as_str),
            };
            parts.entry(figure).or_default().push(part);
        }
    }
    let mut out = BTreeMap::new();
    for (key, parts) in parts {
        let mut m = Measures::default();
        for part in &parts {
            m.add(&part.measures, 1);
        }
        // One day row's children are exact; a union is the sketch's count.
        let one_day = match parts.as_slice() {
            [only] if only.rows == 1 => only.day_children,
            _ => None,
        };
        let (children, estimated) = match one_day {
            Some(n) => (n, false),
            None if of_children => {
                let mut union = Sketch::default();
                for sketch in parts.iter().filter_map(|p| p.sketch.as_ref()) {
                    union.merge(sketch);
                }
                (union.count(), !union.is_exact())
            }
            None => (0, false),
        };
        let (value, basis) = match f.measure {
            Measure::Children => (children, children),
            Measure::Encounters => (m.encounters, children),
            Measure::Reports => (m.reports, m.reports),
            Measure::ChildrenReported => (m.children_reported, m.reports),
            Measure::Incidents => (m.incidents, m.incidents),
        };
        if value != 0 || basis != 0 {
            out.insert(
                key.to_string(),
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

/// Reads the rows of `periods` (`rows_of`: the read's own query over some
/// periods, selecting the given columns) and adds them up per period and
/// area, with their sketches when `of_children`. Each piece is labelled
/// with the checksum read before it, so rows newer than their label are
/// read again next time, never older ones kept.
async fn read_pieces(
    db: &Db,
    periods: &BTreeSet<(Grain, i64)>,
    checksums: &BTreeMap<(Grain, i64), Checksum>,
    of_children: bool,
    rows_of: impl Fn(&BTreeSet<(Grain, i64)>, &str) -> Sql,
) -> Result<Vec<((Grain, i64), Arc<Piece>)>> {
    const KEY: &str = "level, grain, start, province, area, county";
    let mut rows = Vec::new();
    for row in rows_of(
        periods,
        &format!("{KEY}, encounters, reports, children_reported, incidents, children, stamp"),
    )
    .query()
    .fetch_all(db.pool())
    .await?
    {
        rows.push((
            key_of(&row)?,
            row.try_get::<i64, _>("stamp")?,
            measures_of(&row)?,
            row.try_get::<Option<i64>, _>("children")?,
        ));
    }
    let sketches = if of_children {
        let wanted: Vec<(&TotalKey, i64)> = rows.iter().map(|(k, stamp, ..)| (k, *stamp)).collect();
        sketches(db, &wanted, |stale| {
            rows_of(stale, &format!("{KEY}, stamp, sketch"))
        })
        .await?
    } else {
        HashMap::new()
    };
    let mut by_period: BTreeMap<(Grain, i64), BTreeMap<String, AreaSum>> = periods
        .iter()
        .map(|period| (*period, BTreeMap::new()))
        .collect();
    for (key, _, measures, children) in &rows {
        let areas = by_period.entry((key.grain, key.start)).or_default();
        let part = areas.entry(key.area.clone()).or_default();
        part.measures.add(measures, 1);
        part.rows += 1;
        part.day_children = if part.rows == 1 { *children } else { None };
        if let Some(sketch) = sketches.get(key) {
            part.sketch = Some(match part.sketch.take() {
                None => sketch.clone(),
                Some(earlier) => {
                    let mut union = Arc::unwrap_or_clone(earlier);
                    union.merge(sketch);
                    Arc::new(union)
                }
            });
        }
    }
    Ok(by_period
        .into_iter()
        .map(|(period, areas)| {
            let piece = Piece {
                checksum: checksums.get(&period).copied().unwrap_or_default(),
                areas: areas
                    .into_iter()
                    .map(|(area, part)| AreaSum { area, ..part })
                    .collect(),
                sketches: of_children,
            };
            (period, Arc::new(piece))
        })
        .collect())
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
) -> Result<HashMap<TotalKey, Arc<Sketch>>> {
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
        let sketch = Arc::new(sketch_of(&row)?);
        read.push((key_of(&row)?, row.try_get::<i64, _>("stamp")?, sketch));
    }
    for (key, _, sketch) in &read {
        out.entry(key.clone()).or_insert_with(|| sketch.clone());
    }
    cache.put(read);
    Ok(out)
}
