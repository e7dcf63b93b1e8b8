//! Every indicator, defined once: its name, its formula (the doc comment of
//! each variant, also served in the API docs by [`Indicator::formula`]) and
//! the code that computes it from the registry's [`Facts`] as of the end of a
//! day ([`compute`]).
//!
//! Areas: each figure is computed for the country (`IR`), each province
//! (`IR-23`) and each county (`IR-23/2301`). A child counts in the area of
//! its home province and county; a worker or supervisor in the area of their
//! account; a centre in its own. Windows ("the 30 days to D") end at the end
//! of day D in Iran ([`super::period::end_ms`]). Medians and 90th percentiles
//! are nearest-rank. A figure's `children` is how many distinct children it
//! counts (`None` for figures about staff or centres), which is what privacy
//! suppression below national_admin looks at.

use std::collections::{BTreeMap, HashMap, HashSet};

use kudakyar_api::children::{Service, Status, Verification};
use time::Date;

use super::facts::{EncounterFact, Facts};
use super::period::{self, Quarter};
use crate::db::vocab::enum_str;

const DAY_MS: i64 = 86_400_000;
/// A month as the cohort and re-entry windows count it (365.25 / 12 days).
const MONTH_MS: i64 = 2_629_800_000;

macro_rules! indicators {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal,)*) => {
        /// The materialised indicators.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Indicator { $($(#[doc = $doc])* $variant,)* }

        impl Indicator {
            pub const ALL: &[Indicator] = &[$(Indicator::$variant,)*];

            /// The name in the API and the tables.
            pub fn name(self) -> &'static str {
                match self { $(Indicator::$variant => $name,)* }
            }

            /// The formula, as documented on the variant.
            pub fn formula(self) -> &'static str {
                match self { $(Indicator::$variant => concat!($($doc, "\n"),*).trim_ascii(),)* }
            }
        }
    };
}

indicators! {
    /// Caseload at the end of the day. `open_cases`: live children of the
    /// area registered by then whose status was active, referred or
    /// in_service. For the area's outreach workers (accounts existing and not
    /// disabled then): `workers`, `supervisors`; `bucket_0_9`, `bucket_10_19`,
    /// `bucket_20_29`, `bucket_30_plus`: workers whose open assigned cases
    /// fall in Primero's buckets; `open_cases_per_worker` = open cases
    /// assigned to the area's workers ÷ workers; `supervisors_per_worker` =
    /// supervisors ÷ workers.
    Caseload = "caseload",
    /// Centre load at the end of the day: `centres` in the area,
    /// `capacity` = Σ their capacity (files, about 450 each), `open_files` =
    /// referrals to them whose state was accepted, `load_share` =
    /// open_files ÷ capacity.
    CentreLoad = "centre_load",
    /// Timeliness. Over children registered in the 90 days to the day:
    /// `contact_to_registration_median_days` / `_p90_days`: registration −
    /// first contact (the earliest of its first encounter, its first linked
    /// report and the registration itself), in days;
    /// `registration_to_follow_up_median_days` / `_p90_days`: the first
    /// encounter at least 24 h after registration (before the day's end) −
    /// registration, over those who had one. Over follow-ups due (an
    /// encounter's `next_follow_up`) in the 90 days to the day:
    /// `follow_ups_due`, `follow_ups_on_time` (the child was met after that
    /// encounter and by the end of the due date), `on_time_share`.
    /// `overdue_follow_ups`: open children whose latest encounter's follow-up
    /// date is the day or earlier.
    Timeliness = "timeliness",
    /// Services in the 30 days to the day: for each kind (`food`,
    /// `clothing`, …) the number of times it was given at an encounter;
    /// `encounters`: the encounters.
    Services = "services",
    /// Referrals at the end of the day: for each state (`sent`, `accepted`,
    /// `rejected`, `completed`) the referrals last in it;
    /// `median_days_to_acceptance`: accepted − sent, in days, over referrals
    /// accepted in the 90 days to the day.
    Referrals = "referrals",
    /// Field-visit verification in the 30 days to the day: encounters by
    /// level (`iris_verified`, `location_verified`, `unverified`) and
    /// `verified_share` = (iris + location) ÷ all.
    Verification = "verification",
    /// Re-entry. `closed`: children whose case became closed or reunified in
    /// the 365 days to the day (first such change counted). `reentered_6m` /
    /// `reentered_12m`: of them, those met again within 6 / 12 months after
    /// (and before the day's end) — by record (an encounter on their record)
    /// or by iris (an identification or a registration that matched them);
    /// `reentered_6m_iris` / `reentered_12m_iris`: those found by iris;
    /// `rate_6m` / `rate_12m` = reentered ÷ closed. Recent closures are not
    /// yet fully observed, so the rates are floors.
    Reentry = "reentry",
    /// Identity in the 30 days to the day: `registrations` (records created,
    /// merged ones included); `iris_matched`: those whose iris matched an
    /// existing child (a duplicate review opened on them);
    /// `cross_province`: matches with a child of another province;
    /// `matched_share` = iris_matched ÷ registrations.
    Identity = "identity",
}

