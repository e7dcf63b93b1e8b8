//! Reading the materialised figures for the API, the CSV exports and the
//! quarterly report: the caller's query checked field by field, the area
//! held to the caller's scope (404 outside it, as everywhere), and counts of
//! fewer than 5 children suppressed below national_admin
//! ([`policy::sees_count`]).

use std::collections::BTreeMap;

use kudakyar_api::indicators::{
    CohortItem, CohortTable, FigureValue, IndicatorItem, IndicatorSeries, Suppressed,
    WorkerIndicators, WorkerTable,
};
use kudakyar_api::users::Role;
use sqlx::Row;
use time::Date;

use super::definitions::Indicator;
use super::period::{self, Quarter};
use crate::auth::policy::{self, WorkerFigures};
use crate::auth::{Actor, Scope};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::error::{Error, Result, Validator};

/// The longest period one request may span.
const MAX_DAYS: i64 = 5 * 366;

/// An area as the tables name it: `IR`, `IR-23` or `IR-23/2301`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub province: Option<String>,
    pub county: Option<String>,
}

impl Area {
    pub fn text(&self) -> String {
        match (&self.province, &self.county) {
            (None, _) => "IR".into(),
            (Some(p), None) => p.clone(),
            (Some(p), Some(c)) => format!("{p}/{c}"),
        }
    }

    /// The caller's whole scope as an area.
    pub fn of_scope(scope: &Scope) -> Area {
        Area {
            province: scope.province().map(String::from),
            county: scope.county().map(String::from),
        }
    }

    fn parse(s: &str) -> Option<Area> {
        if s == "IR" {
            return Some(Area {
                province: None,
                county: None,
            });
        }
        let (p, c) = match s.split_once('/') {
            Some((p, c)) => (p, Some(c)),
            None => (s, None),
        };
        (crate::geo::is_province_code(p) && c.is_none_or(crate::geo::is_county_code)).then(|| {
            Area {
                province: Some(p.to_string()),
                county: c.map(String::from),
            }
        })
    }
}

/// `area` checked (422 `area` when malformed), the caller's scope when absent.
pub fn area(v: &mut Validator, area: Option<&str>, scope: &Scope) -> Option<Area> {
    match area {
        None => Some(Area::of_scope(scope)),
        Some(s) => {
            let parsed = Area::parse(s);
            v.check(
                parsed.is_some(),
                "area",
                "must be IR, a province IR-00…IR-30 or a county IR-xx/code",
            );
            parsed
        }
    }
}

