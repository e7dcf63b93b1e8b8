//! Reading the rollups: one figure per area or per period, scoped, filtered,
//! and with what privacy needs to decide suppression.
//!
//! No read touches the raw rows. Without a filter on the children's
//! dimensions or on a report's source (the screens' default), figures come
//! from [`super::totals`]: sums per area and day, Jalali week and month, and
//! the children as sketches — exact for a single day and area, exact up to
//! 512 children for a union of periods or areas, estimated past that with
//! a 1.6 % relative standard error; each [`Figure`] says whether it was
//! estimated and the answers say so (`distinct_children`).
//!
//! With such a filter, sums come from `atlas_counts` and distinct children
//! from `atlas_presence`, **exactly** (`COUNT(DISTINCT child_id)` over the
//! presence set) for every area, period and union of them; over long ranges
//! and many areas that reads many rows (BENCHMARKS.md, atlas).
//!
//! Every figure carries its *basis*: the distinct children behind it (for
//! `children` and `encounters`), or the reports (for `reports` and
//! `children_reported`), or the incidents. A figure whose basis is 1–4 is
//! suppressed when privacy asks (see [`super::privacy`]); bases that small
//! are always exact.
//!
//! Filters: `sex`, `age_band`, `nationality` and `work_type` describe
//! children, so they apply to `children` and `encounters` only (asked with a
//! report measure they are refused, naming the field); `source` (citizen,
//! hotline, worker) applies to the report measures only. A `work_type`
//! filter counts a child who does that work among others (the child's set
//! is `|a|b|`): the figures over several work types overlap.

use std::collections::BTreeMap;

use sqlx::Row;

use super::periods::Bucket;
use crate::auth::Scope;
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::error::Result;

/// Area levels a map is drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Country,
    Province,
    County,
    /// H3 cells of a resolution (5–9).
    Cells(u8),
}

