//! Creating, reading and updating child records — the rules above the SQL:
//! idempotent creates, audited reads, updates merged three ways. Searching
//! them is [`super::search`].

use kudakyar_api::children::{Child, ChildFacts, ChildUpdate, NewChild, Status};
use serde_json::Value;

use super::{codes, store, three_way, validate};
use crate::atlas::{rollup, subjects::Kind};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope};
use crate::db::Db;
use crate::error::{Error, Result, Validator};

/// What a create did: made a record, or recognised a retry of an earlier one.
pub enum Created {
    New(Child),
    Existing(Child),
}

fn scope_covers(scope: &Scope, f: &ChildFacts) -> bool {
    scope.covers(Some(&f.home_province), f.home_county.as_deref())
}

/// The assigned worker names a user: a 422 naming the field, not a
/// foreign-key failure the outbox would retry for ever.
async fn assigned_worker_exists<'e, E>(executor: E, facts: &ChildFacts) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let Some(worker) = &facts.assigned_worker else {
        return Ok(());
    };
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(worker)
        .fetch_optional(executor)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::field("assigned_worker", "is not a user")),
    }
}

/// Creates a child. The same client id with the same body again returns the
/// stored record; with another body, a 409 carrying the stored record.
pub async fn create(db: &Db, actor: &Actor, origin: &Origin, new: NewChild) -> Result<Created> {
    let now = crate::now_ms();
    let mut v = Validator::new();
    let id = match &new.id {
        Some(id) => match uuid::Uuid::parse_str(id) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => {
                v.add("id", "must be a UUID");
                String::new()
            }
        },
        None => uuid::Uuid::now_v7().to_string(),
    };
    v.finish()?;
    validate::facts(&new.facts, now)?;
    if !scope_covers(&actor.scope, &new.facts) {
        return Err(Error::Forbidden(
            "that province or county is outside your scope".into(),
        ));
    }
    assigned_worker_exists(db.pool(), &new.facts).await?;
    let digest = store::digest(&new.facts);
    // Twice at most: a concurrent retry may insert between our check and insert.
    for _ in 0..2 {
        if let Some(existing) = store::create_digest(db.pool(), &id).await? {
            let stored = store::find(db.pool(), &actor.scope, &id).await?;
            return match stored {
                Some(child) if existing == digest => Ok(Created::Existing(child)),
                stored => Err(Error::Conflict {
                    detail: "a different record was already created with this id".into(),
                    stored: stored.map(|c| serde_json::to_value(c).unwrap_or(Value::Null)),
                    conflicts: None,
                }),
            };
        }
        match insert(db, actor, origin, &id, &new.facts, &digest, now).await {
            Ok(child) => return Ok(Created::New(child)),
            Err(e) if crate::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Internal(anyhow::anyhow!(
        "create of {id} kept racing"
    )))
}

