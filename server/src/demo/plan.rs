//! The demo data drawn before anything is written: [`plan`] turns a seed
//! into every child, encounter and report, so that the same seed gives the
//! same rows (ids included) whatever the database, and writing is a plain
//! loop over the plan.
//!
//! The shapes of the distribution:
//! - where: a spot from [`super::places`] by its share, then a point around
//!   it (normal, σ ≈ 250 m — one junction and its approaches);
//! - when: a day of the year by the spot's [`Trend`] and the day of the week
//!   (Friday, the weekend, is quieter; Thursday a little), then a local hour
//!   (Iran Standard Time, UTC+03:30) with the evening peak when traffic and
//!   shoppers are out;
//! - who: sexes, ages (5–17, mostly 9–15), nationalities (Iranian and Afghan
//!   children the most, then Pakistani, Iraqi, stateless, unknown), the
//!   city's language, one or two work types — the registry's own
//!   vocabularies.
//!
//! Children belong to a spot; each encounter picks a spot, then one of its
//! children, so busy and growing spots see their children more often.

use kudakyar_api::children::{
    Birth, BirthPrecision, ChildFacts, Language, LivingSituation, Nationality, NewEncounter,
    PositionSource, RiskFlag, SchoolStatus, Service, Sex, Status, WorkType,
};
use kudakyar_api::sightings::{AgeBand, NewSighting, SightingSource};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::places::{City, Spot, Trend};
use crate::indicators::period;

/// Days in the demo year.
pub const DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;
/// Iran Standard Time, UTC+03:30 (no daylight saving since 2022).
const IRAN_OFFSET_MS: i64 = (3 * 60 + 30) * 60_000;
/// The spread of points around a spot, in metres (one standard deviation).
const SPREAD_M: f64 = 250.0;

/// Where a spot is, as the database will place it.
#[derive(Debug, Clone)]
pub struct SpotPlace {
    pub city: &'static City,
    pub spot: &'static Spot,
    /// Share of all activity.
    pub share: f64,
    pub province: String,
    pub county: Option<String>,
}

/// How much to draw, from which seed, up to when.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub children: usize,
    pub encounters: usize,
    pub reports: usize,
    pub seed: u64,
    /// The end of the demo year (ms since the epoch); nothing is later.
    pub until_ms: i64,
}

#[derive(Debug, Clone)]
pub struct PlannedChild {
    pub id: String,
    pub spot: usize,
    pub facts: ChildFacts,
    /// When the child was registered: at their first encounter (or a day of
    /// the year, for a child never met since).
    pub registered_at_ms: i64,
    /// Which of the province's demo workers the case is assigned to (0 or 1).
    pub worker: usize,
    /// The status changes of the case after registration, oldest first.
    pub changes: Vec<(Status, i64)>,
    /// The id of the referral to the city's centre made when the child is
    /// referred (accepted when in service).
    pub referral_id: String,
}

#[derive(Debug, Clone)]
pub struct PlannedEncounter {
    /// Index into [`Plan::children`].
    pub child: usize,
    /// Which of the province's demo workers met the child (0 or 1).
    pub worker: usize,
    pub at_ms: i64,
    pub encounter: NewEncounter,
}

#[derive(Debug, Clone)]
pub struct PlannedReport {
    pub spot: usize,
    pub seen_at_ms: i64,
    pub report: NewSighting,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub children: Vec<PlannedChild>,
    pub encounters: Vec<PlannedEncounter>,
    pub reports: Vec<PlannedReport>,
}

