//! The duplicate-review queue: two records whose irises match, side by side,
//! for a supervisor to decide.
//!
//! A task is visible to supervisors (and above) whose scope covers either
//! record; each side is shown in full only when it is in the viewer's scope
//! (otherwise just its province). Deciding needs both records in scope — a
//! national supervisor, or one of the province when both records are there.
//! "Same child" merges the newer record into the older through the
//! registry's merge (undoable for 30 days), in the decision's transaction;
//! "different children" keeps both. Either way, a record whose identity was
//! pending becomes confirmed once no review of it is left open.
//!
//! There is one review per pair of records, whichever of the two was
//! registered later. A merge closes the open reviews of the record it merges
//! away (see [`close_for_merge`]); undoing it reopens them. Every read and
//! decision is audited.

use kudakyar_api::cases::MergeRequest;
use kudakyar_api::iris::{Review, ReviewDecision, ReviewReason, ReviewSide, ReviewVerdict};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope, policy};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::db::vocab::{enum_parse, enum_str};
use crate::error::{Error, Result};
use crate::registry::store::{self as children};

/// What [`review_from_row`] reads, from `identity_reviews r`.
const REVIEW_COLUMNS: &str =
    "r.id, r.child_id, r.candidate_id, r.child_province, r.candidate_province,
    r.reason, r.distances, r.opened_at, r.decision, r.decided_by, r.decided_at, r.merge_id";

struct Row_ {
    id: String,
    child_id: String,
    candidate_id: String,
    child_province: String,
    candidate_province: String,
    reason: ReviewReason,
    left: Option<f32>,
    right: Option<f32>,
    opened_at: i64,
    decision: Option<ReviewDecision>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    merge_id: Option<String>,
}

fn review_from_row(r: &AnyRow) -> sqlx::Result<Row_> {
    let reason: String = r.try_get("reason")?;
    let distances: String = r.try_get("distances")?;
    let d: serde_json::Value = serde_json::from_str(&distances).unwrap_or_default();
    let eye = |k: &str| d.get(k).and_then(|v| v.as_f64()).map(|v| v as f32);
    let decision: Option<String> = r.try_get("decision")?;
    Ok(Row_ {
        id: r.try_get("id")?,
        child_id: r.try_get("child_id")?,
        candidate_id: r.try_get("candidate_id")?,
        child_province: r.try_get("child_province")?,
        candidate_province: r.try_get("candidate_province")?,
        reason: enum_parse(&reason).unwrap_or(ReviewReason::Enrolment),
        left: eye("left"),
        right: eye("right"),
        opened_at: r.try_get("opened_at")?,
        decision: decision.as_deref().and_then(enum_parse),
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        merge_id: r.try_get("merge_id")?,
    })
}

/// `AND (child in scope OR candidate in scope)`.
fn push_visible(sql: &mut Sql, scope: &Scope) {
    let (Some(province), county) = (scope.province(), scope.county()) else {
        return;
    };
    for (i, alias) in ["a", "b"].into_iter().enumerate() {
        sql.push(if i == 0 { " AND ((" } else { " OR (" });
        sql.push(&format!("{alias}.home_province = "))
            .bind(Arg::Text(province.into()));
        if let Some(c) = county {
            sql.push(&format!(" AND {alias}.home_county = "))
                .bind(Arg::Text(c.into()));
        }
        sql.push(")");
    }
    sql.push(")");
}

fn base() -> Sql {
    Sql::new(&format!(
        "SELECT {REVIEW_COLUMNS} FROM identity_reviews r
         JOIN children a ON a.id = r.child_id JOIN children b ON b.id = r.candidate_id WHERE 1 = 1"
    ))
}

/// Open (or decided) reviews the caller may see, oldest first.
pub async fn list(db: &Db, actor: &Actor, origin: &Origin, open: bool) -> Result<Vec<Review>> {
    policy::decide_cases(actor)?;
    let mut sql = base();
    sql.push(if open {
        " AND r.decided_at IS NULL"
    } else {
        " AND r.decided_at IS NOT NULL"
    });
    push_visible(&mut sql, &actor.scope);
    sql.push(" ORDER BY r.opened_at, r.id LIMIT 200");
    let rows = sql.query().fetch_all(db.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(render(db, actor, review_from_row(r)?, false).await?);
    }
    audit::record(
        db.pool(),
        &Who::from(actor),
        origin,
        Event::new("iris.review_list", "identity_review", None)
            .with_detail(serde_json::json!({"open": open, "count": out.len()})),
    )
    .await?;
    // Each side whose record the list shows is a read of that child.
    let shown = out
        .iter()
        .flat_map(|r| [&r.record, &r.candidate])
        .filter_map(|side| side.child.as_ref().map(|c| c.id.as_str()));
    audit::reads(
        db.pool(),
        &Who::from(actor),
        origin,
        "iris.review_read",
        shown,
        None,
    )
    .await?;
    Ok(out)
}

