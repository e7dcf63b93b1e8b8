//! «Record a 123 call» (ثبت تماس ۱۲۳, `/call`, a 123 operator's first
//! section): what a
//! caller reports of a child working in the street — where (coordinates or
//! a map link the caller shared), how long ago, how many children, ages,
//! sex, work, a description, and the caller's phone only when they agree to
//! be called back — sent as `POST /api/v1/sightings` (source `hotline`, by
//! the operator's login) through the outbox: it works offline, is sent
//! once (the report's id), and lands in the county's triage queue like a
//! citizen's report.
//!
//! The place is typed or pasted: «35.7009, 51.3912», `geo:35.7009,51.3912`,
//! or a map link with both numbers in it ([`read_position`]); the server
//! places it in its province and county and refuses a point outside Iran.

use kudakyar_api::children::{Sex, WorkType};
use kudakyar_api::sightings::{AgeBand, NewSighting, SightingSource};
use leptos::ev::SubmitEvent;
use leptos::html::H1;
use leptos::prelude::*;
use wasm_bindgen_futures::js_sys::Date;

use super::focus_on_mount;
use super::shared::ascii_digits;
use crate::i18n::{L, digits, l, t, vocabulary};
use crate::outbox;

const MAX_DESCRIPTION: usize = 1000;
const AGE_BANDS: [(AgeBand, &str); 4] = [
    (AgeBand::UpTo5, "0-5"),
    (AgeBand::From6To11, "6-11"),
    (AgeBand::From12To14, "12-14"),
    (AgeBand::From15To17, "15-17"),
];
/// How long ago the caller saw the child(ren), in minutes.
const AGO: [i64; 6] = [0, 15, 30, 60, 120, 240];

