//! The app's few routes, on the History API (no router crate: a handful of
//! routes do not need one, and the wasm stays small).
//!
//! The server answers every non-API path with `index.html`, and the service
//! worker serves the cached page for any navigation offline, so a reload or
//! a shared link on `/child/…` opens that screen directly.
//!
//! - [`Route`]: the screens; [`Route::parse`] and [`Route::path`] are inverse.
//! - [`Router::provide`]: the current route as a signal, kept in step with
//!   the back button (`popstate`).
//! - [`Link`]: an `<a href>` that changes the route without a page load.

use leptos::ev;
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Register a child, and this phone's outbox.
    Home,
    Search,
    /// A child's profile, by record id.
    Child(String),
    /// The supervisors' triage queue of reports.
    Triage,
    /// One report of the queue, by id.
    Report(String),
    /// Caseload and verified visits per worker.
    Team,
    /// The user's notifications.
    Inbox,
    /// Open duplicate reviews.
    Reviews,
    /// One duplicate review, by id.
    Review(String),
    /// The presence atlas: map, zoning, hot spots, trend, exports.
    Atlas,
    /// The programme's indicators and the quarterly report.
    Indicators,
    /// The user's notification settings: push on this device, muted kinds,
    /// quiet hours, digest, phone for SMS.
    Settings,
    Tasks,
    Centres,
    Call,
    NotFound,
}

impl Route {
    pub fn parse(path: &str) -> Route {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [] => Route::Home,
            ["search"] => Route::Search,
            ["child", id] if is_id(id) => Route::Child((*id).to_owned()),
            ["triage"] => Route::Triage,
            ["triage", id] if is_id(id) => Route::Report((*id).to_owned()),
            ["team"] => Route::Team,
            ["inbox"] => Route::Inbox,
            ["reviews"] => Route::Reviews,
            ["reviews", id] if is_id(id) => Route::Review((*id).to_owned()),
            ["settings"] => Route::Settings,
            ["tasks"] => Route::Tasks,
            ["centres"] => Route::Centres,
            ["call"] => Route::Call,
            ["atlas"] => Route::Atlas,
            ["indicators"] => Route::Indicators,
            _ => Route::NotFound,
        }
    }

    pub fn path(&self) -> String {
        match self {
            Route::Home | Route::NotFound => "/".to_owned(),
            Route::Search => "/search".to_owned(),
            Route::Child(id) => format!("/child/{id}"),
            Route::Triage => "/triage".to_owned(),
            Route::Report(id) => format!("/triage/{id}"),
            Route::Team => "/team".to_owned(),
            Route::Inbox => "/inbox".to_owned(),
            Route::Reviews => "/reviews".to_owned(),
            Route::Review(id) => format!("/reviews/{id}"),
            Route::Settings => "/settings".to_owned(),
            Route::Tasks => "/tasks".to_owned(),
            Route::Centres => "/centres".to_owned(),
            Route::Call => "/call".to_owned(),
            Route::Atlas => "/atlas".to_owned(),
            Route::Indicators => "/indicators".to_owned(),
        }
    }
}

/// Record ids are UUIDs; anything else in the path is not a record.
fn is_id(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[derive(Clone, Copy)]
pub struct Router {
    pub route: RwSignal<Route>,
}

pub fn use_router() -> Router {
    expect_context::<Router>()
}

impl Router {
    pub fn provide() -> Router {
        let router = Router {
            route: RwSignal::new(Route::parse(&current_path())),
        };
        provide_context(router);
        let handle = window_event_listener(ev::popstate, move |_| {
            router.route.set(Route::parse(&current_path()));
        });
        // The listener lives as long as the app.
        std::mem::forget(handle);
        router
    }

    /// Shows `to` and records it in the history (the back button returns).
    pub fn go(&self, to: Route) {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&to.path()));
        }
        window().scroll_to_with_x_and_y(0.0, 0.0);
        self.route.set(to);
    }
}

fn current_path() -> String {
    window().location().pathname().unwrap_or_default()
}

/// A link to `to`: a real `href` (open in a new tab, read by screen readers
/// as a link), handled in place on a plain click.
#[component]
pub fn Link(
    to: Route,
    #[prop(optional)] class: &'static str,
    /// `aria-current` (e.g. `page` for the section shown), when it applies.
    #[prop(optional, into)]
    current: Signal<Option<&'static str>>,
    children: Children,
) -> impl IntoView {
    let router = use_router();
    let href = to.path();
    let on_click = move |ev: ev::MouseEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.button() != 0 {
            return;
        }
        ev.prevent_default();
        router.go(to.clone());
    };
    view! { <a href=href class=class aria-current=move || current.get() on:click=on_click>{children()}</a> }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn paths_round_trip() {
        let id = "0b6f1c8e-5a3d-4c1e-9f2a-1234567890ab";
        for route in [
            Route::Home,
            Route::Search,
            Route::Child(id.to_owned()),
            Route::Triage,
            Route::Report(id.to_owned()),
            Route::Team,
            Route::Inbox,
            Route::Reviews,
            Route::Review(id.to_owned()),
            Route::Settings,
            Route::Atlas,
            Route::Indicators,
        ] {
            assert_eq!(Route::parse(&route.path()), route);
        }
        assert_eq!(Route::parse("/child/not-an-id"), Route::NotFound);
        assert_eq!(Route::parse("/nope"), Route::NotFound);
        assert_eq!(Route::parse("/search/"), Route::Search);
    }
}
