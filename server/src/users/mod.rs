//! User accounts: storage ([`store`]), validation ([`validate`]), the HTTP API
//! ([`routes`]) and the first-start `admin` ([`bootstrap_admin`]).
//!
//! The command line (`kudakyar user …`) and the API share the same functions,
//! so a user added either way is validated and audited the same way.

pub mod routes;
pub mod store;
pub mod validate;

use std::path::Path;

use kudakyar_api::users::{NewUser, Role, User};

use crate::audit::{self, Event, Origin, Who};
use crate::db::Db;
use crate::error::{Error, Result, ResultExt};

/// Validates, hashes and stores a new user, auditing it in the same transaction.
pub async fn create(db: &Db, new: NewUser, who: &Who, origin: &Origin) -> Result<User> {
    let new = validate::new_user(new)?;
    let password = new.password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::auth::password::hash(&password))
        .await
        .map_err(anyhow::Error::from)??;
    let mut tx = db.begin_write().await?;
    let user = store::insert(&mut *tx, &new, &hash, who.user_id.as_deref())
        .await
        .on_unique(store::USERNAME_TAKEN, || {
            Error::field("username", "is already taken")
        })?;
    audit::record(
        &mut *tx,
        who,
        origin,
        Event::new("user.create", "user", Some(&user.id)).with_detail(serde_json::json!({
            "username": user.username,
            "role": user.role.as_str(),
            "province": user.province,
            "county": user.county,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Disables a user and revokes all their sessions, audited. Disabling a
/// disabled user again changes nothing and records nothing.
pub async fn disable(db: &Db, user_id: &str, who: &Who, origin: &Origin) -> Result<()> {
    let mut tx = db.begin_write().await?;
    match store::set_disabled(&mut tx, user_id).await? {
        None => return Err(Error::NotFound),
        Some(false) => return Ok(()),
        Some(true) => {}
    }
    crate::auth::session::revoke_all(&mut *tx, user_id).await?;
    audit::record(
        &mut *tx,
        who,
        origin,
        Event::new("user.disable", "user", Some(user_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets or removes `user_id`'s phone; the audit line says that it changed,
/// never the number.
pub async fn set_phone(
    db: &Db,
    user_id: &str,
    phone: Option<&str>,
    who: &Who,
    origin: &Origin,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query("UPDATE users SET phone = $1 WHERE id = $2")
        .bind(phone)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut *tx,
        who,
        origin,
        Event::new("user.phone", "user", Some(user_id))
            .with_detail(serde_json::json!({ "set": phone.is_some() })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// On first start (no national admin exists yet) creates `admin` with the
/// configured password, or a random one written once to
/// `<data_dir>/initial-admin-password` (mode 0600). Returns that file's path
/// when one was written.
pub async fn bootstrap_admin(
    db: &Db,
    data_dir: &Path,
    configured_password: Option<&str>,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    if store::national_admin_exists(db).await? {
        return Ok(None);
    }
    let password = configured_password
        .map(str::to_string)
        .unwrap_or_else(crate::auth::password::random);
    let new = NewUser {
        username: "admin".into(),
        password: password.clone(),
        display_name: Some("مدیر سامانه".into()),
        role: Role::NationalAdmin,
        province: None,
        county: None,
    };
    match create(db, new, &Who::system(), &Origin::system()).await {
        Ok(_) => {}
        // Another instance sharing the database won the race: nothing to do.
        Err(Error::Validation(errors)) if errors.contains_key("username") => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("creating the admin user: {e:?}")),
    }
    if configured_password.is_some() {
        return Ok(None);
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("initial-admin-password");
    write_secret(&path, &format!("{password}\n"))?;
    Ok(Some(path))
}

/// Writes a file only its owner can read.
pub fn write_secret(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}
