//! A child's timeline: the encounters with the child and the reports linked
//! to it, newest first — where and when the child was met or seen, from the
//! registry's side and from the public's.
//!
//! A report linked to a record later merged into another shows on the
//! survivor's timeline (and again on its own after an undo).
//!
//! Scoped like the child's encounters (the child must be live and in the
//! caller's scope) and, for the reports, by their own place too: a report's
//! exact location is for staff whose scope holds its county. The read is
//! audited with `audit::reads`, as every answer that shows a child's facts.

use kudakyar_api::sightings::{LinkedSighting, TimelineEntry};
use sqlx::Row;

use super::store;
use crate::audit::{self, Origin, Who};
use crate::auth::Actor;
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::db::vocab::enum_parse;
use crate::error::{Error, Result};
use crate::registry::encounters;

/// The timeline of a child in the caller's scope (404 otherwise).
pub async fn timeline(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
) -> Result<Vec<TimelineEntry>> {
    let met = encounters::in_scope(db, &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut entries: Vec<(i64, TimelineEntry)> = met
        .into_iter()
        .map(|e| {
            let at = e.details.at.clone();
            let ms = crate::rfc3339_to_ms(&at).unwrap_or(0);
            (
                ms,
                TimelineEntry::Encounter {
                    at,
                    encounter: Box::new(e),
                },
            )
        })
        .collect();
    let mut sql = Sql::new(
        "SELECT s.id, s.source, s.seen_at, s.lat, s.lng, s.state, l.linked_at
         FROM sighting_children l JOIN sightings s ON s.id = l.sighting_id
         WHERE (l.child_id = ",
    );
    // Also the links of records merged into this one: a merge moves
    // encounters but leaves links where they are, so an undo needs nothing.
    sql.bind(Arg::Text(child_id.into()))
        .push(" OR l.child_id IN (SELECT m.id FROM children m WHERE m.merged_into = ")
        .bind(Arg::Text(child_id.into()))
        .push("))");
    store::push_scope(&mut sql, &actor.scope);
    for row in sql.query().fetch_all(db.pool()).await? {
        let seen_at: i64 = row.try_get("seen_at")?;
        let source: String = row.try_get("source")?;
        let state: String = row.try_get("state")?;
        let undecodable = |what: &str, value: &str| {
            Error::Internal(anyhow::anyhow!("sighting {what} {value:?} is not known"))
        };
        let sighting = LinkedSighting {
            id: row.try_get("id")?,
            source: enum_parse(&source).ok_or_else(|| undecodable("source", &source))?,
            seen_at: crate::ms_to_rfc3339(seen_at),
            lat: row.try_get("lat")?,
            lng: row.try_get("lng")?,
            state: enum_parse(&state).ok_or_else(|| undecodable("state", &state))?,
            linked_at: crate::ms_to_rfc3339(row.try_get("linked_at")?),
        };
        entries.push((
            seen_at,
            TimelineEntry::Sighting {
                at: sighting.seen_at.clone(),
                sighting,
            },
        ));
    }
    // Newest first; a stable sort keeps encounters in their stored order.
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    audit::reads(
        db.pool(),
        &Who::from(actor),
        origin,
        "child.timeline.read",
        [child_id],
        None,
    )
    .await?;
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}
