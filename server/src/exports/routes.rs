//! `GET /api/v1/exports/{children,encounters}.{csv,jsonl}`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kudakyar_api::problem::Problem;
use utoipa_axum::{router::OpenApiRouter, routes};

use futures::TryStreamExt;

use super::{Export, Format, Full, Kind, Outcome};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, policy};
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// When to try again after a 429: exports of a province take seconds to minutes.
const RETRY_AFTER_SECS: u64 = 30;

/// Exports every record in the caller's scope. `file` is one of
/// `children.csv`, `children.jsonl`, `encounters.csv`, `encounters.jsonl`.
/// CSV is UTF-8 with a byte-order mark so spreadsheets show Persian.
///
/// Supervisors and above only (`export_min_role`); a few at a time per user
/// and in all (429 with `Retry-After` above). The audit entry is written when
/// the export ends, with the number of rows sent.
#[utoipa::path(get, path = "/api/v1/exports/{file}", tag = "exports",
    params(("file" = String, Path, description = "children.csv, children.jsonl, encounters.csv or encounters.jsonl")),
    security(("bearer" = [])),
    responses((status = 200, description = "The export, streamed", content_type = "text/csv"),
        (status = 401, body = Problem),
        (status = 403, description = "The caller's role may not export", body = Problem),
        (status = 404, body = Problem),
        (status = 429, description = "Too many exports running, for this user or in all; see `Retry-After`", body = Problem)))]
async fn export(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    Path(file): Path<String>,
) -> Result<Response> {
    let (kind, format) = match file.as_str() {
        "children.csv" => (Kind::Children, Format::Csv),
        "children.jsonl" => (Kind::Children, Format::Jsonl),
        "encounters.csv" => (Kind::Encounters, Format::Csv),
        "encounters.jsonl" => (Kind::Encounters, Format::Jsonl),
        _ => return Err(Error::NotFound),
    };
    policy::export(&actor, state.config.export_min_role)?;
    let slot = state
        .export_slots
        .take(&actor.user_id)
        .map_err(|full| Error::Busy {
            detail: match full {
                Full::User => {
                    "you already have as many exports running as allowed; wait for one to end"
                }
                Full::Everyone => {
                    "the server is running as many exports as it allows; try again shortly"
                }
            }
            .into(),
            retry_after_secs: RETRY_AFTER_SECS,
        })?;
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Jsonl => "application/jsonl; charset=utf-8",
    };
    let export = Export {
        kind,
        format,
        scope: actor.scope.clone(),
        batch_rows: state.config.export_batch_rows,
    };
    let db = state.db.clone();
    let who = Who::from(&actor);
    let disposition = format!("attachment; filename=\"{file}\"");
    let finish = move |outcome: Outcome| async move {
        let detail = serde_json::json!({
            "file": file, "rows": outcome.rows, "complete": outcome.complete,
        });
        let event = Event::new("export", "child", None).with_detail(detail);
        if let Err(e) = audit::record(db.pool(), &who, &origin, event).await {
            tracing::error!(error = %e, "writing the audit entry of an export");
        }
        // The slot is free once the export has ended.
        drop(slot);
    };
    let chunks = super::stream(state.db.clone(), export, finish).map_ok(|chunk| chunk.bytes);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}
