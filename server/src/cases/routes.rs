//! `/api/v1/children/{id}/merge`, `/api/v1/merges/{id}/undo`, `/api/v1/centres`,
//! `/api/v1/children/{id}/centre-suggestions` and `/api/v1/referrals…`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kudakyar_api::cases::{
    Centre, CentreSuggestion, Merge, MergeRequest, NewCentre, NewReferral, Referral,
    ReferralTransition,
};
use kudakyar_api::problem::Problem;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{centres, merges, referrals};
use crate::app::AppState;
use crate::audit::{self, Origin};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::http::created_or_ok;
use crate::http::json::ApiJson;
use crate::http::pagination::ApiQuery;
use crate::registry::store;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(merge_child))
        .routes(routes!(undo_merge))
        .routes(routes!(list_centres, create_centre))
        .routes(routes!(suggest_centres))
        .routes(routes!(list_referrals, create_referral))
        .routes(routes!(move_referral))
}

/// Marks another record as the same child: the survivor (in the path) keeps
/// its encounters, photos, iris templates, referrals and the other's names as
/// aliases; the other becomes a tombstone that redirects here, and its open
/// duplicate reviews are closed. Undoable for 30 days.
#[utoipa::path(post, path = "/api/v1/children/{id}/merge", tag = "cases",
    params(("id" = String, Path, description = "The surviving record")), request_body = MergeRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Merge), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The duplicate was merged into another record meanwhile"),
        (status = 422, body = Problem)))]
async fn merge_child(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MergeRequest>,
) -> Result<(StatusCode, Json<Merge>)> {
    let merge = merges::merge(&state.db, &actor, &origin, &id, req).await?;
    Ok((StatusCode::CREATED, Json(merge)))
}

/// Undoes a merge made less than 30 days ago.
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "cases",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Merge), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn undo_merge(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Merge>> {
    Ok(Json(merges::undo(&state.db, &actor, &origin, &id).await?))
}

/// Service centres in the caller's province (all, for national admins).
#[utoipa::path(get, path = "/api/v1/centres", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Vec<Centre>), (status = 401, body = Problem)))]
async fn list_centres(State(state): State<AppState>, actor: Actor) -> Result<Json<Vec<Centre>>> {
    Ok(Json(centres::list(&state.db, &actor.scope).await?))
}

/// Adds a service centre (provincial staff of its province, or an admin).
#[utoipa::path(post, path = "/api/v1/centres", tag = "cases", request_body = NewCentre,
    security(("bearer" = [])),
    responses((status = 201, body = Centre), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn create_centre(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiJson(new): ApiJson<NewCentre>,
) -> Result<(StatusCode, Json<Centre>)> {
    Ok((
        StatusCode::CREATED,
        Json(centres::create(&state.db, &actor, &origin, new).await?),
    ))
}

/// Centres of the child's province with free capacity, nearest first.
#[utoipa::path(get, path = "/api/v1/children/{id}/centre-suggestions", tag = "cases",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<CentreSuggestion>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn suggest_centres(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Vec<CentreSuggestion>>> {
    let child = store::find(state.db.pool(), &actor.scope, &id)
        .await?
        .ok_or(Error::NotFound)?;
    let suggestions = centres::suggest(&state.db, &child.facts.home_province, &child.id).await?;
    // Distances from where the child was seen: the child's facts.
    audit::read_of(&state.db, &actor, &origin, "centre.suggest", &child.id).await?;
    Ok(Json(suggestions))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReferralQuery {
    /// The child whose referrals to list.
    child_id: String,
}

/// A child's referrals with their history.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "cases", params(ReferralQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Referral>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn list_referrals(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<ReferralQuery>,
) -> Result<Json<Vec<Referral>>> {
    let list = referrals::for_child(&state.db, &actor, &q.child_id).await?;
    audit::read_of(&state.db, &actor, &origin, "referral.list", &q.child_id).await?;
    Ok(Json(list))
}

/// Refers a child to a centre of its province with free capacity (idempotent by `id`).
#[utoipa::path(post, path = "/api/v1/referrals", tag = "cases", request_body = NewReferral,
    security(("bearer" = [])),
    responses((status = 201, body = Referral), (status = 200, body = Referral, description = "A retry"),
        (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_referral(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiJson(new): ApiJson<NewReferral>,
) -> Result<(StatusCode, Json<Referral>)> {
    let (referral, created) = referrals::create(&state.db, &actor, &origin, new).await?;
    Ok((created_or_ok(created), Json(referral)))
}

/// Accepts, rejects or completes a referral.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/state", tag = "cases",
    params(("id" = String, Path)), request_body = ReferralTransition, security(("bearer" = [])),
    responses((status = 200, body = Referral), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn move_referral(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(t): ApiJson<ReferralTransition>,
) -> Result<Json<Referral>> {
    Ok(Json(
        referrals::transition(&state.db, &actor, &origin, &id, t).await?,
    ))
}
