//! `cargo xtask bench-sync [--debug]`: how fast the PWA's outbox empties
//! (issue 6's target: 1,000 queued records in ≤ 10 s against a local server).
//!
//! A benchmark, not a test: it prints the figure and fails only when records
//! go missing or double, never on time. It builds the PWA and the server
//! (release by default, as served; `--debug` for the quicker debug build),
//! provides Chromium and the npm packages like the browser tests, and runs
//! `tests/browser/bench-sync.mjs`, which says what it measures.
//! `BENCH_SYNC_RECORDS` changes the number of records (default 1,000),
//! `BENCH_SYNC_CONCURRENCY` the requests in flight (default 6, as shipped),
//! `BENCH_SYNC_CPU_SLOWDOWN` how much slower the page's CPU runs (default 1;
//! 4 is Lighthouse's mobile preset, a cheap phone) and `BENCH_SYNC_TRACE` a
//! file for a Chrome trace of the sync.

use std::path::Path;

use anyhow::Result;

use crate::browser;

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    browser::run_script(root, "bench-sync.mjs", "bench-sync", args)
}
