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
    cases::{CentreSuggestion, Referral},
    children::{Child, Service, WorkType},
    indicators::WorkerTable,
    iris::{IrisMatches, Review, ReviewVerdict},
    notifications::{
        Notification, NotificationPreferences, PushSubscription, PushSubscriptionInput,
        PushUnsubscribe, UnreadCount, VapidKey,
    },
    problem::Problem,
    sightings::{Incident, Sighting},
    users::{Page, User, UserPhone},
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, js_sys::Uint8Array};
use web_sys::{FormData, ReadableStreamDefaultReader, ReadableStreamReadResult, RequestCache};

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
    no_content(builder.send().await.map_err(|_| ApiError::Network)?).await
}

/// `GET` of a JSON resource under `/api/v1` (`path` starts after it).
pub async fn get<T: DeserializeOwned>(token: &str, path: &str) -> Result<T, ApiError> {
    let url = format!("/api/v1{path}");
    let builder = bearer(json_headers(Request::get(&url)), token).cache(RequestCache::NoStore);
    read_json(builder.send().await.map_err(|_| ApiError::Network)?).await
}

/// `GET` under `/api/v1`, the body as it came (the atlas's GeoJSON, handed
/// to the map without a round through Rust types).
pub async fn get_text(token: &str, path: &str) -> Result<String, ApiError> {
    let url = format!("/api/v1{path}");
    let builder = bearer(json_headers(Request::get(&url)), token).cache(RequestCache::NoStore);
    let resp = builder.send().await.map_err(|_| ApiError::Network)?;
    if resp.ok() {
        resp.text().await.map_err(|_| ApiError::Decode)
    } else {
        Err(error_from(resp).await)
    }
}

/// `GET /api/v1/children/{id}`.
pub async fn child(token: &str, id: &str) -> Result<Child, ApiError> {
    get(token, &format!("/children/{id}")).await
}

/// `GET /api/v1/children?…`: `query` is the already-encoded query string.
pub async fn children(token: &str, query: &str) -> Result<Page<Child>, ApiError> {
    get(token, &format!("/children?{query}")).await
}

/// `GET /api/v1/sightings?…` (the triage queue, newest first): `query` is
/// the already-encoded query string.
pub async fn sightings(token: &str, query: &str) -> Result<Page<Sighting>, ApiError> {
    get(token, &format!("/sightings?{query}")).await
}

/// `GET /api/v1/sightings/{id}`.
pub async fn sighting(token: &str, id: &str) -> Result<Sighting, ApiError> {
    get(token, &format!("/sightings/{id}")).await
}

/// `POST /api/v1/sightings/{id}/{step}` (`assign`, `close`…) with `body`:
/// the report as it now stands. A supervisor's decision is made online, on
/// the report as the server has it, so it does not go through the outbox.
pub async fn sighting_step<B: Serialize>(
    token: &str,
    id: &str,
    step: &str,
    body: &B,
) -> Result<Sighting, ApiError> {
    post_json(token, &format!("/api/v1/sightings/{id}/{step}"), body).await
}

/// `POST /api/v1/incidents/{id}/{step}` (`split`, `join`) with `body`: the
/// incident as it now stands (a split: the new one).
pub async fn incident_step<B: Serialize>(
    token: &str,
    id: &str,
    step: &str,
    body: &B,
) -> Result<Incident, ApiError> {
    post_json(token, &format!("/api/v1/incidents/{id}/{step}"), body).await
}

/// `POST` of a JSON body to `url`, answered with JSON.
async fn post_json<B: Serialize, T: DeserializeOwned>(
    token: &str,
    url: &str,
    body: &B,
) -> Result<T, ApiError> {
    read_json(send(Request::post(url), token, body).await?).await
}

/// Sends a JSON body with `builder` (method and URL) and the bearer token.
async fn send<B: Serialize>(
    builder: RequestBuilder,
    token: &str,
    body: &B,
) -> Result<Response, ApiError> {
    let request = bearer(json_headers(builder), token)
        .json(body)
        .map_err(|_| ApiError::Decode)?;
    request.send().await.map_err(|_| ApiError::Network)
}

