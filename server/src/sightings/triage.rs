//! Triage of reports by staff: the queue ([`list`]), one report ([`get`]),
//! and the steps a report takes — [`assign`], [`visit`], [`link`], [`close`].
//!
//! Who may do what is `auth::policy` (`triage_sightings`, `sees_triage_queue`)
//! plus one rule of this module: a visit or a link is made by the report's
//! assignee, or by a supervisor and above.
//!
//! Every step goes through [`apply`]: one write transaction whose conditional
//! UPDATE (`WHERE state = <the state the report was read in>`, like
//! `cases::referrals::transition`) lets exactly one of several identical
//! requests through. The others find the report already where they wanted it
//! and answer like the first (a retry writes nothing), or find it moved
//! elsewhere and get a 409. The step's history row, its domain event and its
//! audit entry are written in the same transaction as the change.

use std::collections::BTreeSet;

use kudakyar_api::sightings::{
    AssignSighting, CloseReason, CloseSighting, LinkSighting, Sighting, SightingSource,
    SightingState, VisitOutcome, VisitSighting,
};
use kudakyar_api::users::Role;

use super::store::{self, SIGHTING_COLUMNS};
use crate::atlas::{rollup, subjects as atlas};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope, policy};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::db::vocab::enum_str;
use crate::error::{Error, Result};
use crate::events::{self, DomainEvent, Kind};

/// The longest note a step may carry.
pub const MAX_NOTE_CHARS: usize = 2000;
/// The most children one report may be linked to at once.
pub const MAX_LINKED_CHILDREN: usize = 50;

/// The filters of the triage list, already validated; every one optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<SightingState>,
    pub source: Option<SightingSource>,
    pub county: Option<String>,
    /// `created_at` from (inclusive) and to (inclusive), in milliseconds.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub incident: Option<String>,
    pub flagged: Option<bool>,
    /// The keyset cursor: (created_at, id) of the last report of the page before.
    pub after: Option<(i64, String)>,
}

