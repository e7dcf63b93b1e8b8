//! Placing stored rows again: after an import, every encounter (`kudakyar geo
//! backfill`) and every report and incident (`kudakyar sightings relocate`,
//! which `geo backfill` runs too) get the province and county the current
//! boundaries give them.
//!
//! Rows are read in batches by id (a keyset, so a long run holds no
//! connection between batches); each batch's places are computed before its
//! write transaction, so the write lock is held only for the updates, and
//! only rows whose place changed are written.

use sqlx::Row;

use super::{Index, Place};
use crate::atlas::{rollup, subjects::Kind};
use crate::audit::{self, Event, Origin, Who};
use crate::db::Db;
use crate::error::Result;
use crate::sightings::place;

/// A table whose rows have `id`, `lat`, `lng`, `province` and `county`.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub table: &'static str,
    /// Whether the table has an `updated_at` to move on a change.
    pub updated_at: bool,
    /// Whether, with no boundaries imported, the nearest service centre
    /// places a row (reports, for triage) or it stays unplaced (encounters).
    pub centre_fallback: bool,
    /// The atlas subject a moved row changes, and the column naming it: the
    /// rollups follow the new place ([`crate::atlas::rollup`]).
    pub atlas: (Kind, &'static str),
}

pub const ENCOUNTERS: Target = Target {
    table: "encounters",
    updated_at: false,
    centre_fallback: false,
    atlas: (Kind::Child, "child_id"),
};

/// How many rows the targets hold (for a progress bar).
pub async fn total(db: &Db, targets: &[Target]) -> Result<u64> {
    let mut n = 0;
    for target in targets {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", target.table))
            .fetch_one(db.pool())
            .await?;
        n += count as u64;
    }
    Ok(n)
}

/// Places every encounter again; audited once, as the system. Returns how
/// many moved.
pub async fn encounters(db: &Db, batch: i64, mut progress: impl FnMut(u64)) -> Result<u64> {
    let moved = pass(db, ENCOUNTERS, batch, &mut progress).await?;
    audit::record(
        db.pool(),
        &Who::system(),
        &Origin::system(),
        Event::new("geo.backfill", "encounter", None)
            .with_detail(serde_json::json!({ "encounters": moved })),
    )
    .await?;
    Ok(moved)
}

/// One table: how many of its rows changed place; `progress` hears how many
/// rows each batch went through.
pub async fn pass(
    db: &Db,
    target: Target,
    batch: i64,
    progress: &mut impl FnMut(u64),
) -> Result<u64> {
    let boundaries = db.boundaries().await?;
    let table = target.table;
    let (kind, subject) = target.atlas;
    let touch = if target.updated_at {
        ", updated_at = $4"
    } else {
        ""
    };
    let mut after = String::new();
    let mut moved = 0;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT id, lat, lng, province, county, {subject} AS atlas_subject FROM {table}
             WHERE id > $1 ORDER BY id LIMIT $2"
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
            let (lat, lng) = (row.try_get("lat")?, row.try_get("lng")?);
            let now = locate(db, &boundaries, target, lat, lng).await?;
            if now != was {
                changes.push((
                    row.try_get::<String, _>("id")?,
                    row.try_get::<String, _>("atlas_subject")?,
                    now,
                ));
            }
        }
        if !changes.is_empty() {
            let at = crate::now_ms();
            let mut tx = db.begin_write().await?;
            for (id, atlas_subject, place) in &changes {
                let sql =
                    format!("UPDATE {table} SET province = $1, county = $2{touch} WHERE id = $3");
                let query = sqlx::query(&sql)
                    .bind(place.province.as_deref())
                    .bind(place.county.as_deref())
                    .bind(id);
                // PostgreSQL refuses a parameter the statement does not use.
                let query = if target.updated_at {
                    query.bind(at)
                } else {
                    query
                };
                query.execute(&mut *tx).await?;
                rollup::enqueue(&mut tx, kind, atlas_subject).await?;
            }
            tx.commit().await?;
            moved += changes.len() as u64;
        }
        progress(rows.len() as u64);
    }
    Ok(moved)
}

async fn locate(db: &Db, boundaries: &Index, target: Target, lat: f64, lng: f64) -> Result<Place> {
    Ok(if target.centre_fallback {
        place::locate(boundaries, db.pool(), lat, lng).await?
    } else {
        boundaries.place(lat, lng).unwrap_or_default()
    })
}
