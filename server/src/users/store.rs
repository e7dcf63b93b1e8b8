//! SQL for the `users` table. Callers pass what the policy allowed them to see.

use kudakyar_api::users::{NewUser, Role, User};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::auth::policy::UserVisibility;
use crate::db::Db;
use crate::db::sql::row_by;
use crate::error::Unique;

/// A user row, with the hash the API never shows.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
}

/// What [`user_from_row`] reads, from `users`.
const USER_COLUMNS: &str =
    "id, username, display_name, role, province, county, created_at, disabled_at, password_hash";

fn user_from_row(row: &AnyRow) -> sqlx::Result<StoredUser> {
    let role: String = row.try_get("role")?;
    let role = Role::parse(&role).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "role".into(),
        source: format!("unknown role {role:?}").into(),
    })?;
    let disabled_at: Option<i64> = row.try_get("disabled_at")?;
    Ok(StoredUser {
        user: User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role,
            province: row.try_get("province")?,
            county: row.try_get("county")?,
            disabled: disabled_at.is_some(),
            created_at: crate::ms_to_rfc3339(row.try_get("created_at")?),
        },
        password_hash: row.try_get("password_hash")?,
    })
}

pub async fn find_by_username(db: &Db, username: &str) -> sqlx::Result<Option<StoredUser>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let username = username.trim().to_lowercase();
    row_by(db.pool(), &sql, &username, user_from_row).await
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<StoredUser>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    row_by(db.pool(), &sql, id, user_from_row).await
}

/// The constraint a taken username violates.
pub const USERNAME_TAKEN: Unique = Unique {
    postgres: "users_username_key",
    sqlite: "users.username",
};

/// Inserts a validated user. A taken username is a violation of
/// [`USERNAME_TAKEN`], for the caller to map.
pub async fn insert<'e, E>(
    executor: E,
    new: &NewUser,
    password_hash: &str,
    created_by: Option<&str>,
) -> sqlx::Result<User>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let id = uuid::Uuid::now_v7().to_string();
    let now = crate::now_ms();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash, role, province, county,
                            created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&new.username)
    .bind(new.display_name.as_deref())
    .bind(password_hash)
    .bind(new.role.as_str())
    .bind(new.province.as_deref())
    .bind(new.county.as_deref())
    .bind(now)
    .bind(created_by)
    .execute(executor)
    .await?;
    Ok(User {
        id,
        username: new.username.clone(),
        display_name: new.display_name.clone(),
        role: new.role,
        province: new.province.clone(),
        county: new.county.clone(),
        disabled: false,
        created_at: crate::ms_to_rfc3339(now),
    })
}

/// Users visible under `vis`, ordered by username, after `after` (the cursor).
pub async fn list(
    db: &Db,
    vis: &UserVisibility,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<User>> {
    // Always four role slots, padded with a repeat, so the SQL text is fixed.
    let roles: Vec<&str> = (0..4)
        .map(|i| {
            vis.roles
                .get(i)
                .or(vis.roles.first())
                .map_or("", |r| r.as_str())
        })
        .collect();
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users
         WHERE ($1 IS NULL OR province = $1)
           AND ($2 IS NULL OR county = $2 OR (county IS NULL AND $9 = 1))
           AND role IN ($3, $4, $5, $6) AND username > $7
         ORDER BY username LIMIT $8"
    );
    let rows = sqlx::query(&sql)
        .bind(vis.scope.province())
        .bind(vis.scope.county())
        .bind(roles[0])
        .bind(roles[1])
        .bind(roles[2])
        .bind(roles[3])
        .bind(after.unwrap_or(""))
        .bind(limit)
        .bind(i64::from(vis.province_wide_too))
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| user_from_row(r).map(|s| s.user))
        .collect()
}

/// Marks a user disabled: `Some(true)` when this call disabled them,
/// `Some(false)` when they already were, `None` when no such user exists.
/// Only the first of several disables at once finds them enabled (on
/// PostgreSQL the others wait for its row lock and see it disabled), so a
/// disable is audited once however often it is sent.
pub async fn set_disabled(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<Option<bool>> {
    let done =
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(crate::now_ms())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 1 {
        return Ok(Some(true));
    }
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(exists.map(|_| false))
}

pub async fn national_admin_exists(db: &Db) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'national_admin'")
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}
