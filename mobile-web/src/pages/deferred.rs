//! Code loaded on demand: the child profile, search, identify by iris and
//! the duplicate candidates at registration, and the choice between both
//! values of a conflict (the working set's refresh is one too, in `workset`).
//!
//! Each `#[lazy]` function below is a split point. The build
//! (`xtask/src/web/split.rs`) cuts the code only they reach out of the main
//! wasm into chunks fetched the first time they run, so the app shell a phone
//! downloads before it can show anything stays small. The service worker
//! precaches the chunks once the app has started, so all of it still works
//! with no network. Outside that build (e.g. native `cargo test`) the
//! functions simply run in place.

use kudakyar_api::iris::IrisMatches;
use leptos::lazy;
use leptos::prelude::*;
use leptos::reactive::owner::LocalStorage;

use super::child::ChildPage;
use super::outbox::conflict::ChooseValues;
use super::register::{Pending, candidates::Candidates};
use super::search::SearchPage;
use crate::api::{self, ApiError};
use crate::i18n::t;
use crate::outbox::Item;

#[lazy]
fn search_view() -> AnyView {
    view! { <SearchPage/> }.into_any()
}

#[lazy]
fn child_view(id: String) -> AnyView {
    view! { <ChildPage id/> }.into_any()
}

#[lazy]
fn candidates_view(
    matches: IrisMatches,
    pending: RwSignal<Option<Pending>, LocalStorage>,
    finish: Callback<(Result<(), ()>, String)>,
    back: Callback<()>,
) -> AnyView {
    let finish = move |result, message| finish.run((result, message));
    let back = move || back.run(());
    view! { <Candidates matches pending finish back/> }.into_any()
}

#[lazy]
fn choose_values_view(
    item: Item,
    conflicts: serde_json::Value,
    stored: serde_json::Value,
) -> AnyView {
    view! { <ChooseValues item conflicts stored/> }.into_any()
}

/// `POST /api/v1/iris/identify` with the captures at hand: reading the
/// answer (candidates) is only needed once the worker has eyes to check.
#[lazy]
pub async fn identify(
    token: String,
    left: Option<web_sys::File>,
    right: Option<web_sys::File>,
) -> Result<IrisMatches, ApiError> {
    api::identify(&token, left.as_ref(), right.as_ref()).await
}

/// `/search`.
#[component]
pub fn Search() -> impl IntoView {
    deferred(async { search_view().await })
}

/// `/child/{id}`.
#[component]
pub fn Child(id: String) -> impl IntoView {
    deferred(async move { child_view(id).await })
}

/// Known children whose eyes match the registration's (see `Candidates`).
#[component]
pub fn CandidatesScreen(
    matches: IrisMatches,
    pending: RwSignal<Option<Pending>, LocalStorage>,
    finish: Callback<(Result<(), ()>, String)>,
    back: Callback<()>,
) -> impl IntoView {
    deferred(async move { candidates_view(matches, pending, finish, back).await })
}

/// Both values of each field of a refused update (see `ChooseValues`).
#[component]
pub fn Conflict(
    item: Item,
    conflicts: serde_json::Value,
    stored: serde_json::Value,
) -> impl IntoView {
    deferred(async move { choose_values_view(item, conflicts, stored).await })
}

/// Shows a quiet "loading" line until `view` resolves: milliseconds from the
/// service worker's cache, one fetch on a first visit.
fn deferred(view: impl Future<Output = AnyView> + Send + 'static) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="notice" role="status">{t().loading}</p> }>
            {Suspend::new(view)}
        </Suspense>
    }
}
