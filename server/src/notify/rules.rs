//! The rules: which users hear of a domain event. [`audience`] decides from
//! the event alone (pure, unit-tested below); [`recipients`] reads the users
//! that audience names — enabled accounts only, in the event's place.
//!
//! - Rule 1: a new citizen or hotline report in a county → that county's
//!   supervisors, and the province's supervisors whose scope is the whole
//!   province. Reports an outreach worker records are their own field notes
//!   and tell nobody.
//! - Rule 2: a report assigned to me → me.
//! - Rule 3 (from [`super::schedule`]): a follow-up due → the child's
//!   assigned worker; overdue by N days → the supervisors of the child's
//!   county (and the province-wide ones).
//! - Rule 4 (from [`super::schedule`]): a child not seen for 30 days → its
//!   assigned worker.
//! - Rule 5: an iris duplicate awaiting review → the supervisors of the
//!   provinces of both records (one, or two when the pair crosses
//!   provinces: the review queue shows it to both).
//! - Rule 6: a referral accepted or rejected → the referring worker; a
//!   referral taking a centre over 90 % of its capacity → the provincial
//!   staff of the centre's province ([`crosses_nearly_full`]).
//! - Rule 7: a child record newly flagged with signs of abuse or a need for
//!   medical care → the supervisors of the child's home county, and the
//!   province-wide ones, **critical** ([`urgent_flags`]).

use kudakyar_api::children::RiskFlag;

use crate::events::{DomainEvent, Kind};

/// The risks rule 7 raises at once.
const URGENT: [RiskFlag; 2] = [RiskFlag::SignsOfAbuse, RiskFlag::NeedsMedicalCare];

/// The urgent risks in `after` that were not in `before`: a record flagged
/// anew (rule 7). An edit that keeps a flag raises nothing again.
pub fn urgent_flags(before: &[RiskFlag], after: &[RiskFlag]) -> Vec<RiskFlag> {
    URGENT
        .into_iter()
        .filter(|f| after.contains(f) && !before.contains(f))
        .collect()
}

/// Does a centre of `capacity` go over 90 % full when its open files go
/// from `before` to `after`? True once per upward crossing (rule 6): not
/// for each referral while it stays above, again after it fell below.
pub fn crosses_nearly_full(before: i64, after: i64, capacity: i64) -> bool {
    let over = |open: i64| open * 10 > capacity * 9;
    !over(before) && over(after)
}

/// Who an event is for, before any user is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub who: Who,
    /// Critical notifications cannot be muted (none of rules 1–2 is).
    pub critical: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The supervisors of `county` (when the report was placed in one) and
    /// those of `province` without a county.
    Supervisors {
        province: String,
        county: Option<String>,
    },
    /// Every supervisor of these provinces, whatever their county.
    ProvinceSupervisors(Vec<String>),
    /// The provincial staff of a province.
    ProvincialStaff(String),
    /// One user, e.g. an assignee.
    User(String),
}

/// The audience of `event` under the rules, or none.
pub fn audience(event: &DomainEvent<'_>) -> Option<Audience> {
    let who = match event.kind {
        Kind::SightingReceived => {
            let source = event
                .detail
                .as_ref()
                .and_then(|d| d.get("source"))
                .and_then(|s| s.as_str());
            if !matches!(source, Some("citizen" | "hotline")) {
                return None;
            }
            // A report outside every province has no team to tell.
            Who::Supervisors {
                province: event.province?.to_string(),
                county: event.county.map(str::to_string),
            }
        }
        Kind::SightingAssigned | Kind::ChildNotSeen | Kind::FollowUpDue | Kind::ReferralDecided => {
            Who::User(event.user_id?.to_string())
        }
        Kind::FollowUpOverdue => Who::Supervisors {
            province: event.province?.to_string(),
            county: event.county.map(str::to_string),
        },
        Kind::IrisReviewOpened => {
            let mut provinces = vec![event.province?.to_string()];
            let other = event
                .detail
                .as_ref()
                .and_then(|d| d.get("other_province"))
                .and_then(|p| p.as_str());
            if let Some(other) = other.filter(|o| *o != provinces[0]) {
                provinces.push(other.to_string());
            }
            Who::ProvinceSupervisors(provinces)
        }
        Kind::CentreNearlyFull => Who::ProvincialStaff(event.province?.to_string()),
        Kind::ChildAtRisk => {
            return Some(Audience {
                who: Who::Supervisors {
                    province: event.province?.to_string(),
                    county: event.county.map(str::to_string),
                },
                critical: true,
            });
        }
        _ => return None,
    };
    Some(Audience {
        who,
        critical: false,
    })
}

