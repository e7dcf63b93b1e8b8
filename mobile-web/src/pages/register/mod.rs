//! «Register a child» in three steps — where (GPS), the essentials a worker
//! can take in the street, then the eyes and a photo — queued in the outbox
//! (works the same offline). Once queued, «complete the record» opens the
//! whole-record editor on the new record (optional; its `PATCH` is sent
//! after the registration, see `outbox::enqueue_json`).
//!
//! The body is a `kudakyar-api` [`NewChild`] with a client id, so a retried
//! send never makes a second record. With iris images the outbox sends it to
//! `POST /api/v1/registrations` (deduplication before create), otherwise to
//! `POST /api/v1/children`; the photo follows as its own upload, and the
//! position as the first encounter.
//!
//! Online with iris images, the captures are identified first (see
//! [`candidates`]): an unusable capture is refused with the engine's reasons
//! (retake), and similar children are shown before anything is saved — «same
//! child» adds an encounter and the captures to that record, «a different
//! child» registers with `decision=new_child`. Offline the registration is
//! queued as `unreviewed`: the server resolves it on arrival (identity
//! pending review when it matches someone).
//!
//! Validation mirrors the server's (names ≤ 100 characters, estimated age
//! 0–25), checked as the worker leaves the essentials, so a queued record
//! is not refused hours later.

use kudakyar_api::children::{Birth, BirthPrecision, ChildFacts, NewChild, Sex};
use kudakyar_api::iris::IrisMatches;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;

use super::location::{LocationField, seen_here};
use super::shared::{IrisInputs, file, retake_reasons};
use super::{ErrorBox, deferred};
use crate::i18n::{ErrorText, digits, provinces, t};
use crate::outbox::{self, Position};
use crate::session::{Auth, use_session};

pub mod candidates;

const MAX_NAME: usize = 100;
const MAX_AGE: u8 = 25;

/// A registration ready to queue, kept while the worker compares candidates.
#[derive(Clone)]
pub struct Pending {
    pub label: String,
    pub child_id: String,
    /// The `NewChild` JSON (also what «complete the record» starts from).
    pub json: String,
    pub photo: Option<web_sys::File>,
    pub left: Option<web_sys::File>,
    pub right: Option<web_sys::File>,
    pub position: Option<Position>,
}

impl Pending {
    /// Queues the registration (and its first encounter, where it was seen).
    pub async fn queue(&self, decision: &str) -> Result<(), ()> {
        outbox::enqueue_registration(
            &self.label,
            &self.json,
            self.photo.clone(),
            self.left.clone(),
            self.right.clone(),
            decision,
        )
        .await
        .map_err(|_| ())?;
        self.queue_encounter(&self.child_id).await
    }

    /// «Same child»: the encounter, the captures and the photo go to the
    /// existing record `child_id`; no new record is made.
    pub async fn queue_for(&self, child_id: &str) -> Result<(), ()> {
        outbox::enqueue_iris(&self.label, child_id, self.left.clone(), self.right.clone())
            .await
            .map_err(|_| ())?;
        if let Some(photo) = self.photo.clone() {
            outbox::enqueue_photo(&self.label, child_id, photo)
                .await
                .map_err(|_| ())?;
        }
        self.queue_encounter(child_id).await
    }

    async fn queue_encounter(&self, child_id: &str) -> Result<(), ()> {
        let Some(pos) = self.position else {
            return Ok(());
        };
        let json = serde_json::to_string(&seen_here(pos)).map_err(|_| ())?;
        let label = t().encounter_label.replace("{}", &self.label);
        let path = format!("/api/v1/children/{child_id}/encounters");
        outbox::enqueue_json(&label, "POST", &path, &json, Some(child_id))
            .await
            .map_err(|_| ())
    }
}

/// The form's steps, in order; `Form` shows the one in `stage`.
const WHERE: u8 = 1;
const ESSENTIALS: u8 = 2;
const EYES: u8 = 3;

