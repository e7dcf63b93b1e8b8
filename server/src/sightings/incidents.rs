//! Incidents as staff see and correct them: the list ([`list`]), one
//! incident ([`get`]), and the supervisors' corrections of the automatic
//! grouping — [`split`] some reports off into a new incident, [`join`] other
//! incidents into one.
//!
//! An incident is seen by whoever's scope holds its place (the place of its
//! first report); outreach workers see only the incidents holding a report
//! assigned to them or recorded by them, as with reports.
//!
//! A split or join moves reports between incidents while intake may be adding
//! a report to one of them: both take the same per-place key
//! ([`Db::lock_key`], as `grouping::incident_for` does) inside a
//! `begin_write` transaction, so an incident is never deleted under a report
//! being grouped into it. Each writes an `incident_changed` domain event and
//! an audit entry in its transaction.

use std::collections::{BTreeSet, HashMap};

use kudakyar_api::sightings::{Incident, JoinIncidents, SplitIncident};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::place::Place;
use super::{grouping, store};
use crate::atlas::{rollup, subjects as atlas};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, policy};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::error::{Error, Result};
use crate::events::{self, DomainEvent, Kind};

/// The most reports one split moves, and incidents one join takes in.
pub const MAX_SPLIT: usize = 500;
pub const MAX_JOIN: usize = 50;

/// Columns of `incidents s` (aliased `s`, so `store::push_scope` applies).
const INCIDENT_COLUMNS: &str =
    "s.id, s.province, s.county, s.lat, s.lng, s.first_seen_at, s.last_seen_at";

/// The filters of the incident list, already validated.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only incidents with (`true`) or without (`false`) open reports.
    pub open: Option<bool>,
    pub county: Option<String>,
    /// Incidents seen at some time between these (milliseconds, inclusive).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// The keyset cursor: (last_seen_at, id) of the last incident of the page before.
    pub after: Option<(i64, String)>,
}

/// Narrows a query over `incidents s` to what `actor` may see.
fn push_visibility(sql: &mut Sql, actor: &Actor) {
    store::push_scope(sql, &actor.scope);
    if !policy::sees_triage_queue(actor) {
        sql.push(
            " AND EXISTS (SELECT 1 FROM sightings w WHERE w.incident_id = s.id AND (w.assigned_to = ",
        )
        .bind(Arg::Text(actor.user_id.clone()))
        .push(" OR w.created_by = ")
        .bind(Arg::Text(actor.user_id.clone()))
        .push("))");
    }
}

/// The incidents `actor` may see, the most recently seen first, at most `limit`.
pub async fn list(db: &Db, actor: &Actor, f: &Filter, limit: i64) -> Result<Vec<Incident>> {
    let mut sql = Sql::new(&format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents s WHERE 1 = 1"
    ));
    push_visibility(&mut sql, actor);
    if let Some(open) = f.open {
        sql.push(if open {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        })
        .push(
            " (SELECT 1 FROM sightings o WHERE o.incident_id = s.id
                 AND o.state IN ('new', 'assigned', 'visited'))",
        );
    }
    if let Some(county) = &f.county {
        sql.push(" AND s.county = ").bind(Arg::Text(county.clone()));
    }
    if let Some(from) = f.from_ms {
        sql.push(" AND s.last_seen_at >= ").bind(Arg::Int(from));
    }
    if let Some(to) = f.to_ms {
        sql.push(" AND s.first_seen_at <= ").bind(Arg::Int(to));
    }
    store::push_page(&mut sql, "last_seen_at", f.after.as_ref(), limit);
    let rows = sql.query().fetch_all(db.pool()).await?;
    with_reports(db, &rows).await
}

/// One incident `actor` may see; `None` otherwise.
pub async fn get(db: &Db, actor: &Actor, id: &str) -> Result<Option<Incident>> {
    let mut sql = Sql::new(&format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents s WHERE s.id = "
    ));
    sql.bind(Arg::Text(id.into()));
    push_visibility(&mut sql, actor);
    let rows = sql.query().fetch_all(db.pool()).await?;
    Ok(with_reports(db, &rows).await?.pop())
}

