//! Reading `multipart/form-data` uploads (photos, eye captures) field by
//! field under a size limit, with errors in the API's terms, and
//! [`UploadSlots`], the cap on uploads taken in at once.
//!
//! An upload handler checks what it can without the body first (who asks,
//! and for which child), then takes a slot, then reads the body: a request
//! that will be refused never makes the server hold megabytes for it.

use std::sync::Arc;

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

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

/// What reading a form's fields answered, once the whole form is read: when
/// the reading stopped early (a field too large, a wrong field), the rest is
/// read and dropped first, up to the route's body limit. Closing a connection
/// with request bytes unread makes the kernel reset it, and the client would
/// see the reset instead of the answer that says what was wrong.
pub async fn whole<T>(mut form: Multipart, read: Result<T>) -> Result<T> {
    if read.is_err() {
        while let Ok(Some(mut field)) = form.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    }
    read
}

/// A broken form is 400; one over the body limit is 413.
pub fn form_error(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::BadRequest(format!("malformed multipart form: {}", e.body_text()))
    }
}

/// How many uploads this instance reads at once (`max_concurrent_uploads`):
/// each may hold up to tens of megabytes while it is read and processed.
#[derive(Clone, Debug)]
pub struct UploadSlots(Arc<Semaphore>);

/// When a refused upload is told to come back: uploads finish in seconds.
const RETRY_AFTER_SECS: u64 = 2;

impl UploadSlots {
    pub fn new(slots: usize) -> UploadSlots {
        UploadSlots(Arc::new(Semaphore::new(slots.max(1))))
    }

    /// A slot held until the returned permit drops, or 429 with `Retry-After`.
    pub fn take(&self) -> Result<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().map_err(|_| Error::Busy {
            detail: format!(
                "The server is taking in as many uploads as it can; send again in {RETRY_AFTER_SECS} seconds."
            ),
            retry_after_secs: RETRY_AFTER_SECS,
        })
    }

    /// Slots free now.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }
}
