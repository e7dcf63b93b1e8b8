//! Web Push on this phone, as the notification settings see it.
//!
//! The browser's side lives in `push.js` (permission, `pushManager`, and the
//! service worker's handlers, which import the same module); this module
//! binds it and speaks to the server:
//!
//! - [`state`]: whether this browser can take pushes and holds a subscription;
//! - [`enable`]: the server's VAPID key, the browser's subscription, and the
//!   subscription sent to the server (undone in the browser if the server
//!   refuses it, so the two agree);
//! - [`disable`]: unsubscribes the browser, then removes the endpoint on the
//!   server;
//! - [`forget`]: at logout, so the next user of a shared phone gets none of
//!   the last one's pushes;
//! - [`set_language`] and [`store_texts`]: what the service worker titles a
//!   push with, in the user's language, with no page open.
//!
//! Every answer from `push.js` is a string: code loaded on demand must not
//! convert other JS values (see `xtask/src/web/split.rs`).

use kudakyar_api::notifications::PushSubscriptionInput;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_futures::js_sys::Promise;

use crate::api::{self, ApiError};

#[wasm_bindgen(module = "/push.js")]
extern "C" {
    #[wasm_bindgen(js_name = pushSetLanguage)]
    fn js_set_language(lang: &str);
    #[wasm_bindgen(js_name = pushSetTexts)]
    fn js_set_texts(json: &str) -> Promise;
    #[wasm_bindgen(js_name = pushState)]
    fn js_state() -> Promise;
    #[wasm_bindgen(js_name = pushSubscribe)]
    fn js_subscribe(vapid_key: &str) -> Promise;
    #[wasm_bindgen(js_name = pushUnsubscribe)]
    fn js_unsubscribe() -> Promise;
    #[wasm_bindgen(js_name = pushForget)]
    fn js_forget(token: Option<String>) -> Promise;
}

/// Where push stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushState {
    /// No service worker, Push API or notifications in this browser.
    Unsupported,
    /// The permission to show notifications was refused.
    Denied,
    /// The browser's push service did not answer (often so in Iran).
    Unreachable,
    On,
    Off,
}

impl PushState {
    fn parse(word: &str) -> PushState {
        match word {
            "on" => PushState::On,
            "off" => PushState::Off,
            "denied" => PushState::Denied,
            "unreachable" => PushState::Unreachable,
            _ => PushState::Unsupported,
        }
    }

    /// The word the settings screen marks its status with (`data-state`).
    pub fn word(self) -> &'static str {
        match self {
            PushState::Unsupported => "unsupported",
            PushState::Denied => "denied",
            PushState::Unreachable => "unreachable",
            PushState::On => "on",
            PushState::Off => "off",
        }
    }
}

/// Why turning push on or off did not work.
#[derive(Debug, Clone, PartialEq)]
pub enum PushError {
    /// The browser's side: unsupported, denied or unreachable.
    Browser(PushState),
    /// The server's side (the VAPID key, storing the subscription).
    Api(ApiError),
}

async fn text(promise: Promise) -> String {
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Remembers the UI language for the service worker (at start-up).
pub fn set_language(tag: &str) {
    js_set_language(tag);
}

/// Stores the labels the service worker titles pushes with (JSON, see
/// `pushSetTexts` in `push.js`).
pub async fn store_texts(json: &str) {
    let _ = JsFuture::from(js_set_texts(json)).await;
}

/// Whether this browser can take pushes and holds a subscription.
pub async fn state() -> PushState {
    PushState::parse(&text(js_state()).await)
}

/// What `pushSubscribe` resolves with.
#[derive(Deserialize)]
struct Subscribed {
    subscription: Option<PushSubscriptionInput>,
    error: Option<String>,
}

/// Turns push on: the server's key, the browser's subscription, and the
/// subscription stored on the server.
pub async fn enable(token: &str) -> Result<(), PushError> {
    let key = api::vapid_key(token).await.map_err(PushError::Api)?;
    let answer: Subscribed = serde_json::from_str(&text(js_subscribe(&key.public_key)).await)
        .map_err(|_| PushError::Browser(PushState::Unsupported))?;
    let Some(subscription) = answer.subscription else {
        let word = answer.error.unwrap_or_default();
        return Err(PushError::Browser(PushState::parse(&word)));
    };
    if let Err(err) = api::push_subscribe(token, &subscription).await {
        // The server will not push to it: do not leave the browser
        // believing it is subscribed.
        text(js_unsubscribe()).await;
        return Err(PushError::Api(err));
    }
    Ok(())
}

/// Turns push off: the browser's subscription first (so no push arrives
/// whatever the server says), then the server's copy. A 404 means the
/// server had already dropped it.
pub async fn disable(token: &str) -> Result<(), ApiError> {
    let endpoint = text(js_unsubscribe()).await;
    if endpoint.is_empty() {
        return Ok(());
    }
    match api::push_unsubscribe(token, &endpoint).await {
        Err(ApiError::Problem(p)) if p.status == 404 => Ok(()),
        other => other,
    }
}

/// Removes this browser's subscription on the server (with `token`, while
/// it still works) and in the browser: called when the session ends.
pub async fn forget(token: Option<String>) {
    let _ = JsFuture::from(js_forget(token)).await;
}