/// The reports `actor` may see, newest first by (created_at, id), at most
/// `limit`, with their history and links (two more queries for the page).
pub async fn list(db: &Db, actor: &Actor, f: &Filter, limit: i64) -> Result<Vec<Sighting>> {
    let mut sql = Sql::new(&format!(
        "SELECT {SIGHTING_COLUMNS} FROM sightings s WHERE 1 = 1"
    ));
    store::push_visibility(&mut sql, actor);
    if let Some(state) = f.state {
        sql.push(" AND s.state = ")
            .bind(Arg::Text(enum_str(&state)));
    }
    if let Some(source) = f.source {
        sql.push(" AND s.source = ")
            .bind(Arg::Text(store::source_str(source)));
    }
    if let Some(county) = &f.county {
        sql.push(" AND s.county = ").bind(Arg::Text(county.clone()));
    }
    if let Some(from) = f.from_ms {
        sql.push(" AND s.created_at >= ").bind(Arg::Int(from));
    }
    if let Some(to) = f.to_ms {
        sql.push(" AND s.created_at <= ").bind(Arg::Int(to));
    }
    if let Some(incident) = &f.incident {
        sql.push(" AND s.incident_id = ")
            .bind(Arg::Text(incident.clone()));
    }
    match f.flagged {
        Some(true) => sql.push(" AND s.flag IS NOT NULL"),
        Some(false) => sql.push(" AND s.flag IS NULL"),
        None => &mut sql,
    };
    store::push_page(&mut sql, "created_at", f.after.as_ref(), limit);
    let rows = sql.query().fetch_all(db.pool()).await?;
    let list = rows
        .iter()
        .map(store::sighting_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(store::with_history(db.pool(), list).await?)
}

/// One report `actor` may see (404 otherwise).
pub async fn get(db: &Db, actor: &Actor, id: &str) -> Result<Sighting> {
    store::find(db.pool(), actor, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Assigns a report (new, or assigned to someone else) to an outreach worker
/// or supervisor whose scope holds the report's county. Supervisors and above.
pub async fn assign(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    req: AssignSighting,
) -> Result<Sighting> {
    policy::triage_sightings(actor)?;
    check_note(req.note.as_deref())?;
    let report = get(db, actor, id).await?;
    check_assignee(db, &report, &req.worker_id).await?;
    let step = Step {
        to: SightingState::Assigned,
        from: &[SightingState::New, SightingState::Assigned],
        change: Change::Assign {
            worker: &req.worker_id,
        },
        note: req.note.as_deref(),
        kind: Kind::SightingAssigned,
        action: "sighting.assign",
        detail: serde_json::json!({ "worker": req.worker_id }),
    };
    apply(db, actor, origin, report, step).await
}

/// Records the visit of an assigned report: found or not found. The assignee,
/// or a supervisor and above.
pub async fn visit(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    req: VisitSighting,
) -> Result<Sighting> {
    check_note(req.note.as_deref())?;
    let report = get(db, actor, id).await?;
    may_follow_up(actor, &report)?;
    let step = Step {
        to: SightingState::Visited,
        from: &[SightingState::Assigned],
        change: Change::Visit {
            outcome: req.outcome,
        },
        note: req.note.as_deref(),
        kind: Kind::SightingVisited,
        action: "sighting.visit",
        detail: serde_json::json!({ "outcome": enum_str(&req.outcome) }),
    };
    apply(db, actor, origin, report, step).await
}

/// Links an open report to the child records it was about (1–50 live
/// children in the caller's scope). The assignee, or a supervisor and above.
pub async fn link(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    req: LinkSighting,
) -> Result<Sighting> {
    check_note(req.note.as_deref())?;
    let children: BTreeSet<String> = req.child_ids.iter().cloned().collect();
    if children.is_empty() || children.len() > MAX_LINKED_CHILDREN {
        return Err(Error::field("child_ids", "list 1–50 child records"));
    }
    let report = get(db, actor, id).await?;
    may_follow_up(actor, &report)?;
    for child in &children {
        if crate::registry::store::find(db.pool(), &actor.scope, child)
            .await?
            .is_none()
        {
            return Err(no_such_child(child));
        }
    }
    let children: Vec<String> = children.into_iter().collect();
    let step = Step {
        to: SightingState::Linked,
        from: &[
            SightingState::New,
            SightingState::Assigned,
            SightingState::Visited,
        ],
        change: Change::Link {
            children: &children,
        },
        note: req.note.as_deref(),
        kind: Kind::SightingLinked,
        action: "sighting.link",
        detail: serde_json::json!({ "children": children }),
    };
    apply(db, actor, origin, report, step).await
}

/// Closes an open report as a duplicate or a false report. Supervisors and above.
pub async fn close(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    id: &str,
    req: CloseSighting,
) -> Result<Sighting> {
    policy::triage_sightings(actor)?;
    check_note(req.note.as_deref())?;
    let report = get(db, actor, id).await?;
    let to = match req.reason {
        CloseReason::Duplicate => SightingState::Duplicate,
        CloseReason::FalseReport => SightingState::FalseReport,
    };
    let step = Step {
        to,
        from: &[
            SightingState::New,
            SightingState::Assigned,
            SightingState::Visited,
        ],
        change: Change::Close,
        note: req.note.as_deref(),
        kind: Kind::SightingClosed,
        action: "sighting.close",
        detail: serde_json::json!({ "reason": enum_str(&req.reason) }),
    };
    apply(db, actor, origin, report, step).await
}

fn check_note(note: Option<&str>) -> Result<()> {
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(Error::field("note", "must be at most 2000 characters"));
    }
    Ok(())
}

fn no_such_child(id: &str) -> Error {
    Error::field("child_ids", format!("no such child in your scope: {id}"))
}

/// Visits and links are made by whoever follows the report up: its
/// assignee, or a supervisor and above (who may go themselves).
fn may_follow_up(actor: &Actor, report: &Sighting) -> Result<()> {
    if report.assigned_to.as_deref() == Some(actor.user_id.as_str())
        || policy::triage_sightings(actor).is_ok()
    {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only the report's assignee, supervisors and above follow it up".into(),
        ))
    }
}

/// The assignee must be an active outreach worker or supervisor whose scope
/// holds the report's county: someone who can go there, and see the report.
async fn check_assignee(db: &Db, report: &Sighting, worker_id: &str) -> Result<()> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT role, province, county FROM users WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(worker_id)
    .fetch_optional(db.pool())
    .await?;
    let fits = row.is_some_and(|(role, province, county)| {
        matches!(
            Role::parse(&role),
            Some(Role::OutreachWorker | Role::Supervisor)
        ) && Scope::from_parts(province, county)
            .covers(report.province.as_deref(), report.county.as_deref())
    });
    if fits {
        Ok(())
    } else {
        Err(Error::field(
            "worker_id",
            "must be an active outreach worker or supervisor whose area holds the report's county",
        ))
    }
}

