//! «Find a child»: by name, alias or registry code, and by iris.
//!
//! Names and codes go to the server when it answers (the whole scope, fuzzy
//! Persian matching); offline, the working set on the phone is searched
//! with the same folding of Persian and Arabic letters. Iris identification
//! needs the server (the gallery is there); an unusable capture comes back
//! with the engine's reasons and a retake prompt.

use kudakyar_api::children::Child;
use kudakyar_api::iris::IrisMatches;
use leptos::ev::SubmitEvent;
use leptos::html::{H1, Input};
use leptos::prelude::*;

use super::shared::{CandidateCard, ChildRow, IrisInputs, file, retake_reasons};
use super::{ErrorBox, focus_on_mount};
use crate::api::{self, ApiError};
use crate::i18n::{ErrorText, digits, error_text, t};
use crate::session::use_session;
use crate::workset;

/// What a name search found, and whether it came from the phone's copy.
#[derive(Clone)]
struct Found {
    children: Vec<Child>,
    offline: bool,
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let s = t();
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    view! {
        <section class="card" aria-labelledby="search-title">
            <h1 id="search-title" tabindex="-1" node_ref=heading>{s.search_title}</h1>
            <p class="muted">{s.working_set.replace("{}", &digits(workset::count() as u32))}</p>
            <NameSearch/>
        </section>
        <IrisSearch/>
    }
}

#[component]
fn NameSearch() -> impl IntoView {
    let s = t();
    let session = use_session();
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Found>);
    let error = RwSignal::new(None::<ErrorText>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked().trim().to_owned();
        if q.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let token = session.token().unwrap_or_default();
        leptos::task::spawn_local(async move {
            let field = if looks_like_code(&q) { "code" } else { "q" };
            let query = format!("limit=50&{field}={}", workset::encode(&q));
            let result = match api::children(&token, &query).await {
                Ok(page) => Ok(Found {
                    children: page.items,
                    offline: false,
                }),
                Err(ApiError::Network) => Ok(Found {
                    children: workset::search(&q),
                    offline: true,
                }),
                Err(err) => Err(err),
            };
            busy.set(false);
            match result {
                Ok(f) => found.set(Some(f)),
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    };
    view! {
        <form role="search" on:submit=on_submit>
            <div class="field">
                <label for="search-q">{s.search_query}</label>
                <input id="search-q" type="search" autocomplete="off" bind:value=query/>
            </div>
            <button type="submit" class="btn primary" disabled=move || busy.get()>{s.search_submit}</button>
        </form>
        {move || error.get().map(|text| view! { <ErrorBox text/> })}
        {move || found.get().map(|f| view! {
            <div class="results" role="status">
                {f.offline.then(|| view! { <p class="notice">{s.offline_copy}</p> })}
                {f.children.is_empty().then(|| view! { <p>{s.search_none}</p> })}
                <ul class="children">
                    {f.children.into_iter().map(|child| view! { <ChildRow child/> }).collect_view()}
                </ul>
            </div>
        })}
    }
}

/// `23-1405-000123-7`: province, year, sequence, check digit.
fn looks_like_code(q: &str) -> bool {
    let parts: Vec<&str> = q.split('-').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[component]
fn IrisSearch() -> impl IntoView {
    let s = t();
    let session = use_session();
    let (left, right) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let matches = RwSignal::new(None::<IrisMatches>);
    let error = RwSignal::new(None::<ErrorText>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (l, r) = (file(left), file(right));
        if l.is_none() && r.is_none() {
            error.set(Some(ErrorText::plain(s.iris_pick_one)));
            return;
        }
        busy.set(true);
        error.set(None);
        matches.set(None);
        let token = session.token().unwrap_or_default();
        leptos::task::spawn_local(async move {
            let result = api::identify(&token, l.as_ref(), r.as_ref()).await;
            busy.set(false);
            match result {
                Ok(m) => matches.set(Some(m)),
                Err(ApiError::Network) => error.set(Some(ErrorText::plain(s.iris_needs_network))),
                Err(err) => error.set(Some(
                    retake_reasons(&err)
                        .map_or_else(|| error_text(&err, false), |r| ErrorText::plain(&r)),
                )),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="iris-search-title">
            <h2 id="iris-search-title">{s.search_iris_title}</h2>
            <form on:submit=on_submit novalidate>
                <IrisInputs prefix="identify" left right/>
                <button type="submit" class="btn primary" disabled=move || busy.get()>
                    {move || if busy.get() { s.identifying } else { s.identify }}
                </button>
            </form>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || matches.get().map(|m| view! {
                <div class="results" role="status">
                    {m.match_elsewhere.then(|| view! { <p class="notice">{s.match_elsewhere}</p> })}
                    {m.candidates.is_empty().then(|| view! { <p>{s.search_none}</p> })}
                    <ul class="candidates">
                        {m.candidates.into_iter().map(|candidate| view! {
                            <CandidateCard candidate/>
                        }).collect_view()}
                    </ul>
                </div>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn registry_codes_are_told_from_names() {
        assert!(super::looks_like_code("23-1405-000123-7"));
        assert!(!super::looks_like_code("علی"));
        assert!(!super::looks_like_code("23-1405"));
    }
}
