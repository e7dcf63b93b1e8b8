//! SQL for iris templates, their change events and the children they belong to.

use kudakyar_api::iris::{CaptureQuality, Eye, IrisEnrolment};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::auth::Scope;
use crate::db::sql::{Sql, row_by, rows_by};

/// A template row about to be written.
pub struct NewTemplate<'a> {
    pub id: &'a str,
    pub child_id: &'a str,
    pub eye: Eye,
    pub sealed: &'a [u8],
    pub key_id: &'a str,
    pub capture_key: &'a str,
    pub capture_sha256: &'a str,
    pub quality: &'a CaptureQuality,
    pub created_by: &'a str,
    pub now: i64,
}

/// The engine that made a template — the release, the template format and
/// the encoder settings (`iris-0.1.0-t1-p2`) — so that `kudakyar iris
/// reencode` redoes every template an older engine made, in particular one
/// whose bits this engine would no longer compare.
pub fn engine_version() -> &'static str {
    static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "iris-{}-t{}-p{}",
            env!("CARGO_PKG_VERSION"),
            iris::template::VERSION,
            iris::template::PARAMS_ID
        )
    });
    &VERSION
}

/// What [`enrolment_from_row`] reads, from `iris_templates`.
const ENROLMENT_COLUMNS: &str = "id, child_id, eye, quality, created_at";

fn enrolment_from_row(row: &AnyRow) -> sqlx::Result<IrisEnrolment> {
    let eye: String = row.try_get("eye")?;
    let quality: String = row.try_get("quality")?;
    let decode = |what: &str, e: String| sqlx::Error::ColumnDecode {
        index: what.into(),
        source: e.into(),
    };
    Ok(IrisEnrolment {
        id: row.try_get("id")?,
        child_id: row.try_get("child_id")?,
        eye: Eye::parse(&eye).ok_or_else(|| decode("eye", eye.clone()))?,
        quality: serde_json::from_str(&quality).map_err(|e| decode("quality", e.to_string()))?,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
    })
}

/// Inserts a template and its `add` event (in the caller's transaction).
pub async fn insert(conn: &mut sqlx::AnyConnection, t: &NewTemplate<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO iris_templates (id, child_id, eye, sealed_template, key_id, capture_key,
            capture_sha256, quality, engine_version, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(t.id)
    .bind(t.child_id)
    .bind(t.eye.as_str())
    .bind(t.sealed)
    .bind(t.key_id)
    .bind(t.capture_key)
    .bind(t.capture_sha256)
    .bind(serde_json::to_string(t.quality).unwrap_or_default())
    .bind(engine_version())
    .bind(t.created_by)
    .bind(t.now)
    .execute(&mut *conn)
    .await?;
    event(conn, t.id, "add", t.now).await
}

/// Records a change for every instance's gallery to follow.
pub async fn event(
    conn: &mut sqlx::AnyConnection,
    template_id: &str,
    kind: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO iris_events (template_id, kind, at) VALUES ($1, $2, $3)")
        .bind(template_id)
        .bind(kind)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A stored template by id (live or not).
pub async fn enrolment<'e, E>(executor: E, id: &str) -> sqlx::Result<Option<IrisEnrolment>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {ENROLMENT_COLUMNS} FROM iris_templates WHERE id = $1 AND removed_at IS NULL"
    );
    row_by(executor, &sql, id, enrolment_from_row).await
}

/// The capture digest a template id was made from, to tell a retry from a clash.
pub async fn child_templates<'e, E>(executor: E, child_id: &str) -> sqlx::Result<Vec<IrisEnrolment>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {ENROLMENT_COLUMNS} FROM iris_templates
         WHERE child_id = $1 AND removed_at IS NULL ORDER BY created_at, id"
    );
    rows_by(executor, &sql, child_id, enrolment_from_row).await
}

