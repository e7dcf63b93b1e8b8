//! localStorage, for the small things this phone remembers: the session, the
//! UI language, the working set of children (see `workset.rs`).
//!
//! localStorage may be missing or throw (private mode, disabled storage):
//! every function then does nothing, and the app still works in memory.

use leptos::prelude::window;

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub fn get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

/// `false` when the value could not be stored (no storage, quota full).
pub fn set(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}