/// The ids of the enabled users `audience` names, in a stable order.
pub async fn recipients(
    conn: &mut sqlx::AnyConnection,
    audience: &Audience,
) -> sqlx::Result<Vec<String>> {
    match &audience.who {
        Who::User(id) => {
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND disabled_at IS NULL")
                .bind(id)
                .fetch_all(conn)
                .await
        }
        Who::ProvinceSupervisors(provinces) => {
            // One or two provinces: two parameters, the second repeating the
            // first when there is one.
            let second = provinces.get(1).unwrap_or(&provinces[0]);
            sqlx::query_scalar(
                "SELECT id FROM users
                 WHERE role = 'supervisor' AND disabled_at IS NULL AND province IN ($1, $2)
                 ORDER BY id",
            )
            .bind(&provinces[0])
            .bind(second)
            .fetch_all(conn)
            .await
        }
        Who::ProvincialStaff(province) => {
            sqlx::query_scalar(
                "SELECT id FROM users
                 WHERE role = 'provincial_staff' AND disabled_at IS NULL AND province = $1
                 ORDER BY id",
            )
            .bind(province)
            .fetch_all(conn)
            .await
        }
        Who::Supervisors { province, county } => {
            // Two spellings rather than `county = $2` with a null: a null
            // parameter in a comparison has no type PostgreSQL can infer.
            let place = if county.is_some() {
                "(county IS NULL OR county = $2)"
            } else {
                "county IS NULL"
            };
            let sql = format!(
                "SELECT id FROM users
                 WHERE role = 'supervisor' AND disabled_at IS NULL AND province = $1 AND {place}
                 ORDER BY id"
            );
            let mut query = sqlx::query_scalar(&sql).bind(province);
            if let Some(county) = county {
                query = query.bind(county);
            }
            query.fetch_all(conn).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(
        source: &str,
        province: Option<&'static str>,
        county: Option<&'static str>,
    ) -> DomainEvent<'static> {
        DomainEvent {
            kind: Kind::SightingReceived,
            province,
            county,
            subject_type: "sighting",
            subject_id: "s1",
            user_id: None,
            actor_id: None,
            detail: Some(serde_json::json!({ "source": source })),
        }
    }

    #[test]
    fn a_citizen_or_hotline_report_goes_to_the_supervisors_of_its_place() {
        for source in ["citizen", "hotline"] {
            let a = audience(&received(source, Some("IR-23"), Some("2301"))).unwrap();
            assert_eq!(
                a.who,
                Who::Supervisors {
                    province: "IR-23".into(),
                    county: Some("2301".into())
                }
            );
            assert!(!a.critical);
        }
        // Placed in a province but no county: the province-wide supervisors.
        let a = audience(&received("citizen", Some("IR-23"), None)).unwrap();
        assert_eq!(
            a.who,
            Who::Supervisors {
                province: "IR-23".into(),
                county: None
            }
        );
    }

    #[test]
    fn a_workers_own_report_or_one_outside_every_province_tells_nobody() {
        assert_eq!(
            audience(&received("worker", Some("IR-23"), Some("2301"))),
            None
        );
        assert_eq!(audience(&received("citizen", None, None)), None);
        let mut no_source = received("citizen", Some("IR-23"), Some("2301"));
        no_source.detail = None;
        assert_eq!(audience(&no_source), None);
    }

    #[test]
    fn a_new_urgent_risk_is_critical_for_the_childs_supervisors() {
        use RiskFlag::*;
        assert_eq!(
            urgent_flags(&[], &[SignsOfAbuse, Disability]),
            [SignsOfAbuse]
        );
        assert_eq!(
            urgent_flags(&[SignsOfAbuse], &[SignsOfAbuse, NeedsMedicalCare]),
            [NeedsMedicalCare]
        );
        assert!(urgent_flags(&[SignsOfAbuse], &[SignsOfAbuse]).is_empty());
        assert!(urgent_flags(&[], &[Disability, SubstanceExposure]).is_empty());
        let mut e = received("citizen", Some("IR-23"), Some("2301"));
        e.kind = Kind::ChildAtRisk;
        e.detail = None;
        let a = audience(&e).unwrap();
        assert!(a.critical);
        assert_eq!(
            a.who,
            Who::Supervisors {
                province: "IR-23".into(),
                county: Some("2301".into())
            }
        );
    }

    #[test]
    fn follow_ups_go_to_the_worker_then_the_supervisors_of_the_county() {
        let mut e = received("citizen", Some("IR-23"), Some("2301"));
        e.detail = None;
        e.kind = Kind::FollowUpDue;
        e.user_id = Some("worker-1");
        assert_eq!(audience(&e).unwrap().who, Who::User("worker-1".into()));
        e.kind = Kind::FollowUpOverdue;
        assert_eq!(
            audience(&e).unwrap().who,
            Who::Supervisors {
                province: "IR-23".into(),
                county: Some("2301".into())
            }
        );
        e.kind = Kind::FollowUpDue;
        e.user_id = None;
        assert_eq!(audience(&e), None, "a child with no assigned worker");
    }

    #[test]
    fn an_iris_review_goes_to_the_supervisors_of_both_provinces() {
        let mut e = received("citizen", Some("IR-23"), Some("2301"));
        e.kind = Kind::IrisReviewOpened;
        e.detail = Some(serde_json::json!({ "other_province": "IR-07" }));
        assert_eq!(
            audience(&e).unwrap().who,
            Who::ProvinceSupervisors(vec!["IR-23".into(), "IR-07".into()])
        );
        e.detail = Some(serde_json::json!({ "other_province": "IR-23" }));
        assert_eq!(
            audience(&e).unwrap().who,
            Who::ProvinceSupervisors(vec!["IR-23".into()])
        );
    }

    #[test]
    fn referral_decisions_go_to_the_referrer_and_a_full_centre_to_provincial_staff() {
        let mut e = received("citizen", Some("IR-23"), None);
        e.detail = None;
        e.kind = Kind::ReferralDecided;
        e.user_id = Some("worker-1");
        assert_eq!(audience(&e).unwrap().who, Who::User("worker-1".into()));
        e.kind = Kind::CentreNearlyFull;
        e.user_id = None;
        assert_eq!(
            audience(&e).unwrap().who,
            Who::ProvincialStaff("IR-23".into())
        );
        // 450 places: 405 is 90 %, not over it; 406 is.
        assert!(!crosses_nearly_full(404, 405, 450));
        assert!(crosses_nearly_full(405, 406, 450));
        assert!(!crosses_nearly_full(406, 407, 450), "once per crossing");
        assert!(crosses_nearly_full(0, 1, 1));
        assert!(
            !crosses_nearly_full(407, 406, 450),
            "falling is no crossing"
        );
    }

    #[test]
    fn an_assignment_goes_to_the_assignee_and_other_steps_to_nobody() {
        let mut e = received("citizen", Some("IR-23"), Some("2301"));
        e.kind = Kind::SightingAssigned;
        e.user_id = Some("worker-1");
        assert_eq!(audience(&e).unwrap().who, Who::User("worker-1".into()));
        e.user_id = None;
        assert_eq!(audience(&e), None);
        for kind in [
            Kind::SightingFlagged,
            Kind::SightingVisited,
            Kind::SightingLinked,
            Kind::SightingClosed,
            Kind::IncidentChanged,
        ] {
            e.kind = kind;
            e.user_id = Some("worker-1");
            assert_eq!(audience(&e), None, "{kind:?}");
        }
    }
}