/// 404 unless the caller's scope covers the whole of `area`.
pub fn in_scope(scope: &Scope, area: &Area) -> Result<()> {
    let covered = match scope {
        Scope::National => true,
        _ => {
            area.province.is_some()
                && scope.covers(area.province.as_deref(), area.county.as_deref())
        }
    };
    if covered {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The days asked for: `from`/`to` (`YYYY-MM-DD`) or a Jalali `quarter`;
/// `None` for the latest materialised day.
pub fn period(
    v: &mut Validator,
    from: Option<&str>,
    to: Option<&str>,
    quarter: Option<&str>,
) -> Option<(Date, Date)> {
    let mut day = |field: &str, s: Option<&str>| {
        let d = s.map(period::parse_day);
        v.check(d != Some(None), field, "must be a date YYYY-MM-DD");
        d.flatten()
    };
    let (from_day, to_day) = (day("from", from), day("to", to));
    if let Some(q) = quarter {
        let Some(q) = Quarter::parse(q) else {
            v.add(
                "quarter",
                "must be a Jalali quarter YYYY-QN with N 1–4, e.g. 1405-Q2",
            );
            return None;
        };
        if from.is_some() || to.is_some() {
            v.add("quarter", "give a quarter or from/to, not both");
            return None;
        }
        return Some((q.first_day(), q.last_day()));
    }
    match (from_day, to_day, from.is_some() || to.is_some()) {
        (_, _, false) => None,
        (Some(f), Some(t), _) => {
            if t < f {
                v.add("to", "must not be before from");
            } else if (t - f).whole_days() > MAX_DAYS {
                v.add("from", "the period may span at most 5 years");
            }
            Some((f, t))
        }
        (f, t, _) => {
            // One end given: the other is the same day.
            let d = f.or(t)?;
            if from.is_none() || to.is_none() {
                v.add(
                    if from.is_none() { "from" } else { "to" },
                    "give both from and to",
                );
            }
            Some((d, d))
        }
    }
}

/// The latest day materialised up to `until` (any, when `None`).
pub async fn latest_day(db: &Db, until: Option<Date>) -> Result<Option<String>> {
    let until = until.map_or_else(|| "9999-12-31".to_string(), period::day_string);
    Ok(sqlx::query_scalar(
        "SELECT MAX(day) FROM indicator_runs WHERE finished_at IS NOT NULL AND day <= $1",
    )
    .bind(until)
    .fetch_one(db.pool())
    .await?)
}

fn shown(role: Role, value: f64, children: Option<i64>) -> FigureValue {
    match children {
        Some(c) if !policy::sees_count(role, c) => FigureValue::Suppressed(Suppressed::Suppressed),
        _ => FigureValue::Value(value),
    }
}

/// How an indicator's areas are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// The provinces of the country.
    Province,
    /// The counties of a province.
    County,
}

impl Breakdown {
    /// `breakdown` checked against `area` (422 `breakdown`).
    pub fn parse(v: &mut Validator, s: Option<&str>, area: Option<&Area>) -> Option<Breakdown> {
        let b = match s? {
            "province" => Breakdown::Province,
            "county" => Breakdown::County,
            _ => {
                v.add("breakdown", "must be province or county");
                return None;
            }
        };
        let fits = match (b, area) {
            (Breakdown::Province, Some(a)) => a.province.is_none(),
            (Breakdown::County, Some(a)) => a.province.is_some() && a.county.is_none(),
            (_, None) => true,
        };
        v.check(
            fits,
            "breakdown",
            "province breaks down the country (area=IR), county a province",
        );
        Some(b)
    }
}

/// The figures of `indicator` for `area` (or its parts) over `days`.
pub async fn series(
    db: &Db,
    actor: &Actor,
    indicator: Indicator,
    area: &Area,
    breakdown: Option<Breakdown>,
    days: Option<(Date, Date)>,
) -> Result<IndicatorSeries> {
    let (from, to) = match days {
        Some((f, t)) => (period::day_string(f), period::day_string(t)),
        None => {
            let latest = latest_day(db, None).await?.unwrap_or_default();
            (latest.clone(), latest)
        }
    };
    let mut sql = Sql::new(
        "SELECT day, area, figure, value, children FROM indicator_values
         WHERE indicator = ",
    );
    sql.bind(Arg::Text(indicator.name().into()));
    // One day as an equality, so that the primary key (day, indicator, …)
    // finds its rows; a range of days goes by `indicator_values_series`
    // (indicator, area, day). A planner given a range here may scan every
    // day of the indicator for a breakdown.
    if from == to {
        sql.push(" AND day = ").bind(Arg::Text(from.clone()));
    } else {
        sql.push(" AND day >= ").bind(Arg::Text(from.clone()));
        sql.push(" AND day <= ").bind(Arg::Text(to.clone()));
    }
    match breakdown {
        None => {
            sql.push(" AND area = ").bind(Arg::Text(area.text()));
        }
        Some(Breakdown::Province) => {
            sql.push(" AND area LIKE 'IR-%' AND area NOT LIKE '%/%'");
        }
        Some(Breakdown::County) => {
            sql.push(" AND area LIKE ")
                .bind(Arg::Text(format!("{}/%", area.text())));
        }
    }
    sql.push(" ORDER BY day, area, figure");
    let rows = sql.query().fetch_all(db.pool()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(IndicatorItem {
            day: r.try_get("day")?,
            area: r.try_get("area")?,
            figure: r.try_get("figure")?,
            value: shown(actor.role, r.try_get("value")?, r.try_get("children")?),
        });
    }
    Ok(IndicatorSeries {
        indicator: indicator.name().into(),
        formula: indicator.formula().into(),
        area: area.text(),
        from,
        to,
        items,
    })
}

/// Per-worker figures of the latest materialised day up to `day`, for the
/// workers the caller may see ([`policy::worker_figures`]) within `area`.
pub async fn workers(
    db: &Db,
    actor: &Actor,
    day: Option<Date>,
    area: &Area,
) -> Result<WorkerTable> {
    let Some(day) = latest_day(db, day).await? else {
        return Ok(WorkerTable {
            day: None,
            items: Vec::new(),
        });
    };
    let mut sql = Sql::new(
        "SELECT w.worker_id, u.username, u.display_name, w.province, w.county, w.open_cases,
                w.visits, w.verified, w.overdue_follow_ups
         FROM indicator_workers w JOIN users u ON u.id = w.worker_id WHERE w.day = ",
    );
    sql.bind(Arg::Text(day.clone()));
    if let WorkerFigures::Own(id) = policy::worker_figures(actor) {
        sql.push(" AND w.worker_id = ").bind(Arg::Text(id));
    }
    // The area is within the caller's scope (checked by the caller): it is
    // the narrower filter.
    if let Some(p) = &area.province {
        sql.push(" AND w.province = ").bind(Arg::Text(p.clone()));
    }
    if let Some(c) = &area.county {
        sql.push(" AND w.county = ").bind(Arg::Text(c.clone()));
    }
    sql.push(" ORDER BY u.username");
    let rows = sql.query().fetch_all(db.pool()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let open: i64 = r.try_get("open_cases")?;
        let visits: i64 = r.try_get("visits")?;
        let verified: i64 = r.try_get("verified")?;
        let overdue: i64 = r.try_get("overdue_follow_ups")?;
        items.push(WorkerIndicators {
            worker_id: r.try_get("worker_id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            province: r.try_get("province")?,
            county: r.try_get("county")?,
            open_cases: shown(actor.role, open as f64, Some(open)),
            caseload_bucket: match open {
                0..=9 => "0-9",
                10..=19 => "10-19",
                20..=29 => "20-29",
                _ => "30+",
            }
            .into(),
            visits,
            verified_visits: verified,
            verified_share: if visits > 0 {
                verified as f64 / visits as f64
            } else {
                0.0
            },
            overdue_follow_ups: shown(actor.role, overdue as f64, Some(overdue)),
        });
    }
    Ok(WorkerTable {
        day: Some(day),
        items,
    })
}

/// Cohort groupings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortBreakdown {
    Sex,
    AgeBand,
    Nationality,
}

impl CohortBreakdown {
    pub fn parse(v: &mut Validator, s: Option<&str>) -> Option<CohortBreakdown> {
        match s? {
            "sex" => Some(CohortBreakdown::Sex),
            "age_band" => Some(CohortBreakdown::AgeBand),
            "nationality" => Some(CohortBreakdown::Nationality),
            _ => {
                v.add("breakdown", "must be sex, age_band or nationality");
                None
            }
        }
    }

    fn column(self) -> &'static str {
        match self {
            CohortBreakdown::Sex => "sex",
            CohortBreakdown::AgeBand => "age_band",
            CohortBreakdown::Nationality => "nationality",
        }
    }
}

