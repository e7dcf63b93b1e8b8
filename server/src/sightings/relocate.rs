//! `kudakyar sightings relocate`: places every report and incident again
//! with [`place::locate`], after centres or boundaries changed (the atlas
//! import), and counts what moved.
//!
//! Rows are read in batches by id (a keyset, so a long run holds no
//! connection between batches); each batch's places are computed before its
//! write transaction, so the write lock is held only for the updates.

use sqlx::Row;

use super::place::{self, Place};
use crate::audit::{self, Event, Origin, Who};
use crate::db::Db;
use crate::error::Result;

/// What a relocation moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relocated {
    pub sightings: u64,
    pub incidents: u64,
}

/// The tables relocated, in order.
const TABLES: [&str; 2] = ["sightings", "incidents"];

/// How many rows a relocation goes through (for a progress bar).
pub async fn total(db: &Db) -> Result<u64> {
    let mut n = 0;
    for table in TABLES {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.pool())
            .await?;
        n += count as u64;
    }
    Ok(n)
}

/// Places every report, then every incident, again; `progress` hears how
/// many rows each batch went through. Audited once, as the system.
pub async fn relocate(db: &Db, batch: i64, mut progress: impl FnMut(u64)) -> Result<Relocated> {
    let sightings = pass(db, TABLES[0], batch, &mut progress).await?;
    let incidents = pass(db, TABLES[1], batch, &mut progress).await?;
    let done = Relocated {
        sightings,
        incidents,
    };
    audit::record(
        db.pool(),
        &Who::system(),
        &Origin::system(),
        Event::new("sightings.relocate", "sighting", None)
            .with_detail(serde_json::json!({"sightings": sightings, "incidents": incidents})),
    )
    .await?;
    Ok(done)
}

/// One table: how many of its rows changed place.
async fn pass(db: &Db, table: &str, batch: i64, progress: &mut impl FnMut(u64)) -> Result<u64> {
    let mut after = String::new();
    let mut moved = 0;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT id, lat, lng, province, county FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(&after)
        .bind(batch)
        .fetch_all(db.pool())
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id")?;
        let mut changes = Vec::new();
        for row in &rows {
            let was = Place {
                province: row.try_get("province")?,
                county: row.try_get("county")?,
            };
            let now = place::locate(db.pool(), row.try_get("lat")?, row.try_get("lng")?).await?;
            if now != was {
                changes.push((row.try_get::<String, _>("id")?, now));
            }
        }
        if !changes.is_empty() {
            let at = crate::now_ms();
            let mut tx = db.begin_write().await?;
            for (id, place) in &changes {
                sqlx::query(&format!(
                    "UPDATE {table} SET province = $1, county = $2, updated_at = $3 WHERE id = $4"
                ))
                .bind(place.province.as_deref())
                .bind(place.county.as_deref())
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            moved += changes.len() as u64;
        }
        progress(rows.len() as u64);
    }
    Ok(moved)
}
