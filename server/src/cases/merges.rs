//! Merging duplicate records, and undoing a merge within 30 days.
//!
//! The survivor takes the duplicate's encounters, photos, iris templates and
//! referrals (remembered, so an undo moves exactly those back) and its names
//! as aliases; the duplicate's open duplicate reviews are closed. Both
//! records' rows are locked first, in id order, so merges, undos and review
//! decisions touching one record run one after the other on PostgreSQL too,
//! and a duplicate merged meanwhile is refused (409), never merged twice.

use kudakyar_api::cases::{Merge, MergeRequest};
use kudakyar_api::children::{Child, ChildFacts};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::atlas::{rollup, subjects::Kind};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope, policy};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::registry::{names, store};

/// How long a merge can be undone.
pub const UNDO_WINDOW_MS: i64 = 30 * 24 * 3_600_000;

fn known(facts: &ChildFacts) -> Vec<String> {
    store::all_names(facts)
        .iter()
        .map(|n| names::normalise(n))
        .collect()
}

/// Writes a new version of a record's facts (merge bookkeeping, not a user edit).
async fn rewrite_facts(
    conn: &mut sqlx::AnyConnection,
    child: &Child,
    facts: &ChildFacts,
    by: &str,
    reason: &str,
    now: i64,
) -> sqlx::Result<()> {
    let json = serde_json::to_string(facts).unwrap_or_default();
    let version = child.version + 1;
    sqlx::query("UPDATE children SET facts = $1, version = $2, updated_at = $3 WHERE id = $4")
        .bind(&json)
        .bind(version)
        .bind(now)
        .bind(&child.id)
        .execute(&mut *conn)
        .await?;
    store::write_version(
        conn,
        &child.id,
        version,
        child.status,
        &json,
        by,
        now,
        Some(reason),
    )
    .await?;
    store::write_grams(conn, &child.id, facts).await
}

