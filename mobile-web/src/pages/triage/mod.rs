//! The supervisors' triage queue (`/triage`): citizen, 123 and field
//! reports of the user's area, newest first, filtered by state and source;
//! each opens its report ([`report`]) to assign or close it.
//!
//! The server scopes the list (a county supervisor sees their county) and
//! decides who may act; 123 operators see the same list without the
//! supervisor's buttons. There is no map yet (the atlas screen brings the
//! map library): each report names its province, county and position, with
//! a `geo:` link that opens the phone's map app. Loaded on demand
//! (`pages::deferred`), with its texts ([`crate::i18n::later`]).

pub mod report;

use kudakyar_api::sightings::{Sighting, SightingSource, SightingState};
use kudakyar_api::users::Role;
use leptos::ev::SubmitEvent;
use leptos::html::H1;
use leptos::prelude::*;
use wasm_bindgen_futures::js_sys::Date;

use super::{ErrorBox, focus_on_mount};
use crate::dates;
use crate::i18n::{ErrorText, L, Lang, digits, error_text, l, lang, province_name, vocabulary};
use crate::route::{Link, Route};
use crate::session::{Auth, use_session};
use crate::{api, atlas};

/// May this role assign and close reports (`auth::policy::triage_sightings`)
/// and decide duplicate reviews?
pub fn decides(role: Role) -> bool {
    matches!(
        role,
        Role::Supervisor | Role::ProvincialStaff | Role::NationalAdmin
    )
}

pub const STATES: [SightingState; 6] = [
    SightingState::New,
    SightingState::Assigned,
    SightingState::Visited,
    SightingState::Linked,
    SightingState::Duplicate,
    SightingState::FalseReport,
];

pub const SOURCES: [SightingSource; 3] = [
    SightingSource::Citizen,
    SightingSource::Hotline,
    SightingSource::Worker,
];

pub fn state_label(v: SightingState) -> &'static str {
    l(match v {
        SightingState::New => L::StateNew,
        SightingState::Assigned => L::StateAssigned,
        SightingState::Visited => L::StateVisited,
        SightingState::Linked => L::StateLinked,
        SightingState::Duplicate => L::StateDuplicate,
        SightingState::FalseReport => L::StateFalseReport,
    })
}

pub fn source_label(v: SightingSource) -> &'static str {
    l(match v {
        SightingSource::Citizen => L::SourceCitizen,
        SightingSource::Hotline => L::SourceHotline,
        SightingSource::Worker => L::SourceWorker,
    })
}

/// «Tehran, Shemiranat»: the province by name, the county by its imported
/// name in the UI's language (its code before counties are imported).
pub fn place(report: &Sighting) -> String {
    let province = report
        .province
        .as_deref()
        .map(|p| province_name(p).unwrap_or(p).to_owned());
    let (county_name, comma) = match lang() {
        Lang::En => (report.county_name_en.as_ref(), ", "),
        Lang::Fa => (None, "، "),
    };
    let county = county_name
        .or(report.county_name_fa.as_ref())
        .or(report.county.as_ref())
        .cloned();
    [province, county]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(comma)
}

/// The choropleth asked for only for its outlines: its figures go unused,
/// so one day of reports (from yesterday on the phone's calendar, in case
/// the phone's day runs ahead of the server's), not the default year of
/// distinct children, which is the atlas's costliest read.
fn outlines_path() -> String {
    // `set_time`, not `Date::new(&JsValue)`: no value conversion in a chunk
    // (see xtask/src/web/split.rs).
    let day = Date::new_0();
    day.set_time(Date::now() - 86_400_000.0);
    let from = dates::format_ymd((
        day.get_full_year().into(),
        i64::from(day.get_month()) + 1,
        day.get_date().into(),
    ));
    format!("/atlas/choropleth?level=county&measure=reports&from={from}")
}

/// The query string of the list for the chosen filters ("" = any).
pub fn list_query(state: &str, source: &str) -> String {
    let mut q = String::from("limit=50");
    for (key, value) in [("state", state), ("source", source)] {
        if !value.is_empty() {
            q.push_str(&format!("&{key}={value}"));
        }
    }
    q
}

