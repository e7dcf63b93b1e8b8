//! «Register a child»: the facts a worker can take in the street, a photo and
//! the two iris images, queued in the outbox (works the same offline).
//!
//! The body is a `kudakyar-api` [`NewChild`] with a client id, so a retried
//! send never makes a second record. With iris images the outbox sends it to
//! `POST /api/v1/registrations` (deduplication before create; the answer's
//! candidates and identity are shown in the outbox list), otherwise to
//! `POST /api/v1/children`; the photo follows as its own upload.
//!
//! Validation mirrors the server's (names ≤ 100 characters, estimated age
//! 0–25) so a queued record is not refused hours later.

use kudakyar_api::children::{Birth, BirthPrecision, ChildFacts, NewChild, Sex};
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;

use super::ErrorBox;
use crate::i18n::{ErrorText, provinces, t};
use crate::outbox;
use crate::session::{Auth, use_session};

const MAX_NAME: usize = 100;
const MAX_AGE: u8 = 25;

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
    let photo = NodeRef::<Input>::new();
    let left = NodeRef::<Input>::new();
    let right = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        done.set(None);
        let given_name = trimmed(&given.get_untracked());
        let family_name = trimmed(&family.get_untracked());
        if [&given_name, &family_name]
            .into_iter()
            .flatten()
            .any(|n| n.chars().count() > MAX_NAME)
        {
            error.set(Some(s.name_too_long.to_owned()));
            return;
        }
        let birth = match parse_age(&age.get_untracked()) {
            Ok(age) => age.map(|a| Birth {
                precision: BirthPrecision::Estimated,
                date: None,
                year: None,
                estimated_age: Some(a),
            }),
            Err(()) => {
                error.set(Some(s.bad_age.to_owned()));
                return;
            }
        };
        // The select only offers the vocabulary's own values.
        let word = |v: String| serde_json::Value::String(v);
        let (Ok(sex), Ok(nationality)) = (
            serde_json::from_value::<Sex>(word(sex.get_untracked())),
            serde_json::from_value(word(nationality.get_untracked())),
        ) else {
            return;
        };
        let label = match (&given_name, &family_name) {
            (None, None) => s.unnamed.to_owned(),
            (g, f) => [g.as_deref(), f.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        };
        let child = NewChild {
            id: Some(outbox::new_id()),
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
                home_province: province.get_untracked(),
                home_county: user_county.clone(),
                assigned_worker: None,
            },
        };
        let Ok(json) = serde_json::to_string(&child) else {
            return;
        };
        let (photo_file, left_file, right_file) = (file(photo), file(left), file(right));
        error.set(None);
        saving.set(true);
        leptos::task::spawn_local(async move {
            let stored = outbox::enqueue_registration(
                &label,
                &json,
                photo_file,
                left_file,
                right_file,
                "unreviewed",
            )
            .await;
            saving.set(false);
            match stored {
                Ok(()) => {
                    given.set(String::new());
                    family.set(String::new());
                    age.set(String::new());
                    for input in [photo, left, right] {
                        if let Some(input) = input.get_untracked() {
                            input.set_value("");
                        }
                    }
                    done.set(Some(s.queued.replace("{}", &label)));
                }
                Err(_) => error.set(Some(s.store_failed.to_owned())),
            }
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

    view! {
        <section class="card" aria-labelledby="register-title">
            <h2 id="register-title">{s.register_title}</h2>
            <p class="lead">{s.register_lead}</p>
            <form on:submit=on_submit novalidate>
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
                <div class="field">
                    <label for="photo">{s.photo} " (" {s.optional} ")"</label>
                    <input id="photo" type="file" accept="image/*" capture="environment" node_ref=photo/>
                </div>
                <div class="field">
                    <label for="iris-left">{s.iris_left} " (" {s.optional} ")"</label>
                    <input id="iris-left" type="file" accept="image/*" node_ref=left/>
                </div>
                <div class="field">
                    <label for="iris-right">{s.iris_right} " (" {s.optional} ")"</label>
                    <input id="iris-right" type="file" accept="image/*" node_ref=right/>
                </div>
                {move || error.get().map(|message| view! {
                    <ErrorBox text=ErrorText { message, detail: None, request_id: None }/>
                })}
                {move || done.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
                <button type="submit" class="btn primary" disabled=move || saving.get()>
                    {move || if saving.get() { s.saving } else { s.register_submit }}
                </button>
            </form>
        </section>
    }
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
    let ascii: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
            '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
            c => c,
        })
        .collect();
    if ascii.is_empty() {
        return Ok(None);
    }
    match ascii.parse::<u8>() {
        Ok(a) if a <= MAX_AGE => Ok(Some(a)),
        _ => Err(()),
    }
}

/// The file chosen in a file input, if any.
fn file(input: NodeRef<Input>) -> Option<web_sys::File> {
    input.get_untracked()?.files()?.get(0)
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
