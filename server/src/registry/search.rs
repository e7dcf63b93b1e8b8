//! Scoped search of child records: by filters, newest first, or by a fuzzy,
//! Persian-normalised name, best first.
//!
//! A name search narrows the children by the trigrams they share with the
//! query ([`candidate_grams`], [`best_by_trigrams`], [`name_candidates`]),
//! then ranks at most [`CANDIDATES`] of them precisely by trigram similarity
//! ([`names::Matcher`]), keeping those at [`NAME_THRESHOLD`] or better.
//! Every search is audited with the ids it returned.

use kudakyar_api::children::Child;
use sqlx::Row;

use super::{names, store};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::error::Result;

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
    origin: &Origin,
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
        origin,
        Event::new("child.search", "child", None)
            .with_detail(serde_json::json!({ "returned": ids })),
    )
    .await?;
    Ok(children)
}
