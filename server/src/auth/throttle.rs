//! Login throttling: too many attempts for one (username, address) pair, for
//! one username from anywhere, or from one address, within a window → 429 with
//! `Retry-After` until the window ends.
//!
//! Counters live in the `login_throttle` table, so every server instance
//! counts together. An attempt is counted *before* its password is checked
//! ([`reserve`]): one statement per counter that adds the attempt only while
//! the counter is under its limit, so of many concurrent attempts at most the
//! limit get through — a check-then-count would let all of them past the check
//! before any was counted. An attempt that turns out right (or never got its
//! check) is handed back ([`refund`]), so the counters hold failures.
//!
//! The pair's limit is low and the username's high: a stranger guessing at a
//! name from their own address meets the pair's limit long before the name is
//! locked for everyone, so wrong passwords cannot lock a user out.

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

    pub fn user_and_ip(username: &str, ip: &str, max_failures: u32) -> Limit {
        Limit {
            key: format!("user-ip:{username}@{ip}"),
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

/// What [`reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The attempt is counted against every limit: go ahead and check it.
    Go,
    /// A limit is exhausted: wait this many seconds. Nothing was counted.
    Wait(u64),
}

/// Counts one attempt against every limit, atomically, unless one of them is
/// exhausted within the window (then nothing is counted).
pub async fn reserve(db: &Db, limits: &[Limit], window_ms: i64) -> sqlx::Result<Verdict> {
    let now = crate::now_ms();
    let cutoff = now - window_ms;
    // Keys in one order in every transaction: two attempts locking the same
    // rows on PostgreSQL never wait for each other crosswise.
    let mut limits: Vec<&Limit> = limits.iter().collect();
    limits.sort_by(|a, b| a.key.cmp(&b.key));
    let mut tx = db.begin_write().await?;
    let mut wait_ms = 0i64;
    for limit in limits {
        // The conflict branch updates only while the window has ended or the
        // counter is under its limit; otherwise no row comes back. The row is
        // locked by the statement, so concurrent attempts see each other's counts.
        let counted = sqlx::query(
            "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN login_throttle.window_start <= $3
                               THEN 1 ELSE login_throttle.failures + 1 END,
               window_start = CASE WHEN login_throttle.window_start <= $3
                                   THEN $2 ELSE login_throttle.window_start END
             WHERE login_throttle.window_start <= $3 OR login_throttle.failures < $4
             RETURNING failures",
        )
        .bind(&limit.key)
        .bind(now)
        .bind(cutoff)
        .bind(i64::from(limit.max_failures))
        .fetch_optional(&mut *tx)
        .await?;
        if counted.is_none() {
            let start: i64 = sqlx::query("SELECT window_start FROM login_throttle WHERE key = $1")
                .bind(&limit.key)
                .fetch_one(&mut *tx)
                .await?
                .try_get("window_start")?;
            wait_ms = wait_ms.max(start + window_ms - now);
        }
    }
    if wait_ms > 0 {
        tx.rollback().await?;
        return Ok(Verdict::Wait((wait_ms as u64).div_ceil(1000).max(1)));
    }
    tx.commit().await?;
    Ok(Verdict::Go)
}

/// Hands back an attempt [`reserve`] counted: it was right, or never checked.
pub async fn refund(db: &Db, limits: &[Limit]) -> sqlx::Result<()> {
    for limit in limits {
        sqlx::query(
            "UPDATE login_throttle
             SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END
             WHERE key = $1",
        )
        .bind(&limit.key)
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