/// Incidents from rows of [`INCIDENT_COLUMNS`], with their reports' ids and
/// counts: one more query for the whole list.
async fn with_reports(db: &Db, rows: &[AnyRow]) -> Result<Vec<Incident>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut reports: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    let mut sql = Sql::new("SELECT incident_id, id, state FROM sightings WHERE incident_id IN ");
    sql.bind_list(
        rows.iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<sqlx::Result<Vec<_>>>()?,
    )
    .push(" ORDER BY seen_at, id");
    for row in sql.query().fetch_all(db.pool()).await? {
        let state: String = row.try_get("state")?;
        reports
            .entry(row.try_get("incident_id")?)
            .or_default()
            .push((
                row.try_get("id")?,
                matches!(state.as_str(), "new" | "assigned" | "visited"),
            ));
    }
    rows.iter()
        .map(|row| -> Result<Incident> {
            let id: String = row.try_get("id")?;
            let mine = reports.remove(&id).unwrap_or_default();
            Ok(Incident {
                province: row.try_get("province")?,
                county: row.try_get("county")?,
                lat: row.try_get("lat")?,
                lng: row.try_get("lng")?,
                first_seen_at: crate::ms_to_rfc3339(row.try_get("first_seen_at")?),
                last_seen_at: crate::ms_to_rfc3339(row.try_get("last_seen_at")?),
                report_count: mine.len() as i64,
                open_count: mine.iter().filter(|(_, open)| *open).count() as i64,
                sighting_ids: mine.into_iter().map(|(s, _)| s).collect(),
                id,
            })
        })
        .collect()
}

/// Takes the grouping key of each place (sorted, so two transactions over
/// the same places take them in the same order and cannot deadlock).
async fn lock_places(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    places: impl IntoIterator<Item = (Option<String>, Option<String>)>,
) -> sqlx::Result<()> {
    let keys: BTreeSet<String> = places
        .into_iter()
        .map(|(province, county)| grouping::lock_key(&Place { province, county }))
        .collect();
    for key in keys {
        db.lock_key(conn, &key).await?;
    }
    Ok(())
}

/// Sets the times of these incidents from their reports' `seen_at`.
async fn recompute_times(conn: &mut sqlx::AnyConnection, ids: &[&str], now: i64) -> Result<()> {
    let mut sql = Sql::new(
        "UPDATE incidents SET
           first_seen_at = (SELECT MIN(x.seen_at) FROM sightings x WHERE x.incident_id = incidents.id),
           last_seen_at = (SELECT MAX(x.seen_at) FROM sightings x WHERE x.incident_id = incidents.id),
           updated_at = ",
    );
    sql.bind(Arg::Int(now))
        .push(" WHERE id IN ")
        .bind_list(ids.iter().map(|s| s.to_string()));
    sql.query().execute(conn).await?;
    Ok(())
}

/// What a split or join writes beside its change: a domain event for each
/// incident it changed (addressed to that incident's place) and one audit
/// entry on the incident it was asked of.
async fn record_change(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    origin: &Origin,
    action: &str,
    changed: &[&Incident],
    detail: serde_json::Value,
) -> sqlx::Result<()> {
    for incident in changed {
        events::record(
            &mut *conn,
            DomainEvent {
                kind: Kind::IncidentChanged,
                province: incident.province.as_deref(),
                county: incident.county.as_deref(),
                subject_type: "incident",
                subject_id: &incident.id,
                user_id: None,
                actor_id: Some(&actor.user_id),
                detail: Some(detail.clone()),
            },
        )
        .await?;
    }
    let asked = changed.first().map(|i| i.id.as_str());
    audit::record(
        &mut *conn,
        &Who::from(actor),
        origin,
        Event::new(action, "incident", asked).with_detail(detail),
    )
    .await
}

