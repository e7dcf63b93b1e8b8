//! SQL for children: the current record, its version history and its name
//! trigrams. The record's facts are stored as one JSON document (so the
//! three-way merge works field by field), beside columns derived from it for
//! filtering and scoping.

use kudakyar_api::children::{BirthPrecision, Child, ChildFacts, Status};
use kudakyar_api::iris::Identity;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::names;
use crate::auth::Scope;
use crate::db::sql::{Arg, Sql};

/// What [`child_from_row`] reads, from `children c`.
pub const CHILD_COLUMNS: &str = "c.id, c.registry_code, c.status, c.version, c.facts, c.created_at, c.updated_at, c.last_seen_at, c.identity_review_since";

/// A stable fingerprint of a create body, to recognise an identical retry.
pub fn digest<T: Serialize>(body: &T) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(body).unwrap_or_default()))
}

/// The answer of an idempotent create whose insert found its id taken by a
/// copy of the same request committed meanwhile (the outbox re-sends what it
/// saw no answer to, and the copies can arrive together): the stored copy, as
/// to a retry. The insert waited for that copy to commit, so `stored` (read
/// after it) finds it; `None` there means the row vanished, an internal error.
pub fn as_retry<T>(stored: Option<T>, what: &str, id: &str) -> crate::error::Result<(T, bool)> {
    stored
        .map(|s| (s, false))
        .ok_or_else(|| crate::error::Error::Internal(anyhow::anyhow!("{what} {id} vanished")))
}

pub fn child_from_row(row: &AnyRow) -> sqlx::Result<Child> {
    let facts: String = row.try_get("facts")?;
    let status: String = row.try_get("status")?;
    let decode = |what: &str, e: String| sqlx::Error::ColumnDecode {
        index: what.into(),
        source: e.into(),
    };
    Ok(Child {
        id: row.try_get("id")?,
        registry_code: row.try_get("registry_code")?,
        status: crate::db::vocab::enum_parse(&status)
            .ok_or_else(|| decode("status", status.clone()))?,
        version: row.try_get("version")?,
        facts: serde_json::from_str(&facts).map_err(|e| decode("facts", e.to_string()))?,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        updated_at: crate::ms_to_rfc3339(row.try_get("updated_at")?),
        last_seen_at: row
            .try_get::<Option<i64>, _>("last_seen_at")?
            .map(crate::ms_to_rfc3339),
        identity: match row.try_get::<Option<i64>, _>("identity_review_since")? {
            Some(_) => Identity::PendingReview,
            None => Identity::Confirmed,
        },
    })
}

/// Every name a child is known by, for matching.
pub fn all_names(f: &ChildFacts) -> Vec<String> {
    names_of(&f.given_name, &f.family_name, &f.father_name, &f.aliases)
}

fn names_of(
    given: &Option<String>,
    family: &Option<String>,
    father: &Option<String>,
    aliases: &[String],
) -> Vec<String> {
    let mut out: Vec<String> = [given, family, father]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    out.extend(aliases.iter().cloned());
    if let (Some(g), Some(fam)) = (given, family) {
        out.push(format!("{g} {fam}"));
    }
    out
}

/// [`all_names`] of a stored `facts` document, without decoding the rest of it.
pub fn names_in_facts(facts_json: &str) -> serde_json::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Names {
        #[serde(default)]
        given_name: Option<String>,
        #[serde(default)]
        family_name: Option<String>,
        #[serde(default)]
        father_name: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    }
    let n: Names = serde_json::from_str(facts_json)?;
    Ok(names_of(
        &n.given_name,
        &n.family_name,
        &n.father_name,
        &n.aliases,
    ))
}

/// The best estimate of the birth year, for age-band filters.
pub fn birth_year(f: &ChildFacts, registered_ms: i64) -> Option<i64> {
    let b = f.birth.as_ref()?;
    match b.precision {
        BirthPrecision::Exact => b.date.as_deref()?.get(..4)?.parse().ok(),
        BirthPrecision::Year => b.year.map(i64::from),
        BirthPrecision::Estimated => {
            let year = time::OffsetDateTime::from_unix_timestamp(registered_ms / 1000)
                .ok()?
                .year();
            b.estimated_age.map(|a| i64::from(year) - i64::from(a))
        }
    }
}

/// `|street_vending|begging|`: one text column that `LIKE '%|begging|%'` filters.
pub fn work_types_column(f: &ChildFacts) -> String {
    let mut s = String::from("|");
    for w in &f.work_types {
        s.push_str(&crate::db::vocab::enum_str(w));
        s.push('|');
    }
    s
}

/// Appends `AND …` conditions confining the rows of `children c` to a scope.
pub fn push_scope(sql: &mut Sql, scope: &Scope) {
    push_scope_on(sql, "c", scope);
}

/// [`push_scope`] for any table alias with `home_province` / `home_county`
/// columns (children, or the copies on `child_name_grams`).
pub fn push_scope_on(sql: &mut Sql, alias: &str, scope: &Scope) {
    if let Some(p) = scope.province() {
        sql.push(&format!(" AND {alias}.home_province = "))
            .bind(Arg::Text(p.into()));
    }
    if let Some(county) = scope.county() {
        sql.push(&format!(" AND {alias}.home_county = "))
            .bind(Arg::Text(county.into()));
    }
}

