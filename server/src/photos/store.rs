//! SQL for the `child_photos` table (migration `0003_photos.sql`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Photo;
use crate::db::sql::{row_by, rows_by};

/// A photo row: the API view plus what only the server sees.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub photo: Photo,
    pub object_key: String,
    pub thumbnail_key: String,
    pub thumbnail_sha256: String,
    pub upload_sha256: String,
}

/// What [`photo_from_row`] reads, and what [`insert`] writes, in `child_photos`.
const PHOTO_COLUMNS: &str = "id, child_id, object_key, thumbnail_key, sha256, thumbnail_sha256, \
                       width, height, bytes, upload_sha256, created_by, created_at";

fn photo_from_row(row: &AnyRow) -> sqlx::Result<StoredPhoto> {
    let id: String = row.try_get("id")?;
    let child_id: String = row.try_get("child_id")?;
    let url = super::photo_url(&child_id, &id);
    Ok(StoredPhoto {
        photo: Photo {
            thumbnail_url: super::thumbnail_url(&child_id, &id),
            url,
            id,
            child_id,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
            bytes: row.try_get("bytes")?,
            sha256: row.try_get("sha256")?,
            created_by: row.try_get("created_by")?,
            created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        },
        object_key: row.try_get("object_key")?,
        thumbnail_key: row.try_get("thumbnail_key")?,
        thumbnail_sha256: row.try_get("thumbnail_sha256")?,
        upload_sha256: row.try_get("upload_sha256")?,
    })
}

/// A photo by id, whichever child it belongs to (callers check that).
pub async fn get<'e, E>(executor: E, id: &str) -> sqlx::Result<Option<StoredPhoto>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {PHOTO_COLUMNS} FROM child_photos WHERE id = $1");
    row_by(executor, &sql, id, photo_from_row).await
}

/// A child's photos, newest first.
pub async fn list<'e, E>(executor: E, child_id: &str) -> sqlx::Result<Vec<StoredPhoto>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {PHOTO_COLUMNS} FROM child_photos WHERE child_id = $1 ORDER BY created_at DESC, id DESC"
    );
    rows_by(executor, &sql, child_id, photo_from_row).await
}

pub async fn insert<'e, E>(executor: E, p: &StoredPhoto, created_at: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "INSERT INTO child_photos ({PHOTO_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&p.photo.id)
    .bind(&p.photo.child_id)
    .bind(&p.object_key)
    .bind(&p.thumbnail_key)
    .bind(&p.photo.sha256)
    .bind(&p.thumbnail_sha256)
    .bind(p.photo.width)
    .bind(p.photo.height)
    .bind(p.photo.bytes)
    .bind(&p.upload_sha256)
    .bind(&p.photo.created_by)
    .bind(created_at)
    .execute(executor)
    .await?;
    Ok(())
}
