//! The staff side of sightings over HTTP: the triage list and a report
//! (`/api/v1/sightings`, `/api/v1/sightings/{id}`), its steps (`…/assign`,
//! `…/visit`, `…/link`, `…/close`), incidents (`/api/v1/incidents…`, split and
//! join) and a child's timeline (`/api/v1/children/{id}/timeline`).
//!
//! Handlers parse and validate the query strings (every bad parameter named
//! in one 422) and leave the rest to [`triage`], [`incidents`] and
//! [`timeline`]. Merged into the API next to the public routes of `routes`.

use axum::Json;
use axum::extract::{Path, State};
use kudakyar_api::problem::Problem;
use kudakyar_api::sightings::{
    AssignSighting, CloseSighting, Incident, JoinIncidents, LinkSighting, Sighting, SightingSource,
    SightingState, SplitIncident, TimelineEntry, VisitSighting,
};
use kudakyar_api::users::Page;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{incidents, timeline, triage};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::db::vocab::enum_parse;
use crate::error::{Error, Result, Validator};
use crate::http::json::ApiJson;
use crate::http::pagination::{self, ApiQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sightings))
        .routes(routes!(get_sighting))
        .routes(routes!(assign_sighting))
        .routes(routes!(visit_sighting))
        .routes(routes!(link_sighting))
        .routes(routes!(close_sighting))
        .routes(routes!(list_incidents))
        .routes(routes!(get_incident))
        .routes(routes!(split_incident))
        .routes(routes!(join_incidents))
        .routes(routes!(child_timeline))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SightingQuery {
    /// `new`, `assigned`, `visited`, `linked`, `duplicate` or `false_report`.
    state: Option<String>,
    /// `citizen`, `hotline` or `worker`.
    source: Option<String>,
    /// County code of the report.
    county: Option<String>,
    /// RFC 3339: received at or after.
    from: Option<String>,
    /// RFC 3339: received at or before.
    to: Option<String>,
    /// Only the reports of this incident.
    incident: Option<String>,
    /// `true`: only reports flagged for a second look; `false`: only the others.
    flagged: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// Audits a read: reports and incidents show exact places, descriptions
/// and phones. `action` is `<resource>.<verb>`; a list names no resource
/// and says how many it showed.
async fn audit_read(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    action: &str,
    id: Option<&str>,
    count: Option<usize>,
) -> Result<()> {
    let resource = action.split('.').next().unwrap_or_default();
    let mut event = Event::new(action, resource, id);
    if let Some(count) = count {
        event = event.with_detail(serde_json::json!({ "count": count }));
    }
    audit::record(state.db.pool(), &Who::from(actor), origin, event).await?;
    Ok(())
}

/// A vocabulary value of a query parameter, or an error naming it.
fn known<T: serde::de::DeserializeOwned>(
    v: &mut Validator,
    field: &str,
    value: Option<&str>,
) -> Option<T> {
    let value = value?;
    let parsed = enum_parse::<T>(value);
    v.check(parsed.is_some(), field, "is not a known value");
    parsed
}

/// The `(time, id)` keyset of a cursor this API gave out.
fn cursor(v: &mut Validator, cursor: Option<&str>) -> Option<(i64, String)> {
    let decoded = cursor.map(|c| {
        pagination::decode_cursor(c).and_then(|s| {
            let (at, id) = s.split_once('|')?;
            Some((at.parse::<i64>().ok()?, id.to_string()))
        })
    });
    v.check(
        decoded.as_ref().is_none_or(Option::is_some),
        "cursor",
        "is not a cursor this endpoint gave out",
    );
    decoded.flatten()
}

fn cursor_key(at: &str, id: &str) -> String {
    format!("{}|{id}", crate::rfc3339_to_ms(at).unwrap_or(0))
}

/// The triage queue, newest first: supervisors and above and hotline
/// operators see their scope's reports; outreach workers the reports
/// assigned to them or recorded by them.
#[utoipa::path(get, path = "/api/v1/sightings", tag = "sightings",
    params(SightingQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Sighting>), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn list_sightings(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<SightingQuery>,
) -> Result<Json<Page<Sighting>>> {
    let mut v = Validator::new();
    let filter = triage::Filter {
        state: known::<SightingState>(&mut v, "state", q.state.as_deref()),
        source: known::<SightingSource>(&mut v, "source", q.source.as_deref()),
        county: q.county,
        from_ms: pagination::parse_time(&mut v, "from", q.from.as_deref()),
        to_ms: pagination::parse_time(&mut v, "to", q.to.as_deref()),
        incident: q.incident,
        flagged: pagination::boolean(&mut v, "flagged", q.flagged.as_deref()),
        after: cursor(&mut v, q.cursor.as_deref()),
    };
    let limit = pagination::parse_limit(&mut v, q.limit);
    v.finish()?;
    let list = triage::list(&state.db, &actor, &filter, limit + 1).await?;
    audit_read(
        &state,
        &actor,
        &origin,
        "sighting.list",
        None,
        Some(list.len().min(limit as usize)),
    )
    .await?;
    Ok(Json(pagination::page(list, limit, |s| {
        cursor_key(&s.created_at, &s.id)
    })))
}

/// One report with its history and linked children.
#[utoipa::path(get, path = "/api/v1/sightings/{id}", tag = "sightings",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Sighting), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "No such report in what you may see")))]
async fn get_sighting(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Sighting>> {
    let sighting = triage::get(&state.db, &actor, &id).await?;
    audit_read(&state, &actor, &origin, "sighting.read", Some(&id), None).await?;
    Ok(Json(sighting))
}

/// Assigns a new report (or reassigns an assigned one) to an outreach worker
/// or supervisor whose scope holds its county. Supervisors and above. The
/// same assignment again answers like the first.
#[utoipa::path(post, path = "/api/v1/sightings/{id}/assign", tag = "sightings",
    params(("id" = String, Path)), request_body = AssignSighting, security(("bearer" = [])),
    responses((status = 200, body = Sighting), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The report changed meanwhile"),
        (status = 422, body = Problem, description = "`state` when the report cannot be assigned now; `worker_id`, `note`")))]