/// Draws everything from `sizes.seed`. Every spot with children gets at
/// least one child when there are enough children to go round.
pub fn plan(sizes: &Sizes, spots: &[SpotPlace]) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(sizes.seed);
    let mut plan = Plan::default();
    if spots.is_empty() {
        return plan;
    }
    let by_share = WeightedIndex::new(spots.iter().map(|s| s.share)).expect("shares are positive");
    let mut children_of: Vec<Vec<usize>> = vec![Vec::new(); spots.len()];
    for n in 0..sizes.children {
        // The first children go one to each spot, the rest by share.
        let spot = if n < spots.len() && sizes.children >= spots.len() {
            n
        } else {
            by_share.sample(&mut rng)
        };
        children_of[spot].push(plan.children.len());
        let facts = child_facts(&mut rng, &spots[spot]);
        plan.children.push(PlannedChild {
            id: uuid_from(&mut rng),
            spot,
            facts,
            registered_at_ms: draw_time(
                &mut rng,
                spots[spot].spot.trend,
                spot as u64,
                sizes.until_ms,
            ),
            worker: rng.gen_range(0..2),
            changes: Vec::new(),
            referral_id: uuid_from(&mut rng),
        });
    }
    let with_children: Vec<usize> = (0..spots.len())
        .filter(|&s| !children_of[s].is_empty())
        .collect();
    if !with_children.is_empty() {
        let by_share_with_children =
            WeightedIndex::new(with_children.iter().map(|&s| spots[s].share))
                .expect("shares are positive");
        for _ in 0..sizes.encounters {
            let spot = with_children[by_share_with_children.sample(&mut rng)];
            let kids = &children_of[spot];
            let child = kids[rng.gen_range(0..kids.len())];
            let at_ms = draw_time(
                &mut rng,
                spots[spot].spot.trend,
                spot as u64,
                sizes.until_ms,
            );
            let (lat, lng) = around(&mut rng, spots[spot].spot);
            let facts = &plan.children[child].facts;
            let activity = facts.work_types.first().copied();
            let services = services(&mut rng);
            // Most visits set the next one, one to three weeks on.
            let next_follow_up = rng.gen_bool(0.7).then(|| {
                let due = at_ms + rng.gen_range(7..22) * DAY_MS;
                period::day_string(period::day_of(due))
            });
            plan.encounters.push(PlannedEncounter {
                child,
                worker: rng.gen_range(0..2),
                at_ms,
                encounter: NewEncounter {
                    id: Some(uuid_from(&mut rng)),
                    at: crate::ms_to_rfc3339(at_ms),
                    lat,
                    lng,
                    // Mostly a good fix; one in five too coarse to verify
                    // the visit.
                    accuracy_m: Some(f64::from(if rng.gen_bool(0.8) {
                        rng.gen_range(5u8..40)
                    } else {
                        rng.gen_range(60u8..200)
                    })),
                    activity,
                    accompanied_by_adult: Some(rng.gen_bool(0.3)),
                    services,
                    notes: None,
                    next_follow_up,
                    position_source: Some(PositionSource::Gps),
                    // Recorded on the phone then, sent later from its outbox.
                    queued_at: Some(crate::ms_to_rfc3339(at_ms)),
                    iris_identification: None,
                },
            });
        }
    }
    histories(&mut rng, &mut plan, sizes.until_ms);
    for _ in 0..sizes.reports {
        let spot = by_share.sample(&mut rng);
        let seen_at_ms = draw_time(
            &mut rng,
            spots[spot].spot.trend,
            spot as u64,
            sizes.until_ms,
        );
        let (lat, lng) = around(&mut rng, spots[spot].spot);
        let source = match rng.gen_range(0..100) {
            0..60 => SightingSource::Citizen,
            60..85 => SightingSource::Hotline,
            _ => SightingSource::Worker,
        };
        let children_count = *pick(&mut rng, &[(1i64, 6.0), (2, 3.0), (3, 1.0)]);
        let mut age_bands: Vec<AgeBand> = (0..children_count)
            .map(|_| {
                *pick(
                    &mut rng,
                    &[
                        (AgeBand::UpTo5, 1.0),
                        (AgeBand::From6To11, 4.0),
                        (AgeBand::From12To14, 4.0),
                        (AgeBand::From15To17, 2.0),
                    ],
                )
            })
            .collect();
        age_bands.sort_by_key(|b| *b as u8);
        age_bands.dedup();
        let sex = Some(*pick(
            &mut rng,
            &[(Sex::Male, 7.0), (Sex::Female, 2.0), (Sex::Unknown, 1.0)],
        ));
        let activity = Some(work_type(&mut rng));
        plan.reports.push(PlannedReport {
            spot,
            seen_at_ms,
            report: NewSighting {
                id: uuid_from(&mut rng),
                source: Some(source),
                seen_at: None,
                lat,
                lng,
                accuracy_m: Some(f64::from(rng.gen_range(5u8..60))),
                children_count: Some(children_count),
                age_bands,
                sex,
                activity,
                description: None,
                reporter_phone: None,
                phone_consent: false,
                device_token: None,
                website: None,
                proof: None,
            },
        });
    }
    plan
}