/// Outcomes by registration cohort (one `quarter`, or all) for `area` (the
/// country or a province) as of the latest materialised day up to `day`.
pub async fn cohorts(
    db: &Db,
    actor: &Actor,
    day: Option<Date>,
    quarter: Option<Quarter>,
    area: &Area,
    breakdown: Option<CohortBreakdown>,
) -> Result<CohortTable> {
    let Some(day) = latest_day(db, day).await? else {
        return Ok(CohortTable {
            day: None,
            items: Vec::new(),
        });
    };
    // Without a breakdown one group, named by a constant (which PostgreSQL
    // will not group by).
    let (group, grouped) = match breakdown {
        Some(b) => (b.column(), format!(", {}", b.column())),
        None => ("''", String::new()),
    };
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
    let mut sql = Sql::new(&format!(
        "SELECT cohort, {group} AS grp, months, outcome, CAST(SUM(children) AS BIGINT) AS children
         FROM indicator_cohorts WHERE day = "
    ));
    sql.bind(Arg::Text(day.clone()));
    if let Some(q) = quarter {
        sql.push(" AND cohort = ").bind(Arg::Text(q.to_string()));
    }
    if let Some(p) = &area.province {
        sql.push(" AND province = ").bind(Arg::Text(p.clone()));
    }
    sql.push(&format!(
        " GROUP BY cohort{grouped}, months, outcome ORDER BY cohort, grp, months, outcome"
    ));
    let rows = sql.query().fetch_all(db.pool()).await?;
    let mut cells: Vec<(String, String, i64, String, i64)> = Vec::with_capacity(rows.len());
    let mut totals: BTreeMap<(String, String, i64), i64> = BTreeMap::new();
    for r in rows {
        let cell: (String, String, i64, String, i64) = (
            r.try_get("cohort")?,
            r.try_get("grp")?,
            r.try_get("months")?,
            r.try_get("outcome")?,
            r.try_get("children")?,
        );
        if cell.3 != "in_school" {
            *totals
                .entry((cell.0.clone(), cell.1.clone(), cell.2))
                .or_default() += cell.4;
        }
        cells.push(cell);
    }
    let items = cells
        .into_iter()
        .map(|(cohort, grp, months, outcome, children)| {
            let total = totals
                .get(&(cohort.clone(), grp.clone(), months))
                .copied()
                .unwrap_or(0);
            let value = shown(actor.role, children as f64, Some(children));
            CohortItem {
                share: (value.value().is_some() && total > 0)
                    .then(|| children as f64 / total as f64),
                cohort,
                province: area.text(),
                group: breakdown.map(|_| grp),
                months,
                outcome,
                children: value,
            }
        })
        .collect();
    Ok(CohortTable {
        day: Some(day),
        items,
    })
}