#[component]
pub fn HotlineForm() -> impl IntoView {
    let s = t();
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let place = RwSignal::new(String::new());
    let ago = RwSignal::new("0".to_owned());
    let count = RwSignal::new("1".to_owned());
    let bands = RwSignal::new(Vec::<AgeBand>::new());
    let sex = RwSignal::new(String::new());
    let activity = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let consent = RwSignal::new(false);
    let problem = RwSignal::new(None::<&'static str>);
    let message = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let Some((lat, lng)) = read_position(&place.get_untracked()) else {
            problem.set(Some(l(L::CallBadPlace)));
            return;
        };
        let children = ascii_digits(count.get_untracked().trim()).parse::<i64>();
        let Some(children) = children.ok().filter(|n| (1..=50).contains(n)) else {
            problem.set(Some(l(L::CallBadCount)));
            return;
        };
        let text = description.get_untracked().trim().to_owned();
        if text.chars().count() > MAX_DESCRIPTION {
            problem.set(Some(l(L::CallLongText)));
            return;
        }
        let number = ascii_digits(phone.get_untracked().trim());
        if !number.is_empty() && !consent.get_untracked() {
            problem.set(Some(l(L::CallNeedsConsent)));
            return;
        }
        problem.set(None);
        let minutes = ago.get_untracked().parse::<i64>().unwrap_or(0);
        // Set as a number on a fresh date: code behind a split point cannot
        // make a `JsValue` from a Rust number (see `dates::instant`).
        let seen = Date::new_0();
        seen.set_time(Date::now() - (minutes * 60_000) as f64);
        let report = NewSighting {
            id: outbox::new_id(),
            source: Some(SightingSource::Hotline),
            seen_at: Some(String::from(seen.to_iso_string())),
            lat,
            lng,
            accuracy_m: None,
            children_count: Some(children),
            age_bands: bands.get_untracked(),
            sex: vocabulary::parse::<Sex>(&sex.get_untracked()),
            activity: vocabulary::parse::<WorkType>(&activity.get_untracked()),
            description: Some(text).filter(|d| !d.is_empty()),
            reporter_phone: Some(number.clone()).filter(|n| !n.is_empty()),
            phone_consent: !number.is_empty() && consent.get_untracked(),
            device_token: None,
            website: None,
            proof: None,
        };
        let Ok(json) = serde_json::to_string(&report) else {
            return;
        };
        let label = l(L::CallLabel).replace("{}", &digits(children as u32));
        leptos::task::spawn_local(async move {
            match outbox::enqueue_json(&label, "POST", "/api/v1/sightings", &json, None).await {
                Ok(()) => {
                    message.set(Some(l(L::CallQueued).to_owned()));
                    for field in [place, description, phone] {
                        field.set(String::new());
                    }
                    count.set("1".to_owned());
                    bands.set(Vec::new());
                    consent.set(false);
                }
                Err(_) => problem.set(Some(t().store_failed)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="call-title">
            <h1 id="call-title" tabindex="-1" node_ref=heading>{l(L::CallTitle)}</h1>
            <p class="muted">{l(L::CallIntro)}</p>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="call-place">{l(L::CallPlace)}</label>
                    <input id="call-place" type="text" dir="ltr" autocomplete="off" inputmode="url"
                        placeholder="35.7009, 51.3912" bind:value=place/>
                    <p class="muted">{l(L::CallPlaceHint)}</p>
                </div>
                <div class="field">
                    <label for="call-ago">{l(L::CallWhen)}</label>
                    <select id="call-ago" bind:value=ago>
                        {AGO.iter().map(|m| view! {
                            <option value=m.to_string()>{if *m == 0 {
                                l(L::CallNow).to_owned()
                            } else {
                                l(L::CallMinutesAgo).replace("{}", &digits(*m as u32))
                            }}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="call-count">{l(L::Children)}</label>
                    <input id="call-count" type="text" inputmode="numeric" dir="ltr" autocomplete="off"
                        bind:value=count/>
                </div>
                <fieldset class="checks">
                    <legend>{l(L::AgeBands)}</legend>
                    {AGE_BANDS.iter().map(|(band, text)| {
                        let band = *band;
                        view! {
                            <label class="check">
                                <input type="checkbox"
                                    prop:checked=move || bands.with(|b| b.contains(&band))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        bands.update(|b| {
                                            b.retain(|x| *x != band);
                                            if on { b.push(band) }
                                        });
                                    }/>
                                <bdi dir="ltr">{*text}</bdi>
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="field">
                    <label for="call-sex">{s.sex}</label>
                    <select id="call-sex" bind:value=sex>
                        <option value="">{l(L::NotRecorded)}</option>
                        <option value="male">{s.sex_male}</option>
                        <option value="female">{s.sex_female}</option>
                    </select>
                </div>
                <div class="field">
                    <label for="call-activity">{l(L::Activity)}</label>
                    <select id="call-activity" bind:value=activity>
                        <option value="">{l(L::NotRecorded)}</option>
                        {vocabulary::WORK_TYPES.iter().map(|v| view! {
                            <option value=vocabulary::word(v)>{vocabulary::work_type(*v)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="call-description">{l(L::Description)}</label>
                    <textarea id="call-description" dir="auto" maxlength="1000" bind:value=description></textarea>
                </div>
                <div class="field">
                    <label for="call-phone">{l(L::CallPhone)}</label>
                    <input id="call-phone" type="tel" dir="ltr" autocomplete="off" bind:value=phone/>
                </div>
                <label class="check">
                    <input id="call-consent" type="checkbox" bind:checked=consent/>
                    {l(L::CallConsent)}
                </label>
                {move || problem.get().map(|p| view! { <p class="alert" role="alert">{p}</p> })}
                {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
                <button type="submit" class="btn primary">{l(L::CallSubmit)}</button>
            </form>
        </section>
    }
}

/// The position in what was typed or pasted: the first two numbers that
/// read as a latitude and longitude in or around Iran (either order, as
/// map links differ), Persian digits and the Persian decimal point
/// accepted.
pub fn read_position(text: &str) -> Option<(f64, f64)> {
    let ascii = ascii_digits(text).replace('٫', ".");
    let mut numbers = Vec::new();
    let mut current = String::new();
    for c in ascii.chars().chain([' ']) {
        if c.is_ascii_digit() || c == '.' || (c == '-' && current.is_empty()) {
            current.push(c);
        } else if !current.is_empty() {
            if let Ok(n) = current.parse::<f64>() {
                numbers.push(n);
            }
            current.clear();
        }
    }
    let lat_ok = |v: f64| (20.0..=45.0).contains(&v);
    let lng_ok = |v: f64| (40.0..=70.0).contains(&v);
    numbers
        .windows(2)
        .find_map(|pair| match (pair[0], pair[1]) {
            (a, b) if lat_ok(a) && lng_ok(b) && (a.fract() != 0.0 || b.fract() != 0.0) => {
                Some((a, b))
            }
            (a, b) if lng_ok(a) && lat_ok(b) && a > 45.0 => Some((b, a)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::read_position;

    #[test]
    fn positions_from_what_callers_share() {
        let junction = Some((35.7009, 51.3912));
        assert_eq!(read_position("35.7009, 51.3912"), junction);
        assert_eq!(read_position("geo:35.7009,51.3912?z=17"), junction);
        assert_eq!(read_position("۳۵٫۷۰۰۹، ۵۱٫۳۹۱۲"), junction);
        assert_eq!(
            read_position(
                "https://www.openstreetmap.org/?mlat=35.7009&mlon=51.3912#map=17/35.7009/51.3912"
            ),
            junction
        );
        // Longitude first, as some links write it.
        assert_eq!(read_position("51.3912,35.7009"), junction);
        assert_eq!(read_position("somewhere near the bazaar"), None);
        assert_eq!(read_position("12.5, 100.2"), None);
    }
}