/// The course of each case, so that the programme's indicators have
/// something to show: registered at the child's first encounter; then
/// still open (two in five), referred to the city's centre and later in
/// service there (one in five), or
/// reunified with the family (one in four) or closed — mostly after the last
/// visit, but one in five between two visits, so that the child is met in
/// the street again afterwards (a re-entry). Changes after `until_ms` are
/// left out.
fn histories(rng: &mut ChaCha8Rng, plan: &mut Plan, until_ms: i64) {
    let mut met: Vec<Vec<i64>> = vec![Vec::new(); plan.children.len()];
    for e in &plan.encounters {
        met[e.child].push(e.at_ms);
    }
    for (child, times) in plan.children.iter_mut().zip(&mut met) {
        times.sort_unstable();
        if let Some(&first) = times.first() {
            child.registered_at_ms = first;
        }
        let registered = child.registered_at_ms;
        let changes = match *pick(rng, &[(0u8, 40.0), (1, 20.0), (2, 25.0), (3, 15.0)]) {
            1 => {
                let referred = later(rng, registered, 3..40);
                vec![
                    (Status::Referred, referred),
                    (Status::InService, later(rng, referred, 5..30)),
                ]
            }
            outcome @ (2 | 3) => {
                let status = if outcome == 2 {
                    Status::Reunified
                } else {
                    Status::Closed
                };
                let between = times.len() >= 2 && rng.gen_bool(0.2);
                let at = if between {
                    let k = rng.gen_range(0..times.len() - 1);
                    times[k] + (times[k + 1] - times[k]) / 2
                } else {
                    later(rng, times.last().copied().unwrap_or(registered), 1..30)
                };
                vec![(status, at.max(registered + DAY_MS))]
            }
            _ => Vec::new(),
        };
        child.changes = changes
            .into_iter()
            .take_while(|(_, at)| *at < until_ms)
            .collect();
    }
}

/// A moment `days` (a range) after `from`.
fn later(rng: &mut ChaCha8Rng, from: i64, days: std::ops::Range<i64>) -> i64 {
    from + rng.gen_range(days) * DAY_MS + rng.gen_range(0..DAY_MS)
}

/// A UUID (version 4 layout) from the seeded generator.
fn uuid_from(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.r#gen())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// One of `choices` by weight.
fn pick<'a, T>(rng: &mut ChaCha8Rng, choices: &'a [(T, f64)]) -> &'a T {
    let index = WeightedIndex::new(choices.iter().map(|c| c.1)).expect("weights are positive");
    &choices[index.sample(rng)].0
}

/// A point around a spot: normal in each direction, σ = [`SPREAD_M`].
fn around(rng: &mut ChaCha8Rng, spot: &Spot) -> (f64, f64) {
    // Box–Muller: two independent standard normals from two uniforms.
    let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.r#gen());
    let r = (-2.0 * u1.ln()).sqrt();
    let (dy, dx) = (
        r * (std::f64::consts::TAU * u2).sin(),
        r * (std::f64::consts::TAU * u2).cos(),
    );
    let metres_per_degree = 111_320.0;
    let lat = spot.lat + dy * SPREAD_M / metres_per_degree;
    let lng = spot.lng + dx * SPREAD_M / (metres_per_degree * spot.lat.to_radians().cos());
    // Six decimals (about 10 cm): what a phone sends.
    let round = |v: f64| (v * 1e6).round() / 1e6;
    (round(lat), round(lng))
}