async fn assign_sighting(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignSighting>,
) -> Result<Json<Sighting>> {
    Ok(Json(
        triage::assign(&state.db, &actor, &origin, &id, req).await?,
    ))
}

/// Records the visit of an assigned report: found or not found. Its
/// assignee, or a supervisor and above.
#[utoipa::path(post, path = "/api/v1/sightings/{id}/visit", tag = "sightings",
    params(("id" = String, Path)), request_body = VisitSighting, security(("bearer" = [])),
    responses((status = 200, body = Sighting), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The report changed meanwhile"),
        (status = 422, body = Problem, description = "`state` when the report is not assigned; `note`")))]
async fn visit_sighting(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VisitSighting>,
) -> Result<Json<Sighting>> {
    Ok(Json(
        triage::visit(&state.db, &actor, &origin, &id, req).await?,
    ))
}

/// Links an open report to the child records it was about (1–50, live, in
/// your scope); the children's timelines show it. Its assignee, or a
/// supervisor and above.
#[utoipa::path(post, path = "/api/v1/sightings/{id}/link", tag = "sightings",
    params(("id" = String, Path)), request_body = LinkSighting, security(("bearer" = [])),
    responses((status = 200, body = Sighting), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The report changed meanwhile"),
        (status = 422, body = Problem, description = "`state` when the report is closed; `child_ids`, `note`")))]
async fn link_sighting(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<LinkSighting>,
) -> Result<Json<Sighting>> {
    Ok(Json(
        triage::link(&state.db, &actor, &origin, &id, req).await?,
    ))
}

/// Closes an open report as a duplicate or a false report. Supervisors and above.
#[utoipa::path(post, path = "/api/v1/sightings/{id}/close", tag = "sightings",
    params(("id" = String, Path)), request_body = CloseSighting, security(("bearer" = [])),
    responses((status = 200, body = Sighting), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The report changed meanwhile"),
        (status = 422, body = Problem, description = "`state` when the report is already closed; `reason`, `note`")))]
async fn close_sighting(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CloseSighting>,
) -> Result<Json<Sighting>> {
    Ok(Json(
        triage::close(&state.db, &actor, &origin, &id, req).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// `true`: only incidents with reports not yet linked or closed; `false`: only the others.
    open: Option<String>,
    /// County code of the incident.
    county: Option<String>,
    /// RFC 3339: incidents seen at or after.
    from: Option<String>,
    /// RFC 3339: incidents seen at or before.
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// Incidents in what you may see, the most recently seen first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "sightings",
    params(IncidentQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Incident>), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn list_incidents(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> Result<Json<Page<Incident>>> {
    let mut v = Validator::new();
    let filter = incidents::Filter {
        open: pagination::boolean(&mut v, "open", q.open.as_deref()),
        county: q.county,
        from_ms: pagination::parse_time(&mut v, "from", q.from.as_deref()),
        to_ms: pagination::parse_time(&mut v, "to", q.to.as_deref()),
        after: cursor(&mut v, q.cursor.as_deref()),
    };
    let limit = pagination::parse_limit(&mut v, q.limit);
    v.finish()?;
    let list = incidents::list(&state.db, &actor, &filter, limit + 1).await?;
    audit_read(
        &state,
        &actor,
        &origin,
        "incident.list",
        None,
        Some(list.len().min(limit as usize)),
    )
    .await?;
    Ok(Json(pagination::page(list, limit, |i| {
        cursor_key(&i.last_seen_at, &i.id)
    })))
}

/// One incident with its reports' ids.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "sightings",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_incident(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Incident>> {
    let incident = incidents::get(&state.db, &actor, &id)
        .await?
        .ok_or(Error::NotFound)?;
    audit_read(&state, &actor, &origin, "incident.read", Some(&id), None).await?;
    Ok(Json(incident))
}

/// Moves some of an incident's reports (not all) to a new incident at the
/// place of the first of them. Supervisors and above; answers the new incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/split", tag = "sightings",
    params(("id" = String, Path)), request_body = SplitIncident, security(("bearer" = [])),
    responses((status = 200, body = Incident, description = "The new incident"), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "`sighting_ids`: empty, all of the incident's, or not of this incident")))]
async fn split_incident(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SplitIncident>,
) -> Result<Json<Incident>> {
    Ok(Json(
        incidents::split(&state.db, &actor, &origin, &id, req).await?,
    ))
}

/// Moves the reports of the listed incidents into this one and deletes the
/// emptied incidents. Supervisors and above, every incident in your scope.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/join", tag = "sightings",
    params(("id" = String, Path)), request_body = JoinIncidents, security(("bearer" = [])),
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "An incident changed meanwhile"),
        (status = 422, body = Problem, description = "`incident_ids`: empty, this incident itself, or not in your scope")))]
async fn join_incidents(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<JoinIncidents>,
) -> Result<Json<Incident>> {
    Ok(Json(
        incidents::join(&state.db, &actor, &origin, &id, req).await?,
    ))
}

/// A child's encounters and linked reports, newest first (the read is audited).
#[utoipa::path(get, path = "/api/v1/children/{id}/timeline", tag = "children",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn child_timeline(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Vec<TimelineEntry>>> {
    Ok(Json(
        timeline::timeline(&state.db, &actor, &origin, &id).await?,
    ))
}
