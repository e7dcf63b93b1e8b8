//! The OpenAPI 3.1 document (`/api/openapi.json`) and a docs page that reads
//! it (`/api/docs`). The page is three small files compiled into the binary —
//! no CDN, and nothing inline, so it runs under the same strict CSP as the PWA.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::app::AppState;

/// Declares the `bearer` security scheme the handlers refer to.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// Error answers are `application/problem+json`, and any endpoint may also
/// answer 400, 408, 413, 415 or 500 from the shared middleware: say so once,
/// for every operation, instead of in each handler's annotation.
pub struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    let is_error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(response)) = (is_error, response)
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert("application/problem+json".into(), content);
                    }
                }
                operation.responses.responses.insert(
                    "default".into(),
                    RefOr::T(
                        ResponseBuilder::new()
                            .description("Any other error, as RFC 9457 problem details")
                            .content("application/problem+json", problem())
                            .build(),
                    ),
                );
            }
        }
    }
}

/// A schema that others extend with `allOf` (a child's facts, inside a
/// child and inside a create) must leave room for the properties they add:
/// with the `additionalProperties: false` that `deny_unknown_fields` puts on
/// it, no object could satisfy both, and a validating client would refuse
/// every child the API returns (schemathesis's stateful run found this).
/// The server still refuses unknown fields in what it is sent.
pub struct ComposableParts;

impl Modify for ComposableParts {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let parts: Vec<String> = components
            .schemas
            .values()
            .filter_map(|schema| match schema {
                RefOr::T(Schema::AllOf(all)) => Some(&all.items),
                _ => None,
            })
            .flatten()
            .filter_map(|item| match item {
                RefOr::Ref(r) => r.ref_location.strip_prefix("#/components/schemas/"),
                RefOr::T(_) => None,
            })
            .map(str::to_string)
            .collect();
        for name in parts {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
                object.additional_properties = None;
            }
        }
    }
}

/// The OpenAPI document as served: pretty JSON, built once.
pub fn document(openapi: &OpenApi) -> String {
    openapi.to_pretty_json().unwrap_or_default()
}

pub fn routes(openapi: OpenApi) -> Router<AppState> {
    let json: Arc<str> = document(&openapi).into();
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route("/api/docs", get(page))
        .route("/api/docs/docs.js", get(script))
        .route("/api/docs/docs.css", get(style))
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("docs_page/index.html"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("docs_page/docs.js"),
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("docs_page/docs.css"),
    )
}