impl Indicator {
    pub fn parse(s: &str) -> Option<Indicator> {
        Indicator::ALL.iter().copied().find(|i| i.name() == s)
    }
}

/// One materialised number.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub indicator: Indicator,
    pub area: String,
    pub figure: String,
    pub value: f64,
    pub children: Option<i64>,
}

/// An outreach worker's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerDay {
    pub worker_id: String,
    pub province: Option<String>,
    pub county: Option<String>,
    pub open_cases: i64,
    /// Encounters they recorded in the 30 days to the day.
    pub visits: i64,
    /// Of which iris- or location-verified.
    pub verified: i64,
    /// Their open cases whose follow-up date has come without a visit
    /// ([`overdue_follow_up`]): assigned to them, or unassigned and last met
    /// by them.
    pub overdue_follow_ups: i64,
}

/// Children of one registration cohort and group in one outcome `months`
/// after registration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CohortCell {
    pub cohort: String,
    pub province: String,
    pub sex: String,
    pub age_band: String,
    pub nationality: String,
    pub months: i64,
    /// A status, or `in_school` (counted besides the status).
    pub outcome: String,
    pub children: i64,
}

/// What the job stores for a day.
#[derive(Debug, Default)]
pub struct Computed {
    pub figures: Vec<Figure>,
    pub workers: Vec<WorkerDay>,
    pub cohorts: Vec<CohortCell>,
}

/// The areas a place belongs to: the country, its province, its county.
pub fn areas(province: Option<&str>, county: Option<&str>) -> Vec<String> {
    let mut out = vec!["IR".to_string()];
    if let Some(p) = province {
        out.push(p.to_string());
        if let Some(c) = county {
            out.push(format!("{p}/{c}"));
        }
    }
    out
}

/// Nearest-rank percentile of `values` (sorted here), `p` in (0, 1].
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

fn is_open(s: Status) -> bool {
    matches!(s, Status::Active | Status::Referred | Status::InService)
}

/// Age band at registration, as the registry's search names them.
fn age_band(birth_year: Option<i64>, registered: i64) -> &'static str {
    let Some(born) = birth_year else {
        return "unknown";
    };
    match i64::from(period::day_of(registered).year()) - born {
        ..=5 => "0-5",
        6..=11 => "6-11",
        12..=14 => "12-14",
        15..=17 => "15-17",
        _ => "18+",
    }
}

/// Sums per (indicator, area, figure): a value and the children counted.
#[derive(Default)]
struct Sums {
    counts: BTreeMap<(Indicator, String, String), (f64, HashSet<usize>)>,
    staff: BTreeMap<(Indicator, String, String), f64>,
    samples: BTreeMap<(Indicator, String, String), Vec<f64>>,
}

impl Sums {
    /// Counts one event of `child` under `figure` in each of `areas`.
    fn count(&mut self, i: Indicator, areas: &[String], figure: &str, child: usize) {
        for a in areas {
            let e = self
                .counts
                .entry((i, a.clone(), figure.to_string()))
                .or_default();
            e.0 += 1.0;
            e.1.insert(child);
        }
    }

    fn staff(&mut self, i: Indicator, areas: &[String], figure: &str, value: f64) {
        for a in areas {
            *self
                .staff
                .entry((i, a.clone(), figure.to_string()))
                .or_default() += value;
        }
    }

    fn sample(&mut self, i: Indicator, areas: &[String], figure: &str, value: f64) {
        for a in areas {
            self.samples
                .entry((i, a.clone(), figure.to_string()))
                .or_default()
                .push(value);
        }
    }

