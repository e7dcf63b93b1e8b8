//! Throwaway PostgreSQL databases, for tests and benches.
//!
//! The integration tests, the end-to-end tests and the benches all run on
//! SQLite, and on PostgreSQL too when [`TEST_POSTGRES_URL_VAR`] names a server
//! where they may create databases. Each run gets a database of its own
//! ([`ScratchDatabase::create`]), so runs in parallel never see each other's
//! rows, and drops it afterwards ([`ScratchDatabase::drop`]).

use anyhow::Context;

use super::Db;

/// The environment variable naming the test PostgreSQL server, e.g.
/// `postgres://root@127.0.0.1:5432/test` (any database there: it is only the
/// door through which the scratch databases are created and dropped).
pub const TEST_POSTGRES_URL_VAR: &str = "KUDAKYAR_TEST_POSTGRES_URL";

/// The test PostgreSQL server's URL; `None`, with a loud line naming `what`
/// was skipped, when it is not set. With `CI=true` it must be set: there both
/// backends are always tested, so a missing variable panics.
pub fn test_postgres_url(what: &str) -> Option<String> {
    match std::env::var(TEST_POSTGRES_URL_VAR) {
        Ok(url) => Some(url),
        Err(_) => {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(!in_ci, "{TEST_POSTGRES_URL_VAR} must be set in CI");
            eprintln!(
                "SKIPPED on PostgreSQL: {what} (set {TEST_POSTGRES_URL_VAR} to run it there too)"
            );
            None
        }
    }
}

/// A database created on the test server, to be dropped when done.
#[derive(Debug, Clone)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates an empty database named `<prefix>_<random>` on the server at
    /// `admin_url`.
    pub async fn create(admin_url: &str, prefix: &str) -> anyhow::Result<ScratchDatabase> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(admin_url)
            .await
            .with_context(|| format!("PostgreSQL at {TEST_POSTGRES_URL_VAR} unreachable"))?;
        let created = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await;
        admin.close().await;
        created.with_context(|| format!("creating database {name}"))?;
        Ok(ScratchDatabase {
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database (the server's URL with the path replaced).
    pub fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }

    /// Drops the database, closing whatever connections are still open to it.
    pub async fn drop(self) -> anyhow::Result<()> {
        let admin = Db::connect(&self.admin_url).await?;
        let dropped = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(admin.pool())
        .await;
        admin.close().await;
        dropped.with_context(|| format!("dropping database {}", self.name))?;
        Ok(())
    }
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host = base[scheme_end..].split('/').next().unwrap_or_default();
    let mut out = format!("{}{}/{}", &base[..scheme_end], host, name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://root@127.0.0.1:5432/test", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
