//! `/api/v1/children/{id}/iris`, `/api/v1/iris/identify`,
//! `/api/v1/registrations` and `/api/v1/iris/reviews…`.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use kudakyar_api::iris::{
    EnrolmentResult, IrisEnrolment, IrisMatches, Registration, Review, ReviewReason, ReviewVerdict,
};
use kudakyar_api::problem::Problem;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::capture::{self, MAX_CAPTURE_BYTES};
use super::{enrol, matching, registration, reviews, store};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::http::created_or_ok;
use crate::http::json::ApiJson;
use crate::http::pagination::ApiQuery;

pub fn routes() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(enrol_child, list_enrolments))
        .routes(routes!(identify))
        .routes(routes!(register))
        .routes(routes!(remove_enrolment))
        // Two captures and the record's JSON.
        .layer(DefaultBodyLimit::max(2 * MAX_CAPTURE_BYTES + 128 * 1024));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(list_reviews))
        .routes(routes!(get_review))
        .routes(routes!(decide_review))
}

/// Eye captures: PNG, JPEG, BMP or PGM from an iris scanner (near-infrared
/// preferred), at most 8 MiB each.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Captures {
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    left: Option<Vec<u8>>,
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    right: Option<Vec<u8>>,
}

/// A registration: the record and its captures.
#[derive(ToSchema)]
#[allow(dead_code)]
struct RegistrationForm {
    /// The new record as JSON (the body of `POST /api/v1/children`), with the
    /// client's `id`: a re-sent registration is recognised by it.
    child: String,
    /// `unreviewed` (default: queued offline, nobody saw candidates) or
    /// `new_child` (the worker saw the candidates and says this is another child).
    decision: Option<String>,
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    left: Option<Vec<u8>>,
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    right: Option<Vec<u8>>,
}

fn multipart(form: std::result::Result<Multipart, MultipartRejection>) -> Result<Multipart> {
    form.map_err(|_| {
        Error::UnsupportedMediaType(
            "expected `Content-Type: multipart/form-data` with the eye images in `left` and/or `right`"
                .into(),
        )
    })
}

/// Adds iris captures to a child. An unusable capture is 422 with the
/// reasons to retake; a re-sent capture is stored once (200). Matches with
/// other records open duplicate-review tasks.
#[utoipa::path(post, path = "/api/v1/children/{id}/iris", tag = "iris",
    params(("id" = String, Path, description = "The child")),
    request_body(content = Captures, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 201, body = EnrolmentResult), (status = 200, body = EnrolmentResult, description = "Every capture was stored before"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The record was merged into another, or every capture sent was removed from it before (an erased capture is not stored again)"),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 429, body = Problem, description = "Too many uploads at once: send again after `Retry-After` seconds"),
        (status = 422, body = Problem, description = "Unusable capture: `errors` names the eye and why")))]
async fn enrol_child(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(child_id): Path<String>,
    form: std::result::Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<EnrolmentResult>)> {
    let form = multipart(form)?;
    // Before the body: a child out of scope is refused without reading it.
    let child = enrol::live_child(&state, &actor, &child_id).await?;
    let _slot = state.uploads.take()?;
    let mut form = capture::read_form(form, &[]).await?;
    capture::require_captures(&form)?;
    let erased = enrol::drop_erased(&state, &child.id, &mut form.captures).await?;
    if form.captures.is_empty() {
        return Err(enrol::erased(&erased));
    }
    let probes = capture::analyse_all(&state.biometrics, form.captures).await?;
    let matches = matching::find(&state.biometrics, &state.db, &probes, Some(&child.id)).await?;
    let reviews_opened = enrol::open_reviews(
        &state,
        &actor,
        &origin,
        &child.id,
        &child.facts.home_province,
        &matches,
        ReviewReason::Enrolment,
    )
    .await?;
    let (enrolled, stored) =
        enrol::store_templates(&state, &actor, &origin, &child.id, &probes).await?;
    let matches = matching::visible(&actor.scope, &matches, &probes);
    audit_shown(&state, &actor, &origin, "iris.match", &matches).await?;
    Ok((
        created_or_ok(stored > 0),
        Json(EnrolmentResult {
            enrolled,
            matches,
            reviews_opened,
        }),
    ))
}

