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
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{cargo, kudakyar_bin, say};
use crate::{browser, web};

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let debug = match args {
        [] => false,
        [flag] if flag == "--debug" => true,
        _ => bail!("usage: cargo xtask bench-sync [--debug]"),
    };
    let dist = web::build(root)?;
    let profile = if debug { "debug" } else { "release" };
    let mut build = vec!["build", "-p", "kudakyar", "--locked"];
    if !debug {
        build.push("--release");
    }
    cargo(root, &build)?;
    let dir = browser::prepare(root)?;
    let script = dir.join("bench-sync.mjs");
    say(format_args!("node {} ({profile} server)", script.display()));
    let status = Command::new("node")
        .arg(&script)
        .env("KUDAKYAR_BIN", kudakyar_bin(root, profile))
        .env("KUDAKYAR_WEB_DIST", &dist)
        .current_dir(root)
        .status()
        .context("could not start node")?;
    if !status.success() {
        bail!(
            "the sync benchmark failed ({status}); server log in tests/artifacts/browser/server-bench-sync.log"
        );
    }
    Ok(())
}
