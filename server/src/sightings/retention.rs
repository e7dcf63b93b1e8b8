//! Reporters' phone numbers are kept only as long as a team may need to
//! call back (`reporter_phone_retention_days`, 90 by default): a background
//! job ([`spawn`]) clears them hourly; the reports themselves stay.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::Db;

/// How often the job looks for phones past their retention.
const INTERVAL: Duration = Duration::from_secs(3600);

/// Clears the phones whose retention ended before `now`; how many.
pub async fn purge_phones(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE sightings SET reporter_phone = NULL, phone_purge_at = NULL
         WHERE phone_purge_at IS NOT NULL AND phone_purge_at <= $1",
    )
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// Purges now and every [`INTERVAL`] until `stop` is cancelled.
pub fn spawn(db: Db, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match purge_phones(&db, crate::now_ms()).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(purged = n, "reporters' phones past their retention cleared")
                }
                Err(e) => tracing::warn!(error = %e, "could not purge reporters' phones"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(INTERVAL) => {}
            }
        }
    })
}
