//! The one error type of the server, apart from HTTP: what domain code
//! returns (a field that fails validation, a record not found, a conflict, an
//! internal error), so the CLI, the benches and the background jobs use the
//! same rules as the handlers. How an [`Error`] becomes a problem+json answer
//! is `http::error`.
//!
//! Field errors are gathered by a [`Validator`] and reported all at once. A
//! unique constraint a client can break is mapped to its field where the write
//! happens ([`ResultExt::on_unique`]); an unmapped one is an internal error.

use std::collections::BTreeMap;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Field name → messages, as in the `errors` member of a validation problem.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the body is not JSON, or not the expected shape at all.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("authentication required")]
    Unauthorized,
    /// 401 on login: wrong username or password (never says which).
    #[error("wrong username or password")]
    WrongCredentials,
    /// 403: authenticated, but the policy says no.
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// 409, optionally with the stored record and the conflicting fields.
    #[error("{detail}")]
    Conflict {
        detail: String,
        stored: Option<serde_json::Value>,
        conflicts: Option<serde_json::Value>,
    },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422 with field errors.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 429 with the seconds to wait.
    #[error("too many failed attempts")]
    TooManyRequests { retry_after_secs: u64 },
    /// 429: a capped resource is in use (`detail` says which), with the
    /// seconds after which trying again is sensible.
    #[error("{detail}")]
    Busy {
        detail: String,
        retry_after_secs: u64,
    },
    /// 503 with the seconds to wait: the server is at its bound for some work
    /// (password checks) and sheds the rest rather than grow without limit.
    #[error("the server is busy; try again in a moment (see Retry-After)")]
    Overloaded { retry_after_secs: u64 },
    /// 422 without field errors: the request is valid but the data cannot
    /// answer it (too few weeks or events for the hot-spot statistics); the
    /// message says why.
    #[error("{0}")]
    InsufficientData(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A validation error about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Error {
        Error::Validation(BTreeMap::from([(field.to_string(), vec![message.into()])]))
    }
}

impl From<sqlx::Error> for Error {
    /// A database error the call site did not map is an internal error. A
    /// unique violation included: the constraints a client can break are
    /// mapped where they can happen ([`ResultExt::on_unique`]), so one that
    /// reaches here is a bug, logged with its constraint, never a 422 that
    /// would blame some field.
    ///
    /// No connection in time (or, on SQLite, no write turn: see
    /// [`crate::db::Db::begin_write`]) is the server at its bound: 503 with
    /// a `Retry-After`, which a phone's sync honours.
    fn from(e: sqlx::Error) -> Error {
        if matches!(e, sqlx::Error::PoolTimedOut) {
            return Error::Overloaded {
                retry_after_secs: 1,
            };
        }
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            tracing::error!(
                constraint = db.constraint().unwrap_or("(unnamed)"),
                message = db.message(),
                "unmapped unique violation"
            );
        }
        Error::Internal(anyhow::Error::new(e))
    }
}

/// A unique constraint as each backend reports its violation: PostgreSQL by
/// the constraint's name, SQLite by `table.column` in its message.
#[derive(Debug, Clone, Copy)]
pub struct Unique {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

impl Unique {
    /// True when `e` is a violation of this constraint.
    pub fn violated_by(&self, e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                db.constraint() == Some(self.postgres) || db.message().contains(self.sqlite)
            }
            _ => false,
        }
    }
}

/// True when `e` violates any unique constraint: what the create loops read
/// as "a concurrent writer got there first" before they look again.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Maps database errors to what the client should see, where they can happen
/// (realworld-axum-sqlx's `on_constraint`).
pub trait ResultExt<T> {
    /// The violation of `constraint` becomes `map()`; any other error goes
    /// through `From<sqlx::Error>`.
    fn on_unique(self, constraint: Unique, map: impl FnOnce() -> Error) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique(self, constraint: Unique, map: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| {
            if constraint.violated_by(&e) {
                map()
            } else {
                Error::from(e)
            }
        })
    }
}

/// Collects field errors, then fails once with all of them.
#[derive(Debug, Default)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    pub fn add(&mut self, field: &str, message: &str) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(message.to_string());
    }

    pub fn finish(&mut self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(std::mem::take(&mut self.errors)))
        }
    }
}