/// Distinct ids in the order given.
fn distinct(ids: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect()
}

/// Moves the listed reports of incident `id` (some of them, not all) to a
/// new incident at the place of the first of them; the times of both are
/// recomputed. Supervisors and above; answers the new incident.
pub async fn split(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    req: SplitIncident,
) -> Result<Incident> {
    policy::triage_sightings(actor)?;
    let moving = distinct(&req.sighting_ids);
    if moving.is_empty() || moving.len() > MAX_SPLIT {
        return Err(Error::field(
            "sighting_ids",
            "list 1–500 reports of this incident",
        ));
    }
    let incident = get(db, actor, id).await?.ok_or(Error::NotFound)?;
    let mut tx = db.begin_write().await?;
    lock_places(
        db,
        &mut tx,
        [(incident.province.clone(), incident.county.clone())],
    )
    .await?;
    // The members as they are now, under the lock: a join may have emptied
    // the incident, or moved reports, since it was read.
    let rows =
        sqlx::query("SELECT id, lat, lng, province, county FROM sightings WHERE incident_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    if rows.is_empty() {
        return Err(Error::NotFound);
    }
    let mut members = HashMap::new();
    for row in &rows {
        members.insert(row.try_get::<String, _>("id")?, row);
    }
    for s in &moving {
        let Some(row) = members.get(s) else {
            drop(tx);
            // A retry of this split, once made: answer like the first time.
            if let Some(earlier) = split_off(db, actor, id, &moving).await? {
                return Ok(earlier);
            }
            return Err(Error::field(
                "sighting_ids",
                format!("{s} is not a report of this incident"),
            ));
        };
        let (province, county): (Option<String>, Option<String>) =
            (row.try_get("province")?, row.try_get("county")?);
        if !actor.scope.covers(province.as_deref(), county.as_deref()) {
            return Err(Error::field(
                "sighting_ids",
                format!("{s} is outside your scope"),
            ));
        }
    }
    if moving.len() == members.len() {
        return Err(Error::field(
            "sighting_ids",
            "leave at least one report in the incident: a split that takes them all changes nothing",
        ));
    }
    let first = members[&moving[0]];
    let place = Place {
        province: first.try_get("province")?,
        county: first.try_get("county")?,
    };
    let new_id = uuid::Uuid::now_v7().to_string();
    let now = crate::now_ms();
    // Times are set from the moved reports just below.
    grouping::create(
        &mut tx,
        &new_id,
        &place,
        first.try_get("lat")?,
        first.try_get("lng")?,
        0,
        0,
    )
    .await?;
    let mut sql = Sql::new("UPDATE sightings SET incident_id = ");
    sql.bind(Arg::Text(new_id.clone()))
        .push(", updated_at = ")
        .bind(Arg::Int(now))
        .push(" WHERE incident_id = ")
        .bind(Arg::Text(id.into()))
        .push(" AND id IN ")
        .bind_list(moving.clone());
    sql.query().execute(&mut *tx).await?;
    recompute_times(&mut tx, &[id, &new_id], now).await?;
    for incident in [id, new_id.as_str()] {
        rollup::enqueue(&mut tx, atlas::Kind::Incident, incident).await?;
    }
    let detail = serde_json::json!({"split_from": id, "into": new_id, "sightings": moving});
    let created = Incident {
        id: new_id.clone(),
        province: place.province.clone(),
        county: place.county.clone(),
        ..incident.clone()
    };
    record_change(
        &mut tx,
        actor,
        origin,
        "incident.split",
        &[&incident, &created],
        detail,
    )
    .await?;
    tx.commit().await?;
    get(db, actor, &new_id).await?.ok_or(Error::NotFound)
}

