//! Encounters: each time a worker meets a child (time, place, services).
//! Creates are idempotent by client id like child creates, and move the
//! child's `last_seen_at` forward. The next follow-up date is kept in its
//! own column as well, where [`crate::notify::schedule`] finds the due ones.

use kudakyar_api::children::{Encounter, NewEncounter, Verification};
use sqlx::Row;

use super::{store, validate};
use crate::atlas::{rollup, subjects::Kind};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope};
use crate::db::Db;
use crate::db::sql::{Arg, Sql, row_by};
use crate::error::{Error, Result};
use crate::indicators::verification;

/// What [`encounter_from_row`] reads, from `encounters e` (also the export's).
pub(crate) const ENCOUNTER_COLUMNS: &str =
    "e.id, e.child_id, e.worker_id, e.details, e.created_at, e.verification";

pub(crate) fn encounter_from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Encounter> {
    let details: String = row.try_get("details")?;
    let mut details: NewEncounter =
        serde_json::from_str(&details).map_err(|e| sqlx::Error::ColumnDecode {
            index: "details".into(),
            source: e.into(),
        })?;
    // The client id is the record's id: said once, by `Encounter::id`.
    details.id = None;
    Ok(Encounter {
        id: row.try_get("id")?,
        child_id: row.try_get("child_id")?,
        worker_id: row.try_get("worker_id")?,
        details,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        verification: crate::db::vocab::enum_parse(&row.try_get::<String, _>("verification")?)
            .unwrap_or(Verification::Unverified),
    })
}

/// The encounter stored under `id`, when its create had this digest (an
/// identical retry); a 409 when it had another; `None` when there is none.
async fn stored(db: &Db, id: &str, digest: &str) -> Result<Option<Encounter>> {
    match get(db, id).await? {
        Some((existing, stored_digest)) if stored_digest == digest => Ok(Some(existing)),
        Some(_) => Err(Error::Conflict {
            detail: "a different encounter was already stored with this id".into(),
            stored: None,
            conflicts: None,
        }),
        None => Ok(None),
    }
}

async fn get(db: &Db, id: &str) -> sqlx::Result<Option<(Encounter, String)>> {
    let sql =
        format!("SELECT {ENCOUNTER_COLUMNS}, e.create_digest FROM encounters e WHERE e.id = $1");
    row_by(db.pool(), &sql, id, |r| {
        Ok((encounter_from_row(r)?, r.try_get("create_digest")?))
    })
    .await
}

/// Adds an encounter to a child in the caller's scope; `Ok((e, false))` when
/// this was a retry of an encounter already stored. Its verification level
/// is decided by `rules` ([`crate::indicators::verification`]).
pub async fn add(
    db: &Db,
    rules: &verification::Rules,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
    mut new: NewEncounter,
) -> Result<(Encounter, bool)> {
    let now = crate::now_ms();
    let id = match new.id.as_deref().map(uuid::Uuid::parse_str) {
        Some(Ok(u)) => u.hyphenated().to_string(),
        Some(Err(_)) => return Err(Error::field("id", "must be a UUID")),
        None => uuid::Uuid::now_v7().to_string(),
    };
    new.id = Some(id.clone());
    validate::encounter(&new, now)?;
    store::find(db.pool(), &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let digest = store::digest(&(child_id, &new));
    if let Some(existing) = stored(db, &id, &digest).await? {
        return Ok((existing, false));
    }
    let level = verification::assess(db, rules, &actor.user_id, child_id, &new, now).await?;
    let at = crate::rfc3339_to_ms(&new.at).unwrap_or(now);
    // Placed by the imported boundaries; unplaced (NULL) before an import or
    // far outside them, until `kudakyar geo backfill`.
    let place = db
        .boundaries()
        .await?
        .place(new.lat, new.lng)
        .unwrap_or_default();
    let mut tx = db.begin_write().await?;
    if !store::lock_live(&mut tx, child_id).await? {
        // Merged away since the check above.
        return Err(Error::NotFound);
    }
    let inserted = sqlx::query(
        "INSERT INTO encounters (id, child_id, worker_id, at, lat, lng, accuracy_m, province,
                                 county, details, create_digest, created_at, verification,
                                 next_follow_up)
         VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS DOUBLE PRECISION), $8, $9, $10, $11, $12, $13,
                 $14)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(child_id)
    .bind(&actor.user_id)
    .bind(at)
    .bind(new.lat)
    .bind(new.lng)
    .bind(crate::db::sql::nullable_float(new.accuracy_m))
    .bind(place.province.as_deref())
    .bind(place.county.as_deref())
    .bind(serde_json::to_string(&new).unwrap_or_default())
    .bind(&digest)
    .bind(now)
    .bind(crate::db::vocab::enum_str(&level))
    // A column too, for the scheduler's follow-up reminders (rule 3).
    .bind(new.next_follow_up.as_deref())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // A copy of this request was stored meanwhile: answer as to a retry.
        drop(tx);
        return store::as_retry(stored(db, &id, &digest).await?, "encounter", &id);
    }
    sqlx::query(
        "UPDATE children SET last_seen_at = $1
         WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)",
    )
    .bind(at)
    .bind(child_id)
    .execute(&mut *tx)
    .await?;
    rollup::enqueue(&mut tx, Kind::Child, child_id).await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("encounter.create", "child", Some(child_id))
            .with_detail(serde_json::json!({ "encounter": id })),
    )
    .await?;
    tx.commit().await?;
    let (encounter, _) = get(db, &id).await?.ok_or(Error::NotFound)?;
    Ok((encounter, true))
}

/// A child's encounters, newest first (the read is audited).
pub async fn list(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
) -> Result<Vec<Encounter>> {
    let encounters = in_scope(db, &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        db.pool(),
        &Who::from(actor),
        origin,
        Event::new("child.encounters.read", "child", Some(child_id)),
    )
    .await?;
    Ok(encounters)
}

/// A live child's encounters, newest first, if the child is in `scope`
/// (`None`: no such child there). Not audited: callers record the read.
pub async fn in_scope(db: &Db, scope: &Scope, child_id: &str) -> Result<Option<Vec<Encounter>>> {
    // The child (live, in scope) and its encounters in one query: no row at
    // all means no such child here; one row without an encounter, none yet.
    let mut sql = Sql::new(&format!(
        "SELECT {ENCOUNTER_COLUMNS}
         FROM children c LEFT JOIN encounters e ON e.child_id = c.id
         WHERE c.merged_into IS NULL AND c.id = "
    ));
    sql.bind(Arg::Text(child_id.into()));
    store::push_scope(&mut sql, scope);
    sql.push(" ORDER BY e.at DESC, e.id DESC LIMIT 1000");
    let rows = sql.query().fetch_all(db.pool()).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut encounters = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<String>, _>("id")?.is_some() {
            encounters.push(encounter_from_row(row)?);
        }
    }
    Ok(Some(encounters))
}
