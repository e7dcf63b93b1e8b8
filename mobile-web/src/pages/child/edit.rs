//! «Edit the record»: every fact the API keeps about a child — names and
//! aliases, birth with its precision, languages, national code or foreign
//! id, work, living situation, schooling, risks, guardian, consent and the
//! child's assent, home province — in one form, opened from the profile.
//!
//! The form starts from the record as the page loaded it (from the server,
//! or the phone's working set offline) and sends only what the worker
//! changed: a `PATCH` with that copy's `base_version`, queued in the outbox
//! like every write (works offline; a field someone else changed meanwhile
//! comes back as a conflict to settle, as for a status change).
//!
//! Before anything is queued the facts are checked by the server's own
//! rules (`kudakyar_api::rules`), each broken rule named with its field in
//! the worker's language, so an edit made in the street is not refused
//! hours later.

use kudakyar_api::children::{
    Birth, BirthPrecision, ChildFacts, ChildUpdate, Consent, Guardian, Language, LivingSituation,
    RiskFlag, SchoolStatus, WorkType,
};
use kudakyar_api::rules::{self, Broken, Rule};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use wasm_bindgen_futures::js_sys::Date;

use super::super::shared::{ascii_digits, display_name, queue_write};
use crate::dates::{self, JalaliDate, jalali};
use crate::i18n::later::{L, l};
use crate::i18n::{digits, provinces, t, vocabulary};

/// The languages, living situations, schooling and risks a worker picks
/// from, with their labels.
const LANGUAGES: [(Language, L); 8] = [
    (Language::Persian, L::LangPersian),
    (Language::Dari, L::LangDari),
    (Language::Pashto, L::LangPashto),
    (Language::Azerbaijani, L::LangAzerbaijani),
    (Language::Kurdish, L::LangKurdish),
    (Language::Balochi, L::LangBalochi),
    (Language::Arabic, L::LangArabic),
    (Language::Other, L::LangOther),
];
const LIVING: [(LivingSituation, L); 7] = [
    (LivingSituation::WithParents, L::LivingWithParents),
    (LivingSituation::WithRelatives, L::LivingWithRelatives),
    (LivingSituation::WithEmployer, L::LivingWithEmployer),
    (LivingSituation::Alone, L::LivingAlone),
    (LivingSituation::Street, L::LivingStreet),
    (LivingSituation::Shelter, L::LivingShelter),
    (LivingSituation::Unknown, L::LivingUnknown),
];
const SCHOOLING: [(SchoolStatus, L); 4] = [
    (SchoolStatus::Enrolled, L::SchoolEnrolled),
    (SchoolStatus::Dropped, L::SchoolDropped),
    (SchoolStatus::NeverEnrolled, L::SchoolNever),
    (SchoolStatus::Unknown, L::SchoolUnknown),
];
const RISKS: [(RiskFlag, L); 4] = [
    (RiskFlag::NeedsMedicalCare, L::RiskMedical),
    (RiskFlag::Disability, L::RiskDisability),
    (RiskFlag::SignsOfAbuse, L::RiskAbuse),
    (RiskFlag::SubstanceExposure, L::RiskSubstance),
];

/// The label of a language (for the profile's facts too).
pub fn language(v: Language) -> &'static str {
    label_of(&LANGUAGES, v)
}
pub fn living(v: LivingSituation) -> &'static str {
    label_of(&LIVING, v)
}
pub fn schooling(v: SchoolStatus) -> &'static str {
    label_of(&SCHOOLING, v)
}
pub fn risk(v: RiskFlag) -> &'static str {
    label_of(&RISKS, v)
}

fn label_of<T: PartialEq>(table: &[(T, L)], v: T) -> &'static str {
    table
        .iter()
        .find(|(value, _)| *value == v)
        .map_or("", |(_, key)| l(*key))
}

