//! `/api/v1/children`, `/api/v1/children/{id}`, `/api/v1/children/{id}/encounters`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kudakyar_api::children::{
    Child, ChildUpdate, Encounter, Nationality, NewChild, NewEncounter, Sex, Status, WorkType,
};
use kudakyar_api::problem::Problem;
use kudakyar_api::users::Page;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::records::{self, Created};
use super::search::Search;
use super::{codes, encounters};
use crate::app::AppState;
use crate::audit::{self, Origin, Who};
use crate::auth::Actor;
use crate::error::{Result, Validator};
use crate::http::created_or_ok;
use crate::http::json::{self, ApiJson};
use crate::http::pagination::{self, ApiQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_children, create_child))
        .routes(routes!(get_child, update_child))
        .routes(routes!(list_encounters, add_encounter))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChildQuery {
    /// Name or alias (fuzzy; Persian and Arabic spellings fold together).
    q: Option<String>,
    /// Exact registry code, e.g. `23-1405-000123-7`.
    code: Option<String>,
    status: Option<String>,
    sex: Option<String>,
    nationality: Option<String>,
    work_type: Option<String>,
    /// Home county code.
    county: Option<String>,
    /// RFC 3339: seen at an encounter since then.
    seen_since: Option<String>,
    /// `0-5`, `6-11`, `12-14`, `15-17` or `18+`.
    age_band: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn vocabulary<T: serde::de::DeserializeOwned>(
    v: &mut Validator,
    field: &str,
    value: &Option<String>,
) {
    if let Some(s) = value {
        v.check(
            crate::db::vocab::enum_parse::<T>(s).is_some(),
            field,
            "is not a known value",
        );
    }
}

/// Age band → inclusive birth-year range, from the current year.
fn age_band(band: &str) -> Option<(i64, i64)> {
    let (lo, hi) = match band {
        "0-5" => (0, 5),
        "6-11" => (6, 11),
        "12-14" => (12, 14),
        "15-17" => (15, 17),
        "18+" => (18, 40),
        _ => return None,
    };
    let year = i64::from(time::OffsetDateTime::now_utc().year());
    Some((year - hi, year - lo))
}

/// Searches children in the caller's scope. With `q`, the best name matches
/// first (one page); otherwise the most recently updated first, with a cursor.
#[utoipa::path(get, path = "/api/v1/children", tag = "children",
    params(ChildQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Child>), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn search_children(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<ChildQuery>,
) -> Result<Json<Page<Child>>> {
    let mut v = Validator::new();
    vocabulary::<Status>(&mut v, "status", &q.status);
    vocabulary::<Sex>(&mut v, "sex", &q.sex);
    vocabulary::<Nationality>(&mut v, "nationality", &q.nationality);
    vocabulary::<WorkType>(&mut v, "work_type", &q.work_type);
    if let Some(code) = &q.code {
        v.check(
            codes::is_valid_registry_code(code),
            "code",
            "is not a valid registry code",
        );
    }
    if let Some(name) = &q.q {
        v.check(
            (1..=100).contains(&name.chars().count()),
            "q",
            "must be 1–100 characters",
        );
    }
    let birth_years = q.age_band.as_deref().map(age_band);
    v.check(
        birth_years != Some(None),
        "age_band",
        "must be 0-5, 6-11, 12-14, 15-17 or 18+",
    );
    let seen_since_ms = pagination::parse_time(&mut v, "seen_since", q.seen_since.as_deref());
    let limit = pagination::parse_limit(&mut v, q.limit);
    let after = q.cursor.as_deref().map(|c| {
        pagination::decode_cursor(c).and_then(|s| {
            let (at, id) = s.split_once('|')?;
            Some((at.parse::<i64>().ok()?, id.to_string()))
        })
    });
    v.check(
        after.as_ref().is_none_or(Option::is_some),
        "cursor",
        "is not a cursor this endpoint gave out",
    );
    v.finish()?;
    let search = Search {
        name: q.q,
        registry_code: q.code,
        status: q.status,
        sex: q.sex,
        nationality: q.nationality,
        work_type: q.work_type,
        county: q.county,
        seen_since_ms,
        birth_years: birth_years.flatten(),
        after: after.flatten(),
    };
    let named = search.name.is_some();
    let children = super::search::search(&state.db, &actor, &origin, &search, limit + 1).await?;
    if named {
        let mut items = children;
        items.truncate(limit as usize);
        return Ok(Json(Page {
            items,
            next_cursor: None,
        }));
    }
    Ok(Json(pagination::page(children, limit, |c| {
        format!(
            "{}|{}",
            crate::rfc3339_to_ms(&c.updated_at).unwrap_or(0),
            c.id
        )
    })))
}

/// Registers a child. Retrying with the same client `id` and body returns the
/// stored record (200) instead of creating another; a different body → 409.
#[utoipa::path(post, path = "/api/v1/children", tag = "children",
    request_body = NewChild, security(("bearer" = [])),
    responses((status = 201, body = Child), (status = 200, body = Child, description = "A retry of an earlier create"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_child(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<(StatusCode, Json<Child>)> {
    let new = new_child(body)?;
    let client_id = new.id.clone().unwrap_or_default();
    let who = Who::from(&actor);
    let created = records::create(&state.db, &actor, &origin, new).await;
    audit::reads_in_conflict(&state.db, &who, &origin, &client_id, &created).await?;
    match created? {
        Created::New(child) => Ok((StatusCode::CREATED, Json(child))),
        Created::Existing(child) => {
            // A retry answers with the record as stored now: a read.
            audit::read_of(&state.db, &actor, &origin, "child.read", &child.id).await?;
            Ok((StatusCode::OK, Json(child)))
        }
    }
}

/// Splits the client id from the facts. serde's `flatten` would lose the
/// path of a bad field (and cannot deny unknown fields), so the facts are
/// read on their own.
pub(crate) fn new_child(mut body: serde_json::Map<String, serde_json::Value>) -> Result<NewChild> {
    let id = match body.remove("id") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => {
            return Err(crate::error::Error::field("id", "must be a UUID string"));
        }
    };
    let facts = json::from_value(serde_json::Value::Object(body))?;
    Ok(NewChild { id, facts })
}

/// One child record (the read is audited).
#[utoipa::path(get, path = "/api/v1/children/{id}", tag = "children",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Child), (status = 308, description = "Merged into another record: see Location"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_child(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    match records::read(&state.db, &actor, &origin, &id).await {
        Ok(child) => Ok(Json(child).into_response()),
        // A merged-away record redirects to the record that survived it.
        Err(crate::error::Error::NotFound) => {
            match crate::cases::merges::merged_into(&state.db, &actor.scope, &id).await? {
                Some(survivor) => Ok(axum::response::Redirect::permanent(&format!(
                    "/api/v1/children/{survivor}"
                ))
                .into_response()),
                None => Err(crate::error::Error::NotFound),
            }
        }
        Err(e) => Err(e),
    }
}

/// Changes fields of a child record, merging with changes made since `base_version`.
#[utoipa::path(patch, path = "/api/v1/children/{id}", tag = "children",
    params(("id" = String, Path)), request_body = ChildUpdate, security(("bearer" = [])),
    responses((status = 200, body = Child), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Fields changed by both; `conflicts` lists both values"),
        (status = 422, body = Problem)))]
