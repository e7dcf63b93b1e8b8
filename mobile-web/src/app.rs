//! The root component: a header, then the page the session state calls for.
//!
//! There is no router yet: the shell has two screens and the URL does not
//! matter (the server answers every non-API path with index.html). A router
//! comes with the worker flows of the outreach PWA.

use leptos::prelude::*;

use crate::i18n::t;
use crate::pages::{home::HomePage, login::LoginPage, restoring::RestoringPage};
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
        <main class="page">
            {move || match screen.get() {
                Screen::Login => view! { <LoginPage/> }.into_any(),
                Screen::Restoring => view! { <RestoringPage/> }.into_any(),
                Screen::Home => view! { <HomePage/> }.into_any(),
            }}
        </main>
    }
}
