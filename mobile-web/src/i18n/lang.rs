//! The UI language: Persian (right to left) by default, English on request.
//!
//! The choice is stored in localStorage and read once by [`init`] before the
//! app mounts; switching stores the new choice and reloads the page. A reload
//! is cheaper and surer than making every string reactive: the outbox and the
//! session live in IndexedDB and localStorage, so nothing is lost by it.

use std::cell::Cell;

use crate::local;

const STORAGE_KEY: &str = "kudakyar.lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fa,
    En,
}

impl Lang {
    /// The BCP 47 tag for `<html lang>` and `Intl`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fa => "fa",
            Lang::En => "en",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::Fa => "rtl",
            Lang::En => "ltr",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Fa => Lang::En,
            Lang::En => Lang::Fa,
        }
    }
}

thread_local! {
    static LANG: Cell<Lang> = const { Cell::new(Lang::Fa) };
}

/// The active language ([`Lang::Fa`] until [`init`] says otherwise).
pub fn lang() -> Lang {
    LANG.with(Cell::get)
}

/// Reads the stored choice, sets `<html lang dir>` to match and tells the
/// service worker. Called once from `main`, before anything is rendered.
pub fn init() {
    let stored = local::get(STORAGE_KEY);
    let chosen = match stored.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Fa,
    };
    LANG.with(|l| l.set(chosen));
    // The service worker titles pushes in this language (no page needed).
    crate::push::set_language(chosen.tag());
    if let Some(html) = leptos::prelude::document().document_element() {
        let _ = html.set_attribute("lang", chosen.tag());
        let _ = html.set_attribute("dir", chosen.dir());
    }
}

/// Stores `to` and reloads the page in that language.
pub fn switch_language(to: Lang) {
    local::set(STORAGE_KEY, to.tag());
    let _ = leptos::prelude::window().location().reload();
}
