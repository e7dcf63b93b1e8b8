//! The offline outbox, as the UI sees it.
//!
//! Storage and sync live in `outbox.js` (IndexedDB, blobs, FormData, fetch:
//! cheap in JS, costly as wasm bindings); this module binds its few functions
//! and turns its status reports into a signal every page can read.
//!
//! The flow: a page builds the request body with the `kudakyar-api` types
//! (so the server's vocabulary is checked at compile time), gives it a client
//! id from [`new_id`] and queues it; `outbox.js` stores it, sends it when the
//! network allows, and reports after every change.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_futures::js_sys::Promise;

use crate::session::{Auth, use_session};

// `outbox.js` imports these two by relative path. wasm-bindgen copies a JS
// file into `snippets/` only when something is imported from it, so one
// function of each is declared here, never called.
#[wasm_bindgen(module = "/outbox-store.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(js_name = readToken)]
    fn js_read_token() -> Promise;
}
#[wasm_bindgen(module = "/outbox-photo.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(js_name = downscalePhoto)]
    fn js_downscale_photo(photo: &web_sys::Blob) -> Promise;
}

#[wasm_bindgen(module = "/outbox.js")]
extern "C" {
    #[wasm_bindgen(js_name = newId)]
    fn js_new_id() -> String;
    #[wasm_bindgen(js_name = outboxStart)]
    fn js_start(on_status: &Closure<dyn Fn(String)>);
    #[wasm_bindgen(js_name = outboxSetToken)]
    fn js_set_token(token: Option<String>, user: Option<String>);
    #[wasm_bindgen(js_name = outboxLogout)]
    fn js_logout() -> Promise;
    #[wasm_bindgen(js_name = outboxSendWithoutIris)]
    fn js_send_without_iris(id: &str) -> Promise;
    #[wasm_bindgen(js_name = outboxEnqueueRegistration)]
    fn js_enqueue_registration(
        label: &str,
        child: &str,
        photo: Option<web_sys::File>,
        left: Option<web_sys::File>,
        right: Option<web_sys::File>,
        decision: &str,
    ) -> Promise;
    #[wasm_bindgen(js_name = outboxEnqueueIris)]
    fn js_enqueue_iris(
        label: &str,
        child_id: &str,
        left: Option<web_sys::File>,
        right: Option<web_sys::File>,
    ) -> Promise;
    #[wasm_bindgen(js_name = outboxEnqueuePhoto)]
    fn js_enqueue_photo(label: &str, child_id: &str, photo: web_sys::File) -> Promise;
    #[wasm_bindgen(js_name = outboxEnqueueJson)]
    fn js_enqueue_json(
        label: &str,
        method: &str,
        path: &str,
        body: &str,
        child_id: Option<String>,
    ) -> Promise;
    #[wasm_bindgen(js_name = outboxResolve)]
    fn js_resolve(id: &str, replacement: Option<String>) -> Promise;
    #[wasm_bindgen(js_name = nowIso)]
    fn js_now_iso() -> String;
    #[wasm_bindgen(js_name = currentPosition)]
    fn js_current_position() -> Promise;
    #[wasm_bindgen(js_name = outboxRetry)]
    fn js_retry(id: &str);
    #[wasm_bindgen(js_name = outboxSync)]
    fn js_sync();
}

/// The queue as `outbox.js` reports it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Status {
    pub pending: u32,
    pub syncing: bool,
    pub online: bool,
    /// Milliseconds since the epoch of the last answer from the server.
    pub last_sync: Option<f64>,
    pub error: Option<SyncError>,
    pub items: Vec<Item>,
}