async fn insert(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    facts: &ChildFacts,
    digest: &str,
    now: i64,
) -> sqlx::Result<Child> {
    let mut tx = db.begin_write().await?;
    let year = codes::jalali_year_at(now);
    let sequence = store::next_sequence(&mut *tx, &facts.home_province, year).await?;
    let code = codes::registry_code(&facts.home_province, year, sequence);
    let facts_json = serde_json::to_string(facts).unwrap_or_default();
    sqlx::query(
        "INSERT INTO children (id, registry_code, status, version, facts, create_digest,
            home_province, home_county, sex, nationality, birth_year, work_types,
            assigned_worker, created_by, created_at, updated_at)
         VALUES ($1, $2, 'active', 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(id)
    .bind(&code)
    .bind(&facts_json)
    .bind(digest)
    .bind(&facts.home_province)
    .bind(facts.home_county.as_deref())
    .bind(crate::db::vocab::enum_str(&facts.sex))
    .bind(crate::db::vocab::enum_str(&facts.nationality))
    .bind(store::birth_year(facts, now))
    .bind(store::work_types_column(facts))
    .bind(facts.assigned_worker.as_deref())
    .bind(&actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    store::write_version(
        &mut tx,
        id,
        1,
        Status::Active,
        &facts_json,
        &actor.user_id,
        now,
        None,
    )
    .await?;
    store::write_grams(&mut tx, id, facts).await?;
    risk_raised(&mut tx, id, &[], facts, &actor.user_id).await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("child.create", "child", Some(id)),
    )
    .await?;
    let child = store::find(&mut *tx, &Scope::National, id).await?;
    tx.commit().await?;
    child.ok_or(sqlx::Error::RowNotFound)
}

/// Rule 7: a record newly flagged with an urgent risk tells the child's
/// supervisors at once (a critical notification), on the write's own
/// transaction. The event names the flags, never the child.
async fn risk_raised(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    before: &[kudakyar_api::children::RiskFlag],
    facts: &ChildFacts,
    actor_id: &str,
) -> sqlx::Result<()> {
    let raised = crate::notify::rules::urgent_flags(before, &facts.risk_flags);
    if raised.is_empty() {
        return Ok(());
    }
    crate::events::record(
        conn,
        crate::events::DomainEvent {
            kind: crate::events::Kind::ChildAtRisk,
            province: Some(&facts.home_province),
            county: facts.home_county.as_deref(),
            subject_type: "child",
            subject_id: id,
            user_id: None,
            actor_id: Some(actor_id),
            detail: Some(serde_json::json!({ "risk_flags": raised })),
        },
    )
    .await
}

/// Reads one child in the caller's scope, auditing the read.
pub async fn read(db: &Db, actor: &Actor, origin: &Origin, id: &str) -> Result<Child> {
    let child = store::find(db.pool(), &actor.scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        db.pool(),
        &Who::from(actor),
        origin,
        Event::new("child.read", "child", Some(id)),
    )
    .await?;
    Ok(child)
}

/// Applies an update made against `base_version`, merging with changes made
/// since by others; a field both changed is a 409 listing both values.
pub async fn update(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    up: ChildUpdate,
) -> Result<Child> {
    let mut v = Validator::new();
    for field in up.changes.keys() {
        v.check(
            three_way::UPDATABLE.contains(&field.as_str()),
            field,
            "is not a field that can be changed",
        );
    }
    v.check(
        !up.changes.is_empty(),
        "changes",
        "must name at least one field",
    );
    v.check(
        up.reason
            .as_deref()
            .is_none_or(|r| r.chars().count() <= 1000),
        "reason",
        "must be at most 1000 characters",
    );
    v.finish()?;
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    // Locked before it is read: on PostgreSQL a concurrent update of the
    // record (often the same update re-sent) then reads what the other
    // wrote, and a re-sent update finds itself applied instead of a conflict.
    if !store::lock_live(&mut tx, id).await? {
        return Err(Error::NotFound);
    }
    let current = store::find(&mut *tx, &actor.scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    if up.base_version < 1 || up.base_version > current.version {
        return Err(Error::field(
            "base_version",
            "is not a version of this record",
        ));
    }
    let base = store::version_doc(&mut tx, id, up.base_version)
        .await?
        .ok_or_else(|| Error::field("base_version", "is not a version of this record"))?;
    let mut current_doc = match serde_json::to_value(&current.facts) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(Error::Internal(anyhow::anyhow!(
                "facts of {id} are not an object"
            )));
        }
    };
    current_doc.insert(
        "status".into(),
        Value::String(crate::db::vocab::enum_str(&current.status)),
    );
    let merged = three_way::merge(&base, &current_doc, &up.changes).map_err(|conflicts| {
        Error::Conflict {
            detail: "someone else changed these fields since your version".into(),
            stored: serde_json::to_value(&current).ok(),
            conflicts: serde_json::to_value(conflicts).ok(),
        }
    })?;
    if merged == current_doc {
        // A retry of an update already applied: nothing to do.
        return Ok(current);
    }
    let mut facts_doc = merged.clone();
    let status_value = facts_doc.remove("status").unwrap_or(Value::Null);
    let status: Status = serde_json::from_value(status_value)
        .map_err(|_| Error::field("status", "is not a known status"))?;
    let facts: ChildFacts = serde_json::from_value(Value::Object(facts_doc))
        .map_err(|e| Error::field("changes", e.to_string()))?;
    validate::facts(&facts, now)?;
    if facts.assigned_worker != current.facts.assigned_worker {
        assigned_worker_exists(&mut *tx, &facts).await?;
    }
    if !scope_covers(&actor.scope, &facts) {
        return Err(Error::Forbidden(
            "that province or county is outside your scope".into(),
        ));
    }
    if status != current.status {
        let mut v = Validator::new();
        v.check(
            current.status.can_become(status),
            "status",
            "this status change is not allowed",
        );
        v.check(
            up.reason.is_some(),
            "reason",
            "is required when the status changes",
        );
        v.finish()?;
    }
    let version = current.version + 1;
    let facts_json = serde_json::to_string(&facts).unwrap_or_default();
    let done = sqlx::query(
        "UPDATE children SET facts = $1, status = $2, version = $3, home_province = $4,
            home_county = $5, sex = $6, nationality = $7, birth_year = $8, work_types = $9,
            assigned_worker = $10, updated_at = $11
         WHERE id = $12 AND version = $13 AND merged_into IS NULL",
    )
    .bind(&facts_json)
    .bind(crate::db::vocab::enum_str(&status))
    .bind(version)
    .bind(&facts.home_province)
    .bind(facts.home_county.as_deref())
    .bind(crate::db::vocab::enum_str(&facts.sex))
    .bind(crate::db::vocab::enum_str(&facts.nationality))
    .bind(store::birth_year(&facts, now))
    .bind(store::work_types_column(&facts))
    .bind(facts.assigned_worker.as_deref())
    .bind(now)
    .bind(id)
    .bind(current.version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(Error::Conflict {
            detail: "the record changed while this update ran; retry".into(),
            stored: None,
            conflicts: None,
        });
    }
    store::write_version(
        &mut tx,
        id,
        version,
        status,
        &facts_json,
        &actor.user_id,
        now,
        up.reason.as_deref(),
    )
    .await?;
    if store::all_names(&facts) != store::all_names(&current.facts) {
        store::write_grams(&mut tx, id, &facts).await?;
    } else if (&facts.home_province, &facts.home_county)
        != (&current.facts.home_province, &current.facts.home_county)
    {
        store::move_grams(&mut tx, id, &facts).await?;
    }
    // Sex, nationality, birth and work types are atlas dimensions of every
    // encounter of the child.
    rollup::enqueue(&mut tx, Kind::Child, id).await?;
    risk_raised(
        &mut tx,
        id,
        &current.facts.risk_flags,
        &facts,
        &actor.user_id,
    )
    .await?;
    let fields: Vec<&String> = up.changes.keys().collect();
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("child.update", "child", Some(id)).with_detail(serde_json::json!({
            "fields": fields, "base_version": up.base_version, "version": version,
        })),
    )
    .await?;
    let child = store::find(&mut *tx, &Scope::National, id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(child)
}