/// The form's fields as typed. Text stays text until it is read
/// ([`Draft::facts`]), so a half-typed value is never lost.
#[derive(Clone, Copy)]
struct Draft {
    given: RwSignal<String>,
    family: RwSignal<String>,
    father: RwSignal<String>,
    /// One per line.
    aliases: RwSignal<String>,
    sex: RwSignal<String>,
    nationality: RwSignal<String>,
    /// `""` (not recorded) or a `BirthPrecision` word.
    precision: RwSignal<String>,
    /// Gregorian `YYYY-MM-DD`, from the Jalali picker.
    birth_date: RwSignal<Option<String>>,
    /// A Jalali year.
    birth_year: RwSignal<String>,
    age: RwSignal<String>,
    languages: RwSignal<Vec<Language>>,
    national_code: RwSignal<String>,
    foreign_id: RwSignal<String>,
    work_types: RwSignal<Vec<WorkType>>,
    /// `""` or a word.
    living: RwSignal<String>,
    school: RwSignal<String>,
    risks: RwSignal<Vec<RiskFlag>>,
    guardian_name: RwSignal<String>,
    guardian_relation: RwSignal<String>,
    guardian_phone: RwSignal<String>,
    consent: RwSignal<bool>,
    consent_by: RwSignal<String>,
    consent_date: RwSignal<Option<String>>,
    assent: RwSignal<bool>,
    province: RwSignal<String>,
}

impl Draft {
    fn new(f: &ChildFacts) -> Draft {
        let text = |v: &Option<String>| RwSignal::new(v.clone().unwrap_or_default());
        let word = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
        let birth = f.birth.as_ref();
        let guardian = f.guardian.as_ref();
        let consent = f.consent.as_ref();
        Draft {
            given: text(&f.given_name),
            family: text(&f.family_name),
            father: text(&f.father_name),
            aliases: RwSignal::new(f.aliases.join("\n")),
            sex: RwSignal::new(vocabulary::word(f.sex)),
            nationality: RwSignal::new(vocabulary::word(f.nationality)),
            precision: word(birth.map(|b| vocabulary::word(b.precision))),
            birth_date: RwSignal::new(birth.and_then(|b| b.date.clone())),
            birth_year: word(
                birth
                    .and_then(|b| b.year)
                    .and_then(|y| jalali::to_jalali((i64::from(y), 7, 1)))
                    .map(|(jy, _, _)| jy.to_string()),
            ),
            age: word(birth.and_then(|b| b.estimated_age).map(|a| a.to_string())),
            languages: RwSignal::new(f.languages.clone()),
            national_code: text(&f.national_code),
            foreign_id: text(&f.foreign_id),
            work_types: RwSignal::new(f.work_types.clone()),
            living: word(f.living_situation.map(vocabulary::word)),
            school: word(f.school_status.map(vocabulary::word)),
            risks: RwSignal::new(f.risk_flags.clone()),
            guardian_name: text(&guardian.and_then(|g| g.name.clone())),
            guardian_relation: text(&guardian.and_then(|g| g.relation.clone())),
            guardian_phone: text(&guardian.and_then(|g| g.phone.clone())),
            consent: RwSignal::new(consent.is_some()),
            consent_by: word(consent.map(|c| c.given_by.clone())),
            consent_date: RwSignal::new(
                consent.and_then(|c| c.given_at.get(..10).map(str::to_owned)),
            ),
            assent: RwSignal::new(consent.is_some_and(|c| c.child_assent)),
            province: RwSignal::new(f.home_province.clone()),
        }
    }

    /// The facts the form holds, on top of `base` (what it does not show:
    /// the county, the assigned worker). A number that is not one is kept
    /// as an impossible value, so that the rules name its field.
    fn facts(&self, base: &ChildFacts) -> ChildFacts {
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty())
        };
        let birth =
            vocabulary::parse::<BirthPrecision>(&self.precision.get_untracked()).map(|precision| {
                Birth {
                    precision,
                    date: (precision == BirthPrecision::Exact)
                        .then(|| self.birth_date.get_untracked())
                        .flatten(),
                    year: (precision == BirthPrecision::Year)
                        .then(|| text(self.birth_year))
                        .flatten()
                        .map(|jy| jy.parse::<i32>().map_or(i32::MIN, |jy| jy + 621)),
                    estimated_age: (precision == BirthPrecision::Estimated)
                        .then(|| text(self.age))
                        .flatten()
                        .map(|a| ascii_digits(&a).parse::<u8>().unwrap_or(u8::MAX)),
                }
            });
        let guardian = Guardian {
            name: text(self.guardian_name),
            relation: text(self.guardian_relation),
            phone: text(self.guardian_phone).map(|p| ascii_digits(&p).replace([' ', '-'], "")),
        };
        let consent = self.consent.get_untracked().then(|| Consent {
            given_by: self.consent_by.get_untracked().trim().to_owned(),
            given_at: consent_time(
                base.consent.as_ref().map(|c| c.given_at.as_str()),
                self.consent_date.get_untracked(),
            ),
            child_assent: self.assent.get_untracked(),
        });
        ChildFacts {
            given_name: text(self.given),
            family_name: text(self.family),
            father_name: text(self.father),
            aliases: self
                .aliases
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
            sex: word(self.sex).unwrap_or(base.sex),
            birth,
            nationality: word(self.nationality).unwrap_or(base.nationality),
            languages: self.languages.get_untracked(),
            national_code: text(self.national_code).map(|c| ascii_digits(&c)),
            foreign_id: text(self.foreign_id),
            work_types: self.work_types.get_untracked(),
            living_situation: word(self.living),
            school_status: word(self.school),
            risk_flags: self.risks.get_untracked(),
            guardian: (guardian.name.is_some()
                || guardian.relation.is_some()
                || guardian.phone.is_some())
            .then_some(guardian),
            consent,
            home_province: self.province.get_untracked(),
            home_county: base.home_county.clone(),
            assigned_worker: base.assigned_worker.clone(),
        }
    }
}