/// `GET /api/v1/users?…`: for a supervisor, the workers and supervisors of
/// their area (the people a report can be assigned to).
pub async fn users(token: &str, query: &str) -> Result<Page<User>, ApiError> {
    get(token, &format!("/users?{query}")).await
}

/// `GET /api/v1/indicators/workers`: the team's figures.
pub async fn worker_table(token: &str) -> Result<WorkerTable, ApiError> {
    get(token, "/indicators/workers").await
}

/// `GET /api/v1/iris/reviews`: the open duplicate reviews in scope.
pub async fn reviews(token: &str) -> Result<Vec<Review>, ApiError> {
    get(token, "/iris/reviews").await
}

/// `GET /api/v1/iris/reviews/{id}`: both records side by side.
pub async fn review(token: &str, id: &str) -> Result<Review, ApiError> {
    get(token, &format!("/iris/reviews/{id}")).await
}

/// `POST /api/v1/iris/reviews/{id}/decision`: the review as decided.
pub async fn decide_review(
    token: &str,
    id: &str,
    verdict: &ReviewVerdict,
) -> Result<Review, ApiError> {
    post_json(
        token,
        &format!("/api/v1/iris/reviews/{id}/decision"),
        verdict,
    )
    .await
}

/// `GET /api/v1/notifications/unread-count`.
pub async fn unread_count(token: &str) -> Result<i64, ApiError> {
    get::<UnreadCount>(token, "/notifications/unread-count")
        .await
        .map(|c| c.unread)
}

/// `GET /api/v1/notifications?…`, newest first.
pub async fn notifications(token: &str, query: &str) -> Result<Page<Notification>, ApiError> {
    get(token, &format!("/notifications?{query}")).await
}

/// `POST /api/v1/notifications/{id}/read`, or `…/read-all` without an id.
pub async fn mark_read(token: &str, id: Option<i64>) -> Result<(), ApiError> {
    let url = match id {
        Some(id) => format!("/api/v1/notifications/{id}/read"),
        None => "/api/v1/notifications/read-all".to_owned(),
    };
    let resp = bearer(json_headers(Request::post(&url)), token)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    no_content(resp).await
}

/// `GET /api/v1/push/vapid-key`: the key a browser subscribes with.
pub async fn vapid_key(token: &str) -> Result<VapidKey, ApiError> {
    get(token, "/push/vapid-key").await
}

/// `POST /api/v1/push/subscriptions`: this browser's subscription (201, or
/// 200 when the server had it already).
pub async fn push_subscribe(
    token: &str,
    subscription: &PushSubscriptionInput,
) -> Result<PushSubscription, ApiError> {
    post_json(token, "/api/v1/push/subscriptions", subscription).await
}

/// `DELETE /api/v1/push/subscriptions`: by the subscription's endpoint.
pub async fn push_unsubscribe(token: &str, endpoint: &str) -> Result<(), ApiError> {
    let body = PushUnsubscribe {
        endpoint: endpoint.to_owned(),
    };
    no_content(send(Request::delete("/api/v1/push/subscriptions"), token, &body).await?).await
}

/// `GET /api/v1/notifications/preferences`.
pub async fn preferences(token: &str) -> Result<NotificationPreferences, ApiError> {
    get(token, "/notifications/preferences").await
}

/// `PUT /api/v1/notifications/preferences`: the preferences as stored.
pub async fn put_preferences(
    token: &str,
    preferences: &NotificationPreferences,
) -> Result<NotificationPreferences, ApiError> {
    let builder = Request::put("/api/v1/notifications/preferences");
    read_json(send(builder, token, preferences).await?).await
}

/// `PUT /api/v1/users/{id}/phone`: the number as stored (E.164), or none.
pub async fn set_phone(
    token: &str,
    user_id: &str,
    phone: &UserPhone,
) -> Result<UserPhone, ApiError> {
    let builder = Request::put(&format!("/api/v1/users/{user_id}/phone"));
    read_json(send(builder, token, phone).await?).await
}

