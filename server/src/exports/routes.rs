//! `GET /api/v1/exports/{children,encounters}.{csv,jsonl}`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kudakyar_api::problem::Problem;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Format, Kind};
use crate::app::AppState;
use crate::audit::{self, Event, Who};
use crate::auth::Actor;
use crate::http::error::{Error, Result};
use crate::http::meta::RequestMeta;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// Exports every record in the caller's scope. `file` is one of
/// `children.csv`, `children.jsonl`, `encounters.csv`, `encounters.jsonl`.
/// CSV is UTF-8 with a byte-order mark so spreadsheets show Persian.
#[utoipa::path(get, path = "/api/v1/exports/{file}", tag = "exports",
    params(("file" = String, Path, description = "children.csv, children.jsonl, encounters.csv or encounters.jsonl")),
    security(("bearer" = [])),
    responses((status = 200, description = "The export, streamed", content_type = "text/csv"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn export(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    Path(file): Path<String>,
) -> Result<Response> {
    let (kind, format) = match file.as_str() {
        "children.csv" => (Kind::Children, Format::Csv),
        "children.jsonl" => (Kind::Children, Format::Jsonl),
        "encounters.csv" => (Kind::Encounters, Format::Csv),
        "encounters.jsonl" => (Kind::Encounters, Format::Jsonl),
        _ => return Err(Error::NotFound),
    };
    audit::record(
        state.db.pool(),
        &Who::from(&actor),
        &meta,
        Event::new("export", "child", None).with_detail(serde_json::json!({ "file": file })),
    )
    .await?;
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Jsonl => "application/jsonl; charset=utf-8",
    };
    let body = Body::from_stream(super::stream(
        state.db.clone(),
        actor.scope.clone(),
        kind,
        format,
    ));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}
