//! Storing accepted captures as templates of a child, and opening review
//! tasks for the other records they match.
//!
//! Order of writes: the sealed raw capture goes to the object store first,
//! then the template row and its event in one transaction. A crash between
//! the two leaves an unreferenced object, never a row without its capture;
//! a re-sent capture maps to the same template id (UUID v5 of child, eye and
//! capture digest) and finds its row instead of making a second one.
//!
//! A capture whose template a supervisor removed stays erased: a re-sent
//! copy (an outbox retry) is recognised by its template id before anything
//! is written ([`drop_erased`]), so the sealed raw capture never comes back
//! to the object store. Objects no row points to (a crash between the two
//! writes) are swept by [`super::maintenance::sweep_orphans`].

use kudakyar_api::iris::{IrisEnrolment, ReviewReason};

use super::Biometrics;
use super::capture::{Probe, RawCapture};
use super::matching::ChildMatch;
use super::store::{self, NewTemplate};
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::events::{self, DomainEvent, Kind};

/// Namespace of template ids (a fixed random UUID).
const TEMPLATE_NS: uuid::Uuid = uuid::Uuid::from_u128(0x6b75_6461_6b79_6172_9e1a_51c0_7e3a_2b01);

pub fn template_id(child_id: &str, raw: &RawCapture) -> String {
    let name = format!("{child_id}/{}/{}", raw.eye.as_str(), raw.sha256);
    uuid::Uuid::new_v5(&TEMPLATE_NS, name.as_bytes()).to_string()
}

pub fn capture_key(child_id: &str, template_id: &str) -> String {
    format!("iris/{child_id}/{template_id}.sealed")
}

