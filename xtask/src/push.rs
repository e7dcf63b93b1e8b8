//! The Web Push peer of the server's push tests: npm `web-push-testing`
//! (pinned in `tests/push/package-lock.json`), a local push service that
//! checks the VAPID signature, decrypts `aes128gcm` messages and keeps them
//! for the test to read. [`ensure`] installs it into the ignored
//! `tests/push/node_modules` and returns the path of its server script,
//! which `cargo xtask test` hands the tests in `KUDAKYAR_TEST_WEB_PUSH`
//! (each test starts its own instance on a free port with `node`).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::browser;

pub fn ensure(root: &Path) -> Result<PathBuf> {
    let dir = root.join("tests").join("push");
    browser::ensure_node()?;
    browser::ensure_npm_packages(&dir)?;
    let script = dir
        .join("node_modules")
        .join("web-push-testing")
        .join("src")
        .join("bin")
        .join("server.js");
    if !script.exists() {
        bail!("{} is missing after npm ci", script.display());
    }
    Ok(script)
}
