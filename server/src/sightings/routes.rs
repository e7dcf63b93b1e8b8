//! The public side of sightings: `POST /api/v1/sightings` (JSON, or a
//! multipart form with a photo), `GET /api/v1/sightings/receipt/{code}`,
//! `GET /api/v1/sightings/challenge`; and the report's photo for staff.

use axum::Json;
use axum::body::to_bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use kudakyar_api::problem::Problem;
use kudakyar_api::sightings::{Challenge, NewSighting, ReceiptStatus, SightingReceipt};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{abuse, intake, receipt, store};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::http::form::{form_error, read_field, whole};
use crate::photos::process::MAX_UPLOAD_BYTES;

/// The largest JSON report (a 1,000-character description is 4 KB of UTF-8).
const MAX_REPORT_BYTES: usize = 64 * 1024;
/// Room for the form's boundaries and the report around the largest photo.
const FORM_OVERHEAD: usize = MAX_REPORT_BYTES + 16 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_sighting))
        .routes(routes!(receipt_status))
        .routes(routes!(challenge))
        .routes(routes!(sighting_photo))
        // A report may carry a photo: this route's limit replaces the
        // application's JSON-sized one (JSON alone is held to its own below).
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + FORM_OVERHEAD))
}

/// The multipart form of a report with a photo.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SightingForm {
    /// The report, as the JSON body would be (a `NewSighting`).
    #[schema(value_type = Object)]
    report: String,
    /// JPEG, PNG or WebP (recognised by content), at most 15 MiB and 40
    /// megapixels; all metadata, GPS included, is dropped.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    photo: Option<Vec<u8>>,
}

/// Reports a child seen working in the street. Open to everyone: without a
/// login it is a citizen's report, limited per address and device (past the
/// soft limit the report needs a `proof`: see `GET /api/v1/sightings/challenge`);
/// with a staff login, a `hotline` or `worker` report. Idempotent by `id`.
#[utoipa::path(post, path = "/api/v1/sightings", tag = "sightings",
    request_body(content(
        (NewSighting = "application/json"),
        (SightingForm = "multipart/form-data"),
    )),
    security((), ("bearer" = [])),
    responses(
        (status = 201, body = SightingReceipt),
        (status = 200, body = SightingReceipt, description = "A retry of a report already stored"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "Another report was stored with this id"),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "A field is wrong; `proof` when a proof-of-work stamp is needed"),
        (status = 429, body = Problem, description = "Too many reports from this address or device: wait `Retry-After` seconds")))]
async fn create_sighting(
    State(state): State<AppState>,
    actor: Option<Actor>,
    origin: Origin,
    request: Request,
) -> Result<(StatusCode, Json<SightingReceipt>)> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (report, photo) = if content_type.starts_with("multipart/form-data") {
        let _slot = state.uploads.take()?;
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        read_form(form).await?
    } else if content_type.starts_with("application/json") {
        let bytes = to_bytes(request.into_body(), MAX_REPORT_BYTES)
            .await
            .map_err(|_| Error::PayloadTooLarge)?;
        (crate::http::json::parse::<NewSighting>(&bytes)?, None)
    } else {
        return Err(Error::UnsupportedMediaType(
            "expected `application/json`, or `multipart/form-data` with the fields `report` and `photo`"
                .into(),
        ));
    };
    let (receipt, created) = intake::submit(&state, actor.as_ref(), &origin, report, photo).await?;
    Ok((crate::http::created_or_ok(created), Json(receipt)))
}

/// Reads the whole form (see [`fields`]).
async fn read_form(mut form: Multipart) -> Result<(NewSighting, Option<Bytes>)> {
    let read = fields(&mut form).await;
    whole(form, read).await
}