/// Stores each probe as a template of `child_id` (already checked to be a
/// live child in the caller's scope). Returns the enrolments, each new or
/// found again, and how many were new.
pub async fn store_templates(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
    probes: &[Probe],
) -> Result<(Vec<IrisEnrolment>, usize)> {
    let bio = &state.biometrics;
    let keys = bio.keys();
    let mut out = Vec::with_capacity(probes.len());
    let mut stored = 0;
    for probe in probes {
        let id = template_id(child_id, &probe.raw);
        if let Some(existing) = store::enrolment(state.db.pool(), &id).await? {
            out.push(existing);
            continue;
        }
        let key = keys.sealing();
        let object = capture_key(child_id, &id);
        state
            .media
            .put(&object, key.seal(&id, &probe.raw.bytes).into())
            .await?;
        let sealed = key.seal(&id, &probe.template.to_bytes());
        let now = crate::now_ms();
        let mut tx = state.db.begin_write().await?;
        let inserted = store::insert(
            &mut tx,
            &NewTemplate {
                id: &id,
                child_id,
                eye: probe.raw.eye,
                sealed: &sealed,
                key_id: key.id(),
                capture_key: &object,
                capture_sha256: &probe.raw.sha256,
                quality: &probe.quality,
                created_by: &actor.user_id,
                now,
            },
        )
        .await;
        match inserted {
            Ok(()) => {}
            // A concurrent retry stored it first: that row is the answer.
            Err(e) if crate::error::is_unique_violation(&e) => {
                drop(tx);
                match store::enrolment(state.db.pool(), &id).await? {
                    Some(found) => {
                        out.push(found);
                        continue;
                    }
                    None => {
                        // Removed between the check and this write: what was
                        // just put is the erased capture, which no row names.
                        state.media.delete(&object).await?;
                        return Err(erased(&[probe.raw.eye]));
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            &mut *tx,
            &Who::from(actor),
            origin,
            Event::new("iris.enrol", "child", Some(child_id))
                .with_detail(serde_json::json!({"template": id, "eye": probe.raw.eye.as_str()})),
        )
        .await?;
        tx.commit().await?;
        stored += 1;
        out.push(
            store::enrolment(state.db.pool(), &id)
                .await?
                .ok_or(Error::NotFound)?,
        );
    }
    // This instance sees its own enrolments at once; others within a sync
    // interval. The enrolment is committed: a failed sync is the follower's
    // to retry, never a failed answer to the client.
    bio.sync_or_log(&state.db).await;
    Ok((out, stored))
}

/// The answer to an enrolment whose captures were all erased before.
pub fn erased(eyes: &[kudakyar_api::iris::Eye]) -> Error {
    let eyes: Vec<&str> = eyes.iter().map(|e| e.as_str()).collect();
    Error::Conflict {
        detail: format!(
            "this capture ({}) was removed from the record by a supervisor and is not stored again; \
             send a new capture to enrol this eye",
            eyes.join(", ")
        ),
        stored: None,
        conflicts: None,
    }
}

/// Removes from `captures` those whose template was removed from `child_id`
/// (erased by a supervisor), before anything is analysed or written; returns
/// the eyes dropped. Reads only.
pub async fn drop_erased(
    state: &AppState,
    child_id: &str,
    captures: &mut Vec<RawCapture>,
) -> Result<Vec<kudakyar_api::iris::Eye>> {
    let mut erased = Vec::new();
    let mut kept = Vec::with_capacity(captures.len());
    for raw in captures.drain(..) {
        let removed: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM iris_templates WHERE id = $1 AND removed_at IS NOT NULL",
        )
        .bind(template_id(child_id, &raw))
        .fetch_optional(state.db.pool())
        .await?;
        if removed.is_some() {
            erased.push(raw.eye);
        } else {
            kept.push(raw);
        }
    }
    *captures = kept;
    Ok(erased)
}

/// Removes a template (a wrong capture, or a record's biometric data to be
/// erased): the sealed bytes are emptied, the raw capture deleted, and every
/// instance's gallery drops it on the `remove` event. Supervisors and above.
pub async fn remove_template(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
    template_id: &str,
) -> Result<()> {
    crate::auth::policy::decide_cases(actor)?;
    crate::registry::store::find(state.db.pool(), &actor.scope, child_id)
        .await?
        .ok_or(Error::NotFound)?;
    let capture: Option<Option<String>> = sqlx::query_scalar(
        "SELECT capture_key FROM iris_templates WHERE id = $1 AND child_id = $2 AND removed_at IS NULL",
    )
    .bind(template_id)
    .bind(child_id)
    .fetch_optional(state.db.pool())
    .await?;
    let Some(capture) = capture else {
        return Err(Error::NotFound);
    };
    let now = crate::now_ms();
    let mut tx = state.db.begin_write().await?;
    // Only a live template: of removals sent together, the first removes
    // it (and records the change once); the others find it gone.
    let removed = sqlx::query(
        "UPDATE iris_templates SET removed_at = $1, sealed_template = $2, capture_key = NULL
         WHERE id = $3 AND removed_at IS NULL",
    )
    .bind(now)
    .bind(Vec::<u8>::new())
    .bind(template_id)
    .execute(&mut *tx)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    store::event(&mut tx, template_id, "remove", now).await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("iris.remove", "child", Some(child_id))
            .with_detail(serde_json::json!({"template": template_id})),
    )
    .await?;
    tx.commit().await?;
    // After the commit: a crash before this leaves an orphan object (sealed,
    // unreferenced), never a live row without its capture.
    if let Some(object) = capture {
        state.media.delete(&object).await?;
    }
    state.biometrics.sync_or_log(&state.db).await;
    Ok(())
}

/// Opens a review task per matched record (once per pair of records, in
/// either order: `identity_reviews_pair`); returns how many were new.
pub async fn open_reviews(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    child_id: &str,
    child_province: &str,
    matches: &[ChildMatch],
    reason: ReviewReason,
) -> Result<usize> {
    let mut opened = 0;
    let now = crate::now_ms();
    for m in matches {
        let id = uuid::Uuid::now_v7().to_string();
        // The task, its audit line and the supervisors' notification (rule
        // 5) commit together: a task nobody was told of cannot exist.
        let mut tx = state.db.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO identity_reviews (id, child_id, candidate_id, child_province,
                candidate_province, reason, distances, opened_by, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(child_id)
        .bind(&m.owner.child_id)
        .bind(child_province)
        .bind(&m.owner.province)
        .bind(crate::db::vocab::enum_str(&reason))
        .bind(m.distances_json())
        .bind(&actor.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            opened += 1;
            events::record(
                &mut tx,
                DomainEvent {
                    kind: Kind::IrisReviewOpened,
                    province: Some(child_province),
                    county: None,
                    subject_type: "identity_review",
                    subject_id: &id,
                    user_id: None,
                    actor_id: Some(&actor.user_id),
                    detail: Some(serde_json::json!({ "other_province": m.owner.province })),
                },
            )
            .await?;
            audit::record(
                &mut *tx,
                &Who::from(actor),
                origin,
                Event::new("iris.review_open", "identity_review", Some(&id)).with_detail(
                    serde_json::json!({"child": child_id, "candidate": m.owner.child_id}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(opened)
}

/// Checks a child id names a live record in scope; a tombstone is a 409
/// naming the record it was merged into.
pub async fn live_child(
    state: &AppState,
    actor: &Actor,
    child_id: &str,
) -> Result<kudakyar_api::children::Child> {
    if let Some(child) =
        crate::registry::store::find(state.db.pool(), &actor.scope, child_id).await?
    {
        return Ok(child);
    }
    match crate::cases::merges::merged_into(&state.db, &actor.scope, child_id).await? {
        Some(survivor) => Err(Error::Conflict {
            detail: format!(
                "this record was merged into {survivor}; send the capture to that record"
            ),
            stored: None,
            conflicts: None,
        }),
        None => Err(Error::NotFound),
    }
}

impl Biometrics {
    /// Applies new gallery events now (after this instance's own writes).
    pub async fn sync(&self, db: &crate::db::Db) -> Result<usize> {
        Ok(self.gallery.sync(db, &self.keys()).await?)
    }

    /// [`Biometrics::sync`] after a committed write: a failure is logged
    /// (the follower retries within a sync interval), not returned.
    pub async fn sync_or_log(&self, db: &crate::db::Db) {
        if let Err(e) = self.sync(db).await {
            tracing::warn!(error = %e, "iris gallery sync after a write failed; the follower retries");
        }
    }
}
