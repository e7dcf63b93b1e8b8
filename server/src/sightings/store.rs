//! SQL for reports: the one column list and row mapper, reads with their
//! history and linked children (batched, never a query per report), the
//! scope filter, and the history rows every state change writes.

use std::collections::HashMap;

use kudakyar_api::sightings::{Sighting, SightingEvent, SightingSource, SightingState};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::auth::{Actor, Scope, policy};
use crate::db::sql::{Arg, Sql};
use crate::db::vocab::{enum_parse, enum_str};

/// The columns of a report read with its county's names (by the boundaries'
/// primary key; none before counties are imported).
pub const SIGHTING_COLUMNS: &str = "s.id, s.receipt_code, s.source, s.seen_at, s.lat, s.lng, \
     s.accuracy_m, s.province, s.county, s.children_count, s.details, s.photo_key, \
     s.reporter_phone, s.flag, s.state, s.visit_outcome, s.assigned_to, s.incident_id, \
     s.created_by, s.created_at, s.updated_at, \
     (SELECT b.name_fa FROM boundaries b WHERE b.level = 'county' AND b.code = s.county) \
     AS county_name_fa, \
     (SELECT b.name_en FROM boundaries b WHERE b.level = 'county' AND b.code = s.county) \
     AS county_name_en";

/// The facts of a report kept as one JSON document (`sightings.details`):
/// what a passer-by can tell, none of it used to filter or scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Details {
    #[serde(default)]
    pub age_bands: Vec<kudakyar_api::sightings::AgeBand>,
    #[serde(default)]
    pub sex: Option<kudakyar_api::children::Sex>,
    #[serde(default)]
    pub activity: Option<kudakyar_api::children::WorkType>,
    #[serde(default)]
    pub description: Option<String>,
}

fn decode(what: &str, e: impl ToString) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: what.into(),
        source: e.to_string().into(),
    }
}

/// A report from a row of [`SIGHTING_COLUMNS`], without history and links
/// (see [`with_history`]).
pub fn sighting_from_row(row: &AnyRow) -> sqlx::Result<Sighting> {
    let details: String = row.try_get("details")?;
    let details: Details = serde_json::from_str(&details).map_err(|e| decode("details", e))?;
    let source: String = row.try_get("source")?;
    let state: String = row.try_get("state")?;
    let outcome: Option<String> = row.try_get("visit_outcome")?;
    Ok(Sighting {
        id: row.try_get("id")?,
        receipt_code: row.try_get("receipt_code")?,
        source: enum_parse(&source).ok_or_else(|| decode("source", &source))?,
        seen_at: crate::ms_to_rfc3339(row.try_get("seen_at")?),
        lat: row.try_get("lat")?,
        lng: row.try_get("lng")?,
        accuracy_m: row.try_get("accuracy_m")?,
        province: row.try_get("province")?,
        county: row.try_get("county")?,
        county_name_fa: row.try_get("county_name_fa")?,
        county_name_en: row.try_get("county_name_en")?,
        children_count: row.try_get("children_count")?,
        age_bands: details.age_bands,
        sex: details.sex,
        activity: details.activity,
        description: details.description,
        has_photo: row.try_get::<Option<String>, _>("photo_key")?.is_some(),
        reporter_phone: row.try_get("reporter_phone")?,
        flag: row.try_get("flag")?,
        state: enum_parse(&state).ok_or_else(|| decode("state", &state))?,
        visit_outcome: outcome.as_deref().and_then(enum_parse),
        assigned_to: row.try_get("assigned_to")?,
        incident_id: row.try_get("incident_id")?,
        linked_children: Vec::new(),
        history: Vec::new(),
        created_by: row.try_get("created_by")?,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        updated_at: crate::ms_to_rfc3339(row.try_get("updated_at")?),
    })
}

/// Narrows a query over `sightings s` to what `actor` may see: the reports of
/// their scope (a county-scoped caller, their county's only); outreach
/// workers only the reports assigned to them or recorded by them.
pub fn push_visibility(sql: &mut Sql, actor: &Actor) {
    push_scope(sql, &actor.scope);
    if !policy::sees_triage_queue(actor) {
        sql.push(" AND (s.assigned_to = ")
            .bind(Arg::Text(actor.user_id.clone()))
            .push(" OR s.created_by = ")
            .bind(Arg::Text(actor.user_id.clone()))
            .push(")");
    }
}

/// Narrows a query over `sightings s` (or any table aliased `s` with
/// `province` and `county`) to a scope.
pub fn push_scope(sql: &mut Sql, scope: &Scope) {
    if let Some(p) = scope.province() {
        sql.push(" AND s.province = ").bind(Arg::Text(p.into()));
    }
    if let Some(c) = scope.county() {
        sql.push(" AND s.county = ").bind(Arg::Text(c.into()));
    }
}

