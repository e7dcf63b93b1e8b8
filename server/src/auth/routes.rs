//! `/api/v1/auth/login`, `/logout` and `/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kudakyar_api::auth::{LoginRequest, LoginResponse};
use kudakyar_api::problem::Problem;
use kudakyar_api::users::User;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::throttle::{self, Limit, Verdict};
use super::{Actor, password, session};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::error::{Error, Result, Validator};
use crate::http::json::ApiJson;
use crate::users::store;

/// How long a login waits for a turn at the password checks before it is
/// answered 503.
const CHECK_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Exchanges a username and password for a bearer token.
///
/// Repeated failures for one username from one address, for one username from
/// anywhere (a much higher limit) or from one address answer 429 with
/// `Retry-After` until the throttling window ends. When the server is already
/// checking as many passwords as it allows, 503 with `Retry-After`.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem, description = "Wrong username or password"),
        (status = 422, body = Problem),
        (status = 429, body = Problem, description = "Too many failures; see Retry-After"),
        (status = 503, body = Problem, description = "Too many logins at once; see Retry-After"),
    )
)]
async fn login(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    let username = req.username.trim().to_lowercase();
    let mut v = Validator::new();
    v.check(!username.is_empty(), "username", "is required");
    v.check(username.len() <= 64, "username", "is too long");
    v.check(!req.password.is_empty(), "password", "is required");
    v.check(req.password.len() <= 1024, "password", "is too long");
    v.finish()?;

    let config = &state.config;
    let window_ms = config.login_window_secs as i64 * 1000;
    let user_limit = Limit::user(&username, config.login_max_failures_per_user);
    let mut limits = vec![user_limit];
    let mut pair_limit = None;
    if let Some(ip) = &origin.client_ip {
        let pair = Limit::user_and_ip(&username, ip, config.login_max_failures_per_user_and_ip);
        limits.push(pair.clone());
        pair_limit = Some(pair);
        limits.push(Limit::ip(ip, config.login_max_failures_per_ip));
    }
    // Counted before the password is checked, so concurrent guesses cannot all
    // pass a check that none of them has been counted in yet, and a throttled
    // caller learns nothing from the password.
    if let Verdict::Wait(retry_after_secs) =
        throttle::reserve(&state.db, &limits, window_ms).await?
    {
        return Err(Error::TooManyRequests { retry_after_secs });
    }
    let stored = store::find_by_username(&state.db, &username).await?;
    let hash = stored
        .as_ref()
        .map(|s| s.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_string());
    // A turn for the memory-hard check, waited for briefly: a login waiting
    // for one holds no argon2 memory. Without a turn the attempt is handed back.
    let Some(matches) = state
        .password_checks
        .verify(hash, req.password, CHECK_TURN_WAIT)
        .await?
    else {
        throttle::refund(&state.db, &limits).await?;
        return Err(Error::Overloaded {
            retry_after_secs: 1,
        });
    };
    let user = match stored {
        Some(s) if matches && !s.user.disabled => s.user,
        _ => {
            // The failure stays counted (by `reserve`).
            audit::record(
                state.db.pool(),
                &Who::claimed(&username),
                &origin,
                Event::new("auth.login_failed", "session", None),
            )
            .await?;
            return Err(Error::WrongCredentials);
        }
    };

    // A right password is no failure. This address has proved it knows the
    // password, so its own guesses at the name are forgotten; the counters of
    // the name and of the address only lose this attempt, so that one right
    // password cannot reset guessing at the name from elsewhere or at other
    // names from here.
    throttle::refund(&state.db, &limits).await?;
    if let Some(pair) = &pair_limit {
        throttle::clear(&state.db, pair).await?;
    }
    let ttl_ms = config.token_ttl_hours as i64 * 3_600_000;
    let (token, expires_at) =
        session::create(&state.db, &user.id, ttl_ms, origin.client_ip.as_deref()).await?;
    let who = Who {
        user_id: Some(user.id.clone()),
        username: Some(user.username.clone()),
        role: Some(user.role),
    };
    audit::record(
        state.db.pool(),
        &who,
        &origin,
        Event::new("auth.login", "session", None),
    )
    .await?;
    Ok(Json(LoginResponse {
        token,
        expires_at: crate::ms_to_rfc3339(expires_at),
        user,
    }))
}

/// Revokes the token used for this request.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem))
)]
async fn logout(State(state): State<AppState>, actor: Actor, origin: Origin) -> Result<StatusCode> {
    session::revoke(&state.db, &actor.token_hash).await?;
    audit::record(
        state.db.pool(),
        &Who::from(&actor),
        &origin,
        Event::new("auth.logout", "session", None),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in user.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem))
)]
async fn me(State(state): State<AppState>, actor: Actor) -> Result<Json<User>> {
    let user = store::get(&state.db, &actor.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    Ok(Json(user.user))
}