#[component]
pub fn TriagePage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let reviewer =
        matches!(session.auth.get_untracked(), Auth::LoggedIn { user, .. } if decides(user.role));
    let state = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Vec<Sighting>>);
    // The cursor of the next page, when there is one.
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ErrorText>);
    let busy = RwSignal::new(false);
    // A page of the list: the first (`more` false) replaces it, the next adds to it.
    let load = move |more: bool| {
        busy.set(true);
        error.set(None);
        let token = session.token().unwrap_or_default();
        let mut query = list_query(&state.get_untracked(), &source.get_untracked());
        if let Some(cursor) = next.get_untracked().filter(|_| more) {
            query.push_str(&format!("&cursor={}", crate::workset::encode(&cursor)));
        }
        leptos::task::spawn_local(async move {
            let result = api::sightings(&token, &query).await;
            busy.set(false);
            match result {
                Ok(page) => {
                    next.set(page.next_cursor);
                    if more {
                        found.update(|list| list.get_or_insert_with(Vec::new).extend(page.items));
                    } else {
                        found.set(Some(page.items));
                    }
                }
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    };
    load(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        load(false);
    };
    // The map, opened once, on the outlines of the user's counties (the
    // atlas's; a 123 operator, who has no atlas, gets none); then it shows
    // what the list shows.
    let map_ready = RwSignal::new(false);
    let token = session.token().unwrap_or_default();
    let reads_atlas = matches!(session.auth.get_untracked(),
        Auth::LoggedIn { user, .. } if user.role != Role::HotlineOperator);
    leptos::task::spawn_local(async move {
        if atlas::open("triage-map", l(L::TriageMap)).await.is_ok() {
            map_ready.set(true);
            if !reads_atlas {
                return;
            }
            if let Ok(outlines) = api::get_text(&token, &outlines_path()).await {
                let _ = atlas::call("outlines", &outlines).await;
            }
        }
    });
    Effect::new(move |_| {
        if !map_ready.get() {
            return;
        }
        let Some(json) = found.with(|list| list.as_deref().map(points)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let _ = atlas::call("reports", &json).await;
        });
    });
    on_cleanup(|| {
        leptos::task::spawn_local(async {
            let _ = atlas::call("close", "{}").await;
        });
    });
    let options = |values: Vec<(String, &'static str)>| {
        std::iter::once((String::new(), l(L::FilterAll)))
            .chain(values)
            .map(|(value, label)| view! { <option value=value>{label}</option> })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby="triage-title">
            <h1 id="triage-title" tabindex="-1" node_ref=heading>{l(L::TriageTitle)}</h1>
            <p class="muted">{l(L::TriageIntro)}</p>
            {reviewer.then(|| view! { <p><Link to=Route::Reviews>{l(L::ReviewsTitle)}</Link></p> })}
            <form class="filters" on:submit=on_submit>
                <div class="field">
                    <label for="triage-state">{l(L::FilterState)}</label>
                    <select id="triage-state" bind:value=state>
                        {options(STATES.iter().map(|v| (vocabulary::word(v), state_label(*v))).collect())}
                    </select>
                </div>
                <div class="field">
                    <label for="triage-source">{l(L::FilterSource)}</label>
                    <select id="triage-source" bind:value=source>
                        {options(SOURCES.iter().map(|v| (vocabulary::word(v), source_label(*v))).collect())}
                    </select>
                </div>
                <button type="submit" class="btn primary" disabled=move || busy.get()>{l(L::Apply)}</button>
            </form>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
        </section>
        <section class="card" aria-labelledby="triage-map-title">
            <h2 id="triage-map-title">{l(L::TriageMap)}</h2>
            <div id="triage-map" class="atlas-map" dir="ltr" tabindex="0" role="region"></div>
        </section>
        {move || found.get().map(|reports| view! {
            <section class="card" role="status">
                {reports.is_empty().then(|| view! { <p>{l(L::NoReports)}</p> })}
                <ul class="reports">
                    {reports.into_iter().map(|r| view! { <ReportRow report=r/> }).collect_view()}
                </ul>
                {move || next.get().is_some().then(|| view! {
                    <button type="button" class="btn secondary" disabled=move || busy.get()
                        on:click=move |_| load(true)>{l(L::More)}</button>
                })}
            </section>
        })}
    }
}

/// The reports as the map's points: id, state and a label each.
fn points(reports: &[Sighting]) -> String {
    let features: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "type": "Feature",
                "geometry": { "type": "Point", "coordinates": [r.lng, r.lat] },
                "properties": {
                    "id": r.id,
                    "state": vocabulary::word(r.state),
                    "label": format!("{} · {} · {}", source_label(r.source), state_label(r.state), dates::instant(&r.seen_at)),
                },
            })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

/// A report in the list: source and state, when, where, how many children.
#[component]
fn ReportRow(report: Sighting) -> impl IntoView {
    let state = vocabulary::word(report.state);
    view! {
        <li class="report-row" data-id=report.id.clone() data-state=state>
            <Link to=Route::Report(report.id.clone())>
                {source_label(report.source)} " · " {state_label(report.state)}
            </Link>
            <span>{dates::instant(&report.seen_at)}</span>
            <span class="muted">{place(&report)} " · " {l(L::Children)} ": "
                {digits(u32::try_from(report.children_count).unwrap_or(0))}</span>
            {report.flag.is_some().then(|| view! { <span class="flag">{l(L::Flagged)}</span> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::list_query;

    #[test]
    fn filters_make_the_query() {
        assert_eq!(list_query("", ""), "limit=50");
        assert_eq!(
            list_query("new", "citizen"),
            "limit=50&state=new&source=citizen"
        );
    }
}
