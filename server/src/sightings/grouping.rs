//! Grouping reports into incidents at write time: a report joins the
//! incident of the nearest open report within [`INCIDENT_RADIUS_M`] and
//! [`INCIDENT_WINDOW_MS`], else starts one. Ten reports of one junction in an
//! evening become one incident to visit.
//!
//! The decision reads, then writes; two reports of the same place arriving
//! together must not both start an incident. A transaction grouping reports
//! holds [`crate::db::Db::lock_key`] of their counties first (SQLite's write
//! lock, a PostgreSQL advisory lock), so reports of one county are grouped
//! one transaction after the other; within a batch, [`Grouping`] counts the
//! batch's own reports.

use sqlx::Row;

use super::place::Place;
use super::{INCIDENT_RADIUS_M, INCIDENT_WINDOW_MS};
use crate::cases::centres::haversine_km;
use crate::db::sql::{Arg, Sql};

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

/// The key [`crate::db::Db::lock_key`] takes for grouping the reports of a place:
/// intake, and supervisors splitting or joining incidents, take the same.
pub fn lock_key(place: &Place) -> String {
    format!(
        "incident:{}:{}",
        place.province.as_deref().unwrap_or("-"),
        place.county.as_deref().unwrap_or("-")
    )
}

/// The incidents of a batch of new reports, decided together: read the
/// open reports near any of them ([`Grouping::read`], one statement), give
/// each report in turn its incident ([`Grouping::assign`]: the nearest
/// within [`INCIDENT_RADIUS_M`] and [`INCIDENT_WINDOW_MS`], counting the
/// batch's reports before it, else a new one), then write the incidents
/// started or widened ([`Grouping::write`], one statement per 32).
///
/// Call inside the batch's write transaction, holding the [`lock_key`] of
/// every report's place (the writer takes them first): then no report of
/// those counties is grouped elsewhere between the read and the write.
#[derive(Debug, Default)]
pub struct Grouping {
    /// Open reports near the batch's: (incident, lat, lng, seen_at).
    nearby: Vec<(String, f64, f64, i64)>,
    /// Incidents this batch starts or widens, in the order first touched.
    touched: Vec<Touched>,
}

/// An incident as the batch leaves it.
#[derive(Debug)]
struct Touched {
    id: String,
    /// Where it is: a new incident's first report (ignored for one stored).
    place: Place,
    lat: f64,
    lng: f64,
    first_seen_at: i64,
    last_seen_at: i64,
}

impl Grouping {
    /// The open reports within reach of `reports` (lat, lng, seen_at).
    pub async fn read(
        conn: &mut sqlx::AnyConnection,
        reports: &[(f64, f64, i64)],
    ) -> sqlx::Result<Grouping> {
        let mut grouping = Grouping::default();
        // One `SELECT` per report, joined by `UNION ALL`: each reads its
        // own band of latitude by `sightings_nearby` (an `OR` of ranges
        // could send SQLite's planner to a scan). `+seen_at` keeps SQLite's
        // planner, which has no statistics, off the index by time, where a
        // busy evening is thousands of rows to read. SQLite allows 500
        // terms in a compound statement.
        for chunk in reports.chunks(100) {
            let mut sql = Sql::new("");
            for (i, &(lat, lng, seen_at)) in chunk.iter().enumerate() {
                let dlat = INCIDENT_RADIUS_M / M_PER_DEG;
                let dlng = dlat / lat.to_radians().cos().max(0.01);
                if i > 0 {
                    sql.push(" UNION ALL ");
                }
                sql.push(
                    "SELECT incident_id, lat, lng, seen_at FROM sightings WHERE +seen_at BETWEEN ",
                )
                .bind(Arg::Int(seen_at - INCIDENT_WINDOW_MS))
                .push(" AND ")
                .bind(Arg::Int(seen_at + INCIDENT_WINDOW_MS))
                .push(" AND lat BETWEEN ")
                .bind(Arg::Float(lat - dlat))
                .push(" AND ")
                .bind(Arg::Float(lat + dlat))
                .push(" AND lng BETWEEN ")
                .bind(Arg::Float(lng - dlng))
                .push(" AND ")
                .bind(Arg::Float(lng + dlng))
                .push(" AND state IN ('new', 'assigned', 'visited')");
            }
            for row in sql.query().fetch_all(&mut *conn).await? {
                grouping.nearby.push((
                    row.try_get("incident_id")?,
                    row.try_get("lat")?,
                    row.try_get("lng")?,
                    row.try_get("seen_at")?,
                ));
            }
        }
        Ok(grouping)
    }

