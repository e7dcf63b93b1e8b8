//! The database, chosen once at start-up.
//!
//! Kudakyar runs on SQLite (embedded, nothing to install: the default) or on
//! PostgreSQL (production, several server instances). Both are reached through
//! sqlx's `Any` driver, so the code above this module holds one [`Db`] and writes
//! each query once, in the SQL both dialects share:
//!
//! - placeholders are `$1, $2, …` (SQLite accepts them too);
//! - ids are UUIDs stored as `TEXT`, times are `BIGINT` milliseconds since the
//!   epoch (see [`crate::now_ms`]), flags are nullable timestamps (`disabled_at`)
//!   rather than booleans — the types `Any` maps identically on both sides;
//! - `INSERT … ON CONFLICT … DO …` and `RETURNING` (SQLite ≥ 3.35 has both).
//!
//! Where the dialects really differ (autoincrement keys, triggers), the two
//! migration folders `migrations/sqlite` and `migrations/postgres` differ, and
//! are embedded in the binary by [`sqlx::migrate!`].

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub mod scratch;
pub mod sql;
pub mod vocab;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database runs. Only this module and migrations care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = anyhow::Error;

    fn from_str(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            anyhow::bail!("unsupported database URL (expected postgres://… or sqlite:…)")
        }
    }
}

/// The connection pool and the backend behind it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The imported admin boundaries in memory, shared by every clone.
    boundaries: crate::geo::index::Cache,
    /// The atlas sketches this process has read, shared by every clone.
    sketches: crate::atlas::sketch_cache::Cache,
    /// The atlas periods this process has added up, shared by every clone.
    pieces: crate::atlas::piece_cache::Cache,
    /// SQLite's writers of this process, one at a time ([`Db::begin_write`]).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Write transactions begun by this process ([`Db::writes_begun`]).
    writes_begun: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// How long a writer waits for its turn on SQLite before it gives up, as
/// long as SQLite's `busy_timeout` would have let it wait for the lock.
const WRITE_TURN_WAIT: Duration = Duration::from_secs(5);