/// Why the sync stopped: `network`, `unauthorized` or `server`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SyncError {
    pub kind: String,
    pub status: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Item {
    pub id: String,
    /// `registration`, `iris`, `photo`, `encounter` or `json`.
    pub kind: String,
    pub label: String,
    /// `pending`, `conflict`, `failed` or `done`.
    pub state: String,
    /// Where it goes, e.g. `PATCH` `/api/v1/children/{id}`.
    pub method: String,
    pub path: String,
    /// The child it is about (a registration's own id); `None` for others.
    pub child_id: Option<String>,
    /// On a conflict: the JSON body sent (a registration's `NewChild`), to
    /// build a replacement from.
    pub body: Option<String>,
    /// A registration with iris captures (it can be sent without them).
    #[serde(default)]
    pub has_iris: bool,
    /// The refused registration this item waits on, if any.
    #[serde(default)]
    pub blocked_by: Option<String>,
    /// Settled by [`resolve`] with the server's values, never sent.
    #[serde(default)]
    pub resolved: bool,
    pub error: Option<ItemError>,
    pub result: Option<ItemResult>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ItemError {
    pub status: u16,
    pub detail: Option<String>,
    /// On a 409: the record the server already has under this id.
    pub stored: Option<serde_json::Value>,
    /// On a 409 to an update: `[{field, stored, yours}]`, the fields both
    /// sides changed, with both values.
    pub conflicts: Option<serde_json::Value>,
}

/// What the server answered to a registration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ItemResult {
    pub registry_code: Option<String>,
    /// `confirmed` or `pending_review`.
    pub identity: Option<String>,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Candidate {
    pub registry_code: String,
    /// Empty once the item is sent: other children's names stay on the server.
    #[serde(default)]
    pub name: String,
    pub distance: f32,
}

/// Copyable handle to the outbox state; get it with [`use_outbox`].
#[derive(Clone, Copy)]
pub struct Outbox {
    pub status: RwSignal<Status>,
}

pub fn use_outbox() -> Outbox {
    expect_context::<Outbox>()
}

impl Outbox {
    /// Starts `outbox.js`, provides the handle as context and keeps the
    /// outbox's token in step with the session. A 401 during sync re-checks
    /// the session, which shows the login page if it has expired; the queue
    /// itself is kept whatever happens to the session.
    pub fn provide() -> Outbox {
        let outbox = Outbox {
            // Assumed online until `outbox.js` reports (see the effect below).
            status: RwSignal::new(Status {
                online: true,
                ..Status::default()
            }),
        };
        provide_context(outbox);
        let status = outbox.status;
        let on_status = Closure::<dyn Fn(String)>::new(move |json: String| {
            if let Ok(s) = serde_json::from_str::<Status>(&json) {
                status.set(s);
            }
        });
        js_start(&on_status);
        // The outbox lives as long as the page.
        on_status.forget();

        let session = use_session();
        // Each user has their own queue: the outbox sends only the items of
        // the user the token belongs to, so it waits until that is known.
        Effect::new(move |_| match session.auth.get() {
            Auth::LoggedIn { token, user } => js_set_token(Some(token), Some(user.id)),
            Auth::Restoring { token } => js_set_token(Some(token), None),
            Auth::LoggedOut => js_set_token(None, None),
        });
        Effect::new(move |prev: Option<bool>| {
            let unauthorized =
                status.with(|s| s.error.as_ref().is_some_and(|e| e.kind == "unauthorized"));
            if unauthorized && prev == Some(false) {
                session.revalidate();
            }
            unauthorized
        });
        // Back online: re-check the session too, so a "could not reach the
        // server" banner from an offline start goes away.
        Effect::new(move |prev: Option<bool>| {
            let online = status.with(|s| s.online);
            if online && prev == Some(false) {
                session.revalidate();
            }
            online
        });
        outbox
    }

    pub fn retry(&self, id: &str) {
        js_retry(id);
    }

    /// Sends a refused registration again without its iris captures.
    pub fn send_without_iris(&self, id: &str) {
        let promise = js_send_without_iris(id);
        leptos::task::spawn_local(async move {
            let _ = done(promise).await;
        });
    }

    /// The user's items not yet accepted by the server (pending, failed or
    /// in conflict): logging out keeps them on the phone for the next login.
    pub fn unsent(&self) -> usize {
        self.status
            .with_untracked(|s| s.items.iter().filter(|i| i.state != "done").count())
    }

    pub fn sync_now(&self) {
        js_sync();
    }
}

/// Before logging out: deletes the user's sent items from the phone and
/// stops the sync; unsent items stay for the user's next login.
pub async fn logout() {
    let _ = done(js_logout()).await;
}

/// A new client id (UUID v4) for a create.
pub fn new_id() -> String {
    js_new_id()
}

async fn done(promise: Promise) -> Result<(), JsValue> {
    JsFuture::from(promise).await.map(|_| ())
}

/// Queues a registration (`child` is the `NewChild` JSON with its id);
/// returns once it is stored on the phone. The photo is downscaled to at most
/// 1600 px first; the iris captures are kept whole. `decision` is
/// `unreviewed` (nobody saw duplicate candidates) or `new_child` (the worker
/// saw them and said this is another child).
pub async fn enqueue_registration(
    label: &str,
    child: &str,
    photo: Option<web_sys::File>,
    left: Option<web_sys::File>,
    right: Option<web_sys::File>,
    decision: &str,
) -> Result<(), JsValue> {
    done(js_enqueue_registration(
        label, child, photo, left, right, decision,
    ))
    .await
}

/// Queues iris captures for the child `child_id` («same child»).
pub async fn enqueue_iris(
    label: &str,
    child_id: &str,
    left: Option<web_sys::File>,
    right: Option<web_sys::File>,
) -> Result<(), JsValue> {
    done(js_enqueue_iris(label, child_id, left, right)).await
}

/// Queues a photo of the child `child_id` (downscaled, with a client id).
pub async fn enqueue_photo(
    label: &str,
    child_id: &str,
    photo: web_sys::File,
) -> Result<(), JsValue> {
    done(js_enqueue_photo(label, child_id, photo)).await
}

/// Queues a JSON write: `method` (`POST`, `PATCH`…) to the API `path` with
/// `body` (a create's body carries its client `id`). With `child_id`, it is
/// sent only after that child's queued registration, and after the earlier
/// writes about the same child.
pub async fn enqueue_json(
    label: &str,
    method: &str,
    path: &str,
    body: &str,
    child_id: Option<&str>,
) -> Result<(), JsValue> {
    done(js_enqueue_json(
        label,
        method,
        path,
        body,
        child_id.map(str::to_owned),
    ))
    .await
}

/// Settles a conflict: `None` keeps the server's values (the item is done,
/// not sent); `Some(body)` replaces the item's body (e.g. a `ChildUpdate`
/// with the server's current `base_version`) and sends it again.
pub async fn resolve(id: &str, replacement: Option<&str>) -> Result<(), JsValue> {
    done(js_resolve(id, replacement.map(str::to_owned))).await
}

/// Now, as RFC 3339.
pub fn now_rfc3339() -> String {
    js_now_iso()
}

/// A position fix from the phone.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lng: f64,
    pub accuracy: Option<f64>,
}

/// The phone's position (GPS works offline); `None` if refused or unavailable.
pub async fn current_position() -> Option<Position> {
    let json = JsFuture::from(js_current_position())
        .await
        .ok()?
        .as_string()?;
    serde_json::from_str(&json).ok()
}
