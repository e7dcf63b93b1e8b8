//! How the one error type ([`crate::error::Error`]) becomes an HTTP answer.
//!
//! Every handler returns `Result<_, Error>`. An [`Error`] renders as RFC 9457
//! `application/problem+json` ([`kudakyar_api::problem::Problem`]) carrying the
//! request id. Internal errors are logged with that id and never leak their
//! message to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kudakyar_api::problem::Problem;

use crate::error::{Error, FieldErrors};

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized | Error::WrongCredentials => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) | Error::InsufficientData(_) => StatusCode::UNPROCESSABLE_ENTITY,
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
            Error::InsufficientData(_) => {
                ("insufficient-data", self.to_string(), FieldErrors::new())
            }
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
