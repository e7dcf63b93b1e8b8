//! The citizens' report page (`mobile-web/citizen/`): its own small entry,
//! plain ES modules and no wasm, written into the same `dist` as the workers'
//! app but with its own precache list and service worker, so neither weighs
//! on the other.
//!
//! ```text
//! dist/report.html                        the page (not hashed: no-cache), served at /report
//! dist/report-sw.js                       its service worker (scope /report; not hashed)
//! dist/citizen/report-<hash16>.js         the page's module
//! dist/citizen/queue-<hash16>.js          the outbox (IndexedDB), shared with the worker
//! dist/citizen/pow-<hash16>.js            the proof-of-work search
//! dist/citizen/pow-worker-<hash16>.js     the Web Worker running it
//! dist/citizen/photo-<hash16>.js          the photo downscaling (mobile-web/outbox-photo.js)
//! dist/citizen/report-<hash16>.css        styles (the font is the app's hashed Vazirmatn)
//! dist/citizen/picker-<hash16>.js         the map picker, imported when the reporter opens
//!                                         the map (with the atlas's Leaflet and stylesheet)
//! dist/citizen/provinces-<hash16>.json    the provinces' outlines it draws (Natural Earth,
//!                                         assets/geo, the server's built-in outlines)
//! ```
//!
//! The picker, Leaflet and the outlines are not in the page's service
//! worker cache: most reporters never open the map, and a map without the
//! network has no basemap to pick on.
//!
//! The budget: what a first visit downloads before the page can be used —
//! the page, its modules, its styles — at most [`BUDGET_KB`] gzipped (fonts
//! apart, as for the app shell); the build fails above it.

use std::path::Path;

use anyhow::{Result, ensure};
use sha2::{Digest, Sha256};

use super::atlas::Atlas;
use super::{FONT_PLACEHOLDER, Output, fill, gzipped_len, minify, precache_json, read, read_text};
use crate::util::say;

/// The issue's budget for the citizen page before it can be used, gzipped.
const BUDGET_KB: f64 = 60.0;

/// Writes the citizen page into `staging`; `font` is the hashed Vazirmatn
/// and `atlas` the map files the app's output already wrote.
pub(super) fn write(web: &Path, staging: &Path, font: &str, atlas: &Atlas) -> Result<()> {
    let src = web.join("citizen");
    let mut out = Output {
        dir: staging.to_path_buf(),
        files: Vec::new(),
        contents: Sha256::new(),
    };
    let module = |name: &str, values: &[(&str, &str)]| -> Result<String> {
        let text = fill(&read_text(&src.join(name))?, values)?;
        minify(web, &text)
    };
    let pow = out.hashed("citizen/pow-{}.js", module("pow.js", &[])?.as_bytes())?;
    let pow_import = format!("/{pow}");
    let pow_worker = out.hashed(
        "citizen/pow-worker-{}.js",
        module("pow-worker.js", &[("__POW_JS__", &pow_import)])?.as_bytes(),
    )?;
    let queue = out.hashed(
        "citizen/queue-{}.js",
        module("report-queue.js", &[])?.as_bytes(),
    )?;
    let queue_import = format!("/{queue}");
    let photo = out.hashed(
        "citizen/photo-{}.js",
        minify(web, &read_text(&web.join("outbox-photo.js"))?)?.as_bytes(),
    )?;
    let photo_import = format!("/{photo}");
    // Written, not listed for the page's cache (see above).
    let outlines = read(&web.join("../assets/geo/ne-admin1-iran.geojson"))?;
    let outlines = out.hashed_unlisted("citizen/provinces-{}.json", &outlines)?;
    let picker = out.hashed_unlisted(
        "citizen/picker-{}.js",
        module(
            "picker.js",
            &[
                ("__LEAFLET_JS__", &format!("/{}", atlas.leaflet)),
                ("__ATLAS_CSS__", &format!("/{}", atlas.css)),
                ("__PROVINCES_GEOJSON__", &format!("/{outlines}")),
            ],
        )?
        .as_bytes(),
    )?;
    let script = out.hashed(
        "citizen/report-{}.js",
        module(
            "report.js",
            &[
                ("__PHOTO_JS__", &photo_import),
                ("__QUEUE_JS__", &queue_import),
                ("__POW_WORKER_JS__", &pow_worker),
                ("__PICKER_JS__", &format!("/{picker}")),
            ],
        )?
        .as_bytes(),
    )?;
    let css = fill(
        &read_text(&src.join("report.css"))?,
        &[(FONT_PLACEHOLDER, font)],
    )?;
    let css = out.hashed("citizen/report-{}.css", css.as_bytes())?;
    let page = fill(
        &read_text(&src.join("report.html"))?,
        &[("__REPORT_CSS__", &css), ("__REPORT_JS__", &script)],
    )?;
    std::fs::write(staging.join("report.html"), &page)?;

    // Listed for the worker's cache but not written again: the font is the
    // app's own file.
    let mut cached = out.files.clone();
    cached.push(format!("/{font}"));
    let version = hex::encode(out.contents.clone().finalize())[..16].to_owned();
    let sw = fill(
        &read_text(&src.join("report-sw.js"))?,
        &[
            ("__PRECACHE__", precache_json(&cached, &version).trim_end()),
            ("__QUEUE_JS__", &queue_import),
            ("__POW_JS__", &pow_import),
        ],
    )?;
    std::fs::write(staging.join("report-sw.js"), minify(web, &sw)?)?;

    // Before use: the page and everything it loads at once (the proof-of-work
    // worker only starts when the server asks for a stamp).
    let mut before_use = gzipped_len(page.as_bytes())?;
    for name in [&script, &queue, &photo, &css] {
        before_use += gzipped_len(&std::fs::read(staging.join(name))?)?;
    }
    let kb = before_use as f64 / 1000.0;
    say(format_args!(
        "citizen report page before use: {kb:.1} KB gzipped (budget {BUDGET_KB} KB)"
    ));
    ensure!(
        kb <= BUDGET_KB,
        "the citizen report page is over its budget: {kb:.1} KB > {BUDGET_KB} KB gzipped"
    );
    Ok(())
}