/// The vocabulary value a select holds, if any.
fn word<T: serde::de::DeserializeOwned>(select: RwSignal<String>) -> Option<T> {
    vocabulary::parse(&select.get_untracked())
}

/// When consent was given: the stored time while its day is unchanged, now
/// for today, else noon (Tehran) of the day picked.
fn consent_time(stored: Option<&str>, day: Option<String>) -> String {
    let now = Date::new_0();
    let today = dates::format_ymd(dates::today());
    match day {
        Some(day) if stored.is_some_and(|s| s.starts_with(&day)) => {
            stored.unwrap_or_default().to_owned()
        }
        Some(day) if day != today => format!("{day}T12:00:00+03:30"),
        _ => String::from(now.to_iso_string()),
    }
}

/// What changed, field by field, as a `ChildUpdate`'s `changes`.
fn changes(base: &ChildFacts, edited: &ChildFacts) -> serde_json::Map<String, serde_json::Value> {
    let as_map = |f: &ChildFacts| match serde_json::to_value(f) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let before = as_map(base);
    as_map(edited)
        .into_iter()
        .filter(|(field, value)| before.get(field) != Some(value))
        .collect()
}

/// A broken rule as the worker reads it: the field's label, then the rule.
fn explain(broken: &Broken) -> String {
    let s = t();
    let field = broken.field.as_str();
    let label = match field.split(['.', '[']).next().unwrap_or_default() {
        "given_name" => s.given_name,
        "family_name" => s.family_name,
        "father_name" => l(L::FatherName),
        "aliases" => l(L::Aliases),
        "birth" => match field {
            "birth.year" => l(L::BirthYearLabel),
            "birth.estimated_age" => l(L::EstimatedAge),
            _ => l(L::BirthDate),
        },
        "national_code" => l(L::NationalCode),
        "foreign_id" => l(L::ForeignId),
        "guardian" => match field {
            "guardian.phone" => l(L::GuardianPhone),
            "guardian.relation" => l(L::GuardianRelation),
            _ => l(L::GuardianName),
        },
        "consent" => match field {
            "consent.given_at" => l(L::ConsentDate),
            _ => l(L::ConsentBy),
        },
        "home_province" => s.province,
        _ => field,
    };
    let rule = match broken.rule {
        Rule::Blank => l(L::RuleBlank).to_owned(),
        Rule::TooLong(max) => l(L::RuleTooLong).replace("{}", &digits(max as u32)),
        Rule::ControlCharacters => l(L::RuleControl).to_owned(),
        Rule::TooManyAliases => l(L::RuleTooMany).to_owned(),
        Rule::NotADate | Rule::NotATime => l(L::RuleDate).to_owned(),
        Rule::DateInFuture | Rule::TimeInFuture => l(L::RuleFuture).to_owned(),
        Rule::DateTooEarly | Rule::YearOutOfRange => l(L::RuleTooEarly).to_owned(),
        Rule::Required(_) => l(L::RuleRequired).to_owned(),
        Rule::AgeOutOfRange => l(L::RuleAge).to_owned(),
        Rule::NationalCode => l(L::RuleNationalCode).to_owned(),
        Rule::ForeignId => l(L::RuleForeignId).to_owned(),
        Rule::Phone => l(L::RulePhone).to_owned(),
        Rule::ProvinceCode | Rule::CountyCode => l(L::RuleCode).to_owned(),
    };
    format!("{label}: {rule}")
}

