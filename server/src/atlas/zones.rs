//! Zoning (پهنه‌بندی): classing areas into low / medium / high / critical.
//!
//! The breaks come from `atlas-stats` ([`atlas_stats::breaks`]): quantiles,
//! equal intervals, Fisher-Jenks natural breaks, or the user's three fixed
//! thresholds. Values are the figures of [`super::query`], or rates per
//! `per` inhabitants when a population table is imported (`kudakyar atlas
//! population FILE.csv`, county code and population; areas without a
//! population get no rate and no class).
//!
//! Breaks can be **frozen per Jalali year** (`POST /api/v1/atlas/zones/freeze`):
//! stored per (year, scope, level, measure, per), and from then on every
//! zoning of a range that starts in that year uses them instead of computing
//! new ones, so a map of Farvardin and one of Esfand are comparable.

use std::collections::BTreeMap;

use atlas_stats::breaks::{self, Level as Zone};
use sqlx::Row;

use crate::db::Db;
use crate::error::{Error, Result};

/// The four classes.
pub const CLASSES: usize = 4;

/// How breaks are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Quantiles,
    Equal,
    Jenks,
    /// Three strictly increasing inner thresholds.
    Fixed(Vec<f64>),
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Quantiles => "quantiles",
            Method::Equal => "equal",
            Method::Jenks => "jenks",
            Method::Fixed(_) => "fixed",
        }
    }
}

/// Natural breaks cost O(k·n²): above this many values (a cell map) the
/// zoning uses quantiles instead, and says so.
pub const JENKS_MAX_VALUES: usize = 5_000;

/// The breaks of these values and the method that made them, or `None`
/// when there is nothing to class. Natural breaks fall back to quantiles
/// when there are fewer distinct values than classes, or more than
/// [`JENKS_MAX_VALUES`] values.
pub fn compute(values: &[f64], method: &Method) -> Option<(&'static str, Vec<f64>)> {
    if values.is_empty() {
        return None;
    }
    let quantiles = || breaks::quantiles(values, CLASSES).ok();
    match method {
        Method::Quantiles => quantiles().map(|b| ("quantiles", b)),
        Method::Equal => breaks::equal_intervals(values, CLASSES)
            .ok()
            .map(|b| ("equal", b)),
        Method::Jenks if values.len() <= JENKS_MAX_VALUES => match breaks::jenks(values, CLASSES) {
            Ok(b) => Some(("jenks", b)),
            Err(_) => quantiles().map(|b| ("quantiles", b)),
        },
        Method::Jenks => quantiles().map(|b| ("quantiles", b)),
        Method::Fixed(t) => breaks::fixed(values, t).ok().map(|b| ("fixed", b)),
    }
}

/// The zone of a value under these breaks.
pub fn zone(value: f64, breaks: &[f64]) -> Zone {
    Zone::from_class(breaks::classify(value, breaks)).unwrap_or(Zone::Critical)
}

pub fn zone_name(z: Zone) -> &'static str {
    match z {
        Zone::Low => "low",
        Zone::Medium => "medium",
        Zone::High => "high",
        Zone::Critical => "critical",
    }
}

/// Persian first: the legend's labels.
pub fn zone_label_fa(z: Zone) -> &'static str {
    match z {
        Zone::Low => "کم",
        Zone::Medium => "متوسط",
        Zone::High => "زیاد",
        Zone::Critical => "بحرانی",
    }
}

/// The legend of a set of breaks: each class with its bounds.
pub fn legend(breaks: &[f64]) -> serde_json::Value {
    let classes: Vec<serde_json::Value> = breaks
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let z = Zone::from_class(i)?;
            Some(serde_json::json!({
                "class": zone_name(z), "label_fa": zone_label_fa(z), "from": w[0], "to": w[1],
            }))
        })
        .collect();
    serde_json::Value::from(classes)
}

/// The population of every county imported.
pub async fn population(db: &Db) -> Result<BTreeMap<String, i64>> {
    let rows = sqlx::query("SELECT county, population FROM atlas_population")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("county")?, r.try_get("population")?)))
        .collect()
}