/// Where the form stands.
#[derive(Clone)]
enum Step {
    Form,
    /// Online: asking the server whether the eyes are known.
    Checking,
    /// Similar children found: the worker decides.
    Candidates(IrisMatches),
}

#[component]
pub fn RegisterForm() -> impl IntoView {
    let s = t();
    let session = use_session();
    let (user_province, user_county) = match session.auth.get_untracked() {
        Auth::LoggedIn { user, .. } => (user.province, user.county),
        _ => (None, None),
    };
    let given = RwSignal::new(String::new());
    let family = RwSignal::new(String::new());
    let sex = RwSignal::new("unknown".to_owned());
    let nationality = RwSignal::new("unknown".to_owned());
    let province = RwSignal::new(user_province.unwrap_or_else(|| "IR-23".to_owned()));
    let age = RwSignal::new(String::new());
    let position = RwSignal::new(None::<Position>);
    let photo = NodeRef::<Input>::new();
    let left = NodeRef::<Input>::new();
    let right = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<ErrorText>);
    let done = RwSignal::new(None::<String>);
    let step = RwSignal::new(Step::Form);
    let stage = RwSignal::new(WHERE);
    // The record just queued (its id, its `NewChild` JSON), which the worker
    // may go on to complete. Signal types the shell already has: a new one
    // costs the app shell its generic code.
    let completable_id = RwSignal::new(None::<String>);
    let completable_json = RwSignal::new(None::<String>);
    let completing = RwSignal::new(false);
    // Files are not `Send`: the pending registration lives on this thread.
    let pending = RwSignal::new_local(None::<Pending>);

    // Clears the form once the registration is safely on the phone; a new
    // record (not «same child») may then be completed.
    let finish = move |result: Result<bool, ()>, text: String| {
        step.set(Step::Form);
        match result {
            Ok(new_record) => {
                let queued = pending.get_untracked().filter(|_| new_record);
                let (id, json) = queued.map(|p| (p.child_id, p.json)).unzip();
                completable_id.set(id);
                completable_json.set(json);
                completing.set(false);
                stage.set(WHERE);
                given.set(String::new());
                family.set(String::new());
                age.set(String::new());
                for input in [photo, left, right] {
                    if let Some(input) = input.get_untracked() {
                        input.set_value("");
                    }
                }
                pending.set(None);
                done.set(Some(text));
            }
            Err(()) => error.set(Some(ErrorText::plain(s.store_failed))),
        }
    };

    let essentials = move || {
        read_facts(
            &given.get_untracked(),
            &family.get_untracked(),
            &sex.get_untracked(),
            &nationality.get_untracked(),
            &age.get_untracked(),
        )
        .inspect_err(|message| error.set(Some(ErrorText::plain(message))))
        .ok()
    };
    // The essentials are checked as the worker leaves them, not at the end.
    let next = move || {
        let at = stage.get_untracked();
        if at == ESSENTIALS && essentials().is_none() {
            return;
        }
        error.set(None);
        stage.set(at + 1);
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !matches!(step.get_untracked(), Step::Form) {
            return;
        }
        // Enter in a field of an earlier step goes on to the next step.
        if stage.get_untracked() < EYES {
            next();
            return;
        }
        done.set(None);
        let Some(facts) = essentials() else {
            stage.set(ESSENTIALS);
            return;
        };
        let label = facts.label.clone();
        let child_id = outbox::new_id();
        let child = NewChild {
            id: Some(child_id.clone()),
            facts: ChildFacts {
                home_province: province.get_untracked(),
                home_county: user_county.clone(),
                ..facts.facts
            },
        };
        let Ok(json) = serde_json::to_string(&child) else {
            return;
        };
        let p = Pending {
            label: label.clone(),
            child_id,
            json,
            photo: file(photo),
            left: file(left),
            right: file(right),
            position: position.get_untracked(),
        };
        error.set(None);
        let online = leptos::prelude::window().navigator().on_line();
        let has_iris = p.left.is_some() || p.right.is_some();
        let token = session.token().unwrap_or_default();
        step.set(Step::Checking);
        leptos::task::spawn_local(async move {
            if has_iris && online {
                match deferred::identify(token, p.left.clone(), p.right.clone()).await {
                    Ok(m) if !m.candidates.is_empty() => {
                        pending.set(Some(p));
                        step.set(Step::Candidates(m));
                        return;
                    }
                    Err(err) => {
                        if let Some(reasons) = retake_reasons(&err) {
                            step.set(Step::Form);
                            error.set(Some(ErrorText::plain(&reasons)));
                            return;
                        }
                    }
                    // No match: nothing to decide now.
                    Ok(_) => {}
                }
                // Without an answer the server decides on arrival.
            }
            pending.set(Some(p.clone()));
            let result = p.queue("unreviewed").await.map(|()| true);
            finish(result, s.queued.replace("{}", &label));
        });
    };

    let sexes = [
        ("male", s.sex_male),
        ("female", s.sex_female),
        ("unknown", s.sex_unknown),
    ];
    let nationalities = [
        ("iranian", s.nat_iranian),
        ("afghan", s.nat_afghan),
        ("pakistani", s.nat_pakistani),
        ("iraqi", s.nat_iraqi),
        ("other", s.nat_other),
        ("stateless", s.nat_stateless),
        ("unknown", s.nat_unknown),
    ];

    // Inside the home page's «register a child» card (its title and lead).
    view! {
        <form on:submit=on_submit novalidate
            class:hidden=move || matches!(step.get(), Step::Candidates(_))>
            <p class="muted" aria-live="polite">
                {move || s.step_of.replace("{}", &digits(stage.get().into()))}
            </p>
            <div class:hidden=move || stage.get() != WHERE>
                <LocationField position/>
            </div>
            <fieldset class:hidden=move || stage.get() != ESSENTIALS>
                <legend>{s.step_essentials}</legend>
                <div class="field">
                    <label for="given-name">{s.given_name}</label>
                    <input id="given-name" type="text" autocomplete="off" bind:value=given/>
                </div>
                <div class="field">
                    <label for="family-name">{s.family_name}</label>
                    <input id="family-name" type="text" autocomplete="off" bind:value=family/>
                </div>
                <div class="field">
                    <label for="sex">{s.sex}</label>
                    <Choice id="sex" value=sex options=sexes.to_vec()/>
                </div>
                <div class="field">
                    <label for="nationality">{s.nationality}</label>
                    <Choice id="nationality" value=nationality options=nationalities.to_vec()/>
                </div>
                <div class="field">
                    <label for="province">{s.province}</label>
                    <select id="province"
                        on:change=move |ev| province.set(event_target_value(&ev))
                        prop:value=move || province.get()>
                        {provinces().map(|(code, name)| {
                            let selected = code == province.get_untracked();
                            view! { <option value=code selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="age">{s.estimated_age}</label>
                    <input id="age" type="text" inputmode="numeric" autocomplete="off"
                        dir="ltr" bind:value=age/>
                </div>
            </fieldset>
            <fieldset class:hidden=move || stage.get() != EYES>
                <legend>{s.step_eyes}</legend>
                <div class="field">
                    <label for="photo">{s.photo} " (" {s.optional} ")"</label>
                    <input id="photo" type="file" accept="image/*" capture="environment" node_ref=photo/>
                </div>
                <IrisInputs prefix="iris" left right/>
            </fieldset>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || done.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
            <button type="button" class="btn secondary" on:click=move |_| completing.set(true)
                class:hidden=move || completable_id.get().is_none() || completing.get()>
                {s.complete_record}
            </button>
            <div class="bar">
                <button type="button" class="btn link" class:hidden=move || stage.get() == WHERE
                    on:click=move |_| {
                        error.set(None);
                        stage.update(|at| *at -= 1);
                    }>{s.step_back}</button>
                <button type="button" class="btn primary" class:hidden=move || stage.get() == EYES
                    on:click=move |_| next()>
                    {s.step_next}
                </button>
                <button type="submit" class="btn primary" class:hidden=move || stage.get() != EYES
                    disabled=move || matches!(step.get(), Step::Checking)>
                    {move || if matches!(step.get(), Step::Checking) { s.identifying } else { s.register_submit }}
                </button>
            </div>
        </form>
        {move || completing.get().then(|| {
            let (id, json) = (completable_id.get()?, completable_json.get()?);
            Some(view! { <deferred::CompleteRecord id json/> })
        })}
        {move || match step.get() {
            Step::Candidates(matches) => view! {
                <deferred::CandidatesScreen matches pending
                    finish=Callback::new(move |(result, message)| finish(result, message))
                    back=Callback::new(move |()| step.set(Step::Form))/>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

/// The facts as typed, checked as the server checks them.
struct ReadFacts {
    facts: ChildFacts,
    /// How the outbox lists the record.
    label: String,
}

fn read_facts(
    given: &str,
    family: &str,
    sex: &str,
    nationality: &str,
    age: &str,
) -> Result<ReadFacts, &'static str> {
    let s = t();
    let (given_name, family_name) = (trimmed(given), trimmed(family));
    if [&given_name, &family_name]
        .into_iter()
        .flatten()
        .any(|n| n.chars().count() > MAX_NAME)
    {
        return Err(s.name_too_long);
    }
    let birth = parse_age(age).map_err(|()| s.bad_age)?.map(|a| Birth {
        precision: BirthPrecision::Estimated,
        date: None,
        year: None,
        estimated_age: Some(a),
    });
    // The selects only offer the vocabulary's own values.
    let (Some(sex), Some(nationality)) = (
        crate::i18n::vocabulary::parse::<Sex>(sex),
        crate::i18n::vocabulary::parse(nationality),
    ) else {
        return Err(s.invalid);
    };
    let label = super::shared::display_name(given_name.as_deref(), family_name.as_deref());
    Ok(ReadFacts {
        facts: ChildFacts {
            given_name,
            family_name,
            father_name: None,
            aliases: Vec::new(),
            sex,
            birth,
            nationality,
            languages: Vec::new(),
            national_code: None,
            foreign_id: None,
            work_types: Vec::new(),
            living_situation: None,
            school_status: None,
            risk_flags: Vec::new(),
            guardian: None,
            consent: None,
            home_province: String::new(),
            home_county: None,
            assigned_worker: None,
        },
        label,
    })
}

/// A `<select>` over a fixed vocabulary (API value, label).
#[component]
fn Choice(
    id: &'static str,
    value: RwSignal<String>,
    options: Vec<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <select id=id
            on:change=move |ev| value.set(event_target_value(&ev))
            prop:value=move || value.get()>
            {options.into_iter().map(|(v, label)| {
                let selected = v == value.get_untracked();
                view! { <option value=v selected=selected>{label}</option> }
            }).collect_view()}
        </select>
    }
}

fn trimmed(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The estimated age in years; Persian and Arabic-Indic digits are accepted
/// (phone keyboards type them). `Ok(None)` when left empty.
fn parse_age(raw: &str) -> Result<Option<u8>, ()> {
    let ascii = super::shared::ascii_digits(raw.trim());
    if ascii.is_empty() {
        return Ok(None);
    }
    match ascii.parse::<u8>() {
        Ok(a) if a <= MAX_AGE => Ok(Some(a)),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages_in_any_digits() {
        assert_eq!(parse_age(""), Ok(None));
        assert_eq!(parse_age(" 12 "), Ok(Some(12)));
        assert_eq!(parse_age("۱۲"), Ok(Some(12)));
        assert_eq!(parse_age("٩"), Ok(Some(9)));
        assert_eq!(parse_age("26"), Err(()));
        assert_eq!(parse_age("x"), Err(()));
    }
}
