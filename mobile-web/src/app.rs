//! The root component: a header with the language switch, the sync bar,
//! the page the session and the route call for, and the bottom navigation.
//!
//! Logged out, every route shows the login page (the route is kept, so the
//! worker lands where they were going). Logged in, the outbox's sync bar
//! stays under the header whatever the page shows, and the navigation bar at
//! the bottom (in reach of one thumb) offers the sections of the user's role
//! ([`sections`]); the server still decides what each role may do.

use kudakyar_api::users::Role;
use leptos::prelude::*;

use crate::i18n::{digits, lang, switch_language, t};
use crate::inbox::{Inbox, use_inbox};
use crate::outbox::Outbox;
use crate::pages::{
    deferred, home::HomePage, login::LoginPage, outbox::SyncBar, restoring::RestoringPage,
};
use crate::route::{Link, Route, Router};
use crate::session::{Auth, Session};
use crate::settle;

/// Which kind of page is mounted; derived from [`Auth`] without its data.
#[derive(Clone, Copy, PartialEq)]
enum Screen {
    Login,
    Restoring,
    App,
}

#[component]
pub fn App() -> impl IntoView {
    let s = t();
    let session = Session::provide();
    // Started whoever is logged in: queued work survives a logout or an
    // expired session, and is sent once someone logs in again.
    Outbox::provide();
    let router = Router::provide();
    Inbox::provide(session);
    // Only the *kind* of screen decides what is mounted, so a refreshed
    // user (same screen) does not remount the page and lose its local state.
    let screen = Memo::new(move |_| match session.auth.get() {
        Auth::LoggedOut => Screen::Login,
        Auth::Restoring { .. } => Screen::Restoring,
        Auth::LoggedIn { .. } => Screen::App,
    });
    let logged_in = move || screen.get() == Screen::App;
    // What the first screen waits for has taken its holds by its first
    // frame (see `settle`).
    request_animation_frame(settle::first_frame);
    set_timeout(settle::settle, settle::AT_THE_LATEST);
    // The bar is rebuilt only when the role changes, not at every check.
    let role = Memo::new(move |_| match session.auth.get() {
        Auth::LoggedIn { user, .. } => Some(user.role),
        _ => None,
    });
    view! {
        <header class="bar">
            <span class="brand">{s.app_name}</span>
            <button type="button" class="btn link lang" lang=lang().other().tag()
                on:click=move |_| switch_language(lang().other())>
                {s.other_language}
            </button>
        </header>
        {move || logged_in().then(|| view! { <SyncBar/> })}
        <main class="page">
            {move || match screen.get() {
                Screen::Login => view! { <LoginPage/> }.into_any(),
                Screen::Restoring => view! { <RestoringPage/> }.into_any(),
                Screen::App => match router.route.get() {
                    Route::Home => view! { <HomePage/> }.into_any(),
                    Route::Search => view! { <deferred::Search/> }.into_any(),
                    Route::Child(id) => view! { <deferred::Child id/> }.into_any(),
                    route @ (Route::Triage
                    | Route::Report(_)
                    | Route::Team
                    | Route::Inbox
                    | Route::Reviews
                    | Route::Review(_)
                    | Route::Settings
                    | Route::Tasks
                    | Route::Centres
                    | Route::Call) => view! { <deferred::Staff route/> }.into_any(),
                    Route::Atlas => view! { <deferred::Atlas/> }.into_any(),
                    Route::Indicators => view! { <deferred::Indicators/> }.into_any(),
                    Route::NotFound => view! {
                        <section class="card"><p role="alert">{s.not_found}</p>
                            <Link to=Route::Home>{s.nav_home}</Link></section>
                    }.into_any(),
                },
            }}
        </main>
        {move || role.get().map(|role| view! { <Sections role/> })}
    }
}

