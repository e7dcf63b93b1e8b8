//! What each subject adds to the atlas.
//!
//! A *subject* is what a write path changes and queues: a child (its
//! encounters, whose dimensions are the child's), a report, an incident.
//! Its contribution is a list of [`Event`]s — a Tehran day, a place, the H3
//! cell at resolution 9, the dimensions and the measures — read from the raw
//! rows by [`load`]. [`expand`] turns an event into the rows it adds to
//! `atlas_counts` (one per area level: country, province, county, H3
//! resolutions 5–9, each a parent of the resolution-9 cell), so a stored
//! event list (`atlas_applied`) can be taken away exactly as it was added.
//!
//! What counts:
//! - encounters of a live child (a merged one has none: the merge moved them);
//! - reports unless closed as `false_report`, with their `children_count`;
//! - incidents with at least one report that is not a false report, on the
//!   day of their first report.
//!
//! The child's dimensions are the child's *current* ones (a corrected sex
//! moves every past encounter), and the age band is the age in the event's
//! year. Work types are the child's whole set, `|street_vending|begging|`:
//! filtering by one work type counts every event of a child who does that
//! work among others, so the sum over work types exceeds the total.

use std::collections::{BTreeMap, HashMap};

use h3o::{CellIndex, LatLng, Resolution};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::periods;
use crate::db::sql::Sql;

/// The resolutions of H3 cells kept.
pub const H3_RESOLUTIONS: std::ops::RangeInclusive<u8> = 5..=9;

/// What the queue names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Child,
    Sighting,
    Incident,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Child => "child",
            Kind::Sighting => "sighting",
            Kind::Incident => "incident",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "child" => Kind::Child,
            "sighting" => Kind::Sighting,
            "incident" => Kind::Incident,
            _ => return None,
        })
    }
}

/// A child's dimensions ('' for reports and incidents, which have none).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dims {
    pub sex: String,
    pub age_band: String,
    pub nationality: String,
    pub work_type: String,
}

/// What one event adds, per area it is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures {
    pub encounters: i64,
    pub reports: i64,
    pub children_reported: i64,
    pub incidents: i64,
}

impl Measures {
    pub fn add(&mut self, other: &Measures, sign: i64) {
        self.encounters += sign * other.encounters;
        self.reports += sign * other.reports;
        self.children_reported += sign * other.children_reported;
        self.incidents += sign * other.incidents;
    }

    pub fn is_zero(&self) -> bool {
        *self == Measures::default()
    }
}

/// One encounter, report or incident as the atlas keeps it: no exact point,
/// only its resolution-9 cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub day: i64,
    pub province: String,
    pub county: String,
    /// The H3 cell at resolution 9 (hex), '' when the point has none.
    pub cell: String,
    pub source: String,
    pub dims: Dims,
    pub measures: Measures,
}

/// A row of `atlas_counts` without its measures.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub level: String,
    pub area: String,
    pub day: i64,
    pub province: String,
    pub county: String,
    pub source: String,
    pub dims: Dims,
}

/// The areas an event is in: `(level, area)` from the country to the
/// resolution-5 cell.
pub fn areas(e: &Event) -> Vec<(String, String)> {
    let mut areas = vec![("country".to_string(), "IR".to_string())];
    if !e.province.is_empty() {
        areas.push(("province".into(), e.province.clone()));
    }
    if !e.county.is_empty() {
        areas.push(("county".into(), e.county.clone()));
    }
    if let Ok(cell) = e.cell.parse::<CellIndex>() {
        for res in H3_RESOLUTIONS {
            if let Some(parent) = Resolution::try_from(res).ok().and_then(|r| cell.parent(r)) {
                areas.push((format!("h{res}"), parent.to_string()));
            }
        }
    }
    areas
}

/// The counts rows an event adds.
pub fn expand(e: &Event) -> impl Iterator<Item = (Key, Measures)> + '_ {
    areas(e).into_iter().map(move |(level, area)| {
        (
            Key {
                level,
                area,
                day: e.day,
                province: e.province.clone(),
                county: e.county.clone(),
                source: e.source.clone(),
                dims: e.dims.clone(),
            },
            e.measures,
        )
    })
}

/// Adds (`sign` 1) or takes away (-1) the events' rows.
pub fn accumulate(into: &mut BTreeMap<Key, Measures>, events: &[Event], sign: i64) {
    for e in events {
        for (key, m) in expand(e) {
            into.entry(key).or_default().add(&m, sign);
        }
    }
}

/// The H3 cell (resolution 9) of a point, as text; '' off the globe.
pub fn cell_of(lat: f64, lng: f64) -> String {
    LatLng::new(lat, lng)
        .map(|ll| ll.to_cell(Resolution::Nine).to_string())
        .unwrap_or_default()
}

/// The age band of a child born in `birth_year` during `day`'s year: the
/// bands reports use (0-5, 6-11, 12-14, 15-17), then `18+`, or `unknown`.
pub fn age_band(birth_year: Option<i64>, day: i64) -> &'static str {
    let Some(born) = birth_year else {
        return "unknown";
    };
    match i64::from(periods::date(day).year()) - born {
        ..0 => "unknown",
        0..=5 => "0-5",
        6..=11 => "6-11",
        12..=14 => "12-14",
        15..=17 => "15-17",
        _ => "18+",
    }
}

/// The current events of subjects of one kind, by id (a subject with none
/// is left out), read from the raw rows inside the job's transaction, so
/// what it reads is what it applies. One statement per table for all of
/// them: a round applies hundreds of subjects, and on SQLite each statement
/// is a round trip to the driver's thread.
pub async fn load(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
    ids: &[&str],
) -> sqlx::Result<HashMap<String, Vec<Event>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    match kind {
        Kind::Child => children(conn, ids).await,
        Kind::Sighting => sightings(conn, ids).await,
        Kind::Incident => incidents(conn, ids).await,
    }
}

