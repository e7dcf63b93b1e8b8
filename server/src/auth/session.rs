//! Bearer sessions: an opaque random token handed out at login.
//!
//! The token is 32 random bytes (base64url); the database keeps only its
//! SHA-256, with an expiry and a revocation time. A token is valid while it is
//! unexpired, unrevoked and its user is not disabled.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Actor, Scope};
use crate::db::Db;
use kudakyar_api::users::Role;

/// A fresh token and the hash under which it is stored.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a new session; returns the token to give the client and its expiry (ms).
pub async fn create(
    db: &Db,
    user_id: &str,
    ttl_ms: i64,
    client_ip: Option<&str>,
) -> sqlx::Result<(String, i64)> {
    let (token, hash) = new_token();
    let now = crate::now_ms();
    let expires_at = now + ttl_ms;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, client_ip)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(client_ip)
    .execute(db.pool())
    .await?;
    Ok((token, expires_at))
}

/// The caller behind a token, if the session is live.
pub async fn lookup(db: &Db, token: &str) -> sqlx::Result<Option<Actor>> {
    let hash = hash_token(token);
    let row = sqlx::query(&format!(
        "SELECT {ACTOR_COLUMNS}
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled_at IS NULL"
    ))
    .bind(&hash)
    .bind(crate::now_ms())
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(row) => actor_from_row(&row, hash),
        None => Ok(None),
    }
}

/// What [`actor_from_row`] reads, from `users u`.
const ACTOR_COLUMNS: &str = "u.id, u.username, u.role, u.province, u.county";

/// The actor a user row describes, holding the session `token_hash`;
/// `None` for a role this build does not know (no access rather than a guess).
fn actor_from_row(row: &AnyRow, token_hash: String) -> sqlx::Result<Option<Actor>> {
    let role: String = row.try_get("role")?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    Ok(Some(Actor {
        user_id: row.try_get("id")?,
        username: row.try_get("username")?,
        role,
        scope: Scope::from_parts(row.try_get("province")?, row.try_get("county")?),
        token_hash,
    }))
}

/// Revokes one session (logout).
pub async fn revoke(db: &Db, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(crate::now_ms())
        .bind(token_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Revokes every session of a user (when the user is disabled).
pub async fn revoke_all<'e, E>(executor: E, user_id: &str) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(crate::now_ms())
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(())
}
