//! `/api/v1/users`: list, create and disable users, as the policy allows.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kudakyar_api::problem::Problem;
use kudakyar_api::users::{NewUser, Page, User, UserPhone};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::audit::{Origin, Who};
use crate::auth::{Actor, policy};
use crate::error::{Error, Result, Validator};
use crate::http::json::ApiJson;
use crate::http::pagination::{self, ApiQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(disable_user))
        .routes(routes!(set_phone))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Only users of this province (`IR-xx`). Provincial staff may name only their own.
    province: Option<String>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

/// Users the caller may manage: everyone for national admins; a province's
/// outreach workers and supervisors for its provincial staff. Supervisors
/// see the outreach workers and supervisors whose area holds theirs (a
/// county supervisor: the county's and the province-wide ones): the people
/// they assign reports to.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<User>),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<Page<User>>> {
    let mut v = Validator::new();
    if let Some(p) = &q.province {
        v.check(
            crate::geo::is_province_code(p),
            "province",
            "must be an ISO 3166-2 code from IR-00 to IR-30",
        );
    }
    let limit = pagination::parse_limit(&mut v, q.limit);
    let after = q.cursor.as_deref().map(pagination::decode_cursor);
    v.check(
        after.as_ref().is_none_or(Option::is_some),
        "cursor",
        "is not a cursor this endpoint gave out",
    );
    v.finish()?;
    let visible = policy::list_users(&actor, q.province.as_deref())?;
    let after = after.flatten();
    let users = super::store::list(&state.db, &visible, after.as_deref(), limit + 1).await?;
    Ok(Json(pagination::page(users, limit, |u| u.username.clone())))
}

/// Creates a user. Provincial staff create outreach workers and supervisors in
/// their own province.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = NewUser,
    security(("bearer" = [])),
    responses(
        (status = 201, body = User),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem, description = "Invalid fields, or the username is taken"),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>)> {
    policy::create_user(&actor, &new)?;
    let user = super::create(&state.db, new, &Who::from(&actor), &origin).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Disables a user and ends all their sessions. Users are never deleted: the
/// audit log and the records they wrote keep pointing at them.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/disable", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn disable_user(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    // Callers who manage no users at all learn that plainly (403) …
    policy::manage_users(&actor)?;
    // … but a user outside the caller's scope looks absent: no probing for ids.
    managed(&state, &actor, &id).await?;
    super::disable(&state.db, &id, &Who::from(&actor), &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets (or with `null` removes) the phone an unread critical notification
/// escalates to by SMS. Users set their own; those who manage a user may
/// set theirs. Repeating it changes nothing.
#[utoipa::path(
    put, path = "/api/v1/users/{id}/phone", tag = "users",
    params(("id" = String, Path, description = "User id")),
    request_body = UserPhone,
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserPhone),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn set_phone(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserPhone>,
) -> Result<Json<UserPhone>> {
    if id != actor.user_id {
        // Someone the caller does not manage looks absent.
        managed(&state, &actor, &id).await?;
    }
    let phone = body
        .phone
        .as_deref()
        .map(super::validate::phone)
        .transpose()?;
    super::set_phone(
        &state.db,
        &id,
        phone.as_deref(),
        &Who::from(&actor),
        &origin,
    )
    .await?;
    Ok(Json(UserPhone { phone }))
}

/// The user `id` when `actor` manages them; 404 when there is none or they
/// are outside the caller's scope (no probing for ids).
async fn managed(state: &AppState, actor: &Actor, id: &str) -> Result<()> {
    let target = super::store::get(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?
        .user;
    policy::disable_user(
        actor,
        target.role,
        target.province.as_deref(),
        target.county.as_deref(),
    )
    .map_err(|_| Error::NotFound)
}