/// What a step changes besides the state.
enum Change<'a> {
    Assign {
        worker: &'a str,
    },
    Visit {
        outcome: VisitOutcome,
    },
    /// Sorted and distinct.
    Link {
        children: &'a [String],
    },
    Close,
}

/// One step of a report's triage.
struct Step<'a> {
    to: SightingState,
    /// The states it may be taken from.
    from: &'static [SightingState],
    change: Change<'a>,
    note: Option<&'a str>,
    kind: Kind,
    /// The audit action.
    action: &'static str,
    /// What the domain event and the audit entry say (never the note: notes
    /// may name people, and events travel further than the report).
    detail: serde_json::Value,
}

impl Step<'_> {
    /// Is the report already where this step would put it? Then the step
    /// is a retry (or lost a race to its own copy) and changes nothing.
    fn done(&self, s: &Sighting) -> bool {
        s.state == self.to
            && match self.change {
                Change::Assign { worker } => s.assigned_to.as_deref() == Some(worker),
                Change::Visit { outcome } => s.visit_outcome == Some(outcome),
                Change::Link { children } => {
                    let mut linked = s.linked_children.clone();
                    linked.sort();
                    linked == children
                }
                Change::Close => true,
            }
    }
}

/// Takes `report` (as read) through `step`, or answers like the first time
/// when it already took it.
async fn apply(
    db: &Db,
    actor: &Actor,
    origin: &Origin,
    report: Sighting,
    step: Step<'_>,
) -> Result<Sighting> {
    if step.done(&report) {
        return Ok(report);
    }
    if !step.from.contains(&report.state) {
        return Err(Error::field(
            "state",
            format!(
                "a report that is {} cannot become {}",
                enum_str(&report.state),
                enum_str(&step.to)
            ),
        ));
    }
    let id = report.id.as_str();
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let mut sql = Sql::new("UPDATE sightings SET state = ");
    sql.bind(Arg::Text(enum_str(&step.to)))
        .push(", updated_at = ")
        .bind(Arg::Int(now));
    match step.change {
        Change::Assign { worker } => {
            sql.push(", assigned_to = ").bind(Arg::Text(worker.into()));
        }
        Change::Visit { outcome } => {
            sql.push(", visit_outcome = ")
                .bind(Arg::Text(enum_str(&outcome)));
        }
        Change::Link { .. } | Change::Close => {}
    }
    // The state and assignee as read: a step that crossed another one (two
    // supervisors reassigning at once) does not overwrite it unseen.
    sql.push(" WHERE id = ")
        .bind(Arg::Text(id.into()))
        .push(" AND state = ")
        .bind(Arg::Text(enum_str(&report.state)))
        .push(" AND COALESCE(assigned_to, '') = ")
        .bind(Arg::Text(report.assigned_to.clone().unwrap_or_default()));
    let updated = sql.query().execute(&mut *tx).await?;
    if updated.rows_affected() != 1 {
        drop(tx);
        let now_stored = get(db, actor, id).await?;
        if step.done(&now_stored) {
            return Ok(now_stored);
        }
        return Err(Error::Conflict {
            detail: "the report changed meanwhile; reload it".into(),
            stored: None,
            conflicts: None,
        });
    }
    if let Change::Link { children } = step.change {
        for child in children {
            // Merged away since it was checked: not a child to link any more.
            if !crate::registry::store::lock_live(&mut tx, child).await? {
                return Err(no_such_child(child));
            }
            sqlx::query(
                "INSERT INTO sighting_children (sighting_id, child_id, linked_by, linked_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(child)
            .bind(&actor.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    store::record_step(&mut tx, id, step.to, step.note, Some(&actor.user_id), now).await?;
    if let Change::Close = step.change {
        // A false report leaves the atlas, and may leave its incident empty.
        rollup::enqueue(&mut tx, atlas::Kind::Sighting, id).await?;
        rollup::enqueue(&mut tx, atlas::Kind::Incident, &report.incident_id).await?;
    }
    let assignee = match step.change {
        Change::Assign { worker } => Some(worker),
        _ => None,
    };
    events::record(
        &mut tx,
        DomainEvent {
            kind: step.kind,
            province: report.province.as_deref(),
            county: report.county.as_deref(),
            subject_type: "sighting",
            subject_id: id,
            user_id: assignee,
            actor_id: Some(&actor.user_id),
            detail: Some(step.detail.clone()),
        },
    )
    .await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new(step.action, "sighting", Some(id)).with_detail(step.detail),
    )
    .await?;
    tx.commit().await?;
    get(db, actor, id).await
}
