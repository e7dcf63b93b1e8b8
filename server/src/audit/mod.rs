//! The audit log: append-only, who did what to which resource, when, from where.
//!
//! [`record`] is called inside the same transaction as the change it describes,
//! so an action is never committed without its entry. [`reads`] is the one way
//! a response that shows children's facts is audited: an entry per child, so
//! "who saw this child" is one filter on the log (`resource_id`). The tables refuse UPDATE
//! and DELETE at the database level (see the migrations). [`routes`] serves
//! `GET /api/v1/audit` to national admins.
//!
//! An entry says who acted ([`Who`]) and where from ([`Origin`]: request id
//! and client address). Both are plain data, so the command line, background
//! jobs and benches audit with [`Who::system`] and [`Origin::system`] rather
//! than a made-up request; the HTTP extractor that fills an `Origin` from a
//! request lives in `http::meta`.

pub mod routes;

use kudakyar_api::audit::AuditEntry;
use kudakyar_api::users::Role;
use sqlx::Row;

use crate::auth::Actor;
use crate::db::Db;
use crate::db::sql::{Arg, Sql};

/// Who acted: a logged-in user, someone who only gave a username (a failed
/// login), or the system itself (the command line, start-up).
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub role: Option<Role>,
}

impl Who {
    pub fn system() -> Who {
        Who {
            username: Some("system".into()),
            ..Default::default()
        }
    }

    pub fn claimed(username: &str) -> Who {
        Who {
            username: Some(username.into()),
            ..Default::default()
        }
    }
}

impl From<&Actor> for Who {
    fn from(actor: &Actor) -> Who {
        Who {
            user_id: Some(actor.user_id.clone()),
            username: Some(actor.username.clone()),
            role: Some(actor.role),
        }
    }
}

/// Where an action came from, as the audit log records it. Filled from the
/// request by the extractor in `http::meta`; [`Origin::system`] for work
/// that no request asked for.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The `x-request-id` set (or echoed) by the request-id middleware.
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl Origin {
    /// The command line, start-up, background jobs, benches: no request id,
    /// no client address.
    pub fn system() -> Origin {
        Origin::default()
    }
}

/// What happened, to which resource.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<&'a str>,
    pub detail: Option<serde_json::Value>,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str, resource_type: &'a str, resource_id: Option<&'a str>) -> Self {
        Event {
            action,
            resource_type,
            resource_id,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Appends one entry. Pass the transaction of the change being audited.
pub async fn record<'e, E>(
    executor: E,
    who: &Who,
    origin: &Origin,
    event: Event<'_>,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    record_all(executor, [(who, origin, event)]).await
}

/// Appends several entries in one statement (what a batch of changes
/// written together, like public intake's group commit, calls once).
pub async fn record_all<'e, 'w, E>(
    executor: E,
    entries: impl IntoIterator<Item = (&'w Who, &'w Origin, Event<'_>)>,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = crate::now_ms();
    let rows: Vec<[Arg; 10]> = entries
        .into_iter()
        .map(|(who, origin, event)| {
            entry_args(
                now,
                who,
                origin,
                event.action,
                event.resource_type,
                event.resource_id,
                event.detail.map(|d| d.to_string()),
            )
        })
        .collect();
    insert_rows(executor, rows).await
}

/// One `audit_log` row's values, in [`INSERT_AUDIT`]'s column order.
fn entry_args(
    at: i64,
    who: &Who,
    origin: &Origin,
    action: &str,
    resource_type: &str,
    resource_id: Option<&str>,
    detail: Option<String>,
) -> [Arg; 10] {
    [
        Arg::Int(at),
        Arg::OptText(who.user_id.clone()),
        Arg::OptText(who.username.clone()),
        Arg::OptText(who.role.map(|r| r.as_str().to_string())),
        Arg::Text(action.to_string()),
        Arg::Text(resource_type.to_string()),
        Arg::OptText(resource_id.map(str::to_string)),
        Arg::OptText(origin.request_id.clone()),
        Arg::OptText(origin.client_ip.clone()),
        Arg::OptText(detail),
    ]
}

const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, user_id, username, role, action, \
     resource_type, resource_id, request_id, client_ip, detail) VALUES ";

/// Inserts the rows (none: nothing) in one statement.
async fn insert_rows<'e, E>(executor: E, rows: Vec<[Arg; 10]>) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(INSERT_AUDIT);
    sql.bind_rows(rows);
    sql.query().execute(executor).await?;
    Ok(())
}

