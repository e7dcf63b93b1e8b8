//! Makes every error answer problem+json with the request id.
//!
//! Our handlers already answer with problem bodies; axum (404, 405) and
//! tower-http (408 timeout) answer with empty or plain-text bodies. The
//! [`normalise`] middleware rewrites those, and stamps the request id into
//! every problem so a worker can quote it and an operator can find the log line.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kudakyar_api::problem::Problem;

use super::error::{kind_of, problem, problem_response};
use crate::error::{Error, FieldErrors};

/// Problem bodies are small; anything larger is not one of ours to rewrite.
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

pub async fn normalise(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_PROBLEM_BYTES).await.unwrap_or_default();
    let mut problem_body: Problem = is_problem
        .then(|| serde_json::from_slice(&bytes).ok())
        .flatten()
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            let detail = if text.is_empty() || text.len() > 300 {
                default_detail(status).to_string()
            } else {
                text
            };
            problem(status, kind_of(status), detail, FieldErrors::new())
        });
    problem_body.request_id = request_id;
    let mut rewritten = problem_response(&problem_body);
    *rewritten.status_mut() = parts.status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

fn default_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "No such resource.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this resource.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long and was abandoned.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        _ => "The request failed.",
    }
}

/// Handler for unknown `/api/…` paths.
pub async fn not_found() -> Response {
    Error::NotFound.into_response()
}
