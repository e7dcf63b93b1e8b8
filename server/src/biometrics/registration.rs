//! Registering a child with iris captures: deduplicate before create.
//!
//! The captures are searched against the whole national gallery (children
//! move between provinces) before the record is written:
//!
//! - no match: the record is created and the templates stored;
//! - a match, and the worker saw the candidates and said "new child"
//!   (`decision = new_child`): the record is created and a review task
//!   opened per matched record;
//! - a match, and nobody looked (`decision = unreviewed`, a registration
//!   queued offline): the record is created as "identity pending review"
//!   and review tasks are opened, for the supervisors of both provinces when
//!   the match lies elsewhere.
//!
//! The worker answering "same child" does not register: the app adds an
//! encounter and the captures to the matched record instead.
//!
//! A re-sent registration (same child id, same body) finds the record, the
//! templates and the tasks it made and makes nothing twice; every step is
//! idempotent, so a registration interrupted by a crash completes when the
//! app sends it again.

use kudakyar_api::iris::{Registration, RegistrationDecision, ReviewReason};

use super::capture::{self, Form};
use super::{enrol, matching};
use crate::app::AppState;
use crate::audit::Origin;
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::registry::records::{self, Created};

/// The text fields of a registration form besides `left` / `right`.
pub const FIELDS: [&str; 2] = ["child", "decision"];

/// Registers a child; `Ok((registration, true))` when the record is new.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    form: Form,
) -> Result<(Registration, bool)> {
    let text = form.text.get("child").ok_or_else(|| {
        Error::field(
            "child",
            "is required: the child's record as JSON, with the client's `id`",
        )
    })?;
    let body: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| Error::field("child", format!("must be a JSON object: {e}")))?;
    let new = crate::registry::routes::new_child(body)?;
    if new.id.is_none() {
        return Err(Error::field(
            "id",
            "is required in a registration: with it, a re-sent registration is recognised",
        ));
    }
    let decision = match form.text.get("decision").map(String::as_str) {
        None | Some("unreviewed") => RegistrationDecision::Unreviewed,
        Some("new_child") => RegistrationDecision::NewChild,
        Some(_) => {
            return Err(Error::field(
                "decision",
                "must be `unreviewed` or `new_child`",
            ));
        }
    };
    capture::require_captures(&form)?;
    let client_id = uuid::Uuid::parse_str(new.id.as_deref().unwrap_or_default())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Error::field("id", "must be a UUID"))?;
    // A re-sent registration whose templates were removed since: the record
    // answers as before; the erased captures are not stored again.
    let mut captures = form.captures;
    enrol::drop_erased(state, &client_id, &mut captures).await?;
    let probes = capture::analyse_all(&state.biometrics, captures).await?;
    let matches = matching::find(&state.biometrics, &state.db, &probes, Some(&client_id)).await?;
    let (child, created) = match records::create(&state.db, actor, origin, new).await? {
        Created::New(child) => (child, true),
        Created::Existing(child) => (child, false),
    };
    let reason = match decision {
        RegistrationDecision::Unreviewed => ReviewReason::OfflineRegistration,
        RegistrationDecision::NewChild => ReviewReason::DeclaredNewChild,
    };
    let reviews_opened = enrol::open_reviews(
        state,
        actor,
        origin,
        &child.id,
        &child.facts.home_province,
        &matches,
        reason,
    )
    .await?;
    if decision == RegistrationDecision::Unreviewed && !matches.is_empty() {
        mark_pending(state, &child.id).await?;
    }
    let (enrolled, _) = enrol::store_templates(state, actor, origin, &child.id, &probes).await?;
    let child = crate::registry::store::find(state.db.pool(), &actor.scope, &child.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((
        Registration {
            child,
            enrolled,
            matches: matching::visible(&actor.scope, &matches, &probes),
            reviews_opened,
        },
        created,
    ))
}

/// "Identity pending review" while a review of this record is undecided.
async fn mark_pending(state: &AppState, child_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE children SET identity_review_since = COALESCE(identity_review_since, $1)
         WHERE id = $2 AND EXISTS (
            SELECT 1 FROM identity_reviews
            WHERE (child_id = $2 OR candidate_id = $2) AND decided_at IS NULL)",
    )
    .bind(crate::now_ms())
    .bind(child_id)
    .execute(state.db.pool())
    .await?;
    Ok(())
}