/// A live template as stored: its sealed bytes and how they were made.
#[derive(Debug, Clone)]
pub struct SealedTemplate {
    pub id: String,
    /// The biometric key it is sealed under.
    pub key_id: String,
    pub sealed: Vec<u8>,
    /// The raw capture's object, until retention removes it.
    pub capture_key: Option<String>,
    /// The engine that made it ([`engine_version`] when this one did).
    pub engine_version: String,
}

/// What [`sealed_from_row`] reads, from `iris_templates`.
const SEALED_COLUMNS: &str = "id, key_id, sealed_template, capture_key, engine_version";

fn sealed_from_row(row: &AnyRow) -> sqlx::Result<SealedTemplate> {
    Ok(SealedTemplate {
        id: row.try_get("id")?,
        key_id: row.try_get("key_id")?,
        sealed: row.try_get("sealed_template")?,
        capture_key: row.try_get("capture_key")?,
        engine_version: row.try_get("engine_version")?,
    })
}

/// A live template, or None once removed.
pub async fn sealed<'e, E>(executor: E, id: &str) -> sqlx::Result<Option<SealedTemplate>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql =
        format!("SELECT {SEALED_COLUMNS} FROM iris_templates WHERE id = $1 AND removed_at IS NULL");
    row_by(executor, &sql, id, sealed_from_row).await
}

/// One change event.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub template_id: String,
}

pub async fn events_after(pool: &sqlx::AnyPool, seq: i64, limit: i64) -> sqlx::Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT seq, template_id FROM iris_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                seq: r.try_get(0)?,
                template_id: r.try_get(1)?,
            })
        })
        .collect()
}

/// The newest event older than `before_ms`: where a fresh gallery starts
/// following (events after it are replayed, which is harmless).
pub async fn settled_seq(pool: &sqlx::AnyPool, before_ms: i64) -> sqlx::Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM iris_events WHERE at < $1")
        .bind(before_ms)
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Who a matching template belongs to now (merges move templates).
#[derive(Debug, Clone)]
pub struct Owner {
    pub template_id: String,
    pub eye: Eye,
    pub child_id: String,
    pub registry_code: String,
    pub province: String,
    pub county: Option<String>,
    pub facts: String,
    pub photo_id: Option<String>,
}

/// The live children owning these templates (tombstones and removed templates left out).
pub async fn owners(pool: &sqlx::AnyPool, template_ids: &[String]) -> sqlx::Result<Vec<Owner>> {
    if template_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(
        "SELECT t.id, t.eye, c.id AS child_id, c.registry_code, c.home_province, c.home_county, c.facts,
                (SELECT p.id FROM child_photos p WHERE p.child_id = c.id
                 ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS photo_id
         FROM iris_templates t JOIN children c ON c.id = t.child_id
         WHERE t.removed_at IS NULL AND c.merged_into IS NULL AND t.id IN ",
    );
    sql.bind_list(template_ids.iter().cloned());
    let rows = sql.query().fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let eye: String = r.try_get(1)?;
            Ok(Owner {
                template_id: r.try_get(0)?,
                eye: Eye::parse(&eye).unwrap_or(Eye::Left),
                child_id: r.try_get(2)?,
                registry_code: r.try_get(3)?,
                province: r.try_get(4)?,
                county: r.try_get(5)?,
                facts: r.try_get(6)?,
                photo_id: r.try_get(7)?,
            })
        })
        .collect()
}

/// Whether a child is inside a scope (by its home province and county).
pub fn in_scope(scope: &Scope, owner: &Owner) -> bool {
    scope.covers(Some(&owner.province), owner.county.as_deref())
}

/// Live templates in pages, by id after `after_id` (start-up load,
/// rotation, re-encode).
pub async fn page(
    pool: &sqlx::AnyPool,
    after_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<SealedTemplate>> {
    sqlx::query(&format!(
        "SELECT {SEALED_COLUMNS} FROM iris_templates
         WHERE removed_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(sealed_from_row)
    .collect()
}