/// One review with both records side by side (photos and encounters of the
/// sides in scope); the read is audited for both children.
pub async fn get(db: &Db, actor: &Actor, origin: &Origin, id: &str) -> Result<Review> {
    policy::decide_cases(actor)?;
    let row = find(db, actor, id).await?;
    let review = render(db, actor, row, true).await?;
    for side in [&review.record, &review.candidate] {
        if let Some(child) = &side.child_id {
            audit::record(
                db.pool(),
                &Who::from(actor),
                origin,
                Event::new("iris.review_read", "child", Some(child))
                    .with_detail(serde_json::json!({"review": id})),
            )
            .await?;
        }
    }
    Ok(review)
}

async fn find(db: &Db, actor: &Actor, id: &str) -> Result<Row_> {
    let mut sql = base();
    sql.push(" AND r.id = ").bind(Arg::Text(id.into()));
    push_visible(&mut sql, &actor.scope);
    let row = sql
        .query()
        .fetch_optional(db.pool())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(review_from_row(&row)?)
}

async fn side(
    db: &Db,
    scope: &Scope,
    child_id: &str,
    province: &str,
    detail: bool,
) -> Result<ReviewSide> {
    let Some(child) = children::find(db.pool(), scope, child_id).await? else {
        return Ok(ReviewSide {
            child_id: None,
            province: province.to_string(),
            child: None,
            thumbnails: Vec::new(),
            encounters: Vec::new(),
        });
    };
    let (thumbnails, encounters) = if detail {
        let photos = crate::photos::store::list(db.pool(), child_id).await?;
        let thumbnails = photos.into_iter().map(|p| p.photo.thumbnail_url).collect();
        let encounters = crate::registry::encounters::in_scope(db, scope, child_id)
            .await?
            .unwrap_or_default();
        (thumbnails, encounters)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(ReviewSide {
        child_id: Some(child.id.clone()),
        province: province.to_string(),
        child: Some(child),
        thumbnails,
        encounters,
    })
}

async fn render(db: &Db, actor: &Actor, r: Row_, detail: bool) -> Result<Review> {
    Ok(Review {
        record: side(db, &actor.scope, &r.child_id, &r.child_province, detail).await?,
        candidate: side(
            db,
            &actor.scope,
            &r.candidate_id,
            &r.candidate_province,
            detail,
        )
        .await?,
        id: r.id,
        reason: r.reason,
        left_distance: r.left,
        right_distance: r.right,
        opened_at: crate::ms_to_rfc3339(r.opened_at),
        decision: r.decision,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(crate::ms_to_rfc3339),
        merge_id: r.merge_id,
    })
}

/// Decides a review, in one transaction with the merge a "same child" makes:
/// a review never reads "different" while its records are merged.
pub async fn decide(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    verdict: ReviewVerdict,
) -> Result<Review> {
    policy::decide_cases(actor)?;
    let row = find(db, actor, id).await?;
    if verdict.decision == ReviewDecision::DifferentChildren && verdict.survivor_id.is_some() {
        return Err(Error::field("survivor_id", "is only for `same_child`"));
    }
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    // The two records first, then the review: the order a merge takes them
    // in, so a merge of the pair and this decision wait for each other.
    crate::cases::merges::lock_pair(&mut tx, &row.child_id, &row.candidate_id).await?;
    let claimed = sqlx::query(
        "UPDATE identity_reviews SET decision = $1, decided_by = $2, decided_at = $3
         WHERE id = $4 AND decided_at IS NULL",
    )
    .bind(enum_str(&verdict.decision))
    .bind(&actor.user_id)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(Error::Conflict {
            detail: "this review was already decided (or closed by a merge of its records)".into(),
            stored: None,
            conflicts: None,
        });
    }
    let both_visible = children::find(&mut *tx, &actor.scope, &row.child_id)
        .await?
        .is_some()
        && children::find(&mut *tx, &actor.scope, &row.candidate_id)
            .await?
            .is_some();
    if !both_visible {
        return Err(Error::Forbidden(
            "one of the two records is outside your scope: a supervisor who sees both decides"
                .into(),
        ));
    }
    let merge_id = match verdict.decision {
        ReviewDecision::DifferentChildren => None,
        ReviewDecision::SameChild => {
            // The older record stays unless the supervisor picks the other.
            let survivor = verdict
                .survivor_id
                .clone()
                .unwrap_or(row.candidate_id.clone());
            let duplicate = if survivor == row.candidate_id {
                row.child_id.clone()
            } else if survivor == row.child_id {
                row.candidate_id.clone()
            } else {
                return Err(Error::field(
                    "survivor_id",
                    "must be one of the two records of the review",
                ));
            };
            let merge = crate::cases::merges::merge_in(
                &mut tx,
                actor,
                origin,
                &survivor,
                MergeRequest {
                    duplicate_id: duplicate,
                    reason: Some(
                        verdict
                            .reason
                            .clone()
                            .unwrap_or_else(|| "iris duplicate review".into()),
                    ),
                },
            )
            .await?;
            sqlx::query("UPDATE identity_reviews SET merge_id = $1 WHERE id = $2")
                .bind(&merge.id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Some(merge.id)
        }
    };
    confirm_settled(&mut tx, &[&row.child_id, &row.candidate_id]).await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("iris.review_decide", "identity_review", Some(id)).with_detail(
            serde_json::json!({
                "decision": verdict.decision,
                "child": row.child_id,
                "candidate": row.candidate_id,
                "merge": merge_id,
                "reason": verdict.reason,
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    let row = find(db, actor, id).await?;
    render(db, actor, row, true).await
}

/// A record's identity is confirmed once no review of it (on either side)
/// is left open.
async fn confirm_settled(conn: &mut sqlx::AnyConnection, ids: &[&str]) -> sqlx::Result<()> {
    for child in ids {
        sqlx::query(
            "UPDATE children SET identity_review_since = NULL
             WHERE id = $1 AND identity_review_since IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM identity_reviews
                WHERE (child_id = $1 OR candidate_id = $1) AND decided_at IS NULL)",
        )
        .bind(*child)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Closes the open reviews of a record merged away, inside the merge's
/// transaction: the one with the survivor is decided "same child" by the
/// merge; one with a third record has no side left to decide on (the
/// duplicate's irises now belong to the survivor, which a new enrolment or
/// registration matches again). Each carries the merge, so its undo
/// reopens them.
pub async fn close_for_merge(
    conn: &mut sqlx::AnyConnection,
    merge_id: &str,
    survivor_id: &str,
    duplicate_id: &str,
    by: &str,
    now: i64,
) -> sqlx::Result<()> {
    let others: Vec<(String, String)> = sqlx::query_as(
        "SELECT child_id, candidate_id FROM identity_reviews
         WHERE decided_at IS NULL AND (child_id = $1 OR candidate_id = $1)",
    )
    .bind(duplicate_id)
    .fetch_all(&mut *conn)
    .await?;
    if others.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE identity_reviews SET decided_at = $1, decided_by = $2, merge_id = $3,
            decision = CASE WHEN child_id = $4 OR candidate_id = $4 THEN 'same_child' END
         WHERE decided_at IS NULL AND (child_id = $5 OR candidate_id = $5)",
    )
    .bind(now)
    .bind(by)
    .bind(merge_id)
    .bind(survivor_id)
    .bind(duplicate_id)
    .execute(&mut *conn)
    .await?;
    let mut ids: Vec<&str> = others
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .filter(|id| *id != duplicate_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    confirm_settled(conn, &ids).await
}

/// Reopens the reviews a merge decided or closed, when it is undone: both
/// records live again and nobody has decided about them any more. A record
/// registered offline with an undecided match is pending review again.
pub async fn reopen_after_undo(
    conn: &mut sqlx::AnyConnection,
    merge_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE children SET identity_review_since = COALESCE(identity_review_since, $1)
         WHERE id IN (SELECT child_id FROM identity_reviews
                      WHERE merge_id = $2 AND reason = 'offline_registration')",
    )
    .bind(now)
    .bind(merge_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE identity_reviews SET decision = NULL, decided_by = NULL, decided_at = NULL,
            merge_id = NULL
         WHERE merge_id = $1",
    )
    .bind(merge_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