fn text(row: &sqlx::any::AnyRow, column: &str) -> sqlx::Result<String> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .unwrap_or_default())
}

/// `{head} ($1, $2, …){tail}` with the ids bound.
fn with_ids(head: &str, ids: &[&str], tail: &str) -> Sql {
    let mut sql = Sql::new(head);
    sql.bind_list(ids.iter().map(|id| id.to_string()));
    sql.push(tail);
    sql
}

async fn children(
    conn: &mut sqlx::AnyConnection,
    ids: &[&str],
) -> sqlx::Result<HashMap<String, Vec<Event>>> {
    let mut dims: HashMap<String, (Option<i64>, Dims)> = HashMap::new();
    let sql = with_ids(
        "SELECT id, sex, nationality, birth_year, work_types FROM children WHERE id IN ",
        ids,
        " AND merged_into IS NULL",
    );
    for c in sql.query().fetch_all(&mut *conn).await? {
        let of_child = Dims {
            sex: text(&c, "sex")?,
            nationality: text(&c, "nationality")?,
            work_type: text(&c, "work_types")?,
            age_band: String::new(),
        };
        dims.insert(c.try_get("id")?, (c.try_get("birth_year")?, of_child));
    }
    let sql = with_ids(
        "SELECT child_id, at, lat, lng, province, county FROM encounters WHERE child_id IN ",
        ids,
        " ORDER BY child_id, id",
    );
    let mut out: HashMap<String, Vec<Event>> = HashMap::new();
    for r in sql.query().fetch_all(&mut *conn).await? {
        let child: String = r.try_get("child_id")?;
        // A merged child's encounters moved with the merge; none are left
        // for a child not found live, but its rows would not count anyway.
        let Some((birth_year, of_child)) = dims.get(&child) else {
            continue;
        };
        let day = periods::day_of(r.try_get("at")?);
        out.entry(child).or_default().push(Event {
            day,
            province: text(&r, "province")?,
            county: text(&r, "county")?,
            cell: cell_of(r.try_get("lat")?, r.try_get("lng")?),
            source: "encounter".into(),
            dims: Dims {
                age_band: age_band(*birth_year, day).into(),
                ..of_child.clone()
            },
            measures: Measures {
                encounters: 1,
                ..Measures::default()
            },
        });
    }
    Ok(out)
}

async fn sightings(
    conn: &mut sqlx::AnyConnection,
    ids: &[&str],
) -> sqlx::Result<HashMap<String, Vec<Event>>> {
    let sql = with_ids(
        "SELECT id, source, seen_at, lat, lng, province, county, children_count FROM sightings
         WHERE id IN ",
        ids,
        " AND state <> 'false_report'",
    );
    let mut out = HashMap::new();
    for r in sql.query().fetch_all(&mut *conn).await? {
        let event = Event {
            day: periods::day_of(r.try_get("seen_at")?),
            province: text(&r, "province")?,
            county: text(&r, "county")?,
            cell: cell_of(r.try_get("lat")?, r.try_get("lng")?),
            source: text(&r, "source")?,
            dims: Dims::default(),
            measures: Measures {
                reports: 1,
                children_reported: r.try_get::<i64, _>("children_count")?,
                ..Measures::default()
            },
        };
        out.insert(r.try_get("id")?, vec![event]);
    }
    Ok(out)
}

async fn incidents(
    conn: &mut sqlx::AnyConnection,
    ids: &[&str],
) -> sqlx::Result<HashMap<String, Vec<Event>>> {
    let sql = with_ids(
        "SELECT i.id, i.first_seen_at, i.lat, i.lng, i.province, i.county FROM incidents i
         WHERE i.id IN ",
        ids,
        " AND EXISTS (SELECT 1 FROM sightings s
                      WHERE s.incident_id = i.id AND s.state <> 'false_report')",
    );
    let mut out = HashMap::new();
    for r in sql.query().fetch_all(&mut *conn).await? {
        let event = Event {
            day: periods::day_of(r.try_get("first_seen_at")?),
            province: text(&r, "province")?,
            county: text(&r, "county")?,
            cell: cell_of(r.try_get("lat")?, r.try_get("lng")?),
            source: "incident".into(),
            dims: Dims::default(),
            measures: Measures {
                incidents: 1,
                ..Measures::default()
            },
        };
        out.insert(r.try_get("id")?, vec![event]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_counts_once_per_level() {
        let e = Event {
            day: 20_000,
            province: "IR-23".into(),
            county: "Q1".into(),
            cell: cell_of(35.6892, 51.3890),
            source: "encounter".into(),
            dims: Dims::default(),
            measures: Measures {
                encounters: 1,
                ..Measures::default()
            },
        };
        let levels: Vec<String> = areas(&e).into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            levels,
            [
                "country", "province", "county", "h5", "h6", "h7", "h8", "h9"
            ]
        );
        let mut sum = BTreeMap::new();
        accumulate(&mut sum, std::slice::from_ref(&e), 1);
        accumulate(&mut sum, std::slice::from_ref(&e), -1);
        assert!(sum.values().all(Measures::is_zero));
    }

    #[test]
    fn age_bands_in_the_events_year() {
        let day = periods::parse_day("2026-06-01").unwrap();
        assert_eq!(age_band(Some(2016), day), "6-11");
        assert_eq!(age_band(Some(2014), day), "12-14");
        assert_eq!(age_band(Some(2000), day), "18+");
        assert_eq!(age_band(None, day), "unknown");
    }
}