/// Replaces the population table with `county,population` lines (a header
/// line is skipped); answers how many counties it holds. A bad line fails
/// the whole import, naming its number.
pub async fn import_population(db: &Db, csv: &str) -> Result<usize> {
    let mut rows = Vec::new();
    for (n, line) in csv.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && !line.chars().any(|c| c.is_ascii_digit())) {
            continue;
        }
        let (county, population) = line.split_once(',').ok_or_else(|| {
            Error::BadRequest(format!("line {}: expected county,population", n + 1))
        })?;
        let county = county.trim().trim_matches('"');
        let population: i64 = population
            .trim()
            .trim_matches('"')
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "line {}: population must be a positive whole number",
                    n + 1
                ))
            })?;
        if !crate::geo::is_county_code(county) {
            return Err(Error::BadRequest(format!(
                "line {}: {county:?} is not a county code",
                n + 1
            )));
        }
        rows.push((county.to_string(), population));
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM atlas_population")
        .execute(&mut *tx)
        .await?;
    for (county, population) in &rows {
        sqlx::query(
            "INSERT INTO atlas_population (county, population) VALUES ($1, $2)
             ON CONFLICT (county) DO UPDATE SET population = excluded.population",
        )
        .bind(county)
        .bind(population)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// What frozen breaks are keyed by.
#[derive(Debug, Clone)]
pub struct FrozenKey<'a> {
    pub jalali_year: i32,
    /// `IR` or a province code.
    pub scope: &'a str,
    pub level: &'a str,
    pub measure: &'a str,
    pub per: i64,
}

/// The breaks frozen for this key, with the method that made them.
pub async fn frozen(db: &Db, k: &FrozenKey<'_>) -> Result<Option<(String, Vec<f64>)>> {
    let row = sqlx::query(
        "SELECT method, breaks FROM atlas_frozen_breaks
         WHERE jalali_year = $1 AND scope = $2 AND level = $3 AND measure = $4 AND per = $5",
    )
    .bind(i64::from(k.jalali_year))
    .bind(k.scope)
    .bind(k.level)
    .bind(k.measure)
    .bind(k.per)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let breaks: String = row.try_get("breaks")?;
    Ok(Some((
        row.try_get("method")?,
        serde_json::from_str(&breaks).map_err(anyhow::Error::new)?,
    )))
}

/// Freezes breaks for a key. The first freeze of a key stands: a second one
/// (a retry, or another user) answers the breaks already frozen.
pub async fn freeze(
    db: &Db,
    k: &FrozenKey<'_>,
    method: &str,
    breaks: &[f64],
    by: &str,
) -> Result<(String, Vec<f64>)> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO atlas_frozen_breaks (jalali_year, scope, level, measure, per, method, breaks,
                                          frozen_by, frozen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(i64::from(k.jalali_year))
    .bind(k.scope)
    .bind(k.level)
    .bind(k.measure)
    .bind(k.per)
    .bind(method)
    .bind(serde_json::to_string(breaks).unwrap_or_default())
    .bind(by)
    .bind(crate::now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    frozen(db, k)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("frozen breaks vanished")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_each_method() {
        let v = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 30.0, 31.0, 50.0, 52.0];
        let (name, jenks) = compute(&v, &Method::Jenks).unwrap();
        assert_eq!(name, "jenks");
        assert_eq!(zone(2.0, &jenks), Zone::Low);
        assert_eq!(zone(51.0, &jenks), Zone::Critical);
        let (_, fixed) = compute(&v, &Method::Fixed(vec![5.0, 20.0, 40.0])).unwrap();
        assert_eq!(zone(20.0, &fixed), Zone::Medium);
        assert_eq!(zone(21.0, &fixed), Zone::High);
        // Two distinct values: Jenks cannot make 4 classes, quantiles can.
        assert_eq!(
            compute(&[1.0, 1.0, 2.0], &Method::Jenks).unwrap().0,
            "quantiles"
        );
        let many: Vec<f64> = (0..JENKS_MAX_VALUES + 1).map(|i| i as f64).collect();
        assert_eq!(compute(&many, &Method::Jenks).unwrap().0, "quantiles");
        assert!(compute(&[], &Method::Equal).is_none());
    }
}