/// A write transaction from [`Db::begin_write`]: used as the connection it
/// runs on (`&mut *tx`), ended by [`WriteTx::commit`] or, when dropped or
/// [`WriteTx::rollback`] is called, rolled back. On SQLite it holds this
/// process's write turn until it ends.
#[derive(Debug)]
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    /// Released after the transaction's commit or rollback was sent.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }

    /// The backend the transaction runs on (for [`sql::Sql::on`]).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Db {
    /// Opens the configured database: PostgreSQL when a URL is given, else the
    /// SQLite file inside the data directory (both created if missing, and
    /// readable by the owner only).
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Db> {
        match database_url {
            Some(url) => Db::connect(url).await,
            None => {
                crate::private_fs::create_dir(data_dir).context("the data directory")?;
                let path = data_dir.join("kudakyar.db");
                // Created 0600 before SQLite opens it: SQLite would make it
                // 0644 and give its WAL and shared-memory files the same mode.
                // Those left by an older version are closed too.
                crate::private_fs::create_file(&path)?;
                for suffix in ["-wal", "-shm"] {
                    let mut name = path.clone().into_os_string();
                    name.push(suffix);
                    crate::private_fs::restrict(Path::new(&name))?;
                }
                Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
            }
        }
    }

    /// Connects to a database URL (`postgres://…` or `sqlite://…`).
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                // SQLite serialises writers anyway; a few readers in WAL mode suffice.
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; FULL sync makes every
                    // committed record survive a power cut, not only a crash;
                    // the busy timeout turns short lock waits into waits, not errors.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 5000",
                    ] {
                        conn.execute(pragma).await?;
                    }
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options
            .connect(url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        Ok(Db {
            pool,
            backend,
            boundaries: Default::default(),
            sketches: Default::default(),
            pieces: Default::default(),
            write_gate: Default::default(),
            writes_begun: Default::default(),
        })
    }

    /// The imported admin boundaries (empty before any import), loaded on
    /// first use; see [`crate::geo::index::Cache`].
    pub async fn boundaries(&self) -> crate::error::Result<std::sync::Arc<crate::geo::Index>> {
        self.boundaries.get(&self.pool).await
    }

    /// The atlas sketches read so far ([`crate::atlas::sketch_cache`]).
    pub fn sketches(&self) -> &crate::atlas::sketch_cache::Cache {
        &self.sketches
    }

    /// The atlas periods added up so far ([`crate::atlas::piece_cache`]).
    pub fn pieces(&self) -> &crate::atlas::piece_cache::Cache {
        &self.pieces
    }

    pub fn boundaries_cache(&self) -> &crate::geo::index::Cache {
        &self.boundaries
    }

    /// Applies pending migrations (idempotent; safe when several instances start).
    ///
    /// On SQLite they run on one connection with foreign keys off, as SQLite
    /// requires for rebuilding a table that others refer to (the only way to
    /// change a CHECK constraint there), and every reference is checked
    /// afterwards: a migration that broke one fails here, not later.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        if self.backend == Backend::Postgres {
            return self
                .migrator()
                .run(&self.pool)
                .await
                .context("applying database migrations");
        }
        let mut conn = self.pool.acquire().await?;
        conn.execute("PRAGMA foreign_keys = OFF").await?;
        let applied = self.migrator().run(&mut *conn).await;
        let broken: Vec<String> =
            sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&mut *conn)
                .await
                .unwrap_or_default();
        conn.execute("PRAGMA foreign_keys = ON").await?;
        applied.context("applying database migrations")?;
        anyhow::ensure!(
            broken.is_empty(),
            "the migrations left rows whose references are broken, in: {}",
            broken.join(", ")
        );
        Ok(())
    }

    /// True when the database answers and every embedded migration is applied.
    pub async fn ready(&self) -> bool {
        let applied: Result<i64, _> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await;
        matches!(applied, Ok(n) if n as usize >= self.migrator().iter().count())
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Starts a transaction that will write.
    ///
    /// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken at the start,
    /// where a busy connection waits (`busy_timeout`). A plain (deferred) `BEGIN`
    /// takes it only at the first write, and a transaction that read first and
    /// then finds another writer cannot wait — SQLite answers "database is locked"
    /// at once, since waiting could deadlock. Every read-then-write path starts
    /// here, so concurrent writers queue instead of failing. PostgreSQL's row
    /// locks need no such thing: a plain `BEGIN`.
    ///
    /// On SQLite the writers of this process first queue at the [`WriteTx`]
    /// gate, in arrival order, and only then take a connection and the lock.
    /// SQLite's own busy handler makes a waiting writer *sleep* (1, 2, 5, …
    /// up to 100 ms) and look again, so under load the lock lay free while
    /// every waiter slept, and a burst of public reports waited for whole
    /// sleeps behind a background job's short round. The gate hands the turn
    /// over the moment the last writer finishes; the busy handler still
    /// covers writers outside this process (the `kudakyar` commands).
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        self.writes_begun
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.backend {
            Backend::Sqlite => {
                let turn =
                    tokio::time::timeout(WRITE_TURN_WAIT, self.write_gate.clone().lock_owned())
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)?;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx {
                    tx,
                    backend: Backend::Sqlite,
                    _turn: Some(turn),
                })
            }
            Backend::Postgres => Ok(WriteTx {
                tx: self.pool.begin().await?,
                backend: Backend::Postgres,
                _turn: None,
            }),
        }
    }

    /// How many write transactions this process has begun
    /// ([`Db::begin_write`]): how busy the database is with writes, for the
    /// background jobs that give way to intake (`atlas::rollup::spawn`).
    pub fn writes_begun(&self) -> u64 {
        self.writes_begun.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Serialises the write transactions that name the same `key` until
    /// `conn`'s transaction ends: for read-then-insert decisions with no row
    /// to lock yet (is there an incident near this report?). On SQLite the
    /// transaction's `BEGIN IMMEDIATE` already holds the one write lock; on
    /// PostgreSQL a transaction-scoped advisory lock on the key's hash.
    pub async fn lock_key(&self, conn: &mut sqlx::AnyConnection, key: &str) -> sqlx::Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(advisory_id(key))
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// [`Db::lock_key`] for many keys at once, taken in one order that every
    /// caller shares (by the keys' advisory ids): two transactions that
    /// need overlapping sets of keys then never each hold one the other
    /// waits for. One statement on PostgreSQL; nothing on SQLite.
    pub async fn lock_keys<'k>(
        &self,
        conn: &mut sqlx::AnyConnection,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> sqlx::Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let ids: std::collections::BTreeSet<i64> = keys.into_iter().map(advisory_id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        // The driver binds no arrays: the ids go as an array literal.
        // `unnest` of a plain array yields its elements in order, and a
        // projection over a function scan keeps that order.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST($1 AS BIGINT[])) AS t(k)")
            .bind(format!("{{{list}}}"))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// SQL for the comma-separated list of a text column's values in a
    /// group: `group_concat` on SQLite, `string_agg` on PostgreSQL.
    pub fn comma_list(&self, column: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("group_concat({column}, ',')"),
            Backend::Postgres => format!("string_agg({column}, ',')"),
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Finishes in-flight queries and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await
    }
}

/// The PostgreSQL advisory lock id of a [`Db::lock_key`] key: the first
/// eight bytes of its SHA-256.
fn advisory_id(key: &str) -> i64 {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(key.as_bytes());
    i64::from_be_bytes(hash[..8].try_into().unwrap_or_default())
}
