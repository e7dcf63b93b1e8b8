//! `GET /api/v1/tasks`: the caller's own tasks.

use axum::Json;
use axum::extract::State;
use kudakyar_api::problem::Problem;
use kudakyar_api::tasks::Tasks;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::Actor;
use crate::error::Result;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_tasks))
}

/// What is the caller's to do next: follow-ups of their children due
/// within a week (overdue first), reports assigned to them to visit,
/// referrals of their children a centre has not settled. Each user sees
/// only their own; a 123 operator (no children, no assigned reports) is
/// refused, as everywhere outside the reports.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", security(("bearer" = [])),
    responses((status = 200, body = Tasks), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn my_tasks(State(state): State<AppState>, actor: Actor) -> Result<Json<Tasks>> {
    Ok(Json(
        super::of(&state.db, &actor.user_id, crate::now_ms()).await?,
    ))
}
