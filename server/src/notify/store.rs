//! The inbox table: what [`super::fan_out`] writes and the endpoints and
//! streams read. Every read and write names the user, so nobody reaches
//! another's notifications, and the index `(user_id, id)` serves them —
//! but for the stream hub's look at everyone's new ids ([`since`]), which
//! returns no content, by the primary key.

use kudakyar_api::notifications::Notification;
use sqlx::Row;
use sqlx::any::AnyRow;

/// One notification to write.
pub struct New<'a> {
    pub user_id: &'a str,
    pub kind: &'a str,
    pub critical: bool,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub domain_event_id: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, kind, critical, subject_type, subject_id, created_at, read_at";

fn notification(row: &AnyRow) -> sqlx::Result<Notification> {
    Ok(Notification {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        critical: row.try_get::<i64, _>("critical")? != 0,
        subject_type: row.try_get("subject_type")?,
        subject_id: row.try_get("subject_id")?,
        created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        read_at: row
            .try_get::<Option<i64>, _>("read_at")?
            .map(crate::ms_to_rfc3339),
    })
}

/// Writes one notification; its id.
pub async fn insert(conn: &mut sqlx::AnyConnection, n: New<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, critical, subject_type, subject_id,
                                    domain_event_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id",
    )
    .bind(n.user_id)
    .bind(n.kind)
    .bind(i64::from(n.critical))
    .bind(n.subject_type)
    .bind(n.subject_id)
    .bind(n.domain_event_id)
    .bind(n.created_at)
    .fetch_one(conn)
    .await
}

/// A page of `user_id`'s inbox, newest first: ids below `before` (the
/// cursor), only unread ones when asked; `limit + 1` rows, for the pager.
pub async fn list(
    pool: &sqlx::AnyPool,
    user_id: &str,
    before: Option<i64>,
    unread_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<Notification>> {
    let mut sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = $1");
    if before.is_some() {
        sql.push_str(" AND id < $2");
    }
    if unread_only {
        sql.push_str(" AND read_at IS NULL");
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let mut query = sqlx::query(&sql).bind(user_id);
    if let Some(before) = before {
        query = query.bind(before);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter().map(notification).collect()
}

/// `user_id`'s notifications after `after`, oldest first, at most `limit`:
/// what a stream sends next.
pub async fn newer(
    pool: &sqlx::AnyPool,
    user_id: &str,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<Notification>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT {limit}"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(after)
        .fetch_all(pool)
        .await?;
    rows.iter().map(notification).collect()
}

/// The id of `user_id`'s newest notification (0 with none): where a stream
/// opened without `Last-Event-ID` starts, so it sends only what is new.
pub async fn newest_id(pool: &sqlx::AnyPool, user_id: &str) -> sqlx::Result<i64> {
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(id) FROM notifications WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await?;
    Ok(newest.unwrap_or(0))
}

/// The id of the newest notification of anyone (0 with none): where the
/// stream [`super::stream::Hub`] starts.
pub async fn max_id(pool: &sqlx::AnyPool) -> sqlx::Result<i64> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM notifications")
        .fetch_one(pool)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// (id, user) of every notification after `after`, oldest first: what the
/// stream hub announces.
pub async fn since(pool: &sqlx::AnyPool, after: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT id, user_id FROM notifications WHERE id > $1 ORDER BY id")
        .bind(after)
        .fetch_all(pool)
        .await
}

pub async fn unread_count(pool: &sqlx::AnyPool, user_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(pool)
        .await
}

/// Marks one of `user_id`'s notifications read (again: a no-op keeping the
/// first time) and returns it; none when it is not theirs or not there.
pub async fn mark_read(
    pool: &sqlx::AnyPool,
    user_id: &str,
    id: i64,
) -> sqlx::Result<Option<Notification>> {
    let updated = sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3",
    )
    .bind(crate::now_ms())
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1 AND user_id = $2");
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_one(pool)
        .await?;
    notification(&row).map(Some)
}

/// Marks every unread notification of `user_id` read; returns how many.
pub async fn mark_all_read(pool: &sqlx::AnyPool, user_id: &str) -> sqlx::Result<i64> {
    let updated =
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(crate::now_ms())
            .bind(user_id)
            .execute(pool)
            .await?;
    Ok(updated.rows_affected() as i64)
}
