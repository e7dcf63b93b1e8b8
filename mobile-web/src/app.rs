//! The root component: a header, then the page the session state calls for.
//!
//! There is no router yet: the URL does not matter (the server answers every
//! non-API path with index.html). Logged in, the outbox's sync bar stays
//! under the header whatever the page shows.

use leptos::prelude::*;

use crate::i18n::t;
use crate::outbox::Outbox;
use crate::pages::{home::HomePage, login::LoginPage, outbox::SyncBar, restoring::RestoringPage};
use crate::session::{Auth, Session};

/// Which page is mounted; derived from [`Auth`] without its data.
#[derive(Clone, Copy, PartialEq)]
enum Screen {
    Login,
    Restoring,
    Home,
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session::provide();
    // Started whoever is logged in: queued work survives a logout or an
    // expired session, and is sent once someone logs in again.
    Outbox::provide();
    // Only the *kind* of screen decides which page is mounted, so a refreshed
    // user (same screen) does not remount the page and lose its local state.
    let screen = Memo::new(move |_| match session.auth.get() {
        Auth::LoggedOut => Screen::Login,
        Auth::Restoring { .. } => Screen::Restoring,
        Auth::LoggedIn { .. } => Screen::Home,
    });
    view! {
        <header class="bar">
            <span class="brand">{t().app_name}</span>
        </header>
        {move || (screen.get() == Screen::Home).then(|| view! { <SyncBar/> })}
        <main class="page">
            {move || match screen.get() {
                Screen::Login => view! { <LoginPage/> }.into_any(),
                Screen::Restoring => view! { <RestoringPage/> }.into_any(),
                Screen::Home => view! { <HomePage/> }.into_any(),
            }}
        </main>
    }
}
