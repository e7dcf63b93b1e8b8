//! `/api/v1/children/{id}/photos…`: upload, list, and the two image reads.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kudakyar_api::problem::Problem;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::process::MAX_UPLOAD_BYTES;
use super::{Photo, store, upload};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::http::created_or_ok;
use crate::registry;

/// Room for the form's boundaries and the `id` field around the largest photo;
/// the photo's own limit is checked while reading it (see [`upload::read_form`]).
const FORM_OVERHEAD: usize = 64 * 1024;

/// Lets browsers keep an image but ask every time whether it is still the
/// one allowed (the `ETag` makes that a cheap 304); shared caches never store it.
const CACHE_CONTROL: &str = "private, max-age=0, must-revalidate";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_photos, upload_photo))
        .routes(routes!(get_photo))
        .routes(routes!(get_thumbnail))
        // Replaces the application's JSON-sized default for these routes only.
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + FORM_OVERHEAD))
}

/// The multipart form of a photo upload.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PhotoUpload {
    /// JPEG, PNG or WebP (recognised by content), at most 15 MiB and 40
    /// megapixels. EXIF orientation is applied, then all metadata dropped.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    photo: Vec<u8>,
    /// A UUID chosen by the client: a retried upload with it is stored once.
    #[schema(value_type = Option<String>, format = Uuid)]
    id: Option<String>,
}

/// A JPEG image.
#[derive(ToSchema)]
#[schema(content_media_type = "image/jpeg")]
#[allow(dead_code)]
struct JpegImage(String);

/// Uploads a photo of a child. A retry with the same `id` and file answers
/// 200 with the stored photo; the same `id` with another file is 409.
#[utoipa::path(post, path = "/api/v1/children/{id}/photos", tag = "photos",
    params(("id" = String, Path, description = "The child")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 201, body = Photo), (status = 200, body = Photo, description = "A retry of an earlier upload"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem, description = "Larger than 15 MiB"),
        (status = 415, body = Problem, description = "Not a JPEG, PNG or WebP image"),
        (status = 422, body = Problem, description = "Too many pixels, truncated or corrupt"),
        (status = 429, body = Problem, description = "Too many uploads at once: send again after `Retry-After` seconds")))]
async fn upload_photo(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(child_id): Path<String>,
    form: std::result::Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Photo>)> {
    let form = form.map_err(|_| {
        Error::UnsupportedMediaType(
            "expected `Content-Type: multipart/form-data` with the image in the field `photo`"
                .into(),
        )
    })?;
    // Before the body: a child out of scope is refused without reading it.
    registry::store::find(state.db.pool(), &actor.scope, &child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let _slot = state.uploads.take()?;
    let form = upload::read_form(form).await?;
    let (photo, created) = upload::create(&state, &actor, &origin, &child_id, form).await?;
    Ok((created_or_ok(created), Json(photo)))
}

/// A child's photos, newest first.
#[utoipa::path(get, path = "/api/v1/children/{id}/photos", tag = "photos",
    params(("id" = String, Path, description = "The child")), security(("bearer" = [])),
    responses((status = 200, body = Vec<Photo>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_photos(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(child_id): Path<String>,
) -> Result<Json<Vec<Photo>>> {
    registry::store::find(state.db.pool(), &actor.scope, &child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let photos = store::list(state.db.pool(), &child_id).await?;
    audit::record(
        state.db.pool(),
        &Who::from(&actor),
        &origin,
        Event::new("photo.list", "child", Some(&child_id)),
    )
    .await?;
    Ok(Json(photos.into_iter().map(|p| p.photo).collect()))
}

/// The normalised photo (JPEG, at most 1600 px, no metadata).
#[utoipa::path(get, path = "/api/v1/children/{id}/photos/{photo_id}", tag = "photos",
    params(("id" = String, Path, description = "The child"), ("photo_id" = String, Path),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "image/jpeg", body = inline(JpegImage), description = "The image",
            headers(("ETag" = String, description = "SHA-256 of the image"))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_photo(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path((child_id, photo_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    serve(
        &state,
        &actor,
        &origin,
        &child_id,
        &photo_id,
        Variant::Image,
        &headers,
    )
    .await
}

/// The photo's thumbnail (JPEG, at most 256 px).
#[utoipa::path(get, path = "/api/v1/children/{id}/photos/{photo_id}/thumbnail", tag = "photos",
    params(("id" = String, Path, description = "The child"), ("photo_id" = String, Path),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "image/jpeg", body = inline(JpegImage), description = "The thumbnail",
            headers(("ETag" = String, description = "SHA-256 of the thumbnail"))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_thumbnail(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path((child_id, photo_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    serve(
        &state,
        &actor,
        &origin,
        &child_id,
        &photo_id,
        Variant::Thumbnail,
        &headers,
    )
    .await
}

#[derive(Debug, Clone, Copy)]
enum Variant {
    Image,
    Thumbnail,
}

/// One of a photo's images, if the child is in the caller's scope; each read
/// (a 304 too: the client shows its copy) is audited.
async fn serve(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
    photo_id: &str,
    variant: Variant,
    headers: &HeaderMap,
) -> Result<Response> {
    registry::store::find(state.db.pool(), &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let stored = store::get(state.db.pool(), photo_id)
        .await?
        .filter(|s| s.photo.child_id == child_id)
        .ok_or(Error::NotFound)?;
    let (key, sha256, name) = match variant {
        Variant::Image => (&stored.object_key, &stored.photo.sha256, "image"),
        Variant::Thumbnail => (&stored.thumbnail_key, &stored.thumbnail_sha256, "thumbnail"),
    };
    audit::record(
        state.db.pool(),
        &Who::from(actor),
        origin,
        Event::new("photo.read", "child", Some(child_id))
            .with_detail(serde_json::json!({ "photo": photo_id, "variant": name })),
    )
    .await?;
    let etag = format!("\"{sha256}\"");
    let cached = [
        (header::ETAG, header_value(&etag)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
    ];
    if none_match(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cached).into_response());
    }
    let bytes = state.media.get(key).await?.ok_or_else(|| {
        Error::Internal(anyhow::anyhow!("photo {photo_id}: object {key} is missing"))
    })?;
    Ok((
        cached,
        [(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"))],
        bytes,
    )
        .into_response())
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// True when `If-None-Match` names this `ETag` (or `*`). The comparison is
/// weak, as RFC 9110 asks for this header: `W/"x"` matches `"x"`.
pub(crate) fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}
