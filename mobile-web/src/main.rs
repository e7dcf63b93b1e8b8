//! Kudakyar's PWA: a Leptos client-side-rendered app compiled to wasm.
//!
//! `cargo xtask serve` builds it (see `xtask/src/web.rs`): the wasm is loaded by
//! the external `boot.js` (the CSP forbids inline scripts), which calls the
//! wasm-bindgen start function, i.e. [`main`].
//!
//! Tour of the crate:
//! - [`app`]: the root component; picks the page from the session and route.
//! - [`route`]: the routes (home, search, child profile, triage, team, inbox,
//!   notification settings) on the History API.
//! - [`session`]: the bearer token and current user, persisted in localStorage.
//! - [`api`]: the HTTP client for `/api/v1`, errors decoded from problem+json.
//! - [`outbox`]: the offline outbox (IndexedDB and sync in `outbox.js`).
//! - [`inbox`]: the unread notifications' count, live from the event stream.
//! - [`push`]: Web Push on this phone (`push.js`, shared with the service
//!   worker).
//! - [`atlas`]: the atlas map (Leaflet), loaded on demand.
//! - [`workset`]: the area's children kept on the phone for offline lookup.
//! - [`settle`]: the first screen drawn; what waits for it (the service
//!   worker's precache, the working set's refresh).
//! - [`pages`]: one module per screen.
//! - [`dates`]: the Jalali calendar: display and the date picker.
//! - [`i18n`]: every user-visible string, Persian and English.
//! - [`local`]: localStorage access.
//!
//! The crate also compiles natively (`cargo clippy --workspace` runs on the
//! host); nothing here calls browser APIs unless `main` runs, so no cfg gates.

mod api;
mod app;
mod atlas;
mod dates;
mod i18n;
mod inbox;
mod local;
mod outbox;
mod pages;
mod push;
mod route;
mod session;
mod settle;
mod workset;

fn main() {
    // Panics become readable console errors instead of "unreachable executed".
    console_error_panic_hook::set_once();
    // index.html shows a static "loading" line until the wasm arrives; it is
    // in the body, so remove it before mounting next to it.
    if let Some(splash) = leptos::prelude::document().get_element_by_id("splash") {
        splash.remove();
    }
    // The language decides `<html lang dir>` and every string: read it first.
    i18n::init_language();
    leptos::mount::mount_to_body(app::App);
}