/// A live (not merged away) child inside the scope.
pub async fn find<'e, E>(executor: E, scope: &Scope, id: &str) -> sqlx::Result<Option<Child>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut sql = Sql::new(&format!(
        "SELECT {CHILD_COLUMNS} FROM children c WHERE c.merged_into IS NULL AND c.id = "
    ));
    sql.bind(Arg::Text(id.into()));
    push_scope(&mut sql, scope);
    sql.query()
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(child_from_row)
        .transpose()
}

/// The stored create digest of a child id, whatever its scope.
pub async fn create_digest<'e, E>(executor: E, id: &str) -> sqlx::Result<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar("SELECT create_digest FROM children WHERE id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await
}

/// Takes the next number of a province's sequence for a Jalali year.
pub async fn next_sequence<'e, E>(
    executor: E,
    province: &str,
    jalali_year: i32,
) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "INSERT INTO registry_sequences (province, jalali_year, last_value) VALUES ($1, $2, 1)
         ON CONFLICT (province, jalali_year)
         DO UPDATE SET last_value = registry_sequences.last_value + 1
         RETURNING last_value",
    )
    .bind(province)
    .bind(i64::from(jalali_year))
    .fetch_one(executor)
    .await
}

/// Replaces a child's name trigrams.
pub async fn write_grams(
    conn: &mut sqlx::AnyConnection,
    child_id: &str,
    facts: &ChildFacts,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM child_name_grams WHERE child_id = $1")
        .bind(child_id)
        .execute(&mut *conn)
        .await?;
    let grams = name_grams(facts);
    if grams.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "INSERT INTO child_name_grams (child_id, gram, home_province, home_county) VALUES ",
    );
    for (i, gram) in grams.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .bind(Arg::Text(child_id.into()))
            .push(", ")
            .bind(Arg::Text(gram))
            .push(", ")
            .bind(Arg::Text(facts.home_province.clone()))
            .push(", ")
            .bind(Arg::OptText(facts.home_county.clone()))
            .push(")");
    }
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// The distinct trigrams of all of a child's names, as [`write_grams`] stores them.
pub fn name_grams(facts: &ChildFacts) -> std::collections::BTreeSet<String> {
    let mut grams = std::collections::BTreeSet::new();
    for name in all_names(facts) {
        grams.extend(names::trigrams(&names::normalise(&name)));
    }
    grams
}

/// Moves a child's trigrams along with the child to another province or
/// county (they carry the scope so that a scoped search reads only its own).
pub async fn move_grams(
    conn: &mut sqlx::AnyConnection,
    child_id: &str,
    facts: &ChildFacts,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE child_name_grams SET home_province = $1, home_county = $2 WHERE child_id = $3",
    )
    .bind(&facts.home_province)
    .bind(facts.home_county.as_deref())
    .bind(child_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a version of the record in its history.
#[allow(clippy::too_many_arguments)]
pub async fn write_version(
    conn: &mut sqlx::AnyConnection,
    child_id: &str,
    version: i64,
    status: Status,
    facts_json: &str,
    changed_by: &str,
    changed_at: i64,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO child_versions (child_id, version, status, facts, changed_by, changed_at, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(child_id)
    .bind(version)
    .bind(crate::db::vocab::enum_str(&status))
    .bind(facts_json)
    .bind(changed_by)
    .bind(changed_at)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The facts and status of one version of a record.
pub async fn version_doc(
    conn: &mut sqlx::AnyConnection,
    child_id: &str,
    version: i64,
) -> sqlx::Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let row = sqlx::query(
        "SELECT status, facts FROM child_versions WHERE child_id = $1 AND version = $2",
    )
    .bind(child_id)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status: String = row.try_get("status")?;
    let facts: String = row.try_get("facts")?;
    let mut doc: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&facts).unwrap_or_default();
    doc.insert("status".into(), serde_json::Value::String(status));
    Ok(Some(doc))
}

/// Locks a live child's row for the rest of the transaction; false when
/// there is no such live record (none, or merged away).
///
/// The first statement of a transaction that writes about a child: on
/// PostgreSQL a concurrent merge of the same record waits for it (or it for
/// the merge, and then finds the record merged), so nothing is written to a
/// record while it becomes a tombstone. On SQLite `BEGIN IMMEDIATE` already
/// serialises writers; the no-op write costs nothing there.
pub async fn lock_live(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE children SET version = version WHERE id = $1 AND merged_into IS NULL")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a record (live or merged away) lies inside the scope.
pub async fn in_scope<'e, E>(executor: E, scope: &Scope, id: &str) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut sql = Sql::new("SELECT c.id FROM children c WHERE c.id = ");
    sql.bind(Arg::Text(id.into()));
    push_scope(&mut sql, scope);
    Ok(sql.query().fetch_optional(executor).await?.is_some())
}
