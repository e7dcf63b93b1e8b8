//! Reading `multipart/form-data` uploads (photos, eye captures) field by
//! field under a size limit, with errors in the API's terms.

use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use bytes::Bytes;

use super::error::{Error, Result};

/// A field's bytes; more than `limit` is 413, keeping none of the rest.
///
/// The rest of the field is still read (and dropped) before answering, up
/// to the route's body limit: a server that answers while the client is
/// still sending makes the connection close under the client, which then
/// sees a reset instead of the 413 that says what was wrong.
pub async fn read_field(mut field: Field<'_>, limit: usize) -> Result<Bytes> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        if out.len() + chunk.len() > limit {
            while let Ok(Some(_)) = field.chunk().await {}
            return Err(Error::PayloadTooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}

/// A broken form is 400; one over the body limit is 413.
pub fn form_error(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::BadRequest(format!("malformed multipart form: {}", e.body_text()))
    }
}
