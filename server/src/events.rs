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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO domain_events (at, kind, province, county, subject_type, subject_id,
                                    user_id, actor_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id",
    )
    .bind(crate::now_ms())
    .bind(e.kind.as_str())
    .bind(e.province)
    .bind(e.county)
    .bind(e.subject_type)
    .bind(e.subject_id)
    .bind(e.user_id)
    .bind(e.actor_id)
    .bind(e.detail.as_ref().map(|d| d.to_string()))
    .fetch_one(&mut *conn)
    .await?;
    crate::notify::fan_out(conn, &e, id).await
}
