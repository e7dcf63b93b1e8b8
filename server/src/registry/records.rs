//! Creating, reading, updating and searching child records — the rules above
//! the SQL: idempotent creates, audited reads, merged updates, scoped search.

use kudakyar_api::children::{Child, ChildFacts, ChildUpdate, NewChild, Status};
use serde_json::Value;
use sqlx::Row;

use super::{codes, merge, names, store, validate};
use crate::audit::{self, Event, Who};
use crate::auth::{Actor, Scope};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::http::error::{Error, Result, Validator};
use crate::http::meta::RequestMeta;

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
pub async fn create(db: &Db, actor: &Actor, meta: &RequestMeta, new: NewChild) -> Result<Created> {
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
        match insert(db, actor, meta, &id, &new.facts, &digest, now).await {
            Ok(child) => return Ok(Created::New(child)),
            Err(e) if crate::http::error::unique_violation_field(&e).is_some() => continue,
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
    meta: &RequestMeta,
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
    .bind(store::enum_str(&facts.sex))
    .bind(store::enum_str(&facts.nationality))
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
    audit::record(
        &mut *tx,
        &Who::from(actor),
        meta,
        Event::new("child.create", "child", Some(id)),
    )
    .await?;
    let child = store::find(&mut *tx, &Scope::National, id).await?;
    tx.commit().await?;
    child.ok_or(sqlx::Error::RowNotFound)
}

/// Reads one child in the caller's scope, auditing the read.
pub async fn read(db: &Db, actor: &Actor, meta: &RequestMeta, id: &str) -> Result<Child> {
    let child = store::find(db.pool(), &actor.scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        db.pool(),
        &Who::from(actor),
        meta,
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
    meta: &RequestMeta,
    id: &str,
    up: ChildUpdate,
) -> Result<Child> {
    let mut v = Validator::new();
    for field in up.changes.keys() {
        v.check(
            merge::UPDATABLE.contains(&field.as_str()),
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
        Value::String(store::enum_str(&current.status)),
    );
    let merged =
        merge::merge(&base, &current_doc, &up.changes).map_err(|conflicts| Error::Conflict {
            detail: "someone else changed these fields since your version".into(),
            stored: serde_json::to_value(&current).ok(),
            conflicts: serde_json::to_value(conflicts).ok(),
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
    .bind(store::enum_str(&status))
    .bind(version)
    .bind(&facts.home_province)
    .bind(facts.home_county.as_deref())
    .bind(store::enum_str(&facts.sex))
    .bind(store::enum_str(&facts.nationality))
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
    let fields: Vec<&String> = up.changes.keys().collect();
    audit::record(
        &mut *tx,
        &Who::from(actor),
        meta,
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

/// Search filters, all optional.
#[derive(Debug, Default, Clone)]
pub struct Search {
    /// A name or alias, fuzzy and Persian-normalised.
    pub name: Option<String>,
    pub registry_code: Option<String>,
    pub status: Option<String>,
    pub sex: Option<String>,
    pub nationality: Option<String>,
    pub work_type: Option<String>,
    pub county: Option<String>,
    pub seen_since_ms: Option<i64>,
    /// Inclusive birth-year range from an age band.
    pub birth_years: Option<(i64, i64)>,
    /// Keyset cursor for unnamed listings: (updated_at, id) of the last item.
    pub after: Option<(i64, String)>,
}

/// Lowest trigram similarity that counts as a name match.
pub const NAME_THRESHOLD: f64 = 0.3;

/// A trigram in at least this many children's names is common (the start of
/// «علی», the ending «ی »): looking it up costs more than it narrows.
pub const COMMON_GRAM: i64 = 1000;

/// How many candidates a name search ranks precisely: the best by the
/// number of looked-up trigrams they share with the query.
pub const CANDIDATES: i64 = 500;

/// The query trigrams worth looking up to find every child that can reach
/// [`NAME_THRESHOLD`], and how many of them such a child shares at least.
///
/// A name with similarity `t` to the query shares at least `⌈t·q⌉` of the
/// query's `q` trigrams (from `s / (q + n − s) ≥ t` and `s ≤ n`). So any
/// `⌈t·q⌉ − 1` trigrams may be left out of the lookup without losing a match:
/// every match still shares one of the rest — and `⌈t·q⌉` less the number
/// left out of them. The ones left out are the most common, counted (up to
/// [`COMMON_GRAM`]) in one query.
async fn candidate_grams(db: &Db, grams: Vec<String>) -> sqlx::Result<(Vec<String>, i64)> {
    // The epsilon keeps 0.3 × 10 = 3.0000000000000004 from rounding up to 4.
    let needed = (NAME_THRESHOLD * grams.len() as f64 - 1e-9).ceil().max(1.0) as usize;
    let droppable = needed - 1;
    if droppable == 0 {
        return Ok((grams, needed as i64));
    }
    let mut sql = Sql::new("SELECT ");
    for (i, gram) in grams.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(SELECT COUNT(*) FROM (SELECT 1 FROM child_name_grams WHERE gram = ")
            .bind(Arg::Text(gram.clone()))
            .push(&format!(" LIMIT {COMMON_GRAM}) f{i})"));
    }
    let row = sql.query().fetch_one(db.pool()).await?;
    let mut counted = Vec::with_capacity(grams.len());
    for (i, gram) in grams.into_iter().enumerate() {
        counted.push((row.try_get::<i64, _>(i)?, gram));
    }
    // Most common first; ties in a stable order so equal queries look up equally.
    counted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let common = counted
        .iter()
        .take_while(|(n, _)| *n >= COMMON_GRAM)
        .count();
    let dropped = common.min(droppable);
    let kept = counted
        .into_iter()
        .skip(dropped)
        .map(|(_, gram)| gram)
        .collect();
    Ok((kept, (needed - dropped) as i64))
}

/// Appends `SELECT child_id, shared FROM child_name_grams …`: the children
/// sharing at least `min_shared` of `grams`, counted, inside the scope as far
/// as the trigrams' copies of it tell. Not yet ordered or cut.
fn push_shared_grams(sql: &mut Sql, grams: &[String], min_shared: i64, scope: &Scope) {
    sql.push("SELECT g.child_id, COUNT(*) AS shared FROM child_name_grams g WHERE g.gram IN ")
        .bind_list(grams.iter().cloned());
    store::push_scope_on(sql, "g", scope);
    sql.push(" GROUP BY g.child_id HAVING COUNT(*) >= ")
        .bind(Arg::Int(min_shared));
}

impl Search {
    /// True when nothing but a name is asked for: the candidates can then be
    /// chosen from the trigrams alone.
    fn name_only(&self) -> bool {
        let Search {
            name: _,
            registry_code,
            status,
            sex,
            nationality,
            work_type,
            county,
            seen_since_ms,
            birth_years,
            after: _,
        } = self;
        registry_code.is_none()
            && status.is_none()
            && sex.is_none()
            && nationality.is_none()
            && work_type.is_none()
            && county.is_none()
            && seen_since_ms.is_none()
            && birth_years.is_none()
    }
}

/// Appends the filters of a search (not the name, not the cursor) on `c`.
fn push_filters(sql: &mut Sql, s: &Search) {
    let eq = |sql: &mut Sql, column: &str, value: &Option<String>| {
        if let Some(v) = value {
            sql.push(&format!(" AND c.{column} = "))
                .bind(Arg::Text(v.clone()));
        }
    };
    eq(sql, "registry_code", &s.registry_code);
    eq(sql, "status", &s.status);
    eq(sql, "sex", &s.sex);
    eq(sql, "nationality", &s.nationality);
    eq(sql, "home_county", &s.county);
    if let Some(w) = &s.work_type {
        sql.push(" AND c.work_types LIKE ")
            .bind(Arg::Text(format!("%|{w}|%")));
    }
    if let Some(since) = s.seen_since_ms {
        sql.push(" AND c.last_seen_at >= ").bind(Arg::Int(since));
    }
    if let Some((lo, hi)) = s.birth_years {
        sql.push(" AND c.birth_year BETWEEN ")
            .bind(Arg::Int(lo))
            .push(" AND ")
            .bind(Arg::Int(hi));
    }
}

/// The ids of the (at most [`CANDIDATES`]) children whose trigram rows in
/// the scope share the most of `grams` (at least `min_shared`), ties by id:
/// what `GROUP BY child_id … ORDER BY shared DESC, child_id LIMIT 500` over
/// the trigram rows gives, counted here instead. Each trigram's children
/// come as one comma-separated list, read straight from the index; a
/// database groups tens of thousands of rows by child far slower (on SQLite
/// through a temporary B-tree) than a hash map does.
async fn best_by_trigrams(
    db: &Db,
    scope: &Scope,
    grams: &[String],
    min_shared: i64,
) -> sqlx::Result<Vec<String>> {
    let aggregate = db.comma_list("g.child_id");
    let mut sql = Sql::new(&format!(
        "SELECT g.gram, {aggregate} FROM child_name_grams g WHERE g.gram IN "
    ));
    sql.bind_list(grams.iter().cloned());
    store::push_scope_on(&mut sql, "g", scope);
    sql.push(" GROUP BY g.gram");
    let rows = sql.query().fetch_all(db.pool()).await?;
    let mut lists = Vec::with_capacity(rows.len());
    for row in &rows {
        lists.push(row.try_get::<Option<String>, _>(1)?.unwrap_or_default());
    }
    let mut shared: std::collections::HashMap<&str, i64> =
        std::collections::HashMap::with_capacity(lists.iter().map(|l| l.len() / 37 + 1).sum());
    for list in &lists {
        // Ids are hyphenated UUIDs: never a comma inside one.
        for id in list.split(',').filter(|id| !id.is_empty()) {
            *shared.entry(id).or_insert(0) += 1;
        }
    }
    let mut best: Vec<(i64, &str)> = shared
        .into_iter()
        .filter(|&(_, n)| n >= min_shared)
        .map(|(id, n)| (n, id))
        .collect();
    let order = |a: &(i64, &str), b: &(i64, &str)| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1));
    let cut = CANDIDATES as usize;
    if best.len() > cut {
        best.select_nth_unstable_by(cut - 1, order);
        best.truncate(cut);
    }
    best.sort_unstable_by(order);
    Ok(best.into_iter().map(|(_, id)| id.to_string()).collect())
}

/// The rows of the (at most [`CANDIDATES`]) live children in scope that
/// match the filters and share the most of `grams` with the query (at least
/// `min_shared`), ties by id.
async fn name_candidates(
    db: &Db,
    scope: &Scope,
    s: &Search,
    grams: &[String],
    min_shared: i64,
) -> sqlx::Result<Vec<sqlx::any::AnyRow>> {
    if s.name_only() {
        // The best candidates by the trigram index alone, then their records.
        // The records are checked again (live, in scope); when one of a full
        // set of candidates fails, the next best might have been cut, so the
        // search is done again with the records joined before the cut.
        let ids = best_by_trigrams(db, scope, grams, min_shared).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM children c WHERE c.merged_into IS NULL AND c.id IN ",
            store::CHILD_COLUMNS
        ));
        let wanted = ids.len();
        sql.bind_list(ids);
        store::push_scope(&mut sql, scope);
        let rows = sql.query().fetch_all(db.pool()).await?;
        if rows.len() == wanted || (wanted as i64) < CANDIDATES {
            return Ok(rows);
        }
    }
    // The filters and the scope apply before the best candidates are taken.
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM children c JOIN (",
        store::CHILD_COLUMNS
    ));
    push_shared_grams(&mut sql, grams, min_shared, scope);
    sql.push(") m ON m.child_id = c.id WHERE c.merged_into IS NULL");
    store::push_scope(&mut sql, scope);
    push_filters(&mut sql, s);
    sql.push(&format!(" ORDER BY m.shared DESC, c.id LIMIT {CANDIDATES}"));
    sql.query().fetch_all(db.pool()).await
}

/// Children in the caller's scope matching the filters: by name relevance
/// when a name is given (best first), else most recently updated first.
/// The search and the ids it returned are audited.
pub async fn search(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    s: &Search,
    limit: i64,
) -> Result<Vec<Child>> {
    let query = s.name.as_deref().map(names::normalise);
    let children = match &query {
        Some(query) => {
            let grams: Vec<String> = names::trigrams(query).into_iter().collect();
            if grams.is_empty() {
                return Ok(Vec::new());
            }
            let (grams, min_shared) = candidate_grams(db, grams).await?;
            let rows = name_candidates(db, &actor.scope, s, &grams, min_shared).await?;
            // Ranked precisely here, reading only the names of each candidate.
            let matcher = names::Matcher::new(query);
            let mut scored = Vec::with_capacity(rows.len());
            for row in &rows {
                let facts: String = row.try_get("facts")?;
                let id: String = row.try_get("id")?;
                let names =
                    store::names_in_facts(&facts).map_err(|e| sqlx::Error::ColumnDecode {
                        index: "facts".into(),
                        source: e.into(),
                    })?;
                let score = matcher.best_match(&names);
                if score >= NAME_THRESHOLD {
                    scored.push((score, id, row));
                }
            }
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            scored
                .into_iter()
                .take(limit as usize)
                .map(|(_, _, row)| store::child_from_row(row))
                .collect::<sqlx::Result<Vec<_>>>()?
        }
        None => {
            let mut sql = Sql::new(&format!(
                "SELECT {} FROM children c WHERE c.merged_into IS NULL",
                store::CHILD_COLUMNS
            ));
            store::push_scope(&mut sql, &actor.scope);
            push_filters(&mut sql, s);
            if let Some((at, id)) = &s.after {
                sql.push(" AND (c.updated_at < ")
                    .bind(Arg::Int(*at))
                    .push(" OR (c.updated_at = ")
                    .bind(Arg::Int(*at))
                    .push(" AND c.id < ")
                    .bind(Arg::Text(id.clone()))
                    .push("))");
            }
            sql.push(" ORDER BY c.updated_at DESC, c.id DESC LIMIT ")
                .bind(Arg::Int(limit));
            let rows = sql.query().fetch_all(db.pool()).await?;
            rows.iter()
                .map(store::child_from_row)
                .collect::<sqlx::Result<Vec<_>>>()?
        }
    };
    let ids: Vec<&str> = children.iter().map(|c| c.id.as_str()).collect();
    audit::record(
        db.pool(),
        &Who::from(actor),
        meta,
        Event::new("child.search", "child", None)
            .with_detail(serde_json::json!({ "returned": ids })),
    )
    .await?;
    Ok(children)
}
