//! Code loaded on demand: the registration form, the child profile (and the
//! record's editor right after a registration), search, identify by iris and
//! the duplicate candidates at registration, the choice between both
//! values of a conflict, the supervisors' triage, duplicate review and team
//! screens, the inbox and the watch that keeps its count live, and the
//! notification settings, a 123 operator's call form, the staff's atlas,
//! and their indicators (the working set's refresh is one too, in
//! `workset`).
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

use std::pin::Pin;

use kudakyar_api::children::NewChild;
use kudakyar_api::iris::IrisMatches;
use leptos::lazy;
use leptos::prelude::*;
use leptos::reactive::owner::LocalStorage;

use super::atlas::AtlasPage;
use super::centres::CentresPage;
use super::child::{ChildPage, edit::EditRecord};
use super::hotline::HotlineForm;
use super::inbox::InboxPage;
use super::indicators::IndicatorsPage;
use super::outbox::{OutboxList, conflict::ChooseValues};
use super::register::{Pending, RegisterForm, candidates::Candidates};
use super::review::{ReviewPage, ReviewsPage};
use super::search::SearchPage;
use super::settings::SettingsPage;
use super::tasks::TasksPage;
use super::team::TeamPage;
use super::triage::{TriagePage, report::ReportPage};
use crate::api::{self, ApiError};
use crate::i18n::{ErrorText, later, t};
use crate::inbox::{self, Inbox};
use crate::outbox::Item;
use crate::route::Route;
use crate::session::{Auth, Session, use_session};
use crate::settle;

/// The registration form: the home page's biggest part, so its code waits
/// for the first frame like the outbox under it (precached like every chunk,
/// so it opens offline).
#[lazy]
fn register_view() -> AnyView {
    view! { <RegisterForm/> }.into_any()
}

#[lazy]
fn search_view() -> AnyView {
    view! { <SearchPage/> }.into_any()
}

/// A child's screens: the profile, or the record editor right after a
/// registration was queued (one split point: both are the child's code).
enum ChildScreen {
    Profile(String),
    /// The new record's id and its `NewChild` JSON as queued (read here, so
    /// that reading it is not code of the app shell).
    Complete(String, String),
}

