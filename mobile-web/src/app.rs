//! The root component: a header with the sections and the language switch,
//! the sync bar, then the page the session and the route call for.
//!
//! Logged out, every route shows the login page (the route is kept, so the
//! worker lands where they were going). Logged in, the outbox's sync bar
//! stays under the header whatever the page shows.

use leptos::prelude::*;

use crate::i18n::{lang, switch_language, t};
use crate::outbox::Outbox;
use crate::pages::{
    deferred, home::HomePage, login::LoginPage, outbox::SyncBar, restoring::RestoringPage,
};
use crate::route::{Link, Route, Router};
use crate::session::{Auth, Session};

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
    // Only the *kind* of screen decides what is mounted, so a refreshed
    // user (same screen) does not remount the page and lose its local state.
    let screen = Memo::new(move |_| match session.auth.get() {
        Auth::LoggedOut => Screen::Login,
        Auth::Restoring { .. } => Screen::Restoring,
        Auth::LoggedIn { .. } => Screen::App,
    });
    let logged_in = move || screen.get() == Screen::App;
    view! {
        <header class="bar">
            <span class="brand">{s.app_name}</span>
            {move || logged_in().then(|| view! {
                <nav aria-label=s.nav_label>
                    <Link to=Route::Home>{s.nav_home}</Link>
                    <Link to=Route::Search>{s.nav_search}</Link>
                </nav>
            })}
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
                    Route::NotFound => view! {
                        <section class="card"><p role="alert">{s.not_found}</p>
                            <Link to=Route::Home>{s.nav_home}</Link></section>
                    }.into_any(),
                },
            }}
        </main>
    }
}
