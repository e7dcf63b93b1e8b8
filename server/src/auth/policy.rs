//! The access policy: every "may this caller…?" question is answered here.
//!
//! A caller has a [`Role`] and a [`Scope`]. National admins see the whole
//! country; everyone else is confined to one province, and optionally to one
//! county in it. Storage functions take a `Scope` and filter by it, so data
//! outside the caller's scope is never even read.

use kudakyar_api::sightings::SightingSource;
use kudakyar_api::users::{NewUser, Role};

use super::Actor;
use crate::error::{Error, Result};

/// The part of the country a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    National,
    Province {
        province: String,
        county: Option<String>,
    },
}

impl Scope {
    pub fn from_parts(province: Option<String>, county: Option<String>) -> Scope {
        match province {
            None => Scope::National,
            Some(province) => Scope::Province { province, county },
        }
    }

    /// Does this scope include a place (a province and, optionally, a county)?
    pub fn covers(&self, province: Option<&str>, county: Option<&str>) -> bool {
        match self {
            Scope::National => true,
            Scope::Province {
                province: mine,
                county: my_county,
            } => {
                province == Some(mine.as_str())
                    && my_county.as_deref().is_none_or(|c| county == Some(c))
            }
        }
    }

    pub fn province(&self) -> Option<&str> {
        match self {
            Scope::National => None,
            Scope::Province { province, .. } => Some(province),
        }
    }

    pub fn county(&self) -> Option<&str> {
        match self {
            Scope::National => None,
            Scope::Province { county, .. } => county.as_deref(),
        }
    }
}

/// Which users a caller may list: a scope and the roles visible in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVisibility {
    pub scope: Scope,
    pub roles: Vec<Role>,
    /// With a county scope, also the users of the whole province (no
    /// county): whoever may be sent to the county, not only those kept to it.
    pub province_wide_too: bool,
}

/// The roles a provincial staff member manages.
const PROVINCE_MANAGED_ROLES: [Role; 3] = [
    Role::OutreachWorker,
    Role::Supervisor,
    Role::HotlineOperator,
];

/// May `actor` list users, optionally narrowed to `province`? Supervisors
/// see their area's outreach workers and supervisors (to assign reports).
pub fn list_users(actor: &Actor, province: Option<&str>) -> Result<UserVisibility> {
    match actor.role {
        Role::NationalAdmin => Ok(UserVisibility {
            scope: province.map_or(Scope::National, |p| Scope::Province {
                province: p.to_string(),
                county: None,
            }),
            roles: Role::ALL.to_vec(),
            province_wide_too: false,
        }),
        Role::ProvincialStaff => {
            if province.is_some_and(|p| Some(p) != actor.scope.province()) {
                return Err(Error::Forbidden(
                    "you may only see users of your own province".into(),
                ));
            }
            Ok(UserVisibility {
                scope: actor.scope.clone(),
                roles: PROVINCE_MANAGED_ROLES.to_vec(),
                province_wide_too: false,
            })
        }
        // The people a supervisor can assign a report to
        // (`sightings::triage`): the workers and supervisors whose area
        // holds theirs — a county supervisor's county team and the
        // province-wide ones.
        Role::Supervisor => {
            if province.is_some_and(|p| Some(p) != actor.scope.province()) {
                return Err(Error::Forbidden(
                    "you may only see users of your own area".into(),
                ));
            }
            Ok(UserVisibility {
                scope: actor.scope.clone(),
                roles: vec![Role::OutreachWorker, Role::Supervisor],
                province_wide_too: true,
            })
        }
        Role::OutreachWorker | Role::HotlineOperator => Err(Error::Forbidden(
            "only administrators, provincial staff and supervisors see users".into(),
        )),
    }
}

/// May `actor` create this user?
pub fn create_user(actor: &Actor, new: &NewUser) -> Result<()> {
    match actor.role {
        Role::NationalAdmin => Ok(()),
        Role::ProvincialStaff => {
            if !PROVINCE_MANAGED_ROLES.contains(&new.role) {
                return Err(Error::Forbidden(
                    "provincial staff create only outreach workers, supervisors and hotline operators"
                        .into(),
                ));
            }
            if !actor
                .scope
                .covers(new.province.as_deref(), new.county.as_deref())
            {
                return Err(Error::Forbidden(
                    "you may only create users inside your own scope".into(),
                ));
            }
            Ok(())
        }
        Role::Supervisor | Role::OutreachWorker | Role::HotlineOperator => Err(Error::Forbidden(
            "only administrators and provincial staff manage users".into(),
        )),
    }
}