/// A child's stored iris enrolments (eye and quality; never the template).
#[utoipa::path(get, path = "/api/v1/children/{id}/iris", tag = "iris",
    params(("id" = String, Path, description = "The child")), security(("bearer" = [])),
    responses((status = 200, body = Vec<IrisEnrolment>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_enrolments(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(child_id): Path<String>,
) -> Result<Json<Vec<IrisEnrolment>>> {
    crate::registry::store::find(state.db.pool(), &actor.scope, &child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let enrolments = store::child_templates(state.db.pool(), &child_id).await?;
    audit::read_of(&state.db, &actor, &origin, "iris.list", &child_id).await?;
    Ok(Json(enrolments))
}

/// Audits the candidates a match answer shows (their records' facts).
async fn audit_shown(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    action: &str,
    shown: &IrisMatches,
) -> Result<()> {
    audit::reads(
        state.db.pool(),
        &Who::from(actor),
        origin,
        action,
        shown.candidates.iter().map(|c| c.child_id.as_str()),
        Some(serde_json::json!({"match_elsewhere": shown.match_elsewhere})),
    )
    .await?;
    Ok(())
}

/// Removes one iris template of a child (supervisors and above); every
/// server stops matching it within a sync interval.
#[utoipa::path(delete, path = "/api/v1/children/{id}/iris/{template_id}", tag = "iris",
    params(("id" = String, Path, description = "The child"), ("template_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn remove_enrolment(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path((child_id, template_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    enrol::remove_template(&state, &actor, &origin, &child_id, &template_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Who is this child?": the children in your scope whose iris matches the
/// captures, best first, and whether a match exists outside your scope. Audited.
#[utoipa::path(post, path = "/api/v1/iris/identify", tag = "iris",
    request_body(content = Captures, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 200, body = IrisMatches), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 429, body = Problem, description = "Too many uploads at once: send again after `Retry-After` seconds"),
        (status = 422, body = Problem, description = "Unusable capture: `errors` names the eye and why")))]
async fn identify(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    form: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Json<IrisMatches>> {
    let form = multipart(form)?;
    let _slot = state.uploads.take()?;
    let form = capture::read_form(form, &[]).await?;
    capture::require_captures(&form)?;
    let probes = capture::analyse_all(&state.biometrics, form.captures).await?;
    let matches = matching::find(&state.biometrics, &state.db, &probes, None).await?;
    let mut visible = matching::visible(&actor.scope, &matches, &probes);
    // Recorded so an encounter may name it (iris-verified visit) and the
    // indicators can find closed children met again (re-entry by iris).
    let matched: Vec<(String, f32)> = matches
        .iter()
        .map(|m| (m.owner.child_id.clone(), m.distance))
        .collect();
    visible.identification_id = Some(
        crate::indicators::verification::record_identification(&state.db, &actor.user_id, &matched)
            .await?,
    );
    if visible.candidates.is_empty() {
        // Nobody shown: the search itself is still on the record.
        audit::record(
            state.db.pool(),
            &Who::from(&actor),
            &origin,
            Event::new("iris.identify", "child", None).with_detail(
                serde_json::json!({"shown": [], "match_elsewhere": visible.match_elsewhere}),
            ),
        )
        .await?;
    }
    audit_shown(&state, &actor, &origin, "iris.identify", &visible).await?;
    Ok(Json(visible))
}

/// Registers a child with iris captures, searching the national gallery
/// first. See the `decision` field; a re-sent registration answers 200 with
/// what the first one made.
#[utoipa::path(post, path = "/api/v1/registrations", tag = "iris",
    request_body(content = RegistrationForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 201, body = Registration), (status = 200, body = Registration, description = "A re-sent registration"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "Another record was created with this id"),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 429, body = Problem, description = "Too many uploads at once: send again after `Retry-After` seconds"), (status = 422, body = Problem)))]
async fn register(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    form: std::result::Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Registration>)> {
    let form = multipart(form)?;
    let _slot = state.uploads.take()?;
    let form = capture::read_form(form, &registration::FIELDS).await?;
    let (reg, created) = registration::register(&state, &actor, &origin, form).await?;
    if !created {
        // A re-sent registration answers with the record as stored now.
        audit::read_of(&state.db, &actor, &origin, "child.read", &reg.child.id).await?;
    }
    audit_shown(&state, &actor, &origin, "iris.match", &reg.matches).await?;
    Ok((created_or_ok(created), Json(reg)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// `open` (default) or `decided`.
    #[param(inline)]
    state: Option<ReviewState>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ReviewState {
    Open,
    Decided,
}

/// Duplicate reviews in your scope (supervisors and above), oldest first.
#[utoipa::path(get, path = "/api/v1/iris/reviews", tag = "iris", params(ReviewQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Review>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn list_reviews(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<Vec<Review>>> {
    let open = !matches!(q.state, Some(ReviewState::Decided));
    Ok(Json(reviews::list(&state.db, &actor, &origin, open).await?))
}

/// One review: both records side by side (facts, photos, encounters, distance per eye).
#[utoipa::path(get, path = "/api/v1/iris/reviews/{id}", tag = "iris",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Review), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn get_review(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Review>> {
    Ok(Json(reviews::get(&state.db, &actor, &origin, &id).await?))
}

/// Decides a review: `same_child` merges the records (undoable for 30 days
/// through the merge), `different_children` keeps both.
#[utoipa::path(post, path = "/api/v1/iris/reviews/{id}/decision", tag = "iris",
    params(("id" = String, Path)), request_body = ReviewVerdict, security(("bearer" = [])),
    responses((status = 200, body = Review), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "Already decided"),
        (status = 422, body = Problem)))]
async fn decide_review(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(verdict): ApiJson<ReviewVerdict>,
) -> Result<Json<Review>> {
    let review = reviews::decide(&state.db, &actor, &origin, &id, verdict).await?;
    // The answer shows the records of the sides in scope, as a read does.
    let shown = [&review.record, &review.candidate]
        .into_iter()
        .filter_map(|side| side.child.as_ref().map(|c| c.id.as_str()));
    audit::reads(
        state.db.pool(),
        &Who::from(&actor),
        &origin,
        "iris.review_read",
        shown,
        Some(serde_json::json!({"review": id})),
    )
    .await?;
    Ok(Json(review))
}
