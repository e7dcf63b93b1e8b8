//! The axum application: routes and the middleware every request passes.
//!
//! - [`error`]: the one [`crate::error::Error`] enum, rendered as problem+json.
//! - [`json`], [`pagination`], [`meta`]: extractors shared by every domain;
//!   [`form`]: multipart fields under a size limit.
//! - [`problem`]: turns every error answer — ours, axum's, tower-http's — into
//!   problem+json carrying the request id.
//! - [`timeout`]: the request timeout, restarted while an upload's body arrives.
//! - [`health`], [`metrics`], [`docs`] (OpenAPI + docs page), [`web`] (the PWA).
//! - [`created_or_ok`]: the status of an idempotent create.
//!
//! Domain routes live with their domain (`auth::routes`, `users::routes`, …)
//! and are merged in [`router`]; each handler carries a `#[utoipa::path]`, so
//! the OpenAPI document is built from the same code that serves the requests.

pub mod basemap;
pub mod docs;
pub mod error;
pub mod form;
pub mod health;
pub mod json;
pub mod meta;
pub mod metrics;
pub mod pagination;
pub mod problem;
pub mod timeout;
pub mod web;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::routing::{any, get};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The status of an idempotent create: 201 when this request stored the
/// resource, 200 when it was a retry answered with what an earlier one stored.
pub fn created_or_ok(created: bool) -> axum::http::StatusCode {
    if created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    }
}

use crate::app::AppState;
use docs::{BearerAuth, ComposableParts, ProblemResponses};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API's OpenAPI document: paths come from the routers merged in [`router`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kudakyar API",
        description = "The integrated registry of street-working children (کودک‌یار).",
        version = env!("CARGO_PKG_VERSION"),
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login and sessions"),
        (name = "users", description = "User administration"),
        (name = "audit", description = "The append-only audit log"),
        (name = "children", description = "The registry: child records and encounters"),
        (name = "photos", description = "Photos of children, served only through these endpoints"),
        (name = "iris", description = "Iris enrolment, identification, registration with deduplication, duplicate reviews"),
        (name = "cases", description = "Merges, service centres and referrals"),
        (name = "sightings", description = "Reports of children seen in the street (citizens without an account, the 123 line, outreach workers), their triage and incidents"),
        (name = "tasks", description = "The caller's own tasks: follow-ups due, reports to visit, open referrals"),
        (name = "notifications", description = "The in-app inbox: list, unread count, mark read, and its live stream (Server-Sent Events); Web Push subscriptions"),
        (name = "admin", description = "Operations for national administrators: notification deliveries that failed for good"),
        (name = "exports", description = "CSV and JSON Lines exports within the caller's scope"),
        (name = "atlas", description = "The presence atlas (اطلس حضور): choropleths, hexes, time series, zoning and emerging hot spots from rollups; scoped, small figures suppressed, ETagged"),
        (name = "indicators", description = "Programme monitoring: indicators materialised per day and area, per-worker figures, registration cohorts; counts under 5 children suppressed below national_admin"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

/// Builds the API router and its OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(crate::auth::routes::routes())
        .merge(crate::users::routes::routes())
        .merge(crate::audit::routes::routes())
        .merge(crate::registry::routes::routes())
        .merge(crate::photos::routes::routes())
        .merge(crate::biometrics::routes::routes())
        .merge(crate::cases::routes::routes())
        .merge(crate::sightings::routes::routes())
        .merge(crate::sightings::triage_routes::routes())
        .merge(crate::tasks::routes::routes())
        .merge(crate::exports::routes::routes())
        .merge(crate::indicators::routes::routes())
        .merge(crate::notify::routes::routes())
        .merge(crate::atlas::routes::routes())
        .merge(crate::notify::delivery_routes::routes())
        .split_for_parts();
    // After the merge: the modifier rewrites the paths the routers brought.
    utoipa::Modify::modify(&ProblemResponses, &mut openapi);
    utoipa::Modify::modify(&ComposableParts, &mut openapi);
    (router, openapi)
}

/// The whole application with its middleware.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api();
    let config = state.config.clone();
    // API answers carry personal data: no cache anywhere may keep them.
    let api = api.layer(security_header(header::CACHE_CONTROL, "no-store"));
    let app = api
        .merge(docs::routes(openapi))
        .route("/metrics", get(metrics::render))
        // Unknown API paths are API errors, never the PWA's index.html.
        .route("/api", any(problem::not_found))
        .route("/api/{*rest}", any(problem::not_found))
        .fallback_service(web::service(&config))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes));

    let request_timeout = Duration::from_secs(config.request_timeout_secs);
    let middleware = ServiceBuilder::new()
        .layer(axum::middleware::map_request(meta::drop_malformed_request_id))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let request_id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            // The path only: query strings may carry names of children.
            tracing::info_span!("request", request_id, method = %req.method(), path = req.uri().path())
        }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        // Compression wraps the problem rewriter, which must see plain bodies.
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(problem::normalise))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&basemap::content_security_policy(&config))
                .expect("the policy is ASCII: map_tiles was checked at startup"),
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(
            HeaderName::from_static("permissions-policy"),
            "camera=(self), geolocation=(self), microphone=()",
        ))
        .layer(cors(&config.cors_origins))
        // Innermost: its 408 passes through the problem layer above.
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            timeout::idle_timeout,
        ));

    app.layer(middleware).with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Cross-origin calls only from configured origins (none by default: the PWA
/// is served from the same origin as the API).
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            REQUEST_ID.clone(),
        ])
        .expose_headers([REQUEST_ID.clone(), header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600))
}
