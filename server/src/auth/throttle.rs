//! Login throttling: too many failures for one username, or from one IP,
//! within a window → 429 with `Retry-After` until the window ends.
//!
//! Counters live in the `login_throttle` table, so every server instance
//! counts together. A successful login clears the username's counter (not the
//! IP's: one right password must not unlock guessing at other accounts).

use sqlx::Row;

use crate::db::Db;

/// One counter to check: its key and how many failures it tolerates.
#[derive(Debug, Clone)]
pub struct Limit {
    pub key: String,
    pub max_failures: u32,
}

impl Limit {
    pub fn user(username: &str, max_failures: u32) -> Limit {
        Limit {
            key: format!("user:{username}"),
            max_failures,
        }
    }

    pub fn ip(ip: &str, max_failures: u32) -> Limit {
        Limit {
            key: format!("ip:{ip}"),
            max_failures,
        }
    }
}

/// Seconds to wait if any limit is exhausted within the window, else `None`.
pub async fn blocked_for(db: &Db, limits: &[Limit], window_ms: i64) -> sqlx::Result<Option<u64>> {
    let now = crate::now_ms();
    let mut wait_ms = 0i64;
    for limit in limits {
        let row = sqlx::query("SELECT window_start, failures FROM login_throttle WHERE key = $1")
            .bind(&limit.key)
            .fetch_optional(db.pool())
            .await?;
        if let Some(row) = row {
            let start: i64 = row.try_get("window_start")?;
            let failures: i64 = row.try_get("failures")?;
            let ends = start + window_ms;
            if failures >= i64::from(limit.max_failures) && ends > now {
                wait_ms = wait_ms.max(ends - now);
            }
        }
    }
    Ok((wait_ms > 0).then(|| (wait_ms as u64).div_ceil(1000)))
}

/// Counts one failure against each key, starting a new window when the old one ended.
pub async fn record_failure(db: &Db, limits: &[Limit], window_ms: i64) -> sqlx::Result<()> {
    let now = crate::now_ms();
    for limit in limits {
        sqlx::query(
            "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN login_throttle.window_start <= $3
                               THEN 1 ELSE login_throttle.failures + 1 END,
               window_start = CASE WHEN login_throttle.window_start <= $3
                                   THEN $2 ELSE login_throttle.window_start END",
        )
        .bind(&limit.key)
        .bind(now)
        .bind(now - window_ms)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// Forgets the failures of one key (after a successful login).
pub async fn clear(db: &Db, limit: &Limit) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(&limit.key)
        .execute(db.pool())
        .await?;
    Ok(())
}