/// Relative activity by local hour of the day: the evening peak.
const HOURS: [f64; 24] = [
    0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.05, 0.2, 0.5, 0.5, 0.5, 0.6, 0.7, 0.7, 0.8, 0.8, 1.0,
    1.0, 1.4, 1.4, 1.4, 1.3, 0.6, 0.2,
];

/// Relative activity by local day of the week, Saturday first (the Iranian
/// week): Thursday a little quieter, Friday (the weekend) much quieter.
const WEEKDAYS: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.55];

/// A moment of the demo year (ending at `until_ms`) by the spot's trend, the
/// day of the week and the hour.
pub fn draw_time(rng: &mut ChaCha8Rng, trend: Trend, salt: u64, until_ms: i64) -> i64 {
    // Local midnight of the first day of the demo year.
    let last_local_day = (until_ms + IRAN_OFFSET_MS).div_euclid(DAY_MS);
    let first_local_day = last_local_day - (DAYS - 1);
    let hours = WeightedIndex::new(HOURS).expect("hour weights are positive");
    loop {
        let day = rng.gen_range(0..DAYS);
        let local_day = first_local_day + day;
        let t = (day as f64 + 0.5) / DAYS as f64;
        let accept = trend.intensity(t, day / 7, salt) / Trend::MAX * WEEKDAYS[weekday(local_day)];
        if rng.r#gen::<f64>() >= accept {
            continue;
        }
        let within = hours.sample(rng) as i64 * 3_600_000 + rng.gen_range(0..3_600_000);
        let at = local_day * DAY_MS - IRAN_OFFSET_MS + within;
        if at <= until_ms {
            // Whole seconds, as a phone's clock reports them.
            return at - at.rem_euclid(1000);
        }
    }
}

/// The day of the week of a day counted from 1970-01-01 (a Thursday),
/// Saturday = 0 … Friday = 6.
pub fn weekday(days_since_epoch: i64) -> usize {
    // 1970-01-01 was a Thursday: index 5 in a week that starts on Saturday.
    (days_since_epoch + 5).rem_euclid(7) as usize
}

fn work_type(rng: &mut ChaCha8Rng) -> WorkType {
    *pick(
        rng,
        &[
            (WorkType::StreetVending, 5.0),
            (WorkType::Begging, 3.0),
            (WorkType::WastePicking, 3.0),
            (WorkType::CarWindowWashing, 2.0),
            (WorkType::SellingFlowersOrPoems, 2.0),
            (WorkType::Porter, 1.0),
            (WorkType::StreetMusic, 0.5),
            (WorkType::ShoeShining, 0.5),
            (WorkType::Other, 0.5),
        ],
    )
}

fn services(rng: &mut ChaCha8Rng) -> Vec<Service> {
    let all = [
        (Service::Food, 0.5),
        (Service::Clothing, 0.2),
        (Service::Counselling, 0.3),
        (Service::MedicalReferral, 0.08),
        (Service::SchoolReferral, 0.1),
        (Service::LegalAid, 0.03),
    ];
    all.iter()
        .filter(|(_, p)| rng.gen_bool(*p))
        .map(|(s, _)| *s)
        .collect()
}