    /// The incident of a new report at `place`, `lat`/`lng`, `seen_at`: the
    /// nearest open report's (its times widened), or a new one. The report
    /// then counts for the batch's later reports.
    pub fn assign(&mut self, place: &Place, lat: f64, lng: f64, seen_at: i64) -> String {
        let mut nearest: Option<(f64, &str)> = None;
        for (incident, lat2, lng2, seen2) in &self.nearby {
            if (seen_at - seen2).abs() > INCIDENT_WINDOW_MS {
                continue;
            }
            let m = 1000.0 * haversine_km((lat, lng), (*lat2, *lng2));
            if m <= INCIDENT_RADIUS_M && nearest.is_none_or(|(best, _)| m < best) {
                nearest = Some((m, incident));
            }
        }
        let id = match nearest {
            Some((_, id)) => id.to_owned(),
            None => uuid::Uuid::now_v7().to_string(),
        };
        match self.touched.iter_mut().find(|t| t.id == id) {
            Some(t) => {
                t.first_seen_at = t.first_seen_at.min(seen_at);
                t.last_seen_at = t.last_seen_at.max(seen_at);
            }
            None => self.touched.push(Touched {
                id: id.clone(),
                place: place.clone(),
                lat,
                lng,
                first_seen_at: seen_at,
                last_seen_at: seen_at,
            }),
        }
        self.nearby.push((id.clone(), lat, lng, seen_at));
        id
    }

    /// Inserts the incidents the batch started and widens the times of the
    /// stored ones it joined.
    pub async fn write(self, conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
        let now = crate::now_ms();
        for chunk in self.touched.chunks(32) {
            let mut sql = Sql::new(
                "INSERT INTO incidents (id, province, county, lat, lng, first_seen_at,
                                        last_seen_at, created_at, updated_at) VALUES ",
            );
            sql.bind_rows(chunk.iter().map(|t| {
                [
                    Arg::Text(t.id.clone()),
                    Arg::OptText(t.place.province.clone()),
                    Arg::OptText(t.place.county.clone()),
                    Arg::Float(t.lat),
                    Arg::Float(t.lng),
                    Arg::Int(t.first_seen_at),
                    Arg::Int(t.last_seen_at),
                    Arg::Int(now),
                    Arg::Int(now),
                ]
            }))
            .push(
                " ON CONFLICT (id) DO UPDATE SET
                   first_seen_at = CASE WHEN incidents.first_seen_at < excluded.first_seen_at
                                        THEN incidents.first_seen_at ELSE excluded.first_seen_at END,
                   last_seen_at = CASE WHEN incidents.last_seen_at > excluded.last_seen_at
                                       THEN incidents.last_seen_at ELSE excluded.last_seen_at END,
                   updated_at = excluded.updated_at",
            );
            sql.query().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Inserts an incident (also used when supervisors split one).
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    place: &Place,
    lat: f64,
    lng: f64,
    first_seen_at: i64,
    last_seen_at: i64,
) -> sqlx::Result<()> {
    let now = crate::now_ms();
    sqlx::query(
        "INSERT INTO incidents (id, province, county, lat, lng, first_seen_at, last_seen_at,
                                created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id)
    .bind(place.province.as_deref())
    .bind(place.county.as_deref())
    .bind(lat)
    .bind(lng)
    .bind(first_seen_at)
    .bind(last_seen_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