#[lazy]
fn child_view(screen: ChildScreen) -> AnyView {
    match screen {
        ChildScreen::Profile(id) => view! { <ChildPage id/> }.into_any(),
        // A registration creates version 1, and the outbox sends the edit
        // after it (a child's writes go in order).
        ChildScreen::Complete(id, json) => match serde_json::from_str::<NewChild>(&json) {
            Ok(child) => {
                let facts = child.facts;
                view! { <EditRecord id version=1 facts opened=true/> }.into_any()
            }
            Err(_) => ().into_any(),
        },
    }
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

/// The staff's screens — triage, a report, the team and its centres,
/// duplicate reviews —
/// a 123 operator's call form, and everyone's tasks, inbox and notification
/// settings, behind one split point:
/// each screen's own entry would keep its share of loading code in the app
/// shell.
#[lazy]
fn staff_view(route: Route) -> AnyView {
    match route {
        Route::Report(id) => view! { <ReportPage id/> }.into_any(),
        Route::Team => view! { <TeamPage/> }.into_any(),
        Route::Reviews => view! { <ReviewsPage/> }.into_any(),
        Route::Review(id) => view! { <ReviewPage id/> }.into_any(),
        Route::Inbox => view! { <InboxPage/> }.into_any(),
        Route::Settings => view! { <SettingsPage/> }.into_any(),
        Route::Tasks => view! { <TasksPage/> }.into_any(),
        Route::Centres => view! { <CentresPage/> }.into_any(),
        Route::Call => view! { <HotlineForm/> }.into_any(),
        _ => view! { <TriagePage/> }.into_any(),
    }
}

/// The provincial and national staff's atlas, a split point of its own: the
/// staff of the other screens never fetch its code (its map, Leaflet, is a
/// JS module loaded by the screen itself, `crate::atlas`), and a page opened
/// on the atlas preloads exactly this split's chunks (`xtask/src/web/dist.rs`),
/// so they hold nothing the map does not need.
#[lazy]
fn atlas_view() -> AnyView {
    view! { <AtlasPage/> }.into_any()
}

/// The indicators, under the atlas in the navigation but a split point of
/// their own: their tables and the quarterly report are bytes the atlas's
/// first map would otherwise wait for.
#[lazy]
fn indicators_view() -> AnyView {
    view! { <IndicatorsPage/> }.into_any()
}

#[lazy]
fn outbox_view() -> AnyView {
    view! { <OutboxList/> }.into_any()
}

#[lazy]
fn candidates_view(
    matches: IrisMatches,
    pending: RwSignal<Option<Pending>, LocalStorage>,
    finish: Callback<(Result<bool, ()>, String)>,
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
    deferred(Box::pin(async { search_view().await }))
}

/// `/child/{id}` (its record editor's texts are deferred ones).
#[component]
pub fn Child(id: String) -> impl IntoView {
    deferred(with_texts(Box::pin(async move {
        child_view(ChildScreen::Profile(id)).await
    })))
}

/// «Complete the record» under the registration form: the editor on the
/// record just queued.
#[component]
pub fn CompleteRecord(id: String, json: String) -> impl IntoView {
    deferred(with_texts(Box::pin(async move {
        child_view(ChildScreen::Complete(id, json)).await
    })))
}

/// `view` once the deferred texts are at hand; the network error otherwise
/// (only possible before the service worker has cached them).
fn with_texts(view: ViewFuture) -> ViewFuture {
    Box::pin(async move {
        if load_texts().await {
            view.await
        } else {
            let text = ErrorText::plain(t().network);
            view! { <super::ErrorBox text/> }.into_any()
        }
    })
}

/// `/triage`, `/triage/{id}`, `/team`, `/reviews`, `/reviews/{id}`, `/inbox`,
/// `/settings`, `/tasks`, `/centres`, `/call`.
#[component]
pub fn Staff(route: Route) -> impl IntoView {
    deferred(with_texts(Box::pin(async move { staff_view(route).await })))
}

/// `/atlas`; the first map's figures are asked for at once, beside the
/// screen's code (`atlas::prefetch`).
#[component]
pub fn Atlas() -> impl IntoView {
    if let Auth::LoggedIn { token, user } = use_session().auth.get_untracked() {
        super::atlas::prefetch(token, &user);
    }
    deferred(with_texts(Box::pin(async { atlas_view().await })))
}

/// `/indicators`.
#[component]
pub fn Indicators() -> impl IntoView {
    deferred(with_texts(Box::pin(async { indicators_view().await })))
}

/// «Register a child» on the home page (not for 123 operators).
#[component]
pub fn Register() -> impl IntoView {
    deferred(Box::pin(async { register_view().await }))
}

/// This phone's outbox, under the registration form: shown a frame after
/// the home page, so it may as well wait for its code.
#[component]
pub fn Outbox() -> impl IntoView {
    deferred(Box::pin(async { outbox_view().await }))
}

/// Known children whose eyes match the registration's (see `Candidates`).
#[component]
pub fn CandidatesScreen(
    matches: IrisMatches,
    pending: RwSignal<Option<Pending>, LocalStorage>,
    finish: Callback<(Result<bool, ()>, String)>,
    back: Callback<()>,
) -> impl IntoView {
    deferred(Box::pin(async move {
        candidates_view(matches, pending, finish, back).await
    }))
}

/// Both values of each field of a refused update (see `ChooseValues`).
#[component]
pub fn Conflict(
    item: Item,
    conflicts: serde_json::Value,
    stored: serde_json::Value,
) -> impl IntoView {
    deferred(Box::pin(async move {
        choose_values_view(item, conflicts, stored).await
    }))
}

/// A screen on its way. Boxed, so that the suspense around it is compiled
/// once for every screen rather than once per screen: that code stays in
/// the app shell.
type ViewFuture = Pin<Box<dyn Future<Output = AnyView> + Send>>;

/// Shows a quiet "loading" line until `view` resolves: milliseconds from the
/// service worker's cache, one fetch on a first visit.
///
/// Until it is drawn, the first screen has not settled (`crate::settle`):
/// the hold is released a frame after the view arrives, so that what the
/// view itself waits for (the atlas's first map) has taken its own hold.
fn deferred(view: ViewFuture) -> impl IntoView {
    let hold = settle::hold();
    let view = async move {
        let view = view.await;
        request_animation_frame(move || drop(hold));
        view
    };
    view! {
        <Suspense fallback=|| view! { <p class="notice" role="status">{t().loading}</p> }>
            {Suspend::new(view)}
        </Suspense>
    }
}
