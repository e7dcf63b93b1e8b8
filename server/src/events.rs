//! Domain events: one row per thing that happened that someone may need to
//! hear about — a new report in a county, a report assigned to a worker —
//! written by the domain code in the same transaction as the change, so an
//! event exists exactly when its change was committed. The notifications
//! read them in order of `id` and deliver them (in-app inbox, push, SMS);
//! this module defines and writes them, and [`crate::notify::fan_out`]
//! writes the inbox rows each one causes on the same transaction.

use serde::Serialize;

/// The kinds of event, as stored in `domain_events.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A report arrived (any source) in the event's county.
    SightingReceived,
    /// A report was flagged for a second look (e.g. one device, places far apart).
    SightingFlagged,
    /// A report was assigned; `user_id` is the assignee.
    SightingAssigned,
    /// The assignee visited the place (found or not).
    SightingVisited,
    /// A report was linked to child records.
    SightingLinked,
    /// A report was closed as a duplicate or a false report.
    SightingClosed,
    /// Supervisors split an incident or joined incidents.
    IncidentChanged,
    /// An active child has not been seen for 30 days (the scheduler's rule
    /// 4); `user_id` is the assigned worker.
    ChildNotSeen,
    /// A child's record was newly flagged with a risk that calls for action
    /// at once (signs of abuse, needs medical care): critical (rule 7).
    ChildAtRisk,
    /// An encounter's next follow-up date has come (the scheduler's rule
    /// 3); `user_id` is the child's assigned worker.
    FollowUpDue,
    /// A follow-up is overdue by `notify_follow_up_overdue_days` (rule 3);
    /// told to the supervisors of the child's county.
    FollowUpOverdue,
    /// An iris match opened a duplicate review (rule 5); `province` is the
    /// newer record's, `detail.other_province` the older one's.
    IrisReviewOpened,
    /// A centre accepted or rejected a referral (rule 6); `user_id` is the
    /// referring worker.
    ReferralDecided,
    /// A referral took a centre over 90 % of its capacity (rule 6); told to
    /// the provincial staff of the centre's province.
    CentreNearlyFull,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SightingReceived => "sighting_received",
            Kind::SightingFlagged => "sighting_flagged",
            Kind::SightingAssigned => "sighting_assigned",
            Kind::SightingVisited => "sighting_visited",
            Kind::SightingLinked => "sighting_linked",
            Kind::SightingClosed => "sighting_closed",
            Kind::IncidentChanged => "incident_changed",
            Kind::ChildNotSeen => "child_not_seen",
            Kind::ChildAtRisk => "child_at_risk",
            Kind::FollowUpDue => "follow_up_due",
            Kind::FollowUpOverdue => "follow_up_overdue",
            Kind::IrisReviewOpened => "iris_review_opened",
            Kind::ReferralDecided => "referral_decided",
            Kind::CentreNearlyFull => "centre_nearly_full",
        }
    }
}

/// One event to write.
#[derive(Debug, Clone)]
pub struct DomainEvent<'a> {
    pub kind: Kind,
    /// Where it happened, so the teams of that place hear of it.
    pub province: Option<&'a str>,
    pub county: Option<&'a str>,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    /// The one user it is addressed to, when there is one (an assignee).
    pub user_id: Option<&'a str>,
    /// Who caused it; none for a citizen.
    pub actor_id: Option<&'a str>,
    pub detail: Option<serde_json::Value>,
}

/// Appends one event and the notifications it causes; pass the transaction
/// of the change it reports.
pub async fn record(conn: &mut sqlx::AnyConnection, e: DomainEvent<'_>) -> sqlx::Result<()> {
    record_all(conn, &[e]).await
}

/// [`record`] of several events, inserted in one statement (what a batch of
/// changes written together, like public intake's group commit, calls
/// once); each event's notifications follow it.
pub async fn record_all(
    conn: &mut sqlx::AnyConnection,
    events: &[DomainEvent<'_>],
) -> sqlx::Result<()> {
    use crate::db::sql::{Arg, Sql};
    if events.is_empty() {
        return Ok(());
    }
    let now = crate::now_ms();
    let owned = |s: Option<&str>| Arg::OptText(s.map(str::to_string));
    let mut sql = Sql::new(
        "INSERT INTO domain_events (at, kind, province, county, subject_type, subject_id,
                                    user_id, actor_id, detail) VALUES ",
    );
    sql.bind_rows(events.iter().map(|e| {
        [
            Arg::Int(now),
            Arg::Text(e.kind.as_str().to_string()),
            owned(e.province),
            owned(e.county),
            Arg::Text(e.subject_type.to_string()),
            Arg::Text(e.subject_id.to_string()),
            owned(e.user_id),
            owned(e.actor_id),
            Arg::OptText(e.detail.as_ref().map(|d| d.to_string())),
        ]
    }));
    sql.push(" RETURNING id");
    // Neither backend promises RETURNING in VALUES order; ids are handed out
    // in that order within the statement, so sorted they match the events.
    let mut ids: Vec<i64> = sql
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| sqlx::Row::try_get(row, 0))
        .collect::<sqlx::Result<_>>()?;
    ids.sort_unstable();
    for (e, id) in events.iter().zip(ids) {
        crate::notify::fan_out(conn, e, id).await?;
    }
    Ok(())
}