/// The rules `facts` breaks today.
fn check(facts: &ChildFacts) -> Vec<Broken> {
    let (y, m, d) = dates::today();
    let today = rules::Today {
        date: (y as i32, m as u8, d as u8),
        now_ms: Date::now() as i64,
    };
    rules::child_facts(facts, today, |at| {
        let ms = Date::parse(at);
        (!ms.is_nan()).then_some(ms as i64)
    })
}

/// The form for record `id` as known at `version` (`facts`), folded until
/// the worker opens it (or `opened` already).
#[component]
pub fn EditRecord(
    id: String,
    version: i64,
    facts: ChildFacts,
    #[prop(optional)] opened: bool,
) -> impl IntoView {
    let s = t();
    let open = RwSignal::new(opened);
    let draft = Draft::new(&facts);
    let problems = RwSignal::new(Vec::<String>::new());
    let message = RwSignal::new(None::<&'static str>);
    let base = facts;
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let edited = draft.facts(&base);
        let broken = check(&edited);
        problems.set(broken.iter().map(explain).collect());
        if !broken.is_empty() {
            return;
        }
        let changes = changes(&base, &edited);
        if changes.is_empty() {
            message.set(Some(l(L::EditNothing)));
            return;
        }
        let update = ChildUpdate {
            base_version: version,
            changes,
            reason: None,
        };
        let id = id.clone();
        let label = format!(
            "{}: {}",
            l(L::EditTitle),
            display_name(edited.given_name.as_deref(), edited.family_name.as_deref())
        );
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/children/{id}");
            queue_write(
                &update,
                &label,
                ("PATCH", &path),
                &id,
                l(L::EditQueued),
                message,
            )
            .await;
        });
    };
    let (jy, ..) = jalali::to_jalali(dates::today()).unwrap_or((1405, 1, 1));
    let sexes = vec![
        ("male", s.sex_male),
        ("female", s.sex_female),
        ("unknown", s.sex_unknown),
    ];
    let nationalities = vocabulary::NATIONALITIES
        .iter()
        .map(|v| (vocabulary::word(*v), vocabulary::nationality(*v).to_owned()))
        .collect::<Vec<_>>();
    view! {
        <section class="card" aria-labelledby="edit-title">
            <h2 id="edit-title">{l(L::EditTitle)}</h2>
            <button type="button" class="btn secondary" aria-expanded=move || open.get().to_string()
                aria-controls="edit-form" on:click=move |_| open.update(|o| *o = !*o)>
                {l(L::EditOpen)}
            </button>
            <form id="edit-form" on:submit=save novalidate class:hidden=move || !open.get()>
                <p class="muted">{l(L::EditIntro)}</p>
                {text_field("edit-given", s.given_name, draft.given)}
                {text_field("edit-family", s.family_name, draft.family)}
                {text_field("edit-father", l(L::FatherName), draft.father)}
                <div class="field">
                    <label for="edit-aliases">{l(L::Aliases)}</label>
                    <textarea id="edit-aliases" dir="auto" rows="2"
                        prop:value=move || draft.aliases.get()
                        on:input=move |ev| draft.aliases.set(event_target_value(&ev))></textarea>
                </div>
                {select_field("edit-sex", s.sex, draft.sex, None,
                    sexes.into_iter().map(|(v, label)| (v.to_owned(), label.to_owned())).collect())}
                {select_field("edit-nationality", s.nationality, draft.nationality, None, nationalities)}
                {select_field("edit-birth", l(L::BirthKnown), draft.precision, Some(l(L::NotRecorded)), vec![
                    ("exact".to_owned(), l(L::BirthExact).to_owned()),
                    ("year".to_owned(), l(L::BirthYear).to_owned()),
                    ("estimated".to_owned(), l(L::BirthEstimated).to_owned()),
                ])}
                {move || match draft.precision.get().as_str() {
                    "exact" => view! {
                        <JalaliDate id="edit-birth-date" legend=l(L::BirthDate)
                            value=draft.birth_date from_year=jy - 25 to_year=jy/>
                    }.into_any(),
                    "year" => select_field("edit-birth-year", l(L::BirthYearLabel), draft.birth_year,
                        Some(l(L::NotRecorded)),
                        (jy - 25..=jy).rev().map(|y| (y.to_string(), digits(y as u32))).collect()),
                    "estimated" => view! {
                        <div class="field">
                            <label for="edit-age">{l(L::EstimatedAge)}</label>
                            <input id="edit-age" type="text" inputmode="numeric" dir="ltr" autocomplete="off"
                                bind:value=draft.age/>
                        </div>
                    }.into_any(),
                    _ => ().into_any(),
                }}
                {checks("edit-languages", l(L::Languages), draft.languages,
                    LANGUAGES.iter().map(|(v, key)| (*v, l(*key))).collect())}
                {text_field("edit-national-code", l(L::NationalCode), draft.national_code)}
                {text_field("edit-foreign-id", l(L::ForeignId), draft.foreign_id)}
                {checks("edit-work", l(L::WorkTypes), draft.work_types,
                    vocabulary::WORK_TYPES.iter().map(|v| (*v, vocabulary::work_type(*v))).collect())}
                {select_field("edit-living", l(L::Living), draft.living, Some(l(L::NotRecorded)),
                    LIVING.iter().map(|(v, key)| (vocabulary::word(v), l(*key).to_owned())).collect())}
                {select_field("edit-school", l(L::School), draft.school, Some(l(L::NotRecorded)),
                    SCHOOLING.iter().map(|(v, key)| (vocabulary::word(v), l(*key).to_owned())).collect())}
                {checks("edit-risks", l(L::Risks), draft.risks,
                    RISKS.iter().map(|(v, key)| (*v, l(*key))).collect())}
                <fieldset>
                    <legend>{l(L::Guardian)}</legend>
                    {text_field("edit-guardian-name", l(L::GuardianName), draft.guardian_name)}
                    {text_field("edit-guardian-relation", l(L::GuardianRelation), draft.guardian_relation)}
                    <div class="field">
                        <label for="edit-guardian-phone">{l(L::GuardianPhone)}</label>
                        <input id="edit-guardian-phone" type="tel" dir="ltr" autocomplete="off"
                            bind:value=draft.guardian_phone/>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{l(L::Consent)}</legend>
                    <label class="check">
                        <input id="edit-consent" type="checkbox" bind:checked=draft.consent/>
                        {l(L::ConsentGiven)}
                    </label>
                    {move || draft.consent.get().then(|| view! {
                        {text_field("edit-consent-by", l(L::ConsentBy), draft.consent_by)}
                        <JalaliDate id="edit-consent-date" legend=l(L::ConsentDate)
                            value=draft.consent_date from_year=jy - 25 to_year=jy/>
                        <label class="check">
                            <input id="edit-assent" type="checkbox" bind:checked=draft.assent/>
                            {l(L::ChildAssent)}
                        </label>
                    })}
                </fieldset>
                {select_field("edit-province", s.province, draft.province, None,
                    provinces().map(|(code, name)| (code.to_owned(), name.to_owned())).collect())}
                {move || {
                    let list = problems.get();
                    (!list.is_empty()).then(|| view! {
                        <div class="alert" role="alert">
                            <p>{l(L::EditFix)}</p>
                            <ul>{list.into_iter().map(|p| view! { <li dir="auto">{p}</li> }).collect_view()}</ul>
                        </div>
                    })
                }}
                {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
                <button type="submit" class="btn primary">{l(L::EditSave)}</button>
            </form>
        </section>
    }
}