/// Locks two children's rows in a fixed order (see [`store::lock_live`]),
/// so that two merges or undos of overlapping pairs wait for each other
/// instead of deadlocking on PostgreSQL.
pub(crate) async fn lock_pair(
    conn: &mut sqlx::AnyConnection,
    a: &str,
    b: &str,
) -> sqlx::Result<()> {
    let (first, second) = if a < b { (a, b) } else { (b, a) };
    for id in [first, second] {
        sqlx::query("UPDATE children SET version = version WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Merges `req.duplicate_id` into `survivor_id`.
pub async fn merge(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    survivor_id: &str,
    req: MergeRequest,
) -> Result<Merge> {
    let mut tx = db.begin_write().await?;
    let merge = merge_in(&mut tx, actor, origin, survivor_id, req).await?;
    tx.commit().await?;
    Ok(merge)
}

/// [`merge`] inside the caller's transaction (a review decided "same child"
/// merges in the transaction that records the decision).
pub async fn merge_in(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    origin: &Origin,
    survivor_id: &str,
    req: MergeRequest,
) -> Result<Merge> {
    policy::decide_cases(actor)?;
    if req.duplicate_id == survivor_id {
        return Err(Error::field(
            "duplicate_id",
            "must be another record than the survivor",
        ));
    }
    let now = crate::now_ms();
    lock_pair(tx, survivor_id, &req.duplicate_id).await?;
    let survivor = store::find(&mut *tx, &actor.scope, survivor_id)
        .await?
        .ok_or(Error::NotFound)?;
    let Some(duplicate) = store::find(&mut *tx, &actor.scope, &req.duplicate_id).await? else {
        if store::in_scope(&mut *tx, &actor.scope, &req.duplicate_id).await? {
            // Merged away meanwhile (two supervisors on one duplicate).
            return Err(Error::Conflict {
                detail: "that record was already merged into another".into(),
                stored: None,
                conflicts: None,
            });
        }
        return Err(Error::field("duplicate_id", "no such record in your scope"));
    };
    let moved = move_all(tx, "encounters", &duplicate.id, &survivor.id).await?;
    let moved_photos = move_all(tx, "child_photos", &duplicate.id, &survivor.id).await?;
    // Iris templates follow the child; galleries resolve owners at search
    // time, so no gallery changes.
    let moved_iris = move_all(tx, "iris_templates", &duplicate.id, &survivor.id).await?;
    // Referrals follow the child too: its open files count once, on the
    // record that lives.
    let moved_referrals = move_all(tx, "referrals", &duplicate.id, &survivor.id).await?;
    // The duplicate's names live on as aliases, so searches for them still
    // find the child.
    let mut facts = survivor.facts.clone();
    let mut seen = known(&facts);
    let mut added = Vec::new();
    for name in store::all_names(&duplicate.facts) {
        let n = names::normalise(&name);
        if !seen.contains(&n) && facts.aliases.len() < crate::registry::validate::MAX_ALIASES {
            seen.push(n);
            facts.aliases.push(name.clone());
            added.push(name);
        }
    }
    let reason = format!("merge of {}", duplicate.registry_code);
    rewrite_facts(tx, &survivor, &facts, &actor.user_id, &reason, now).await?;
    let tombstoned = sqlx::query(
        "UPDATE children SET merged_into = $1, updated_at = $2,
            last_seen_at = NULL WHERE id = $3 AND merged_into IS NULL",
    )
    .bind(&survivor.id)
    .bind(now)
    .bind(&duplicate.id)
    .execute(&mut *tx)
    .await?;
    if tombstoned.rows_affected() != 1 {
        return Err(Error::Conflict {
            detail: "that record was already merged into another".into(),
            stored: None,
            conflicts: None,
        });
    }
    sqlx::query(
        "UPDATE children SET last_seen_at = (SELECT MAX(at) FROM encounters WHERE child_id = $1)
         WHERE id = $1",
    )
    .bind(&survivor.id)
    .execute(&mut *tx)
    .await?;
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO child_merges (id, survivor_id, duplicate_id, moved_encounters, moved_photos,
                                   moved_iris, moved_referrals, added_aliases, reason, merged_by,
                                   merged_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&survivor.id)
    .bind(&duplicate.id)
    .bind(serde_json::to_string(&moved).unwrap_or_default())
    .bind(serde_json::to_string(&moved_photos).unwrap_or_default())
    .bind(serde_json::to_string(&moved_iris).unwrap_or_default())
    .bind(serde_json::to_string(&moved_referrals).unwrap_or_default())
    .bind(serde_json::to_string(&added).unwrap_or_default())
    .bind(req.reason.as_deref())
    .bind(&actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // The duplicate's open reviews are settled by this merge.
    crate::biometrics::reviews::close_for_merge(
        tx,
        &id,
        &survivor.id,
        &duplicate.id,
        &actor.user_id,
        now,
    )
    .await?;
    let who = Who::from(actor);
    let detail =
        serde_json::json!({"merge": id, "survivor": survivor.id, "duplicate": duplicate.id});
    for child in [&survivor.id, &duplicate.id] {
        // The encounters moved: the atlas counts them for the survivor.
        rollup::enqueue(tx, Kind::Child, child).await?;
        audit::record(
            &mut *tx,
            &who,
            origin,
            Event::new("child.merge", "child", Some(child)).with_detail(detail.clone()),
        )
        .await?;
    }
    get(tx, &id).await?.ok_or(Error::NotFound)
}

/// Undoes a merge: the duplicate lives again with its encounters; the aliases
/// it brought are removed from the survivor.
pub async fn undo(db: &Db, actor: &Actor, origin: &Origin, merge_id: &str) -> Result<Merge> {
    policy::decide_cases(actor)?;
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let merge = get(&mut tx, merge_id).await?.ok_or(Error::NotFound)?;
    lock_pair(&mut tx, &merge.survivor_id, &merge.duplicate_id).await?;
    let survivor = store::find(&mut *tx, &actor.scope, &merge.survivor_id)
        .await?
        .ok_or(Error::NotFound)?;
    // The duplicate comes back to life: its scope is checked as well as the
    // survivor's (a tombstone, so not through `store::find`).
    if !store::in_scope(&mut *tx, &actor.scope, &merge.duplicate_id).await? {
        return Err(Error::NotFound);
    }
    // Claimed first, so two undos sent at once undo once.
    let claimed = sqlx::query(
        "UPDATE child_merges SET undone_by = $1, undone_at = $2 WHERE id = $3 AND undone_at IS NULL",
    )
    .bind(&actor.user_id)
    .bind(now)
    .bind(merge_id)
    .execute(&mut *tx)
    .await?;
    if merge.undone_at.is_some() || claimed.rows_affected() != 1 {
        return Err(Error::Conflict {
            detail: "this merge was already undone".into(),
            stored: None,
            conflicts: None,
        });
    }
    let merged_at = crate::rfc3339_to_ms(&merge.merged_at).unwrap_or(0);
    if now - merged_at > UNDO_WINDOW_MS {
        return Err(Error::Conflict {
            detail: "a merge can only be undone within 30 days".into(),
            stored: None,
            conflicts: None,
        });
    }
    move_back(
        &mut tx,
        "encounters",
        &merge.moved_encounters,
        &survivor.id,
        &merge.duplicate_id,
    )
    .await?;
    move_back(
        &mut tx,
        "child_photos",
        &merge.moved_photos,
        &survivor.id,
        &merge.duplicate_id,
    )
    .await?;
    move_back(
        &mut tx,
        "iris_templates",
        &merge.moved_iris,
        &survivor.id,
        &merge.duplicate_id,
    )
    .await?;
    move_back(
        &mut tx,
        "referrals",
        &merge.moved_referrals,
        &survivor.id,
        &merge.duplicate_id,
    )
    .await?;
    let mut facts = survivor.facts.clone();
    facts.aliases.retain(|a| !merge.added_aliases.contains(a));
    rewrite_facts(
        &mut tx,
        &survivor,
        &facts,
        &actor.user_id,
        "merge undone",
        now,
    )
    .await?;
    sqlx::query("UPDATE children SET merged_into = NULL, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&merge.duplicate_id)
        .execute(&mut *tx)
        .await?;
    for id in [&survivor.id, &merge.duplicate_id] {
        sqlx::query(
            "UPDATE children SET last_seen_at = (SELECT MAX(at) FROM encounters WHERE child_id = $1)
             WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let duplicate = store::find(&mut *tx, &Scope::National, &merge.duplicate_id)
        .await?
        .ok_or(Error::NotFound)?;
    store::write_grams(&mut tx, &duplicate.id, &duplicate.facts).await?;
    crate::biometrics::reviews::reopen_after_undo(&mut tx, merge_id, now).await?;
    let who = Who::from(actor);
    for child in [&survivor.id, &merge.duplicate_id] {
        rollup::enqueue(&mut tx, Kind::Child, child).await?;
        audit::record(
            &mut *tx,
            &who,
            origin,
            Event::new("child.merge_undo", "child", Some(child))
                .with_detail(serde_json::json!({"merge": merge_id})),
        )
        .await?;
    }
    let merge = get(&mut tx, merge_id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(merge)
}

/// Re-points every row of `table` (a table with `id` and `child_id`) from one
/// child to another; returns the ids moved, so an undo can move exactly those.
async fn move_all(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    from: &str,
    to: &str,
) -> sqlx::Result<Vec<String>> {
    let ids: Vec<String> =
        sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE child_id = $1"))
            .bind(from)
            .fetch_all(&mut *conn)
            .await?;
    sqlx::query(&format!(
        "UPDATE {table} SET child_id = $1 WHERE child_id = $2"
    ))
    .bind(to)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}

/// Moves the listed rows of `table` back to the child they came from.
async fn move_back(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    ids: &[String],
    from: &str,
    to: &str,
) -> sqlx::Result<()> {
    for id in ids {
        sqlx::query(&format!(
            "UPDATE {table} SET child_id = $1 WHERE id = $2 AND child_id = $3"
        ))
        .bind(to)
        .bind(id)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Where a tombstone points: the survivor of the latest live merge.
pub async fn merged_into(db: &Db, scope: &Scope, id: &str) -> sqlx::Result<Option<String>> {
    let mut sql = crate::db::sql::Sql::new(
        "SELECT c.merged_into FROM children c WHERE c.merged_into IS NOT NULL AND c.id = ",
    );
    sql.bind(crate::db::sql::Arg::Text(id.into()));
    store::push_scope(&mut sql, scope);
    Ok(sql
        .query()
        .fetch_optional(db.pool())
        .await?
        .map(|r| r.get::<String, _>(0)))
}

async fn get(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<Option<Merge>> {
    let sql = format!("SELECT {MERGE_COLUMNS} FROM child_merges WHERE id = $1");
    crate::db::sql::row_by(&mut *conn, &sql, id, merge_from_row).await
}

/// What [`merge_from_row`] reads, from `child_merges`.
const MERGE_COLUMNS: &str = "id, survivor_id, duplicate_id, moved_encounters, moved_photos,
    moved_iris, moved_referrals, added_aliases, reason, merged_by, merged_at, undone_at";

fn merge_from_row(row: &AnyRow) -> sqlx::Result<Merge> {
    // The id lists are stored as JSON arrays of strings.
    let list = |col: &str| -> sqlx::Result<Vec<String>> {
        let text: String = row.try_get(col)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    Ok(Merge {
        id: row.try_get("id")?,
        survivor_id: row.try_get("survivor_id")?,
        duplicate_id: row.try_get("duplicate_id")?,
        moved_encounters: list("moved_encounters")?,
        moved_photos: list("moved_photos")?,
        moved_iris: list("moved_iris")?,
        moved_referrals: list("moved_referrals")?,
        added_aliases: list("added_aliases")?,
        reason: row.try_get("reason")?,
        merged_by: row.try_get("merged_by")?,
        merged_at: crate::ms_to_rfc3339(row.try_get("merged_at")?),
        undone_at: row
            .try_get::<Option<i64>, _>("undone_at")?
            .map(crate::ms_to_rfc3339),
    })
}
