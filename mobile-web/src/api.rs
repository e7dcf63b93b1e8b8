//! The HTTP client for the Kudakyar API (`/api/v1`).
//!
//! One function per endpoint, all returning [`ApiError`] on failure. The
//! request and response bodies are the `kudakyar-api` types the server uses,
//! so a field renamed there fails to compile here. Errors are RFC 9457
//! problem+json; [`ApiError`] keeps the decoded [`Problem`] so pages can show
//! its `detail` and request id, while 401 and 429 get their own variants
//! because the UI reacts to them specifically.
//!
//! URLs are origin-relative: the server serves both the PWA and the API, which
//! is also what the CSP (`connect-src 'self'`) allows.

use gloo_net::http::{Request, RequestBuilder, Response};
use kudakyar_api::{
    auth::{LoginRequest, LoginResponse},
    problem::Problem,
    users::User,
};
use serde::de::DeserializeOwned;
use web_sys::RequestCache;

const LOGIN: &str = "/api/v1/auth/login";
const LOGOUT: &str = "/api/v1/auth/logout";
const ME: &str = "/api/v1/auth/me";

/// Why a call failed, in the terms the UI cares about.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: wrong credentials at login, or an expired/revoked token elsewhere.
    Unauthorized,
    /// 429: throttled; `retry_after` is the `Retry-After` header in seconds
    /// (absent if the header was missing or an HTTP date).
    TooManyRequests { retry_after: Option<u32> },
    /// Any other error answered with a problem+json body.
    Problem(Problem),
    /// An error status without a problem body (e.g. from a reverse proxy).
    Status(u16),
    /// No answer at all: offline, server down, connection reset.
    Network,
    /// A success answer whose body did not have the expected shape.
    Decode,
}

/// `POST /api/v1/auth/login`.
pub async fn login(req: &LoginRequest) -> Result<LoginResponse, ApiError> {
    let request = json_headers(Request::post(LOGIN))
        .json(req)
        .map_err(|_| ApiError::Decode)?;
    read_json(request.send().await.map_err(|_| ApiError::Network)?).await
}

/// `GET /api/v1/auth/me`: who the token belongs to.
pub async fn me(token: &str) -> Result<User, ApiError> {
    // Never answer "who am I" from the HTTP cache: the token may be revoked.
    let builder = bearer(json_headers(Request::get(ME)), token).cache(RequestCache::NoStore);
    read_json(builder.send().await.map_err(|_| ApiError::Network)?).await
}

/// `POST /api/v1/auth/logout`: revokes the token on the server.
pub async fn logout(token: &str) -> Result<(), ApiError> {
    let builder = bearer(json_headers(Request::post(LOGOUT)), token);
    let resp = builder.send().await.map_err(|_| ApiError::Network)?;
    if resp.ok() {
        Ok(())
    } else {
        Err(error_from(resp).await)
    }
}

fn json_headers(builder: RequestBuilder) -> RequestBuilder {
    builder.header("Accept", "application/json, application/problem+json")
}

fn bearer(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

async fn read_json<T: DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    if resp.ok() {
        resp.json().await.map_err(|_| ApiError::Decode)
    } else {
        Err(error_from(resp).await)
    }
}

async fn error_from(resp: Response) -> ApiError {
    match resp.status() {
        401 => ApiError::Unauthorized,
        429 => ApiError::TooManyRequests {
            retry_after: resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.trim().parse().ok()),
        },
        status => match resp.json::<Problem>().await {
            Ok(problem) => ApiError::Problem(problem),
            Err(_) => ApiError::Status(status),
        },
    }
}