/// A figure as CSV text: the number, or `suppressed`.
fn csv_value(v: FigureValue) -> String {
    match v {
        FigureValue::Value(x) => format!("{x}"),
        FigureValue::Suppressed(_) => "suppressed".into(),
    }
}

/// CSV (UTF-8 with a byte-order mark, so spreadsheets show Persian).
pub fn series_csv(s: &IndicatorSeries) -> String {
    let mut out = String::from("\u{FEFF}indicator,day,area,figure,value\r\n");
    for i in &s.items {
        out.push_str(&format!(
            "{},{},{},{},{}\r\n",
            s.indicator,
            i.day,
            crate::exports::format::csv_field(&i.area),
            crate::exports::format::csv_field(&i.figure),
            csv_value(i.value)
        ));
    }
    out
}

pub fn workers_csv(t: &WorkerTable) -> String {
    use crate::exports::format::csv_field;
    let mut out = String::from(
        "\u{FEFF}day,worker_id,username,display_name,province,county,open_cases,caseload_bucket,visits,verified_visits,verified_share,overdue_follow_ups\r\n",
    );
    let day = t.day.clone().unwrap_or_default();
    for w in &t.items {
        out.push_str(&format!(
            "{day},{},{},{},{},{},{},{},{},{},{},{}\r\n",
            w.worker_id,
            csv_field(&w.username),
            csv_field(w.display_name.as_deref().unwrap_or("")),
            w.province.as_deref().unwrap_or(""),
            csv_field(w.county.as_deref().unwrap_or("")),
            csv_value(w.open_cases),
            w.caseload_bucket,
            w.visits,
            w.verified_visits,
            w.verified_share,
            csv_value(w.overdue_follow_ups)
        ));
    }
    out
}

pub fn cohorts_csv(t: &CohortTable) -> String {
    let mut out = String::from("\u{FEFF}day,cohort,area,group,months,outcome,children,share\r\n");
    let day = t.day.clone().unwrap_or_default();
    for c in &t.items {
        out.push_str(&format!(
            "{day},{},{},{},{},{},{},{}\r\n",
            c.cohort,
            crate::exports::format::csv_field(&c.province),
            c.group.as_deref().unwrap_or(""),
            c.months,
            c.outcome,
            csv_value(c.children),
            c.share.map(|s| s.to_string()).unwrap_or_default()
        ));
    }
    out
}
