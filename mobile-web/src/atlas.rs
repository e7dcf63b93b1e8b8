//! The atlas map on this phone: a binding of `atlas.js`, which loads the map
//! module (Leaflet and `atlas/map.js`) the first time it is called.
//!
//! [`open`] opens a map (the atlas's, the triage's); [`call`] runs one of
//! the module's commands (`open`, `counties`, `hexes`, `hotspots`,
//! `reports`, `show`, `close`, `download`; see `atlas/map.js`) with a JSON
//! argument and answers its string; [`first_answer`] takes what `boot.js`
//! fetched for the atlas's first map before the app ran. Strings only: code loaded on demand
//! must not convert other JS values (see `xtask/src/web/split.rs`).

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_futures::js_sys::Promise;

#[wasm_bindgen(module = "/atlas.js")]
extern "C" {
    #[wasm_bindgen(js_name = atlasCall)]
    fn js_call(command: &str, json: &str) -> Promise;

    #[wasm_bindgen(js_name = atlasFirstAnswer)]
    fn js_first_answer(url: &str) -> Promise;
}

/// The answer `boot.js` asked for `url` (`/api/v1/…`) before the app ran,
/// when the atlas was opened by its address: once, and `None` when it was
/// not asked for or failed.
pub async fn first_answer(url: &str) -> Option<String> {
    let text = JsFuture::from(js_first_answer(url))
        .await
        .ok()?
        .as_string()?;
    (!text.is_empty()).then_some(text)
}

/// Opens a map in element `el` (named `label` for screen readers); the
/// module reads the basemap the server wrote into the page itself.
pub async fn open(el: &str, label: &str) -> Result<String, ()> {
    // A pair, not a struct or `json!`: this runs from two screens' chunks,
    // so it stays in the app shell, which has serde's string code already.
    call(
        "open",
        &serde_json::to_string(&[el, label]).map_err(|_| ())?,
    )
    .await
}

/// Runs `command` with `json`; `Err` when the module could not be loaded
/// (offline before the service worker cached it) or the command failed.
pub async fn call(command: &str, json: &str) -> Result<String, ()> {
    JsFuture::from(js_call(command, json))
        .await
        .map(|v| v.as_string().unwrap_or_default())
        .map_err(|_| ())
}
