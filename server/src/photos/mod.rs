//! Photos of children: uploaded once, stored clean, served only to those who
//! may see the child.
//!
//! The way of one photo through this module:
//!
//! - [`routes`]: `POST /api/v1/children/{id}/photos` takes a multipart form
//!   (the image in the field `photo`, an optional client `id`) under its own
//!   body limit; the `GET`s list a child's photos and serve each image and its
//!   thumbnail with a strong `ETag`, answering `If-None-Match` with 304.
//! - [`upload`]: reads the form, checks the child is in the caller's scope,
//!   recognises a retried upload by its client id, and stores the result —
//!   objects first, then the row and its `photo.create` audit entry in one
//!   transaction.
//! - [`process`]: detects the type from the bytes, refuses decompression
//!   bombs, applies the EXIF orientation, and re-encodes a normalised JPEG and
//!   a thumbnail without any metadata (GPS included). The upload itself is
//!   never kept.
//! - [`store`]: the `child_photos` rows.
//!
//! The images live in [`crate::media::Media`] (a local directory or an S3
//! bucket) under keys that include their content hash, so a conflicting retry
//! can never overwrite a stored photo. Nothing is reachable by a public URL.

pub mod process;
pub mod routes;
pub mod store;
pub mod upload;

use serde::Serialize;
use utoipa::ToSchema;

/// A stored photo of a child. The image itself is fetched from `url` (and a
/// small copy from `thumbnail_url`) with the same bearer token.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Photo {
    pub id: String,
    pub child_id: String,
    /// Pixel size of the normalised JPEG, orientation applied.
    pub width: i64,
    pub height: i64,
    /// Size of the normalised JPEG in bytes.
    pub bytes: i64,
    /// SHA-256 (hex) of the normalised JPEG: its `ETag`.
    pub sha256: String,
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    pub url: String,
    pub thumbnail_url: String,
}

/// The API path of a photo's image; `…/thumbnail` serves its small copy.
pub fn photo_url(child_id: &str, photo_id: &str) -> String {
    format!("/api/v1/children/{child_id}/photos/{photo_id}")
}

/// The API path of a photo's thumbnail.
pub fn thumbnail_url(child_id: &str, photo_id: &str) -> String {
    format!("{}/thumbnail", photo_url(child_id, photo_id))
}
