//! `cargo xtask chaos [--debug]`: the full sync chaos run of issue 21 —
//! 10,000 operations queued offline in the PWA's outbox in Chromium, sent
//! through a fault-injecting proxy (20 % of requests dropped, 20 % of
//! responses dropped, 10 % duplicated, 10 % delayed 1–5 s) to the real
//! server, killed and restarted halfway; then none may be lost or doubled,
//! by the API and by the audit log. `tests/browser/chaos.mjs` says how;
//! `tests/browser/sync-chaos.test.mjs` is the short run `cargo xtask test`
//! makes. `CHAOS_OPERATIONS` and `CHAOS_SEED` change the size and the faults.

use std::path::Path;

use anyhow::Result;

use crate::browser;

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    browser::run_script(root, "chaos-run.mjs", "chaos", args)
}