const BOYS: &[&str] = &[
    "علی",
    "محمد",
    "حسین",
    "رضا",
    "مهدی",
    "امیر",
    "عباس",
    "حسن",
    "جواد",
    "یاسین",
    "مرتضی",
    "احمد",
    "نوید",
    "سجاد",
    "ابوالفضل",
    "محمدرضا",
    "عرفان",
    "امید",
];
const GIRLS: &[&str] = &[
    "فاطمه",
    "زهرا",
    "مریم",
    "زینب",
    "سارا",
    "نرگس",
    "معصومه",
    "لیلا",
    "کوثر",
    "ستاره",
    "حدیث",
    "مهسا",
];
const FAMILIES: &[&str] = &[
    "رضایی",
    "محمدی",
    "حسینی",
    "احمدی",
    "کریمی",
    "رحیمی",
    "جعفری",
    "نوری",
    "قاسمی",
    "هاشمی",
    "حیدری",
    "صادقی",
    "عزیزی",
    "یوسفی",
    "اکبری",
    "سلطانی",
];

fn child_facts(rng: &mut ChaCha8Rng, place: &SpotPlace) -> ChildFacts {
    let sex = *pick(
        rng,
        &[(Sex::Male, 75.0), (Sex::Female, 22.0), (Sex::Unknown, 3.0)],
    );
    let nationality = *pick(
        rng,
        &[
            (Nationality::Iranian, 45.0),
            (Nationality::Afghan, 38.0),
            (Nationality::Pakistani, 3.0),
            (Nationality::Iraqi, 2.0),
            (Nationality::Stateless, 4.0),
            (Nationality::Other, 2.0),
            (Nationality::Unknown, 6.0),
        ],
    );
    let mut languages = vec![match nationality {
        Nationality::Afghan => Language::Dari,
        Nationality::Pakistani => Language::Other,
        _ => Language::Persian,
    }];
    if nationality == Nationality::Afghan && rng.gen_bool(0.2) {
        languages.push(Language::Pashto);
    }
    if let Some(local) = place.city.local_language
        && nationality == Nationality::Iranian
        && rng.gen_bool(0.6)
    {
        languages.push(local);
    }
    let age = *pick(
        rng,
        &[
            (5u8, 1.0),
            (6, 1.5),
            (7, 2.0),
            (8, 3.0),
            (9, 4.0),
            (10, 5.0),
            (11, 5.0),
            (12, 5.0),
            (13, 5.0),
            (14, 4.5),
            (15, 3.5),
            (16, 2.5),
            (17, 1.5),
        ],
    );
    let first = work_type(rng);
    let mut work_types = vec![first];
    if rng.gen_bool(0.25) {
        let second = work_type(rng);
        if second != first {
            work_types.push(second);
        }
    }
    // Children often give no name, or only a first name.
    let given_name = rng.gen_bool(0.8).then(|| {
        let names = if sex == Sex::Female { GIRLS } else { BOYS };
        names[rng.gen_range(0..names.len())].to_string()
    });
    let family_name = rng
        .gen_bool(0.5)
        .then(|| FAMILIES[rng.gen_range(0..FAMILIES.len())].to_string());
    let mut risk_flags = Vec::new();
    for (flag, p) in [
        (RiskFlag::NeedsMedicalCare, 0.06),
        (RiskFlag::SignsOfAbuse, 0.03),
        (RiskFlag::SubstanceExposure, 0.02),
        (RiskFlag::Disability, 0.01),
    ] {
        if rng.gen_bool(p) {
            risk_flags.push(flag);
        }
    }
    ChildFacts {
        given_name,
        family_name,
        father_name: None,
        aliases: Vec::new(),
        sex,
        birth: Some(Birth {
            precision: BirthPrecision::Estimated,
            date: None,
            year: None,
            estimated_age: Some(age),
        }),
        nationality,
        languages,
        national_code: None,
        foreign_id: None,
        work_types,
        living_situation: Some(*pick(
            rng,
            &[
                (LivingSituation::WithParents, 60.0),
                (LivingSituation::WithRelatives, 15.0),
                (LivingSituation::WithEmployer, 5.0),
                (LivingSituation::Alone, 3.0),
                (LivingSituation::Street, 2.0),
                (LivingSituation::Unknown, 15.0),
            ],
        )),
        school_status: Some(*pick(
            rng,
            &[
                (SchoolStatus::Enrolled, 35.0),
                (SchoolStatus::Dropped, 35.0),
                (SchoolStatus::NeverEnrolled, 20.0),
                (SchoolStatus::Unknown, 10.0),
            ],
        )),
        risk_flags,
        guardian: None,
        consent: None,
        home_province: place.province.clone(),
        home_county: place.county.clone(),
        assigned_worker: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::places;

    fn spots() -> Vec<SpotPlace> {
        places::spots()
            .into_iter()
            .map(|(city, spot, share)| SpotPlace {
                city,
                spot,
                share,
                province: city.province.to_string(),
                county: None,
            })
            .collect()
    }

    /// 2026-12-06T00:00:00Z.
    const UNTIL: i64 = 1_796_515_200_000;

    fn sizes(seed: u64) -> Sizes {
        Sizes {
            children: 300,
            encounters: 4000,
            reports: 500,
            seed,
            until_ms: UNTIL,
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_plan_and_another_seed_another() {
        let a = plan(&sizes(7), &spots());
        let b = plan(&sizes(7), &spots());
        let c = plan(&sizes(8), &spots());
        let ids = |p: &Plan| p.children.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&c));
        let times = |p: &Plan| p.encounters.iter().map(|e| e.at_ms).collect::<Vec<_>>();
        assert_eq!(times(&a), times(&b));
        assert_eq!(a.reports.len(), 500);
    }

    #[test]
    fn times_fall_in_the_year_with_evenings_busier_and_fridays_quieter() {
        let p = plan(&sizes(1), &spots());
        let (mut evening, mut morning) = (0, 0);
        let mut by_weekday = [0usize; 7];
        for e in &p.encounters {
            assert!(e.at_ms <= UNTIL && e.at_ms > UNTIL - (DAYS + 1) * DAY_MS);
            let local = e.at_ms + IRAN_OFFSET_MS;
            let hour = local.rem_euclid(DAY_MS) / 3_600_000;
            match hour {
                18..=20 => evening += 1,
                8..=10 => morning += 1,
                _ => {}
            }
            by_weekday[weekday(local.div_euclid(DAY_MS))] += 1;
        }
        assert!(
            evening > 2 * morning,
            "evening {evening}, morning {morning}"
        );
        assert!(by_weekday[6] * 3 < by_weekday[0] * 2, "{by_weekday:?}");
    }

    #[test]
    fn growing_spots_grow_and_declining_ones_decline() {
        let spots = spots();
        let p = plan(&sizes(3), &spots);
        let half = UNTIL - DAYS * DAY_MS / 2;
        let halves = |trend: Trend| {
            p.encounters
                .iter()
                .filter(|e| spots[p.children[e.child].spot].spot.trend == trend)
                .fold((0, 0), |(a, b), e| {
                    if e.at_ms < half {
                        (a + 1, b)
                    } else {
                        (a, b + 1)
                    }
                })
        };
        let (early, late) = halves(Trend::Growing);
        assert!(late > 2 * early, "growing: {early} then {late}");
        let (early, late) = halves(Trend::Declining);
        assert!(early > 2 * late, "declining: {early} then {late}");
    }

    #[test]
    fn a_mix_of_the_vocabularies() {
        let p = plan(&sizes(5), &spots());
        let count = |n: Nationality| {
            p.children
                .iter()
                .filter(|c| c.facts.nationality == n)
                .count()
        };
        assert!(count(Nationality::Iranian) > 60 && count(Nationality::Afghan) > 60);
        assert!(p.children.iter().any(|c| c.facts.sex == Sex::Female));
        assert!(
            p.children
                .iter()
                .any(|c| c.facts.work_types.contains(&WorkType::WastePicking))
        );
        // Every spot has a child when there are enough to go round.
        let mut spots_used: Vec<usize> = p.children.iter().map(|c| c.spot).collect();
        spots_used.sort();
        spots_used.dedup();
        assert_eq!(spots_used.len(), spots().len());
    }
}