/// Reads the Server-Sent Events at `url` with the bearer token (which the
/// browser's `EventSource` cannot send): `on_line` gets each line without
/// its end and returns false to stop. Ends when the server ends the stream.
pub async fn follow_stream(
    token: &str,
    url: &str,
    mut on_line: impl FnMut(&[u8]) -> bool,
) -> Result<(), ApiError> {
    let resp = bearer(Request::get(url), token)
        .header("Accept", "text/event-stream")
        .cache(RequestCache::NoStore)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    if !resp.ok() {
        return Err(error_from(resp).await);
    }
    let body = resp.body().ok_or(ApiError::Decode)?;
    let reader = ReadableStreamDefaultReader::new(&body).map_err(|_| ApiError::Decode)?;
    let mut pending = Vec::new();
    loop {
        let chunk: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(|_| ApiError::Network)?
            .unchecked_into();
        if chunk.get_done().unwrap_or(true) {
            return Ok(());
        }
        pending.extend(Uint8Array::new(&chunk.get_value()).to_vec());
        // Lines may be cut anywhere between chunks, even inside a character.
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if !on_line(line.trim_ascii_end()) {
                let _ = reader.cancel();
                return Ok(());
            }
        }
    }
}

/// An encounter as the timeline shows it: only the fields it shows, unknown
/// ones ignored, so reading the list stays small in the wasm (the full type
/// is `children::Encounter`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EncounterEntry {
    pub at: String,
    #[serde(default)]
    pub activity: Option<WorkType>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub next_follow_up: Option<String>,
}

/// `GET /api/v1/children/{id}/encounters`, newest first.
pub async fn encounters(token: &str, id: &str) -> Result<Vec<EncounterEntry>, ApiError> {
    get(token, &format!("/children/{id}/encounters")).await
}

/// The parts of a photo the app shows (the server's type lives in the server).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Photo {
    pub id: String,
    pub created_at: String,
    pub thumbnail_url: String,
}

/// `GET /api/v1/children/{id}/photos`.
pub async fn photos(token: &str, id: &str) -> Result<Vec<Photo>, ApiError> {
    get(token, &format!("/children/{id}/photos")).await
}

/// `GET /api/v1/children/{id}/centre-suggestions`.
pub async fn centre_suggestions(token: &str, id: &str) -> Result<Vec<CentreSuggestion>, ApiError> {
    get(token, &format!("/children/{id}/centre-suggestions")).await
}

/// `GET /api/v1/referrals?child_id=…`.
pub async fn referrals(token: &str, child_id: &str) -> Result<Vec<Referral>, ApiError> {
    get(token, &format!("/referrals?child_id={child_id}")).await
}

/// `POST /api/v1/iris/identify` with the `left` and/or `right` image.
/// An unusable capture is a 422 whose `errors` name the eye and why.
pub async fn identify(
    token: &str,
    left: Option<&web_sys::File>,
    right: Option<&web_sys::File>,
) -> Result<IrisMatches, ApiError> {
    let form = FormData::new().map_err(|_| ApiError::Decode)?;
    for (name, file) in [("left", left), ("right", right)] {
        if let Some(file) = file {
            form.append_with_blob(name, file)
                .map_err(|_| ApiError::Decode)?;
        }
    }
    let request = bearer(json_headers(Request::post("/api/v1/iris/identify")), token)
        .body(form)
        .map_err(|_| ApiError::Decode)?;
    read_json(request.send().await.map_err(|_| ApiError::Network)?).await
}

/// The bytes of an authenticated image (a photo thumbnail): an `<img>`
/// cannot send the bearer token itself (see `workset::thumbnail`).
pub async fn image_bytes(token: &str, url: &str) -> Result<Vec<u8>, ApiError> {
    let resp = bearer(Request::get(url), token)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    if !resp.ok() {
        return Err(error_from(resp).await);
    }
    resp.binary().await.map_err(|_| ApiError::Decode)
}

fn json_headers(builder: RequestBuilder) -> RequestBuilder {
    builder.header("Accept", "application/json, application/problem+json")
}

fn bearer(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

/// A success whose body does not matter (e.g. 204), or the error.
async fn no_content(resp: Response) -> Result<(), ApiError> {
    if resp.ok() {
        Ok(())
    } else {
        Err(error_from(resp).await)
    }
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
