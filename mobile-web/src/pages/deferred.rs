//! Code loaded on demand: the child profile, search, identify by iris and
//! the duplicate candidates at registration, the choice between both
//! values of a conflict, the supervisors' triage, duplicate review and team
//! screens, the
//! inbox and the watch that keeps its count live (the working set's refresh
//! is one too, in `workset`).
//!
//! Each `#[lazy]` function below is a split point. The build
//! (`xtask/src/web/split.rs`) cuts the code only they reach out of the main
//! wasm into chunks fetched the first time they run, so the app shell a phone
//! downloads before it can show anything stays small. The service worker
//! precaches the chunks once the app has started, so all of it still works
//! with no network. Outside that build (e.g. native `cargo test`) the
//! functions simply run in place.
//!
//! The newer screens also wait for their texts ([`crate::i18n::later`]):
//! string literals stay in the main module whatever the split does, so
//! theirs are fetched beside the chunk ([`with_texts`]).

use kudakyar_api::iris::IrisMatches;
use leptos::lazy;
use leptos::prelude::*;
use leptos::reactive::owner::LocalStorage;

use super::child::ChildPage;
use super::outbox::conflict::ChooseValues;
use super::register::{Pending, candidates::Candidates};
use super::search::SearchPage;
use super::inbox::InboxPage;
use super::review::{ReviewPage, ReviewsPage};
use super::team::TeamPage;
use super::triage::{TriagePage, report::ReportPage};
use crate::api::{self, ApiError};
use crate::i18n::{ErrorText, later, t};
use crate::inbox::{self, Inbox};
use crate::session::Session;
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
fn triage_view() -> AnyView {
    view! { <TriagePage/> }.into_any()
}

#[lazy]
fn report_view(id: String) -> AnyView {
    view! { <ReportPage id/> }.into_any()
}

#[lazy]
fn team_view() -> AnyView {
    view! { <TeamPage/> }.into_any()
}

#[lazy]
fn reviews_view() -> AnyView {
    view! { <ReviewsPage/> }.into_any()
}

#[lazy]
fn review_view(id: String) -> AnyView {
    view! { <ReviewPage id/> }.into_any()
}

#[lazy]
fn inbox_view() -> AnyView {
    view! { <InboxPage/> }.into_any()
}

/// Keeps the inbox's count live while the app runs (see [`inbox::watch`]):
/// started by the shell after the first screen, so its code waits too.
#[lazy]
pub async fn watch_inbox(token: String, session: Session, inbox: Inbox) {
    inbox::watch(token, session, inbox).await;
}

/// Fetches the deferred screens' texts (see [`later::load`]); its code is
/// only needed by those screens.
#[lazy]
async fn load_texts() -> bool {
    later::load().await
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

/// `/triage`.
#[component]
pub fn Triage() -> impl IntoView {
    deferred(with_texts(async { triage_view().await }))
}

/// `/triage/{id}`.
#[component]
pub fn Report(id: String) -> impl IntoView {
    deferred(with_texts(async move { report_view(id).await }))
}

/// `/team`.
#[component]
pub fn Team() -> impl IntoView {
    deferred(with_texts(async { team_view().await }))
}

/// `/reviews`.
#[component]
pub fn Reviews() -> impl IntoView {
    deferred(with_texts(async { reviews_view().await }))
}

/// `/reviews/{id}`.
#[component]
pub fn Review(id: String) -> impl IntoView {
    deferred(with_texts(async move { review_view(id).await }))
}

/// `/inbox`.
#[component]
pub fn Notifications() -> impl IntoView {
    deferred(with_texts(async { inbox_view().await }))
}

/// `view` once the deferred texts are at hand; the network error otherwise
/// (only possible before the service worker has cached them).
async fn with_texts(view: impl Future<Output = AnyView>) -> AnyView {
    if load_texts().await {
        view.await
    } else {
        let text = ErrorText::plain(t().network);
        view! { <super::ErrorBox text/> }.into_any()
    }
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
