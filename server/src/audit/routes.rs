//! `GET /api/v1/audit`: the audit log for national admins, newest first.

use axum::Json;
use axum::extract::State;
use kudakyar_api::audit::AuditEntry;
use kudakyar_api::users::Page;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::Filter;
use crate::app::AppState;
use crate::auth::{Actor, policy};
use crate::error::{Result, Validator};
use crate::http::pagination;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries by this user id.
    user: Option<String>,
    /// Only entries about this resource type (e.g. `user`, `child`).
    resource_type: Option<String>,
    /// Only entries about this resource id.
    resource_id: Option<String>,
    /// RFC 3339; entries at or after.
    from: Option<String>,
    /// RFC 3339; entries before.
    to: Option<String>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

/// The audit log, newest first, cursor-paginated.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<AuditEntry>),
        (status = 401, body = kudakyar_api::problem::Problem),
        (status = 403, body = kudakyar_api::problem::Problem),
        (status = 422, body = kudakyar_api::problem::Problem),
    )
)]
async fn list_audit(
    State(state): State<AppState>,
    actor: Actor,
    query: pagination::ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>> {
    policy::read_audit(&actor)?;
    let q = query.0;
    let mut v = Validator::new();
    let from_ms = pagination::parse_time(&mut v, "from", q.from.as_deref());
    let to_ms = pagination::parse_time(&mut v, "to", q.to.as_deref());
    let limit = pagination::parse_limit(&mut v, q.limit);
    let before_id = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let id = pagination::decode_cursor(c).and_then(|s| s.parse::<i64>().ok());
            v.check(
                id.is_some(),
                "cursor",
                "is not a cursor this endpoint gave out",
            );
            id
        }
    };
    v.finish()?;
    let filter = Filter {
        user_id: q.user,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        from_ms,
        to_ms,
        before_id,
    };
    let items = super::list(&state.db, &filter, limit + 1).await?;
    Ok(Json(pagination::page(items, limit, |e| e.id.to_string())))
}
