//! Taking in one upload: the multipart form, the idempotent create and the
//! order of writes that leaves no row without its images.

use axum::extract::Multipart;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::process::{self, MAX_UPLOAD_BYTES};
use super::store::{self, StoredPhoto};
use super::{Photo, photo_url};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::error::{Error, Result, is_unique_violation};
use crate::http::form::{form_error, read_field, whole};
use crate::registry;

/// The fields of an upload form.
#[derive(Debug)]
pub struct Form {
    pub id: Option<String>,
    pub photo: Bytes,
}

/// Reads the whole form (see [`fields`]).
pub async fn read_form(mut form: Multipart) -> Result<Form> {
    let read = fields(&mut form).await;
    whole(form, read).await
}

/// Reads the form: `photo` (required, once) and `id` (optional); any other
/// field is an error naming it, so a misspelt field is never ignored.
async fn fields(form: &mut Multipart) -> Result<Form> {
    let mut id = None;
    let mut photo = None;
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "photo" if photo.is_some() => {
                return Err(Error::field("photo", "send one photo per upload"));
            }
            "photo" => photo = Some(read_field(field, MAX_UPLOAD_BYTES).await?),
            "id" => {
                let text = read_field(field, 64).await.map_err(|_| uuid_error())?;
                id = Some(String::from_utf8(text.to_vec()).map_err(|_| uuid_error())?);
            }
            "" => return Err(Error::BadRequest("a form field has no name".into())),
            other => {
                return Err(Error::field(
                    other,
                    "is not a field of a photo upload (expected `photo` and optionally `id`)",
                ));
            }
        }
    }
    let photo = photo.ok_or_else(|| {
        Error::field(
            "photo",
            "is required: send the image as the form field `photo`",
        )
    })?;
    if photo.is_empty() {
        return Err(Error::field("photo", "is empty"));
    }
    Ok(Form { id, photo })
}

fn uuid_error() -> Error {
    Error::field("id", "must be a UUID")
}

/// Stores a photo of a child in the caller's scope; `Ok((photo, false))`
/// when this was a retry of an upload already stored under the same id.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
    form: Form,
) -> Result<(Photo, bool)> {
    let id = match form.id.as_deref().map(|s| uuid::Uuid::parse_str(s.trim())) {
        Some(Ok(u)) => u.hyphenated().to_string(),
        Some(Err(_)) => return Err(uuid_error()),
        None => uuid::Uuid::now_v7().to_string(),
    };
    registry::store::find(state.db.pool(), &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let upload_sha256 = sha256_hex(&form.photo);
    if let Some(done) = retried(state, &id, child_id, &upload_sha256).await? {
        return Ok((done.photo, false));
    }

    let processed = process::process_off_thread(form.photo).await?;
    let sha256 = sha256_hex(&processed.image);
    let thumbnail_sha256 = sha256_hex(&processed.thumbnail);
    // Content-addressed keys: a concurrent upload reusing this id with another
    // file writes elsewhere and cannot replace what gets stored.
    let prefix = format!("photos/{child_id}/{id}");
    let now = crate::now_ms();
    let url = photo_url(child_id, &id);
    let stored = StoredPhoto {
        object_key: format!("{prefix}/{}.jpg", &sha256[..16]),
        thumbnail_key: format!("{prefix}/{}.thumb.jpg", &thumbnail_sha256[..16]),
        thumbnail_sha256,
        upload_sha256,
        photo: Photo {
            id: id.clone(),
            child_id: child_id.to_string(),
            width: processed.width.into(),
            height: processed.height.into(),
            bytes: processed.image.len() as i64,
            sha256,
            created_by: actor.user_id.clone(),
            created_at: crate::ms_to_rfc3339(now),
            thumbnail_url: super::thumbnail_url(child_id, &id),
            url,
        },
    };
    // Objects first: a row never points at images that are not there.
    state
        .media
        .put(&stored.object_key, processed.image.into())
        .await?;
    state
        .media
        .put(&stored.thumbnail_key, processed.thumbnail.into())
        .await?;
    match insert(state, actor, origin, &stored, now).await {
        Ok(()) => Ok((stored.photo, true)),
        Err(e) if is_unique_violation(&e) => {
            // A concurrent retry got there first: answer as for a retry, and
            // drop our objects unless they are the very ones it stored.
            let outcome = retried(state, &id, child_id, &stored.upload_sha256).await;
            if !matches!(&outcome, Ok(Some(done)) if done.object_key == stored.object_key) {
                remove_objects(state, &stored).await;
            }
            outcome?
                .map(|done| (done.photo, false))
                .ok_or_else(|| Error::from(e))
        }
        Err(e) => {
            remove_objects(state, &stored).await;
            Err(e.into())
        }
    }
}

/// The photo already stored under `id` if this upload repeats it; 409 if the
/// id was used for another file or another child.
async fn retried(
    state: &AppState,
    id: &str,
    child_id: &str,
    upload_sha256: &str,
) -> Result<Option<StoredPhoto>> {
    match store::get(state.db.pool(), id).await? {
        None => Ok(None),
        Some(done) if done.photo.child_id == child_id && done.upload_sha256 == upload_sha256 => {
            Ok(Some(done))
        }
        Some(_) => Err(Error::Conflict {
            detail: "a different photo was already stored with this id".into(),
            stored: None,
            conflicts: None,
        }),
    }
}

async fn insert(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    stored: &StoredPhoto,
    now: i64,
) -> sqlx::Result<()> {
    let mut tx = state.db.begin_write().await?;
    store::insert(&mut *tx, stored, now).await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("photo.create", "child", Some(&stored.photo.child_id))
            .with_detail(serde_json::json!({ "photo": stored.photo.id })),
    )
    .await?;
    tx.commit().await
}

/// Best effort: an orphaned object is only wasted space, never a leak.
async fn remove_objects(state: &AppState, stored: &StoredPhoto) {
    for key in [&stored.object_key, &stored.thumbnail_key] {
        if let Err(e) = state.media.delete(key).await {
            tracing::warn!(
                error = format!("{e:#}"),
                key,
                "could not remove an unused photo object"
            );
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