/// One report as `actor` may see it, with its history and linked children;
/// `None` when there is none or it is outside what they may see.
pub async fn find<'e, E>(executor: E, actor: &Actor, id: &str) -> sqlx::Result<Option<Sighting>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    let mut sql = Sql::new(&format!(
        "SELECT {SIGHTING_COLUMNS} FROM sightings s WHERE s.id = "
    ));
    sql.bind(Arg::Text(id.into()));
    push_visibility(&mut sql, actor);
    let Some(row) = sql.query().fetch_optional(executor).await? else {
        return Ok(None);
    };
    let found = vec![sighting_from_row(&row)?];
    Ok(with_history(executor, found).await?.pop())
}

/// Fills in the history and linked children of reports: two queries for the
/// whole list.
pub async fn with_history<'e, E>(
    executor: E,
    mut list: Vec<Sighting>,
) -> sqlx::Result<Vec<Sighting>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    if list.is_empty() {
        return Ok(list);
    }
    let ids = || list.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let mut events: HashMap<String, Vec<SightingEvent>> = HashMap::new();
    let mut sql = Sql::new(
        "SELECT sighting_id, state, note, by_user, at FROM sighting_events WHERE sighting_id IN ",
    );
    sql.bind_list(ids()).push(" ORDER BY id");
    for row in sql.query().fetch_all(executor).await? {
        let state: String = row.try_get("state")?;
        events
            .entry(row.try_get("sighting_id")?)
            .or_default()
            .push(SightingEvent {
                state: enum_parse(&state).ok_or_else(|| decode("state", &state))?,
                note: row.try_get("note")?,
                by: row.try_get("by_user")?,
                at: crate::ms_to_rfc3339(row.try_get("at")?),
            });
    }
    let mut links: HashMap<String, Vec<String>> = HashMap::new();
    let mut sql =
        Sql::new("SELECT sighting_id, child_id FROM sighting_children WHERE sighting_id IN ");
    sql.bind_list(ids()).push(" ORDER BY linked_at, child_id");
    for row in sql.query().fetch_all(executor).await? {
        links
            .entry(row.try_get("sighting_id")?)
            .or_default()
            .push(row.try_get("child_id")?);
    }
    for s in &mut list {
        s.history = events.remove(&s.id).unwrap_or_default();
        s.linked_children = links.remove(&s.id).unwrap_or_default();
    }
    Ok(list)
}

/// Appends one step to a report's history (inside the change's transaction).
pub async fn record_step(
    conn: &mut sqlx::AnyConnection,
    sighting_id: &str,
    state: SightingState,
    note: Option<&str>,
    by: Option<&str>,
    at: i64,
) -> sqlx::Result<()> {
    record_steps(conn, [(sighting_id, state, note, by, at)]).await
}

/// [`record_step`] of several reports in one statement (none: nothing).
pub async fn record_steps<'s>(
    conn: &mut sqlx::AnyConnection,
    steps: impl IntoIterator<
        Item = (
            &'s str,
            SightingState,
            Option<&'s str>,
            Option<&'s str>,
            i64,
        ),
    >,
) -> sqlx::Result<()> {
    use crate::db::sql::{Arg, Sql};
    let rows: Vec<[Arg; 5]> = steps
        .into_iter()
        .map(|(id, state, note, by, at)| {
            [
                Arg::Text(id.to_string()),
                Arg::Text(enum_str(&state)),
                Arg::OptText(note.map(str::to_string)),
                Arg::OptText(by.map(str::to_string)),
                Arg::Int(at),
            ]
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql =
        Sql::new("INSERT INTO sighting_events (sighting_id, state, note, by_user, at) VALUES ");
    sql.bind_rows(rows);
    sql.query().execute(conn).await?;
    Ok(())
}

/// The stored name of a source.
pub fn source_str(source: SightingSource) -> String {
    enum_str(&source)
}

/// Ends a list query over a table aliased `s` with its keyset page: rows
/// after the cursor `(time, id)` (newest first by `time_column`, then id),
/// in that order, at most `limit`. Shared by the triage and incident lists.
pub fn push_page(sql: &mut Sql, time_column: &str, after: Option<&(i64, String)>, limit: i64) {
    if let Some((at, id)) = after {
        sql.push(&format!(" AND (s.{time_column} < "))
            .bind(Arg::Int(*at))
            .push(&format!(" OR (s.{time_column} = "))
            .bind(Arg::Int(*at))
            .push(" AND s.id < ")
            .bind(Arg::Text(id.clone()))
            .push("))");
    }
    sql.push(&format!(
        " ORDER BY s.{time_column} DESC, s.id DESC LIMIT {limit}"
    ));
}