/// Reads the form: `report` (JSON, required) and `photo` (optional); any
/// other field is an error naming it.
async fn fields(form: &mut Multipart) -> Result<(NewSighting, Option<Bytes>)> {
    let mut report = None;
    let mut photo = None;
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "report" if report.is_none() => {
                let bytes = read_field(field, MAX_REPORT_BYTES).await?;
                report = Some(crate::http::json::parse::<NewSighting>(&bytes)?);
            }
            "photo" if photo.is_none() => {
                let bytes = read_field(field, MAX_UPLOAD_BYTES).await?;
                if bytes.is_empty() {
                    return Err(Error::field("photo", "is empty"));
                }
                photo = Some(bytes);
            }
            "report" | "photo" => return Err(Error::field(&name, "send it once")),
            "" => return Err(Error::BadRequest("a form field has no name".into())),
            other => {
                return Err(Error::field(
                    other,
                    "is not a field of a report form (expected `report` and optionally `photo`)",
                ));
            }
        }
    }
    let report = report.ok_or_else(|| {
        Error::field(
            "report",
            "is required: send the report as JSON in the form field `report`",
        )
    })?;
    Ok((report, photo))
}

/// What a reporter may know of a report: its state, nothing else. Lookups
/// are limited per address (known and unknown codes alike).
#[utoipa::path(get, path = "/api/v1/sightings/receipt/{code}", tag = "sightings",
    params(("code" = String, Path, description = "The receipt code, e.g. K7M2Q-9XH4T (any case, dash optional)")),
    security(()),
    responses((status = 200, body = ReceiptStatus), (status = 404, body = Problem, description = "No report has this code"),
        (status = 429, body = Problem, description = "Too many lookups from this address: wait `Retry-After` seconds")))]
async fn receipt_status(
    State(state): State<AppState>,
    origin: Origin,
    Path(code): Path<String>,
) -> Result<Json<ReceiptStatus>> {
    let limit = state.config.receipt_lookups_per_hour;
    count_client(&state, &origin, "receipt-ip", limit).await?;
    let found = match receipt::normalise(&code) {
        Some(code) => receipt::state(state.db.pool(), &code).await?,
        None => None,
    };
    found
        .map(|state| Json(ReceiptStatus { state }))
        .ok_or(Error::NotFound)
}

/// A proof-of-work challenge, for a report past the soft limit.
#[utoipa::path(get, path = "/api/v1/sightings/challenge", tag = "sightings",
    security(()),
    responses((status = 200, body = Challenge),
        (status = 429, body = Problem, description = "Too many challenges from this address: wait `Retry-After` seconds")))]
async fn challenge(State(state): State<AppState>, origin: Origin) -> Result<Json<Challenge>> {
    // A client solves one challenge per report past the soft limit: a few
    // times the hard limit is plenty, and keeps the table small.
    let limit = state.config.sighting_max_per_hour.saturating_mul(6).max(6);
    count_client(&state, &origin, "challenge-ip", limit).await?;
    let difficulty = state.config.sighting_pow_difficulty;
    Ok(Json(abuse::issue(state.db.pool(), difficulty).await?))
}

/// Counts one request of this client address against `limit` an hour.
async fn count_client(state: &AppState, origin: &Origin, kind: &str, limit: u32) -> Result<()> {
    let Some(ip) = origin.client_ip.as_deref() else {
        return Ok(());
    };
    abuse::count(&state.db, &[abuse::key(kind, ip)], limit, limit).await?;
    Ok(())
}

/// A JPEG image.
#[derive(ToSchema)]
#[schema(content_media_type = "image/jpeg")]
#[allow(dead_code)]
struct JpegImage(String);

/// The photo sent with a report (staff whose scope holds the report's county).
#[utoipa::path(get, path = "/api/v1/sightings/{id}/photo", tag = "sightings",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = JpegImage, content_type = "image/jpeg"),
        (status = 401, body = Problem), (status = 404, body = Problem, description = "No such report in your scope, or it has no photo")))]
async fn sighting_photo(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Response> {
    store::find(state.db.pool(), &actor, &id)
        .await?
        .filter(|s| s.has_photo)
        .ok_or(Error::NotFound)?;
    let key: Option<String> = sqlx::query_scalar("SELECT photo_key FROM sightings WHERE id = $1")
        .bind(&id)
        .fetch_one(state.db.pool())
        .await?;
    let bytes = state
        .media
        .get(key.as_deref().unwrap_or_default())
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        state.db.pool(),
        &Who::from(&actor),
        &origin,
        Event::new("sighting.photo", "sighting", Some(&id)),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}
