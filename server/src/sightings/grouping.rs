//! Grouping reports into incidents at write time: a report joins the
//! incident of the nearest open report within [`INCIDENT_RADIUS_M`] and
//! [`INCIDENT_WINDOW_MS`], else starts one. Ten reports of one junction in an
//! evening become one incident to visit.
//!
//! The decision reads, then writes; two reports of the same place arriving
//! together must not both start an incident. The transaction takes
//! [`Db::lock_key`] on the report's county first (SQLite's write lock, a
//! PostgreSQL advisory lock), so reports of one county are grouped one after
//! the other.

use sqlx::Row;

use super::place::Place;
use super::{INCIDENT_RADIUS_M, INCIDENT_WINDOW_MS};
use crate::cases::centres::haversine_km;
use crate::db::Db;

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

/// The key [`Db::lock_key`] takes for grouping the reports of a place:
/// intake, and supervisors splitting or joining incidents, take the same.
pub fn lock_key(place: &Place) -> String {
    format!(
        "incident:{}:{}",
        place.province.as_deref().unwrap_or("-"),
        place.county.as_deref().unwrap_or("-")
    )
}

/// The incident a new report at this place and time belongs to: an
/// existing one (its times widened) or a new one. Call inside the report's
/// write transaction, before inserting the report.
pub async fn incident_for(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    place: &Place,
    lat: f64,
    lng: f64,
    seen_at: i64,
) -> sqlx::Result<String> {
    db.lock_key(conn, &lock_key(place)).await?;
    let dlat = INCIDENT_RADIUS_M / M_PER_DEG;
    let dlng = dlat / lat.to_radians().cos().max(0.01);
    // By place first (`sightings_nearby`): `+seen_at` keeps SQLite's
    // planner, which has no statistics, off the index by time, where a busy
    // evening is thousands of rows to read; PostgreSQL reads it alike.
    let candidates = sqlx::query(
        "SELECT incident_id, lat, lng FROM sightings
         WHERE +seen_at BETWEEN $1 AND $2
           AND lat BETWEEN $3 AND $4 AND lng BETWEEN $5 AND $6
           AND state IN ('new', 'assigned', 'visited')",
    )
    .bind(seen_at - INCIDENT_WINDOW_MS)
    .bind(seen_at + INCIDENT_WINDOW_MS)
    .bind(lat - dlat)
    .bind(lat + dlat)
    .bind(lng - dlng)
    .bind(lng + dlng)
    .fetch_all(&mut *conn)
    .await?;
    let mut nearest: Option<(f64, String)> = None;
    for row in candidates {
        let m = 1000.0 * haversine_km((lat, lng), (row.try_get("lat")?, row.try_get("lng")?));
        if m <= INCIDENT_RADIUS_M && nearest.as_ref().is_none_or(|(best, _)| m < *best) {
            nearest = Some((m, row.try_get("incident_id")?));
        }
    }
    let now = crate::now_ms();
    if let Some((_, id)) = nearest {
        sqlx::query(
            "UPDATE incidents SET
               first_seen_at = CASE WHEN first_seen_at < $1 THEN first_seen_at ELSE $1 END,
               last_seen_at = CASE WHEN last_seen_at > $1 THEN last_seen_at ELSE $1 END,
               updated_at = $2
             WHERE id = $3",
        )
        .bind(seen_at)
        .bind(now)
        .bind(&id)
        .execute(&mut *conn)
        .await?;
        return Ok(id);
    }
    let id = uuid::Uuid::now_v7().to_string();
    create(conn, &id, place, lat, lng, seen_at, seen_at).await?;
    Ok(id)
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