async fn update_child(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<ChildUpdate>,
) -> Result<Json<Child>> {
    let who = Who::from(&actor);
    let updated = records::update(&state.db, &actor, &origin, &id, update).await;
    audit::reads_in_conflict(&state.db, &who, &origin, &id, &updated).await?;
    let child = updated?;
    // The answer is the whole record, changed or not (a no-op PATCH writes
    // no change entry): a read.
    audit::read_of(&state.db, &actor, &origin, "child.read", &child.id).await?;
    Ok(Json(child))
}

/// A child's encounters, newest first.
#[utoipa::path(get, path = "/api/v1/children/{id}/encounters", tag = "children",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<Encounter>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_encounters(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Vec<Encounter>>> {
    Ok(Json(
        encounters::list(&state.db, &actor, &origin, &id).await?,
    ))
}

/// Records an encounter (idempotent by client `id`).
#[utoipa::path(post, path = "/api/v1/children/{id}/encounters", tag = "children",
    params(("id" = String, Path)), request_body = NewEncounter, security(("bearer" = [])),
    responses((status = 201, body = Encounter), (status = 200, body = Encounter, description = "A retry"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_encounter(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewEncounter>,
) -> Result<(StatusCode, Json<Encounter>)> {
    let added = encounters::add(
        &state.db,
        &(&*state.config).into(),
        &actor,
        &origin,
        &id,
        new,
    )
    .await;
    audit::reads_in_conflict(&state.db, &Who::from(&actor), &origin, &id, &added).await?;
    let (encounter, created) = added?;
    Ok((created_or_ok(created), Json(encounter)))
}