    fn get(&self, i: Indicator, area: &str, figure: &str) -> (f64, i64) {
        self.counts
            .get(&(i, area.to_string(), figure.to_string()))
            .map_or((0.0, 0), |(v, c)| (*v, c.len() as i64))
    }

    fn staff_of(&self, i: Indicator, area: &str, figure: &str) -> f64 {
        self.staff
            .get(&(i, area.to_string(), figure.to_string()))
            .copied()
            .unwrap_or(0.0)
    }
}

/// The figures of `day` (the state at its end) from `facts`.
pub fn compute(facts: &Facts, day: Date) -> Computed {
    let end = period::end_ms(day);
    let mut sums = Sums::default();
    let mut out = Computed::default();
    let child_areas: Vec<Vec<String>> = facts
        .children
        .iter()
        .map(|c| areas(Some(&c.province), c.county.as_deref()))
        .collect();
    let mut all_areas: HashSet<String> = child_areas.iter().flatten().cloned().collect();
    let open_at_end: Vec<bool> = facts
        .children
        .iter()
        .map(|c| !c.merged && c.created_at < end && c.status_at(end).is_some_and(is_open))
        .collect();

    // Caseload, and whose the overdue follow-ups are.
    let mut assigned: HashMap<&str, i64> = HashMap::new();
    let mut overdue: HashMap<&str, i64> = HashMap::new();
    for (i, c) in facts.children.iter().enumerate() {
        if open_at_end[i] {
            sums.count(Indicator::Caseload, &child_areas[i], "open_cases", i);
            if let Some(w) = &c.assigned_worker {
                *assigned.entry(w.as_str()).or_default() += 1;
            }
            if let Some(latest) = overdue_follow_up(facts, i, end, day) {
                let whose = c.assigned_worker.as_deref().unwrap_or(&latest.worker);
                *overdue.entry(whose).or_default() += 1;
            }
        }
    }
    let window30 = end - 30 * DAY_MS;
    let mut worker_visits: HashMap<&str, (i64, i64)> = HashMap::new();
    for e in &facts.encounters {
        if e.at >= window30 && e.at < end {
            let v = worker_visits.entry(e.worker.as_str()).or_default();
            v.0 += 1;
            v.1 += i64::from(e.verification != Verification::Unverified);
        }
    }
    for u in &facts.users {
        if u.created_at >= end || u.disabled_at.is_some_and(|d| d < end) {
            continue;
        }
        let a = areas(u.province.as_deref(), u.county.as_deref());
        all_areas.extend(a.iter().cloned());
        match u.role.as_str() {
            "supervisor" => sums.staff(Indicator::Caseload, &a, "supervisors", 1.0),
            "outreach_worker" => {
                let open = assigned.get(u.id.as_str()).copied().unwrap_or(0);
                let bucket = match open {
                    0..=9 => "bucket_0_9",
                    10..=19 => "bucket_10_19",
                    20..=29 => "bucket_20_29",
                    _ => "bucket_30_plus",
                };
                sums.staff(Indicator::Caseload, &a, "workers", 1.0);
                sums.staff(Indicator::Caseload, &a, bucket, 1.0);
                sums.staff(Indicator::Caseload, &a, "assigned_open", open as f64);
                let (visits, verified) =
                    worker_visits.get(u.id.as_str()).copied().unwrap_or((0, 0));
                out.workers.push(WorkerDay {
                    worker_id: u.id.clone(),
                    province: u.province.clone(),
                    county: u.county.clone(),
                    open_cases: open,
                    visits,
                    verified,
                    overdue_follow_ups: overdue.get(u.id.as_str()).copied().unwrap_or(0),
                });
            }
            _ => {}
        }
    }

    // Centre load.
    let mut centre_open: HashMap<usize, HashSet<usize>> = HashMap::new();
    for r in &facts.referrals {
        if r.state_at(end) == Some("accepted") {
            centre_open.entry(r.centre).or_default().insert(r.child);
        }
    }
    for (ci, centre) in facts.centres.iter().enumerate() {
        if centre.created_at >= end {
            continue;
        }
        let a = areas(Some(&centre.province), centre.county.as_deref());
        all_areas.extend(a.iter().cloned());
        sums.staff(Indicator::CentreLoad, &a, "centres", 1.0);
        sums.staff(
            Indicator::CentreLoad,
            &a,
            "capacity",
            centre.capacity as f64,
        );
        for child in centre_open.get(&ci).into_iter().flatten() {
            sums.count(Indicator::CentreLoad, &a, "open_files", *child);
        }
    }

    // Timeliness.
    let window90 = end - 90 * DAY_MS;
    for (i, c) in facts.children.iter().enumerate() {
        if c.created_at < window90 || c.created_at >= end {
            continue;
        }
        let encounters = facts.encounters_of(i);
        let first_encounter = encounters.first().map(|e| e.at);
        let first_contact = [first_encounter, c.first_report, Some(c.created_at)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(c.created_at);
        let a = &child_areas[i];
        sums.sample(
            Indicator::Timeliness,
            a,
            "contact_to_registration",
            (c.created_at - first_contact) as f64 / DAY_MS as f64,
        );
        if let Some(f) = encounters
            .iter()
            .find(|e| e.at >= c.created_at + DAY_MS && e.at < end)
        {
            sums.sample(
                Indicator::Timeliness,
                a,
                "registration_to_follow_up",
                (f.at - c.created_at) as f64 / DAY_MS as f64,
            );
        }
    }
    let day_floor = day - time::Duration::days(90);
    for (i, c) in facts.children.iter().enumerate() {
        if c.merged {
            continue;
        }
        let encounters = facts.encounters_of(i);
        for (k, e) in encounters.iter().enumerate() {
            let Some(due) = e.next_follow_up else {
                continue;
            };
            if e.at >= end || due <= day_floor || due > day {
                continue;
            }
            let due_end = period::end_ms(due);
            sums.count(Indicator::Timeliness, &child_areas[i], "follow_ups_due", i);
            if encounters[k + 1..]
                .iter()
                .any(|later| later.at > e.at && later.at < due_end.min(end))
            {
                sums.count(
                    Indicator::Timeliness,
                    &child_areas[i],
                    "follow_ups_on_time",
                    i,
                );
            }
        }
        if open_at_end[i] && overdue_follow_up(facts, i, end, day).is_some() {
            sums.count(
                Indicator::Timeliness,
                &child_areas[i],
                "overdue_follow_ups",
                i,
            );
        }
    }

    // Services and verification.
    for e in &facts.encounters {
        if e.at < window30 || e.at >= end || facts.children[e.child].merged {
            continue;
        }
        let a = &child_areas[e.child];
        sums.count(Indicator::Services, a, "encounters", e.child);
        for s in &e.services {
            sums.count(Indicator::Services, a, &enum_str(s), e.child);
        }
        sums.count(
            Indicator::Verification,
            a,
            &enum_str(&e.verification),
            e.child,
        );
    }

    // Referrals.
    for r in &facts.referrals {
        if r.created_at >= end {
            continue;
        }
        let a = &child_areas[r.child];
        if let Some(state) = r.state_at(end) {
            sums.count(Indicator::Referrals, a, state, r.child);
        }
        if let Some(accepted) = r.reached("accepted")
            && accepted >= window90
            && accepted < end
        {
            sums.sample(
                Indicator::Referrals,
                a,
                "days_to_acceptance",
                (accepted - r.created_at) as f64 / DAY_MS as f64,
            );
        }
    }

    // Re-entry.
    let window365 = end - 365 * DAY_MS;
    for (i, c) in facts.children.iter().enumerate() {
        if c.merged {
            continue;
        }
        let Some(closed_at) = c.closed_between(window365, end) else {
            continue;
        };
        let a = &child_areas[i];
        sums.count(Indicator::Reentry, a, "closed", i);
        for (months, record_figure, iris_figure) in [
            (6, "reentered_6m", "reentered_6m_iris"),
            (12, "reentered_12m", "reentered_12m_iris"),
        ] {
            let until = (closed_at + months * MONTH_MS).min(end);
            let met = |t: i64| t > closed_at && t < until;
            let by_record = facts.encounters_of(i).iter().any(|e| met(e.at));
            let by_iris = facts
                .iris_seen
                .get(&i)
                .is_some_and(|ts| ts.iter().any(|t| met(*t)));
            if by_record || by_iris {
                sums.count(Indicator::Reentry, a, record_figure, i);
            }
            if by_iris {
                sums.count(Indicator::Reentry, a, iris_figure, i);
            }
        }
    }

    // Identity.
    for (i, c) in facts.children.iter().enumerate() {
        if c.created_at < window30 || c.created_at >= end {
            continue;
        }
        let a = &child_areas[i];
        sums.count(Indicator::Identity, a, "registrations", i);
        let reviews: Vec<_> = facts
            .reviews
            .iter()
            .filter(|r| r.child == i && r.opened_at < end)
            .collect();
        if !reviews.is_empty() {
            sums.count(Indicator::Identity, a, "iris_matched", i);
        }
        if reviews.iter().any(|r| r.cross_province) {
            sums.count(Indicator::Identity, a, "cross_province", i);
        }
    }

    out.figures = figures(&mut sums, &all_areas);
    out.cohorts = cohorts(facts, end);
    out
}

/// The figures from the sums, ratios and percentiles derived.
fn figures(sums: &mut Sums, all_areas: &HashSet<String>) -> Vec<Figure> {
    use Indicator::*;
    let mut out = Vec::new();
    let mut push = |indicator, area: &str, figure: &str, value: f64, children: Option<i64>| {
        out.push(Figure {
            indicator,
            area: area.to_string(),
            figure: figure.to_string(),
            value,
            children,
        })
    };
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let mut areas: Vec<&String> = all_areas.iter().collect();
    areas.sort();
    for area in areas {
        let area = area.as_str();
        // Counts of children, every figure of every indicator (0 when none:
        // a zero is a figure too, and suppression hides it below 5).
        let counted: [(Indicator, &[&str]); 7] = [
            (Caseload, &["open_cases"]),
            (CentreLoad, &["open_files"]),
            (
                Timeliness,
                &["follow_ups_due", "follow_ups_on_time", "overdue_follow_ups"],
            ),
            (Referrals, &["sent", "accepted", "rejected", "completed"]),
            (
                Verification,
                &["iris_verified", "location_verified", "unverified"],
            ),
            (
                Reentry,
                &[
                    "closed",
                    "reentered_6m",
                    "reentered_6m_iris",
                    "reentered_12m",
                    "reentered_12m_iris",
                ],
            ),
            (
                Identity,
                &["registrations", "iris_matched", "cross_province"],
            ),
        ];
        for (indicator, names) in counted {
            for name in names {
                let (v, c) = sums.get(indicator, area, name);
                push(indicator, area, name, v, Some(c));
            }
        }
        let services = std::iter::once("encounters".to_string()).chain(
            [
                Service::Food,
                Service::Clothing,
                Service::MedicalReferral,
                Service::SchoolReferral,
                Service::Counselling,
                Service::LegalAid,
                Service::Other,
            ]
            .iter()
            .map(enum_str),
        );
        for name in services {
            let (v, c) = sums.get(Services, area, &name);
            push(Services, area, &name, v, Some(c));
        }
        // Staff and centres.
        let workers = sums.staff_of(Caseload, area, "workers");
        let assigned = sums.staff_of(Caseload, area, "assigned_open");
        for name in [
            "workers",
            "supervisors",
            "bucket_0_9",
            "bucket_10_19",
            "bucket_20_29",
            "bucket_30_plus",
        ] {
            push(
                Caseload,
                area,
                name,
                sums.staff_of(Caseload, area, name),
                None,
            );
        }
        push(
            Caseload,
            area,
            "open_cases_per_worker",
            ratio(assigned, workers),
            Some(assigned as i64),
        );
        push(
            Caseload,
            area,
            "supervisors_per_worker",
            ratio(sums.staff_of(Caseload, area, "supervisors"), workers),
            None,
        );
        let capacity = sums.staff_of(CentreLoad, area, "capacity");
        push(
            CentreLoad,
            area,
            "centres",
            sums.staff_of(CentreLoad, area, "centres"),
            None,
        );
        push(CentreLoad, area, "capacity", capacity, None);
        let (open_files, files_children) = sums.get(CentreLoad, area, "open_files");
        push(
            CentreLoad,
            area,
            "load_share",
            ratio(open_files, capacity),
            Some(files_children),
        );
        // Shares.
        let (due, due_c) = sums.get(Timeliness, area, "follow_ups_due");
        let (on_time, _) = sums.get(Timeliness, area, "follow_ups_on_time");
        push(
            Timeliness,
            area,
            "on_time_share",
            ratio(on_time, due),
            Some(due_c),
        );
        let (iris, _) = sums.get(Verification, area, "iris_verified");
        let (location, _) = sums.get(Verification, area, "location_verified");
        let (unverified, _) = sums.get(Verification, area, "unverified");
        let (_, visited) = sums.get(Services, area, "encounters");
        push(
            Verification,
            area,
            "verified_share",
            ratio(iris + location, iris + location + unverified),
            Some(visited),
        );
        let (closed, closed_c) = sums.get(Reentry, area, "closed");
        for (rate, of) in [("rate_6m", "reentered_6m"), ("rate_12m", "reentered_12m")] {
            push(
                Reentry,
                area,
                rate,
                ratio(sums.get(Reentry, area, of).0, closed),
                Some(closed_c),
            );
        }
        let (registrations, reg_c) = sums.get(Identity, area, "registrations");
        let (matched, _) = sums.get(Identity, area, "iris_matched");
        push(
            Identity,
            area,
            "matched_share",
            ratio(matched, registrations),
            Some(reg_c),
        );
        // Medians and 90th percentiles.
        for (indicator, sample, names) in [
            (
                Timeliness,
                "contact_to_registration",
                &[
                    "contact_to_registration_median_days",
                    "contact_to_registration_p90_days",
                ][..],
            ),
            (
                Timeliness,
                "registration_to_follow_up",
                &[
                    "registration_to_follow_up_median_days",
                    "registration_to_follow_up_p90_days",
                ][..],
            ),
            (
                Referrals,
                "days_to_acceptance",
                &["median_days_to_acceptance"][..],
            ),
        ] {
            let values = sums
                .samples
                .entry((indicator, area.to_string(), sample.to_string()))
                .or_default();
            let n = values.len() as i64;
            for (name, p) in names.iter().zip([0.5, 0.9]) {
                let v = percentile(values, p).unwrap_or(0.0);
                push(indicator, area, name, v, Some(n));
            }
        }
    }
    out
}

/// Outcomes of each registration cohort 3, 6 and 12 months on, where that
/// moment is before `end`.
fn cohorts(facts: &Facts, end: i64) -> Vec<CohortCell> {
    // (cohort, province, sex, age band, nationality, months, outcome) → children.
    type Cell = (String, String, String, String, String, i64, String);
    let mut cells: BTreeMap<Cell, i64> = BTreeMap::new();
    for c in &facts.children {
        if c.merged || c.created_at >= end {
            continue;
        }
        let cohort = Quarter::of_ms(c.created_at).to_string();
        let band = age_band(c.birth_year, c.created_at);
        for months in [3, 6, 12] {
            let at = c.created_at + months * MONTH_MS;
            if at > end {
                break;
            }
            let key = |outcome: &str| {
                (
                    cohort.clone(),
                    c.province.clone(),
                    c.sex.clone(),
                    band.to_string(),
                    c.nationality.clone(),
                    months,
                    outcome.to_string(),
                )
            };
            if let Some((status, school)) = c.state_at(at) {
                *cells.entry(key(&enum_str(&status))).or_default() += 1;
                if school {
                    *cells.entry(key("in_school")).or_default() += 1;
                }
            }
        }
    }
    cells
        .into_iter()
        .map(
            |((cohort, province, sex, age_band, nationality, months, outcome), children)| {
                CohortCell {
                    cohort,
                    province,
                    sex,
                    age_band,
                    nationality,
                    months,
                    outcome,
                    children,
                }
            },
        )
        .collect()
}

/// Child `i`'s latest encounter before `end`, when the follow-up date it
/// set has come by `day` (the child open then): an overdue follow-up, as
/// the timeliness indicator and each worker's figure count it.
fn overdue_follow_up(facts: &Facts, i: usize, end: i64, day: Date) -> Option<&EncounterFact> {
    facts
        .encounters_of(i)
        .iter()
        .rev()
        .find(|e| e.at < end)
        .filter(|latest| latest.next_follow_up.is_some_and(|due| due <= day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indicator_has_a_name_and_a_formula() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::parse(i.name()), Some(*i));
            assert!(i.formula().len() > 40, "{i:?}");
        }
        assert_eq!(Indicator::parse("happiness"), None);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 0.5), Some(3.0));
        assert_eq!(percentile(&mut v, 0.9), Some(5.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