/// The incident a split of `from` made of exactly these reports, if there
/// is one (a retry of that split).
async fn split_off(
    db: &Db,
    actor: &Actor,
    from: &str,
    reports: &[String],
) -> Result<Option<Incident>> {
    let mut sql = Sql::new("SELECT DISTINCT incident_id FROM sightings WHERE id IN ");
    sql.bind_list(reports.iter().cloned());
    let holders: Vec<String> = sql
        .query()
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get("incident_id"))
        .collect::<sqlx::Result<_>>()?;
    let [holder] = holders.as_slice() else {
        return Ok(None);
    };
    // Made by a split of `from`: its event says so (serde_json writes the
    // detail compact, keys sorted).
    let made_here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM domain_events
         WHERE kind = 'incident_changed' AND subject_id = $1 AND detail LIKE $2",
    )
    .bind(holder)
    .bind(format!("%\"split_from\":{}%", serde_json::json!(from)))
    .fetch_one(db.pool())
    .await?;
    if made_here == 0 {
        return Ok(None);
    }
    let incident = get(db, actor, holder).await?;
    let wanted: BTreeSet<&String> = reports.iter().collect();
    Ok(incident.filter(|i| i.sighting_ids.iter().collect::<BTreeSet<_>>() == wanted))
}

/// Moves the reports of the listed incidents into incident `id` and deletes
/// the emptied ones; the times are recomputed. Supervisors and above, every
/// incident in their scope; answers the incident that took them in.
pub async fn join(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    req: JoinIncidents,
) -> Result<Incident> {
    policy::triage_sightings(actor)?;
    let others = distinct(&req.incident_ids);
    if others.is_empty() || others.len() > MAX_JOIN {
        return Err(Error::field("incident_ids", "list 1–50 other incidents"));
    }
    if others.iter().any(|o| o == id) {
        return Err(Error::field(
            "incident_ids",
            "an incident cannot be joined to itself",
        ));
    }
    let target = get(db, actor, id).await?.ok_or(Error::NotFound)?;
    let mut joined = Vec::with_capacity(others.len());
    for other in &others {
        let incident = get(db, actor, other).await?.ok_or_else(|| {
            Error::field(
                "incident_ids",
                format!("no such incident in your scope: {other}"),
            )
        })?;
        joined.push(incident);
    }
    let mut tx = db.begin_write().await?;
    let places = std::iter::once(&target)
        .chain(&joined)
        .map(|i| (i.province.clone(), i.county.clone()));
    lock_places(db, &mut tx, places).await?;
    // All of them still there (a concurrent join may have taken one in)?
    let mut sql = Sql::new("UPDATE incidents SET updated_at = ");
    sql.bind(Arg::Int(crate::now_ms()))
        .push(" WHERE id IN ")
        .bind_list(std::iter::once(id.to_string()).chain(others.iter().cloned()));
    let there = sql.query().execute(&mut *tx).await?.rows_affected();
    if there != others.len() as u64 + 1 {
        return Err(Error::Conflict {
            detail: "one of these incidents changed meanwhile; reload them".into(),
            stored: None,
            conflicts: None,
        });
    }
    let now = crate::now_ms();
    let mut sql = Sql::new("UPDATE sightings SET incident_id = ");
    sql.bind(Arg::Text(id.into()))
        .push(", updated_at = ")
        .bind(Arg::Int(now))
        .push(" WHERE incident_id IN ")
        .bind_list(others.clone());
    sql.query().execute(&mut *tx).await?;
    let mut sql = Sql::new("DELETE FROM incidents WHERE id IN ");
    sql.bind_list(others.clone());
    sql.query().execute(&mut *tx).await?;
    recompute_times(&mut tx, &[id], now).await?;
    for incident in std::iter::once(id).chain(others.iter().map(String::as_str)) {
        rollup::enqueue(&mut tx, atlas::Kind::Incident, incident).await?;
    }
    let detail = serde_json::json!({"joined": others, "into": id});
    record_change(&mut tx, actor, origin, "incident.join", &[&target], detail).await?;
    tx.commit().await?;
    get(db, actor, id).await?.ok_or(Error::NotFound)
}
