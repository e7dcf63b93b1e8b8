//! Delivery over HTTP: a user's push subscriptions and FCM registration
//! tokens, the server's VAPID key
//! and the user's push preferences (tag `notifications`, the caller's own
//! only), and the dead letters national administrators see and send again
//! (tag `admin`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kudakyar_api::notifications::{
    DeadDelivery, FcmToken, FcmTokenInput, NotificationPreferences, PushSubscription,
    PushSubscriptionInput, PushUnsubscribe, VapidKey,
};
use kudakyar_api::problem::Problem;
use kudakyar_api::users::{Page, Role};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{fcm, outbox, preferences, push};
use crate::app::AppState;
use crate::auth::{Actor, policy};
use crate::error::{Error, Result, Validator};
use crate::http::json::ApiJson;
use crate::http::pagination::{self, ApiQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vapid_key))
        .routes(routes!(get_preferences, put_preferences))
        .routes(routes!(subscribe, unsubscribe))
        .routes(routes!(register_fcm_token, unregister_fcm_token))
        .routes(routes!(list_dead))
        .routes(routes!(retry_dead))
}

/// The key a browser subscribes with (`applicationServerKey`).
#[utoipa::path(get, path = "/api/v1/push/vapid-key", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = VapidKey), (status = 401, body = Problem)))]
async fn vapid_key(State(state): State<AppState>, _actor: Actor) -> Json<VapidKey> {
    Json(VapidKey {
        public_key: state.vapid.public_key(),
    })
}

/// The caller's push preferences.
#[utoipa::path(get, path = "/api/v1/notifications/preferences", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = NotificationPreferences), (status = 401, body = Problem)))]
async fn get_preferences(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<NotificationPreferences>> {
    Ok(Json(
        preferences::get(state.db.pool(), &actor.user_id).await?,
    ))
}

/// Replaces the caller's push preferences: muted kinds (never a critical
/// one), quiet hours in Asia/Tehran time, Friday quiet, a daily digest.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", tag = "notifications",
    request_body = NotificationPreferences, security(("bearer" = [])),
    responses((status = 200, body = NotificationPreferences), (status = 401, body = Problem),
        (status = 422, body = Problem,
            description = "`muted_kinds` (unknown or critical), `quiet_hours.start`, `quiet_hours.end`, `digest` (not for this role)")))]
async fn put_preferences(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<NotificationPreferences>,
) -> Result<Json<NotificationPreferences>> {
    let may_digest = !matches!(actor.role, Role::OutreachWorker | Role::HotlineOperator);
    let (muted, quiet) = preferences::validate(&input, &preferences::KINDS, may_digest)?;
    preferences::put(
        state.db.pool(),
        &actor.user_id,
        &muted,
        &quiet,
        input.digest,
    )
    .await?;
    Ok(Json(
        preferences::get(state.db.pool(), &actor.user_id).await?,
    ))
}

/// Subscribes the caller's browser to Web Push (again: its keys are
/// updated, 200).
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "notifications",
    request_body = PushSubscriptionInput, security(("bearer" = [])),
    responses((status = 201, body = PushSubscription), (status = 200, body = PushSubscription,
            description = "Already subscribed: the keys are updated"),
        (status = 401, body = Problem),
        (status = 422, body = Problem, description = "`endpoint`, `keys.p256dh`, `keys.auth`")))]
async fn subscribe(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<PushSubscriptionInput>,
) -> Result<(StatusCode, Json<PushSubscription>)> {
    let valid = push::validate(&input, state.config.push_allow_local_http)?;
    let (subscription, new) = push::subscribe(&state.db, &actor.user_id, &valid).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(subscription)))
}

/// Unsubscribes one of the caller's browsers, by its endpoint.
#[utoipa::path(delete, path = "/api/v1/push/subscriptions", tag = "notifications",
    request_body = PushUnsubscribe, security(("bearer" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "The caller has no subscription with this endpoint")))]
async fn unsubscribe(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<PushUnsubscribe>,
) -> Result<StatusCode> {
    if input.endpoint.len() > push::MAX_ENDPOINT_LEN {
        return Err(Error::field("endpoint", "is longer than 1024 characters"));
    }
    if super::Devices::WebPush
        .remove(&state.db, &actor.user_id, &input.endpoint)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

/// Registers an FCM registration token of the caller's Android app (again:
/// 200). Refused while FCM is off on this server (`/api/v1/ready` says
/// `fcm`), so that no deliveries are queued for a channel that is not there.
#[utoipa::path(post, path = "/api/v1/push/fcm-tokens", tag = "notifications",
    request_body = FcmTokenInput, security(("bearer" = [])),
    responses((status = 201, body = FcmToken), (status = 200, body = FcmToken,
            description = "Already registered (to the caller now)"),
        (status = 401, body = Problem),
        (status = 409, body = Problem, description = "FCM is off on this server"),
        (status = 422, body = Problem, description = "`token`")))]
async fn register_fcm_token(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<FcmTokenInput>,
) -> Result<(StatusCode, Json<FcmToken>)> {
    let token = fcm::validate(&input)?;
    if state.fcm.active().is_none() {
        return Err(Error::Conflict {
            detail: "FCM delivery is off on this server (fcm_service_account)".into(),
            stored: None,
            conflicts: None,
        });
    }
    let (registered, new) = fcm::register(&state.db, &actor.user_id, &token).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(registered)))
}

/// Removes one of the caller's FCM tokens.
#[utoipa::path(delete, path = "/api/v1/push/fcm-tokens", tag = "notifications",
    request_body = FcmTokenInput, security(("bearer" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "The caller has no such token"),
        (status = 422, body = Problem, description = "`token`")))]
async fn unregister_fcm_token(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<FcmTokenInput>,
) -> Result<StatusCode> {
    let token = fcm::validate(&input)?;
    if super::Devices::Fcm
        .remove(&state.db, &actor.user_id, &token)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// Deliveries given up on, newest first.
#[utoipa::path(get, path = "/api/v1/admin/notifications/dead", tag = "admin",
    params(DeadQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<DeadDelivery>), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem, description = "`cursor`, `limit`")))]
async fn list_dead(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<DeadQuery>,
) -> Result<Json<Page<DeadDelivery>>> {
    policy::manage_deliveries(&actor)?;
    let mut v = Validator::new();
    let before = q.cursor.as_deref().map(|c| {
        let id = pagination::decode_cursor(c).and_then(|s| s.parse::<i64>().ok());
        v.check(
            id.is_some(),
            "cursor",
            "is not a cursor this endpoint gave out",
        );
        id
    });
    let limit = pagination::parse_limit(&mut v, q.limit);
    v.finish()?;
    let items = outbox::list_dead(&state.db, before.flatten(), limit).await?;
    Ok(Json(pagination::page(items, limit, |d| d.id.to_string())))
}

/// Queues a dead delivery again, with a fresh count of attempts.
#[utoipa::path(post, path = "/api/v1/admin/notifications/dead/{id}/retry", tag = "admin",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeadDelivery, description = "Queued again"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "No such dead delivery")))]
async fn retry_dead(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<DeadDelivery>> {
    policy::manage_deliveries(&actor)?;
    let id = id.parse::<i64>().map_err(|_| Error::NotFound)?;
    outbox::retry_dead(&state.db, id, crate::now_ms())
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}