/// May `actor` manage (create, disable) users at all? Supervisors see their
/// team ([`list_users`]) but manage nobody.
pub fn manage_users(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::NationalAdmin | Role::ProvincialStaff => Ok(()),
        Role::Supervisor | Role::OutreachWorker | Role::HotlineOperator => Err(Error::Forbidden(
            "only administrators and provincial staff manage users".into(),
        )),
    }
}

/// May `actor` disable a user with this role and place?
pub fn disable_user(
    actor: &Actor,
    role: Role,
    province: Option<&str>,
    county: Option<&str>,
) -> Result<()> {
    manage_users(actor)?;
    let visible = list_users(actor, None)?;
    if visible.roles.contains(&role) && visible.scope.covers(province, county) {
        Ok(())
    } else {
        Err(Error::Forbidden("that user is outside your scope".into()))
    }
}

/// Merging records and deciding referrals is for supervisors and above.
pub fn decide_cases(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::Supervisor | Role::ProvincialStaff | Role::NationalAdmin => Ok(()),
        Role::OutreachWorker | Role::HotlineOperator => Err(Error::Forbidden(
            "only supervisors, provincial staff and administrators decide this".into(),
        )),
    }
}

/// Service centres are managed by provincial staff (their province) and admins.
pub fn manage_centres(actor: &Actor, province: &str) -> Result<()> {
    match actor.role {
        Role::NationalAdmin => Ok(()),
        Role::ProvincialStaff if actor.scope.province() == Some(province) => Ok(()),
        _ => Err(Error::Forbidden(
            "only provincial staff of that province and administrators manage centres".into(),
        )),
    }
}

/// The roles from the least to the most trusted.
fn rank(role: Role) -> u8 {
    match role {
        Role::OutreachWorker | Role::HotlineOperator => 0,
        Role::Supervisor => 1,
        Role::ProvincialStaff => 2,
        Role::NationalAdmin => 3,
    }
}

/// May `actor` export (`export_min_role`, supervisors by default)? An export
/// is the whole of the caller's scope at once — national codes, guardian
/// phones, encounter positions — so it is for the roles that answer for a
/// team or more, never every worker in the street.
pub fn export(actor: &Actor, min_role: Role) -> Result<()> {
    if rank(actor.role) >= rank(min_role) {
        return Ok(());
    }
    let allowed: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| rank(*r) >= rank(min_role))
        .map(Role::as_str)
        .collect();
    Err(Error::Forbidden(format!(
        "exports are for these roles only: {}",
        allowed.join(", ")
    )))
}

/// The parts of the API a hotline operator works in: their session, the
/// reports queue, their notifications and their push subscriptions.
/// Children's records, photos, iris and cases are for the teams who meet
/// the children; an operator taking calls has no need of them.
const HOTLINE_PATHS: [&str; 5] = [
    "/api/v1/auth/",
    "/api/v1/sightings",
    "/api/v1/incidents",
    "/api/v1/notifications",
    "/api/v1/push/",
];

/// May `actor` reach this API path at all? Every role but one may reach
/// every path (each endpoint then applies its own rules); hotline operators
/// only [`HOTLINE_PATHS`].
pub fn reach(actor: &Actor, path: &str) -> Result<()> {
    if actor.role != Role::HotlineOperator || HOTLINE_PATHS.iter().any(|p| path.starts_with(p)) {
        return Ok(());
    }
    Err(Error::Forbidden(
        "hotline operators work with reports (sightings and incidents) only".into(),
    ))
}

/// Who may record a report of this source: a hotline report is taken by a
/// 123 operator or a supervisor and above; a field sighting by anyone in the
/// field (not a hotline operator, who is not in the street). Citizens' reports
/// need no account and never reach this.
pub fn record_sighting(actor: &Actor, source: SightingSource) -> Result<()> {
    let allowed = match source {
        SightingSource::Citizen => false,
        SightingSource::Hotline => actor.role != Role::OutreachWorker,
        SightingSource::Worker => actor.role != Role::HotlineOperator,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::Forbidden(match source {
            SightingSource::Citizen => {
                "staff record hotline or worker reports, not citizen ones".into()
            }
            SightingSource::Hotline => {
                "hotline reports are recorded by 123 operators and supervisors".into()
            }
            SightingSource::Worker => "field sightings are recorded by outreach staff".into(),
        }))
    }
}

/// Who sees the triage queue of their scope: supervisors and above, and the
/// hotline operators who feed it. Outreach workers see only the reports
/// assigned to them or recorded by them.
pub fn sees_triage_queue(actor: &Actor) -> bool {
    actor.role != Role::OutreachWorker
}

