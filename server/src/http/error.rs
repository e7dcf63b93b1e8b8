//! The one error type of the API and how it becomes an HTTP answer.
//!
//! Every handler returns `Result<_, Error>`. [`Error`] renders as RFC 9457
//! `application/problem+json` ([`kudakyar_api::problem::Problem`]) carrying the
//! request id. Internal errors are logged with that id and never leak their
//! message to the client. A unique constraint a client can break is mapped to
//! its field where the write happens ([`ResultExt::on_unique`]); an unmapped
//! one is an internal error.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kudakyar_api::problem::Problem;

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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A validation error about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Error {
        Error::Validation(BTreeMap::from([(field.to_string(), vec![message.into()])]))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized | Error::WrongCredentials => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooManyRequests { .. } | Error::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let (kind, detail, errors) = match self {
            Error::Validation(errors) => (
                "validation",
                "Some fields are invalid; see `errors`.".to_string(),
                errors.clone(),
            ),
            Error::Internal(_) => (
                "internal",
                "An internal error occurred; quote the request id when reporting it.".to_string(),
                FieldErrors::new(),
            ),
            Error::TooManyRequests { retry_after_secs } => (
                "too-many-requests",
                format!("Too many failed attempts; try again in {retry_after_secs} seconds."),
                FieldErrors::new(),
            ),
            Error::Overloaded { .. } => ("busy", self.to_string(), FieldErrors::new()),
            other => (kind_of(status), other.to_string(), FieldErrors::new()),
        };
        let mut body = problem(status, kind, detail, errors);
        if let Error::Conflict {
            stored, conflicts, ..
        } = self
        {
            body.stored = stored.clone();
            body.conflicts = conflicts.clone();
        }
        body
    }
}

/// Builds a problem body; `kind` becomes the `type` URI `/problems/<kind>`.
pub fn problem(status: StatusCode, kind: &str, detail: String, errors: FieldErrors) -> Problem {
    Problem {
        kind: format!("/problems/{kind}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        errors,
        stored: None,
        conflicts: None,
        request_id: None,
    }
}

/// The `type` slug for a plain status code.
pub fn kind_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation",
        StatusCode::TOO_MANY_REQUESTS => "too-many-requests",
        _ => "error",
    }
}

/// Renders a problem as a response. The request id is filled in later by the
/// problem middleware ([`super::problem::normalise`]), which knows it.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(e) = &self {
            // The request id is in the span this runs inside (see http::mod).
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        let mut response = problem_response(&self.problem());
        if let Error::TooManyRequests { retry_after_secs }
        | Error::Busy {
            retry_after_secs, ..
        }
        | Error::Overloaded { retry_after_secs } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<sqlx::Error> for Error {
    /// A database error the call site did not map is an internal error. A
    /// unique violation included: the constraints a client can break are
    /// mapped where they can happen ([`ResultExt::on_unique`]), so one that
    /// reaches here is a bug, logged with its constraint, never a 422 that
    /// would blame some field.
    fn from(e: sqlx::Error) -> Error {
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
