//! Referrals of children to centres: sent → accepted / rejected → completed,
//! every step kept with who and when. Two steps tell someone (rule 6 of
//! [`crate::notify::rules`]), on the step's transaction: a decision tells
//! the referring worker, and a referral that takes its centre over 90 % of
//! its capacity tells the province's staff.

use kudakyar_api::cases::{
    NewReferral, Referral, ReferralEvent, ReferralState, ReferralTransition,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::centres;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, policy};
use crate::db::Db;
use crate::db::sql::rows_by;
use crate::db::vocab::{enum_parse, enum_str};
use crate::error::{Error, Result, Validator};
use crate::events::{self, DomainEvent, Kind};
use crate::registry::store;

/// Which steps a referral may take.
pub fn allowed(from: ReferralState, to: ReferralState) -> bool {
    use ReferralState::*;
    matches!(
        (from, to),
        (Sent, Accepted | Rejected) | (Accepted, Completed)
    )
}

/// Refers a child (in the caller's scope) to a centre of the child's province
/// with free capacity. Idempotent by client id, also when the copies of one
/// request arrive together.
pub async fn create(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    new: NewReferral,
) -> Result<(Referral, bool)> {
    let mut v = Validator::new();
    let id = match new.id.as_deref().map(uuid::Uuid::parse_str) {
        Some(Ok(u)) => u.hyphenated().to_string(),
        Some(Err(_)) => {
            v.add("id", "must be a UUID");
            String::new()
        }
        None => uuid::Uuid::now_v7().to_string(),
    };
    v.check(
        new.note
            .as_deref()
            .is_none_or(|n| n.chars().count() <= 2000),
        "note",
        "must be at most 2000 characters",
    );
    v.finish()?;
    let child = store::find(db.pool(), &actor.scope, &new.child_id)
        .await?
        .ok_or_else(|| Error::field("child_id", "no such child in your scope"))?;
    let digest = store::digest(&(&new.child_id, &new.centre_id, &new.note));
    if let Some(existing) = stored(db, &id, &digest).await? {
        return Ok((existing, false));
    }
    let centre = centres::get(db, &crate::auth::Scope::National, &new.centre_id)
        .await?
        .filter(|c| c.province == child.facts.home_province)
        .ok_or_else(|| Error::field("centre_id", "no such centre in the child's province"))?;
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    if !store::lock_live(&mut tx, &child.id).await? {
        return Err(Error::field("child_id", "no such child in your scope"));
    }
    // The centre's row is locked too, so concurrent referrals to it count
    // its open files one after the other: a full centre takes no more.
    sqlx::query("UPDATE centres SET capacity = capacity WHERE id = $1")
        .bind(&centre.id)
        .execute(&mut *tx)
        .await?;
    let open_before = centres::open_files(&mut tx, &centre.id).await?;
    if open_before >= centre.capacity {
        return Err(Error::field(
            "centre_id",
            "this centre has no free capacity",
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO referrals (id, child_id, centre_id, state, note, create_digest, created_by,
                                created_at, updated_at)
         VALUES ($1, $2, $3, 'sent', $4, $5, $6, $7, $7)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(&child.id)
    .bind(&centre.id)
    .bind(new.note.as_deref())
    .bind(&digest)
    .bind(&actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // A copy of this request was stored meanwhile: answer as to a retry.
        drop(tx);
        return store::as_retry(stored(db, &id, &digest).await?, "referral", &id);
    }
    record_event(
        &mut tx,
        &id,
        ReferralState::Sent,
        new.note.as_deref(),
        &actor.user_id,
        now,
    )
    .await?;
    // The centre's row is locked: exactly one referral sees the crossing.
    if crate::notify::rules::crosses_nearly_full(open_before, open_before + 1, centre.capacity) {
        events::record(
            &mut tx,
            DomainEvent {
                kind: Kind::CentreNearlyFull,
                province: Some(&centre.province),
                county: centre.county.as_deref(),
                subject_type: "centre",
                subject_id: &centre.id,
                user_id: None,
                actor_id: Some(&actor.user_id),
                detail: None,
            },
        )
        .await?;
    }
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("referral.create", "child", Some(&child.id))
            .with_detail(serde_json::json!({"referral": id, "centre": centre.id})),
    )
    .await?;
    tx.commit().await?;
    Ok((get(db, &id).await?.ok_or(Error::NotFound)?, true))
}

/// The referral stored under `id`, when its create had this digest (an
/// identical retry); a 409 when it had another; `None` when there is none.
async fn stored(db: &Db, id: &str, digest: &str) -> Result<Option<Referral>> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT create_digest FROM referrals WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    match stored {
        None => Ok(None),
        Some(d) if d == digest => Ok(get(db, id).await?),
        Some(_) => Err(Error::Conflict {
            detail: "a different referral was stored with this id".into(),
            stored: None,
            conflicts: None,
        }),
    }
}

async fn record_event(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    state: ReferralState,
    note: Option<&str>,
    by: &str,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO referral_events (referral_id, state, note, by_user, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(enum_str(&state))
        .bind(note)
        .bind(by)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves a referral to its next state.
pub async fn transition(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    t: ReferralTransition,
) -> Result<Referral> {
    policy::decide_cases(actor)?;
    let referral = get(db, id).await?.ok_or(Error::NotFound)?;
    let child = store::find(db.pool(), &actor.scope, &referral.child_id)
        .await?
        .ok_or(Error::NotFound)?;
    if referral.state == t.state {
        return Ok(referral);
    }
    if !allowed(referral.state, t.state) {
        return Err(Error::field(
            "state",
            "this referral cannot move to that state",
        ));
    }
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE referrals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(enum_str(&t.state))
    .bind(now)
    .bind(id)
    .bind(enum_str(&referral.state))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        drop(tx);
        let now_stored = get(db, id).await?.ok_or(Error::NotFound)?;
        // The same step sent twice at once (a retry): the one that lost the
        // race answers like the one that made it.
        if now_stored.state == t.state {
            return Ok(now_stored);
        }
        return Err(Error::Conflict {
            detail: "the referral changed meanwhile; reload it".into(),
            stored: None,
            conflicts: None,
        });
    }
    record_event(&mut tx, id, t.state, t.note.as_deref(), &actor.user_id, now).await?;
    if matches!(t.state, ReferralState::Accepted | ReferralState::Rejected) {
        let referrer: String = sqlx::query_scalar("SELECT created_by FROM referrals WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        events::record(
            &mut tx,
            DomainEvent {
                kind: Kind::ReferralDecided,
                province: Some(&child.facts.home_province),
                county: child.facts.home_county.as_deref(),
                subject_type: "referral",
                subject_id: id,
                user_id: Some(&referrer),
                actor_id: Some(&actor.user_id),
                detail: Some(serde_json::json!({ "state": enum_str(&t.state) })),
            },
        )
        .await?;
    }
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("referral.state", "child", Some(&referral.child_id))
            .with_detail(serde_json::json!({"referral": id, "state": enum_str(&t.state)})),
    )
    .await?;
    tx.commit().await?;
    get(db, id).await?.ok_or(Error::NotFound)
}

/// A child's referrals (the child must be in the caller's scope).
pub async fn for_child(db: &Db, actor: &Actor, child_id: &str) -> Result<Vec<Referral>> {
    store::find(db.pool(), &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM referrals WHERE child_id = $1 ORDER BY created_at DESC")
            .bind(child_id)
            .fetch_all(db.pool())
            .await?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(get(db, &id).await?);
    }
    Ok(out)
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Referral>> {
    let sql = format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = $1");
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await? else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM referral_events WHERE referral_id = $1 ORDER BY at, state"
    );
    let history = rows_by(db.pool(), &sql, id, event_from_row).await?;
    referral_from_row(&row, history).map(Some)
}

/// What [`referral_from_row`] reads, from `referrals`.
const REFERRAL_COLUMNS: &str = "id, child_id, centre_id, state, note, created_at, updated_at";

/// A referral with its `history` (read apart, from `referral_events`).
fn referral_from_row(row: &AnyRow, history: Vec<ReferralEvent>) -> sqlx::Result<Referral> {
    Ok(Referral {
        id: row.try_get("id")?,
        child_id: row.try_get("child_id")?,
        centre_id: row.try_get("centre_id")?,
        state: state_of(row)?,
        note: row.try_get("note")?,
        history,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        updated_at: crate::ms_to_rfc3339(row.try_get("updated_at")?),
    })
}

/// What [`event_from_row`] reads, from `referral_events`.
const EVENT_COLUMNS: &str = "state, note, by_user, at";

fn event_from_row(row: &AnyRow) -> sqlx::Result<ReferralEvent> {
    Ok(ReferralEvent {
        state: state_of(row)?,
        note: row.try_get("note")?,
        by: row.try_get("by_user")?,
        at: crate::ms_to_rfc3339(row.try_get("at")?),
    })
}

/// The `state` column; a value this build does not know reads as `sent`.
fn state_of(row: &AnyRow) -> sqlx::Result<ReferralState> {
    let state: String = row.try_get("state")?;
    Ok(enum_parse(&state).unwrap_or(ReferralState::Sent))
}
