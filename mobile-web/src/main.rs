//! Kudakyar's PWA: a Leptos client-side-rendered app compiled to wasm.
//!
//! `cargo xtask serve` builds it (see `xtask/src/web.rs`): the wasm is loaded by
//! the external `boot.js` (the CSP forbids inline scripts), which calls the
//! wasm-bindgen start function, i.e. [`main`].
//!
//! Tour of the crate:
//! - [`app`]: the root component; picks the page from the session state.
//! - [`session`]: the bearer token and current user, persisted in localStorage.
//! - [`api`]: the HTTP client for `/api/v1`, errors decoded from problem+json.
//! - [`outbox`]: the offline outbox (IndexedDB and sync in `outbox.js`).
//! - [`pages`]: one module per screen (login, home).
//! - [`i18n`]: every user-visible string (Persian now, English later).
//!
//! The crate also compiles natively (`cargo clippy --workspace` runs on the
//! host); nothing here calls browser APIs unless `main` runs, so no cfg gates.

mod api;
mod app;
mod i18n;
mod outbox;
mod pages;
mod session;

fn main() {
    // Panics become readable console errors instead of "unreachable executed".
    console_error_panic_hook::set_once();
    // index.html shows a static "loading" line until the wasm arrives; it is
    // in the body, so remove it before mounting next to it.
    if let Some(splash) = leptos::prelude::document().get_element_by_id("splash") {
        splash.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