/// Assigning, closing, and splitting or joining incidents is for
/// supervisors and above.
pub fn triage_sightings(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::Supervisor | Role::ProvincialStaff | Role::NationalAdmin => Ok(()),
        Role::OutreachWorker | Role::HotlineOperator => Err(Error::Forbidden(
            "only supervisors, provincial staff and administrators triage reports".into(),
        )),
    }
}

/// Who sees the atlas's small figures: supervisors and above see an area's
/// figure whatever its size; outreach workers see figures resting on fewer
/// than 5 children (or reports) as "suppressed" (see `atlas::privacy`).
/// Every role that reaches `/api/v1/atlas` reads it, within its scope
/// (hotline operators do not reach it: [`reach`]).
pub fn sees_small_atlas_figures(actor: &Actor) -> bool {
    rank(actor.role) >= rank(Role::Supervisor)
}

/// Freezing the zoning breaks of a Jalali year is for provincial staff (for
/// their province) and national admins (for the country or any province).
pub fn freeze_zones(actor: &Actor, province: Option<&str>) -> Result<()> {
    match actor.role {
        Role::NationalAdmin => Ok(()),
        Role::ProvincialStaff if province.is_some() && province == actor.scope.province() => Ok(()),
        Role::ProvincialStaff => Err(Error::Forbidden(
            "provincial staff freeze the breaks of their own province only".into(),
        )),
        _ => Err(Error::Forbidden(
            "only provincial staff and administrators freeze zoning breaks".into(),
        )),
    }
}

/// Only national admins see and retry the notification deliveries that
/// failed for good (they name users of every province).
pub fn manage_deliveries(actor: &Actor) -> Result<()> {
    if actor.role == Role::NationalAdmin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only national administrators manage failed notification deliveries".into(),
        ))
    }
}

/// Whose per-worker indicators a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerFigures {
    /// An outreach worker: their own only.
    Own(String),
    /// Supervisors (their team: their province or county), provincial staff
    /// (their province), national admins (everyone).
    InScope(Scope),
}

/// Whose per-worker figures `actor` may see (`/api/v1/indicators/workers`).
pub fn worker_figures(actor: &Actor) -> WorkerFigures {
    match actor.role {
        Role::OutreachWorker | Role::HotlineOperator => WorkerFigures::Own(actor.user_id.clone()),
        Role::Supervisor | Role::ProvincialStaff | Role::NationalAdmin => {
            WorkerFigures::InScope(actor.scope.clone())
        }
    }
}

/// Counts of fewer than this many children are shown as "suppressed" to
/// everyone below national_admin (indicators, cohorts, reports).
pub const SMALL_COUNT: i64 = 5;

/// Whether `actor` sees a count of `children` as it is.
pub fn sees_count(actor_role: Role, children: i64) -> bool {
    actor_role == Role::NationalAdmin || children >= SMALL_COUNT
}

/// Only national admins read the audit log.
pub fn read_audit(actor: &Actor) -> Result<()> {
    if actor.role == Role::NationalAdmin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only national administrators read the audit log".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(p: &str, c: Option<&str>) -> Scope {
        Scope::Province {
            province: p.into(),
            county: c.map(String::from),
        }
    }

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            scope: scope("IR-23", None),
            token_hash: String::new(),
        }
    }

    #[test]
    fn export_is_for_the_configured_role_and_above() {
        let min = Role::Supervisor;
        assert!(export(&actor(Role::OutreachWorker), min).is_err());
        assert!(export(&actor(Role::Supervisor), min).is_ok());
        assert!(export(&actor(Role::NationalAdmin), min).is_ok());
        let min = Role::ProvincialStaff;
        assert!(export(&actor(Role::Supervisor), min).is_err());
        assert!(export(&actor(Role::ProvincialStaff), min).is_ok());
        assert!(export(&actor(Role::OutreachWorker), Role::OutreachWorker).is_ok());
    }

    #[test]
    fn scopes_cover_their_places_only() {
        assert!(Scope::National.covers(Some("IR-23"), None));
        assert!(scope("IR-23", None).covers(Some("IR-23"), Some("2301")));
        assert!(!scope("IR-23", None).covers(Some("IR-08"), None));
        assert!(!scope("IR-23", None).covers(None, None));
        assert!(scope("IR-23", Some("2301")).covers(Some("IR-23"), Some("2301")));
        assert!(!scope("IR-23", Some("2301")).covers(Some("IR-23"), Some("2302")));
        assert!(!scope("IR-23", Some("2301")).covers(Some("IR-23"), None));
    }
}