/// Audits that the caller was shown the facts of these children: one entry
/// of `action` per child (resource `child`, its id; an id given twice is
/// written once), all in one statement. Every response that carries a
/// child's facts calls it before it is sent: records, lists, matches,
/// conflicts that return the stored record.
pub async fn reads<'e, 'c, E>(
    executor: E,
    who: &Who,
    origin: &Origin,
    action: &str,
    children: impl IntoIterator<Item = &'c str>,
    detail: Option<serde_json::Value>,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let children: std::collections::BTreeSet<&str> =
        children.into_iter().filter(|c| !c.is_empty()).collect();
    let now = crate::now_ms();
    let detail = detail.map(|d| d.to_string());
    let rows = children
        .into_iter()
        .map(|child| {
            entry_args(
                now,
                who,
                origin,
                action,
                "child",
                Some(child),
                detail.clone(),
            )
        })
        .collect();
    insert_rows(executor, rows).await
}

/// [`reads`] of one child by `actor`, without detail: what a handler that
/// answers with one child's facts calls.
pub async fn read_of(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    action: &str,
    child_id: &str,
) -> sqlx::Result<()> {
    reads(
        db.pool(),
        &Who::from(actor),
        origin,
        action,
        [child_id],
        None,
    )
    .await
}

/// [`reads`] of `child_id` when `result` is a 409 that shows the stored
/// record or the conflicting values (`stored`, `conflicts`); other answers
/// show nothing and write nothing here.
pub async fn reads_in_conflict<T>(
    db: &Db,
    who: &Who,
    origin: &Origin,
    child_id: &str,
    result: &Result<T, crate::error::Error>,
) -> sqlx::Result<()> {
    use crate::error::Error;
    match result {
        Err(Error::Conflict {
            stored, conflicts, ..
        }) if stored.is_some() || conflicts.is_some() => {
            reads(
                db.pool(),
                who,
                origin,
                "child.read_conflict",
                [child_id],
                None,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// Filters for [`list`]; every one optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only entries with an id below this (the cursor: newest first).
    pub before_id: Option<i64>,
}

/// Newest first, at most `limit` entries.
pub async fn list(db: &Db, filter: &Filter, limit: i64) -> sqlx::Result<Vec<AuditEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS}
         FROM audit_log
         WHERE ($1 IS NULL OR user_id = $1)
           AND ($2 IS NULL OR resource_type = $2)
           AND ($3 IS NULL OR resource_id = $3)
           AND at >= $4 AND at < $5 AND id < $6
         ORDER BY id DESC
         LIMIT $7"
    ))
    .bind(filter.user_id.as_deref())
    .bind(filter.resource_type.as_deref())
    .bind(filter.resource_id.as_deref())
    .bind(filter.from_ms.unwrap_or(i64::MIN))
    .bind(filter.to_ms.unwrap_or(i64::MAX))
    .bind(filter.before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// What [`entry_from_row`] reads, from `audit_log`.
const ENTRY_COLUMNS: &str = "id, at, user_id, username, role, action, resource_type, resource_id,
    request_id, client_ip, detail";

fn entry_from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<AuditEntry> {
    let detail: Option<String> = row.try_get("detail")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: crate::ms_to_rfc3339(row.try_get("at")?),
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        role: row.try_get("role")?,
        action: row.try_get("action")?,
        resource_type: row.try_get("resource_type")?,
        resource_id: row.try_get("resource_id")?,
        request_id: row.try_get("request_id")?,
        client_ip: row.try_get("client_ip")?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}