/// The sections the bottom bar offers to `role`, in order. Outreach workers
/// register and find children and have their tasks (so do supervisors,
/// who are assigned reports too); supervisors and the staff above them also
/// triage reports and follow their team; provincial and national staff also
/// have the atlas (with the indicators under it: one section, so seven fit
/// a 360 px bar); a 123 operator has no children's records to reach
/// (`auth::policy::reach`): they record calls and work in the report queue. Everyone has the
/// inbox and their notification settings.
pub fn sections(role: Role) -> &'static [Route] {
    match role {
        Role::OutreachWorker => &[
            Route::Home,
            Route::Tasks,
            Route::Search,
            Route::Inbox,
            Route::Settings,
        ],
        Role::HotlineOperator => &[
            Route::Call,
            Route::Triage,
            Route::Inbox,
            Route::Home,
            Route::Settings,
        ],
        Role::Supervisor => &[
            Route::Home,
            Route::Tasks,
            Route::Search,
            Route::Triage,
            Route::Team,
            Route::Inbox,
            Route::Settings,
        ],
        Role::ProvincialStaff | Role::NationalAdmin => &[
            Route::Home,
            Route::Search,
            Route::Triage,
            Route::Team,
            Route::Atlas,
            Route::Inbox,
            Route::Settings,
        ],
    }
}

/// The bottom navigation bar; the current section is marked for screen
/// readers (`aria-current`) and drawn as such; the inbox carries the number
/// of unread notifications.
#[component]
fn Sections(role: Role) -> impl IntoView {
    let s = t();
    let router = crate::route::use_router();
    let unread = use_inbox().unread;
    let label = move |to: &Route| {
        match to {
        Route::Search => s.nav_search.into_any(),
        Route::Triage => s.nav_triage.into_any(),
        Route::Team => s.nav_team.into_any(),
        Route::Tasks => s.nav_tasks.into_any(),
        Route::Call => s.nav_call.into_any(),
        Route::Atlas => s.nav_atlas.into_any(),
        Route::Settings => s.nav_settings.into_any(),
        Route::Inbox => view! {
            {s.nav_inbox}
            {move || (unread.get() > 0).then(|| view! {
                " " <span class="badge" data-unread=unread.get()>{digits(u32::try_from(unread.get()).unwrap_or(0))}</span>
            })}
        }
        .into_any(),
        _ => s.nav_home.into_any(),
    }
    };
    view! {
        <nav class="tabs" aria-label=s.nav_label>
            {sections(role).iter().map(|to| {
                let section = to.clone();
                let current = move || {
                    let here = router.route.get();
                    // A report and the duplicate reviews sit under triage.
                    let under_triage =
                        matches!(here, Route::Report(_) | Route::Reviews | Route::Review(_));
                    // The indicators sit under the atlas, the centres under the team.
                    let under_atlas = here == Route::Indicators;
                    let under_team = here == Route::Centres;
                    (here == section
                        || (under_triage && section == Route::Triage)
                        || (under_atlas && section == Route::Atlas)
                        || (under_team && section == Route::Team))
                        .then_some("page")
                };
                view! { <Link to=to.clone() current=Signal::derive(current)>{label(to)}</Link> }
            }).collect_view()}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use kudakyar_api::users::Role;

    use super::sections;
    use crate::route::Route;

    #[test]
    fn sections_follow_the_role() {
        assert!(!sections(Role::OutreachWorker).contains(&Route::Triage));
        assert!(!sections(Role::OutreachWorker).contains(&Route::Team));
        assert!(sections(Role::OutreachWorker).contains(&Route::Inbox));
        assert!(sections(Role::OutreachWorker).contains(&Route::Tasks));
        assert!(sections(Role::Supervisor).contains(&Route::Tasks));
        assert!(!sections(Role::Supervisor).contains(&Route::Atlas));
        for role in [Role::ProvincialStaff, Role::NationalAdmin] {
            assert!(sections(role).contains(&Route::Atlas), "{role:?}");
        }
        for role in [Role::Supervisor, Role::ProvincialStaff, Role::NationalAdmin] {
            assert!(sections(role).contains(&Route::Triage), "{role:?}");
            assert!(sections(role).contains(&Route::Team), "{role:?}");
        }
        // The hotline reaches no child record: no search, no team; a call first.
        assert_eq!(
            sections(Role::HotlineOperator),
            [
                Route::Call,
                Route::Triage,
                Route::Inbox,
                Route::Home,
                Route::Settings
            ]
        );
        for role in [
            Role::OutreachWorker,
            Role::HotlineOperator,
            Role::Supervisor,
            Role::ProvincialStaff,
            Role::NationalAdmin,
        ] {
            assert!(sections(role).contains(&Route::Settings), "{role:?}");
        }
    }
}