impl Level {
    pub fn as_str(self) -> String {
        match self {
            Level::Country => "country".into(),
            Level::Province => "province".into(),
            Level::County => "county".into(),
            Level::Cells(res) => format!("h{res}"),
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Distinct children met in encounters.
    Children,
    Encounters,
    /// Reports (citizens, the 123 line, workers), false reports excluded.
    Reports,
    /// The children the reports said they saw (their `children_count`).
    ChildrenReported,
    Incidents,
}

impl Measure {
    pub fn parse(s: &str) -> Option<Measure> {
        Some(match s {
            "children" => Measure::Children,
            "encounters" => Measure::Encounters,
            "reports" => Measure::Reports,
            "children_reported" => Measure::ChildrenReported,
            "incidents" => Measure::Incidents,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Children => "children",
            Measure::Encounters => "encounters",
            Measure::Reports => "reports",
            Measure::ChildrenReported => "children_reported",
            Measure::Incidents => "incidents",
        }
    }

    /// Does this measure count children met (so child filters apply)?
    pub fn of_children(self) -> bool {
        matches!(self, Measure::Children | Measure::Encounters)
    }

    /// The `atlas_counts` column summed, and the one that is the basis.
    fn columns(self) -> Option<(&'static str, &'static str)> {
        match self {
            Measure::Children => None,
            Measure::Encounters => Some(("encounters", "encounters")),
            Measure::Reports => Some(("reports", "reports")),
            Measure::ChildrenReported => Some(("children_reported", "reports")),
            Measure::Incidents => Some(("incidents", "incidents")),
        }
    }
}

/// A validated request for figures.
#[derive(Debug, Clone)]
pub struct Filter {
    pub measure: Measure,
    /// Tehran days, inclusive.
    pub from: i64,
    pub to: i64,
    pub sex: Option<String>,
    pub age_band: Option<String>,
    pub nationality: Option<String>,
    pub work_type: Option<String>,
    pub source: Option<String>,
    /// Only the rows of these provinces ('' for unplaced events): a map of
    /// a box reads the provinces the box reaches, not the whole country.
    pub within: Option<Vec<String>>,
}

/// A figure and its basis (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figure {
    pub value: i64,
    pub basis: i64,
    /// Distinct children behind it were estimated (a union of more than
    /// 512), not counted exactly.
    pub estimated: bool,
}

/// What the figures are grouped by.
#[derive(Debug, Clone)]
pub enum Group {
    /// Every area of the level.
    Areas,
    /// One area, by period: the buckets' first days.
    Periods {
        area: String,
        bucket: Bucket,
        starts: Vec<i64>,
    },
}

/// Figures of `level` within `scope`, keyed by area (for [`Group::Areas`])
/// or by the bucket's first day as text (for [`Group::Periods`]).
pub async fn figures(
    db: &Db,
    scope: &Scope,
    level: Level,
    f: &Filter,
    group: &Group,
) -> Result<BTreeMap<String, Figure>> {
    if super::totals::answers(f) {
        return super::totals::figures(db, scope, level, f, group).await;
    }
    let mut out: BTreeMap<String, Figure> = BTreeMap::new();
    // Distinct children: the value of `children`, the basis of `encounters`.
    if f.measure.of_children() {
        let sql = select(
            level,
            f,
            scope,
            group,
            "atlas_presence",
            "COUNT(DISTINCT child_id)",
        );
        for (key, n) in run(db, &sql, group).await? {
            let fig = out.entry(key).or_default();
            fig.basis = n;
            if f.measure == Measure::Children {
                fig.value = n;
            }
        }
    }
    if let Some((value, basis)) = f.measure.columns() {
        // PostgreSQL sums BIGINT as NUMERIC: cast back for the Any driver.
        let sums = if value == basis {
            format!("CAST(SUM({value}) AS BIGINT)")
        } else {
            format!("CAST(SUM({value}) AS BIGINT), CAST(SUM({basis}) AS BIGINT)")
        };
        let sql = select(level, f, scope, group, "atlas_counts", &sums);
        let rows = sql.query().fetch_all(db.pool()).await?;
        for row in &rows {
            let key = key_of(row, group)?;
            let v: i64 = row.try_get::<Option<i64>, _>(1)?.unwrap_or(0);
            let fig = out.entry(key).or_default();
            fig.value = v;
            if value != basis {
                fig.basis = row.try_get::<Option<i64>, _>(2)?.unwrap_or(0);
            } else if !f.measure.of_children() {
                fig.basis = v;
            }
        }
    }
    out.retain(|_, fig| fig.value != 0 || fig.basis != 0);
    Ok(out)
}

/// The SQL of one grouped aggregate over `table`.
fn select(level: Level, f: &Filter, scope: &Scope, group: &Group, table: &str, agg: &str) -> Sql {
    let key = match group {
        Group::Areas => "area".to_string(),
        Group::Periods {
            bucket: Bucket::Day,
            ..
        } => "day".to_string(),
        // The bucket of each day: the first day of the last bucket that
        // starts on or before it (integers computed here, not user text).
        Group::Periods { starts, .. } => {
            let mut case = String::from("CAST(CASE");
            for s in starts.iter().rev() {
                case.push_str(&format!(" WHEN day >= {s} THEN {s}"));
            }
            case.push_str(" END AS BIGINT)");
            case
        }
    };
    let mut sql = Sql::new(&format!(
        "SELECT {key} AS k, {agg} FROM {table} WHERE level = "
    ));
    sql.bind(Arg::Text(level.as_str()));
    sql.push(" AND day >= ").bind(Arg::Int(f.from));
    sql.push(" AND day <= ").bind(Arg::Int(f.to));
    where_place(&mut sql, scope, f, group);
    for (column, value) in [
        ("sex", &f.sex),
        ("age_band", &f.age_band),
        ("nationality", &f.nationality),
    ] {
        if let Some(v) = value {
            sql.push(&format!(" AND {column} = "))
                .bind(Arg::Text(v.clone()));
        }
    }
    if let Some(w) = &f.work_type {
        sql.push(" AND work_type LIKE ")
            .bind(Arg::Text(format!("%|{w}|%")));
    }
    if table == "atlas_counts"
        && let Some(s) = &f.source
    {
        sql.push(" AND source = ").bind(Arg::Text(s.clone()));
    }
    sql.push(" GROUP BY k");
    sql
}

/// The conditions on where, every read's: the area of a time series, the
/// caller's scope, the provinces a box reaches.
pub(super) fn where_place(sql: &mut Sql, scope: &Scope, f: &Filter, group: &Group) {
    if let Group::Periods { area, .. } = group {
        sql.push(" AND area = ").bind(Arg::Text(area.clone()));
    }
    if let Some(p) = scope.province() {
        sql.push(" AND province = ").bind(Arg::Text(p.into()));
    }
    if let Some(c) = scope.county() {
        sql.push(" AND county = ").bind(Arg::Text(c.into()));
    }
    if let Some(provinces) = &f.within {
        sql.push(" AND province IN ")
            .bind_list(provinces.iter().cloned());
    }
}

fn key_of(row: &sqlx::any::AnyRow, group: &Group) -> sqlx::Result<String> {
    Ok(match group {
        Group::Areas => row.try_get::<String, _>(0)?,
        Group::Periods { .. } => row.try_get::<i64, _>(0)?.to_string(),
    })
}

async fn run(db: &Db, sql: &Sql, group: &Group) -> Result<Vec<(String, i64)>> {
    let rows = sql.query().fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| Ok((key_of(row, group)?, row.try_get::<i64, _>(1)?)))
        .collect()
}
