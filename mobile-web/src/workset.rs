//! The worker's working set: the children of their area seen in the last 90
//! days, kept on the phone so a name or code can be looked up with no
//! network, and a profile opened offline shows the last known facts.
//!
//! - Facts: one JSON list in localStorage (`kudakyar.workset.v1`), refreshed
//!   after login and when the app starts online, at most every 15 minutes.
//!   The server's scope rules decide what the list may hold; the query adds
//!   the user's county and `seen_since` (90 days).
//! - Thumbnails: the page's Cache Storage (`kudakyar-thumbnails`), filled as
//!   thumbnails are fetched online ([`thumbnail`]). The service worker never
//!   caches the API; this cache is the app's own, explicit and bounded.
//! - Privacy: both are erased when the session ends (logout or expiry), so a
//!   shared phone does not keep children's details for the next user.

use kudakyar_api::children::Child;
use kudakyar_api::names::normalise;
use leptos::lazy;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_futures::js_sys::Date;

use crate::api::{self, ApiError};
use crate::local;

const KEY: &str = "kudakyar.workset.v1";
const THUMBNAILS: &str = "kudakyar-thumbnails";
const WINDOW_DAYS: f64 = 90.0;
const REFRESH_MS: f64 = 15.0 * 60.0 * 1000.0;
/// A working set is a team's children, not a province's: stop there.
const MAX_CHILDREN: usize = 2000;

#[derive(Serialize, Deserialize, Default)]
struct Stored {
    user_id: String,
    fetched_at: f64,
    children: Vec<Child>,
}

fn load() -> Option<Stored> {
    serde_json::from_str(&local::get(KEY)?).ok()
}

/// Fetches the working set again unless it is fresh; returns how many
/// children it holds. Errors leave the stored copy as it was.
///
/// Loaded on demand (`#[lazy]`, see `pages/deferred.rs`): it runs after
/// login, never before the first screen, and reading whole child records is
/// a large part of the wasm, so it stays out of the app shell.
#[lazy]
pub async fn refresh(
    token: String,
    user_id: String,
    county: Option<String>,
) -> Result<usize, ApiError> {
    fetch(&token, &user_id, county.as_deref()).await
}

async fn fetch(token: &str, user_id: &str, county: Option<&str>) -> Result<usize, ApiError> {
    let now = Date::now();
    if let Some(stored) = load().filter(|s| s.user_id == user_id)
        && now - stored.fetched_at < REFRESH_MS
    {
        return Ok(stored.children.len());
    }
    // Not `Date::new(&JsValue::from_f64(…))`: that is a wasm-bindgen cast,
    // which this split point cannot carry (`xtask/src/web/split.rs`).
    let since = Date::new_0();
    since.set_time(now - WINDOW_DAYS * 86_400_000.0);
    let since: String = since.to_iso_string().into();
    let mut query = format!("limit=200&seen_since={}", encode(&since));
    if let Some(county) = county {
        query.push_str(&format!("&county={}", encode(county)));
    }
    let mut children = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_query = match &cursor {
            Some(c) => format!("{query}&cursor={}", encode(c)),
            None => query.clone(),
        };
        let page = api::children(token, &page_query).await?;
        children.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || children.len() >= MAX_CHILDREN {
            break;
        }
    }
    let count = children.len();
    let stored = Stored {
        user_id: user_id.to_owned(),
        fetched_at: now,
        children,
    };
    if let Ok(raw) = serde_json::to_string(&stored) {
        local::set(KEY, &raw);
    }
    Ok(count)
}

/// How many children the phone holds for offline lookup.
pub fn count() -> usize {
    load().map_or(0, |s| s.children.len())
}

/// The stored copy of a child, if it is in the working set.
pub fn child(id: &str) -> Option<Child> {
    load()?.children.into_iter().find(|c| c.id == id)
}

/// Offline search: a registry code (exact) or names and aliases containing
/// the query, folded as the server folds them.
pub fn search(query: &str) -> Vec<Child> {
    let q = normalise(query);
    if q.is_empty() {
        return Vec::new();
    }
    load()
        .map(|s| s.children.into_iter().filter(|c| matches(c, &q)).collect())
        .unwrap_or_default()
}

fn matches(child: &Child, q: &str) -> bool {
    let f = &child.facts;
    let full = [f.given_name.as_deref(), f.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    child.registry_code == q
        || std::iter::once(&full)
            .chain(f.father_name.as_ref())
            .chain(&f.aliases)
            .any(|n| normalise(n).contains(q))
}

/// Erases the working set and the cached thumbnails (the session ended).
pub fn clear() {
    local::remove(KEY);
    if let Ok(caches) = leptos::prelude::window().caches() {
        let _ = caches.delete(THUMBNAILS);
    }
}

/// An object URL for an authenticated thumbnail: from the network when
/// possible (and then kept in the cache), else from the cache.
pub async fn thumbnail(token: &str, url: &str) -> Option<String> {
    let cache = open_cache().await;
    let resp = match api::image_bytes(token, url).await {
        Ok(mut bytes) => {
            let resp = web_sys::Response::new_with_opt_u8_array(Some(&mut bytes)).ok()?;
            if let (Some(cache), Ok(copy)) = (&cache, resp.clone()) {
                let _ = JsFuture::from(cache.put_with_str(url, &copy)).await;
            }
            resp
        }
        Err(_) => JsFuture::from(cache?.match_with_str(url))
            .await
            .ok()?
            .dyn_into()
            .ok()?,
    };
    let blob: web_sys::Blob = JsFuture::from(resp.blob().ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

async fn open_cache() -> Option<web_sys::Cache> {
    let caches = leptos::prelude::window().caches().ok()?;
    JsFuture::from(caches.open(THUMBNAILS))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    String::from(wasm_bindgen_futures::js_sys::encode_uri_component(s))
}
