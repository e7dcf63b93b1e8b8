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
//! ```
//!
//! The budget: what a first visit downloads before the page can be used —
//! the page, its modules, its styles — at most [`BUDGET_KB`] gzipped (fonts
//! apart, as for the app shell); the build fails above it.

use std::path::Path;

use anyhow::{Result, ensure};
use sha2::{Digest, Sha256};

use super::{FONT_PLACEHOLDER, Output, fill, gzipped_len, minify, precache_json, read_text};
use crate::util::say;

/// The issue's budget for the citizen page before it can be used, gzipped.
const BUDGET_KB: f64 = 60.0;

/// Writes the citizen page into `staging`; `font` is the hashed Vazirmatn
/// the app's output already wrote.
pub(super) fn write(web: &Path, staging: &Path, font: &str) -> Result<()> {
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
    let script = out.hashed(
        "citizen/report-{}.js",
        module(
            "report.js",
            &[
                ("__PHOTO_JS__", &photo_import),
                ("__QUEUE_JS__", &queue_import),
                ("__POW_WORKER_JS__", &pow_worker),
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
