//! The inbox over HTTP (tag `notifications`): the list, the unread count,
//! mark one or all read, and the live stream. Every endpoint works on the
//! caller's own notifications only; another user's id is a 404, as is an
//! id that does not exist, so ids tell nothing about other inboxes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use kudakyar_api::notifications::{MarkedRead, Notification, UnreadCount};
use kudakyar_api::problem::Problem;
use kudakyar_api::users::Page;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{store, stream};
use crate::app::AppState;
use crate::auth::Actor;
use crate::error::{Error, Result, Validator};
use crate::http::pagination::{self, ApiQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
        .routes(routes!(notification_stream))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// `true`: only the unread ones.
    unread: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// A notification id from the path or a header: a positive integer.
fn id_of(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|id| *id > 0)
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Notification>), (status = 401, body = Problem),
        (status = 422, body = Problem, description = "`unread`, `cursor`, `limit`")))]
async fn list_notifications(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<Page<Notification>>> {
    let mut v = Validator::new();
    let unread = pagination::boolean(&mut v, "unread", q.unread.as_deref()).unwrap_or(false);
    let before = q.cursor.as_deref().map(|c| {
        let id = pagination::decode_cursor(c).as_deref().and_then(id_of);
        v.check(
            id.is_some(),
            "cursor",
            "is not a cursor this endpoint gave out",
        );
        id
    });
    let limit = pagination::parse_limit(&mut v, q.limit);
    v.finish()?;
    let items = store::list(
        state.db.pool(),
        &actor.user_id,
        before.flatten(),
        unread,
        limit,
    )
    .await?;
    Ok(Json(pagination::page(items, limit, |n| n.id.to_string())))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = Problem)))]
async fn unread_count(State(state): State<AppState>, actor: Actor) -> Result<Json<UnreadCount>> {
    let unread = store::unread_count(state.db.pool(), &actor.user_id).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Marks one of the caller's notifications read (again: no change).
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Notification), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "No such notification of the caller's")))]
async fn mark_read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Notification>> {
    let id = id_of(&id).ok_or(Error::NotFound)?;
    store::mark_read(state.db.pool(), &actor.user_id, id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

/// Marks all the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = MarkedRead), (status = 401, body = Problem)))]
async fn mark_all_read(State(state): State<AppState>, actor: Actor) -> Result<Json<MarkedRead>> {
    let marked = store::mark_all_read(state.db.pool(), &actor.user_id).await?;
    Ok(Json(MarkedRead { marked }))
}

/// The caller's new notifications as Server-Sent Events (`event:
/// notification`, `id:` the notification id, `data:` a `Notification`),
/// with keep-alive comments. With `Last-Event-ID` everything after that id
/// comes first; without it only what arrives from now on.
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications",
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this notification id")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", body = Notification,
            description = "An endless stream of notifications; ends when the server shuts down"),
        (status = 401, body = Problem),
        (status = 422, body = Problem, description = "`Last-Event-ID` is not a notification id")))]
async fn notification_stream(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    let after = match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|id| *id >= 0)
            .ok_or_else(|| Error::field("Last-Event-ID", "must be a notification id"))?,
        None => store::newest_id(state.db.pool(), &actor.user_id).await?,
    };
    Ok(stream::open(
        state.db.pool().clone(),
        state.notify_hub.clone(),
        actor.user_id,
        after,
        state.stopping.clone(),
    ))
}