/// A labelled text input.
fn text_field(id: &'static str, label: &'static str, value: RwSignal<String>) -> AnyView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="text" dir="auto" autocomplete="off" bind:value=value/>
        </div>
    }
    .into_any()
}

/// A labelled select over `(word, label)` options, with an empty first
/// option when `none` names it.
fn select_field(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    none: Option<&'static str>,
    options: Vec<(String, String)>,
) -> AnyView {
    let current = value.get_untracked();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))
                prop:value=move || value.get()>
                {none.map(|text| view! { <option value="" selected=current.is_empty()>{text}</option> })}
                {options.into_iter().map(|(word, text)| {
                    let selected = word == current;
                    view! { <option value=word selected=selected>{text}</option> }
                }).collect_view()}
            </select>
        </div>
    }
    .into_any()
}

/// Checkboxes in a fieldset, one per value; `value` holds those checked.
fn checks<T>(
    id: &'static str,
    legend: &'static str,
    value: RwSignal<Vec<T>>,
    options: Vec<(T, &'static str)>,
) -> AnyView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <fieldset class="checks" id=id>
            <legend>{legend}</legend>
            {options.into_iter().map(|(v, text)| view! {
                <label class="check">
                    <input type="checkbox"
                        prop:checked=move || value.with(|list| list.contains(&v))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            value.update(|list| {
                                list.retain(|x| *x != v);
                                if on { list.push(v) }
                            });
                        }/>
                    {text}
                </label>
            }).collect_view()}
        </fieldset>
    }
    .into_any()
}
