//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    version: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/api/v1/health", tag = "operations",
    responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    status: &'static str,
    version: &'static str,
    /// Live iris templates this instance could not open (corrupted, or
    /// sealed with a key it does not have): left out of its gallery and
    /// logged. Readiness does not depend on it; deduplication misses them.
    unreadable_templates: usize,
    /// The SMS channel: `off`, `on`, or `error` when its settings were bad
    /// at start-up (the server serves without it; `sms_error` says why).
    sms: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sms_error: Option<String>,
    /// The FCM channel: `off`, `on`, or `error` when its service account
    /// could not be read at start-up (the server serves without it;
    /// `fcm_error` says why).
    fcm: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fcm_error: Option<String>,
}

/// Readiness: the database answers and every migration is applied.
#[utoipa::path(get, path = "/api/v1/ready", tag = "operations",
    responses((status = 200, body = Ready), (status = 503, body = kudakyar_api::problem::Problem)))]
async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, StatusCode> {
    if state.db.ready().await {
        Ok(Json(Ready {
            status: "ready",
            version: env!("CARGO_PKG_VERSION"),
            unreadable_templates: state.biometrics.gallery.unreadable(),
            sms: state.sms.label(),
            sms_error: state.sms.error(),
            fcm: state.fcm.label(),
            fcm_error: state.fcm.error(),
        }))
    } else {
        Err(StatusCode::SERVICE_UNAVAILABLE)
    }
}
