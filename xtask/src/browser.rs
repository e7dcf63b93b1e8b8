//! The real-browser tests of the PWA (`tests/browser/`), as `cargo xtask test`
//! and CI run them: Debian's Chromium driven by npm `playwright-core` under
//! Node's built-in test runner, against the real server and PWA build.
//!
//! [`run`] only provides what the tests need and runs them: Chromium from
//! Debian when `/usr/bin/chromium` is missing (CI runs as root on a machine
//! that may be new), the npm packages from the committed lock file, then
//! `node --test`. It builds nothing: the caller builds the PWA and the server
//! first and names them in `KUDAKYAR_WEB_DIST` and `KUDAKYAR_BIN`, which the
//! tests read. Browsers are never downloaded by Playwright (that cannot work
//! here); Debian's package is the only browser.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::util::{self, say};

const CHROMIUM: &str = "/usr/bin/chromium";
/// `node --test` with directories and `--test-reporter` needs Node 20.
const MIN_NODE_MAJOR: u32 = 20;

/// Runs the browser test `files` (paths from the workspace root; every
/// `tests/browser/*.test.mjs` when empty) against the PWA build `dist` and the
/// server binary `bin`; fails if any test fails.
pub fn run(root: &Path, dist: &Path, bin: &Path, files: &[String]) -> Result<()> {
    let dir = prepare(root)?;
    let files: Vec<PathBuf> = if files.is_empty() {
        test_files(&dir)?
            .into_iter()
            .map(|f| f.strip_prefix(root).map(Path::to_path_buf).unwrap_or(f))
            .collect()
    } else {
        files.iter().map(PathBuf::from).collect()
    };
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-reporter=spec"])
        .args(&files)
        .env("KUDAKYAR_WEB_DIST", dist)
        .env("KUDAKYAR_BIN", bin)
        .current_dir(root);
    util::run(&mut cmd)
        .context("browser tests failed (screenshots and server logs in tests/artifacts/browser/)")
}

/// `cargo xtask NAME [--debug]` for a Node script of `tests/browser` that is
/// a bench or a long run rather than a test (`bench-sync.mjs`,
/// `chaos-run.mjs`): builds the PWA and the server (release by default, as
/// served; `--debug` for the quicker debug build), provides Chromium and the
/// npm packages like the tests, and runs the script with the same
/// `KUDAKYAR_BIN` and `KUDAKYAR_WEB_DIST`. Its own variables pass through.
pub fn run_script(root: &Path, script: &str, name: &str, args: &[String]) -> Result<()> {
    let debug = match args {
        [] => false,
        [flag] if flag == "--debug" => true,
        _ => bail!("usage: cargo xtask {name} [--debug]"),
    };
    let dist = crate::web::build(root)?;
    let profile = if debug { "debug" } else { "release" };
    let mut build = vec!["build", "-p", "kudakyar", "--locked"];
    if !debug {
        build.push("--release");
    }
    util::cargo(root, &build)?;
    let script = prepare(root)?.join(script);
    say(format_args!("node {} ({profile} server)", script.display()));
    let status = Command::new("node")
        .arg(&script)
        .env("KUDAKYAR_BIN", util::kudakyar_bin(root, profile))
        .env("KUDAKYAR_WEB_DIST", &dist)
        .current_dir(root)
        .status()
        .context("could not start node")?;
    if !status.success() {
        bail!("{name} failed ({status}); server log in tests/artifacts/browser/server-{name}.log");
    }
    Ok(())
}

/// Chromium, Node and the pinned npm packages, installed when missing;
/// returns `root/tests/browser`.
pub fn prepare(root: &Path) -> Result<PathBuf> {
    let dir = root.join("tests").join("browser");
    ensure_chromium()?;
    ensure_node()?;
    ensure_npm_packages(&dir)?;
    Ok(dir)
}

/// Installs Debian's `chromium` when it is missing (also for `lighthouse.rs`).
pub(crate) fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    say(format_args!(
        "{CHROMIUM} is missing: installing Debian's chromium package"
    ));
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        util::run(&mut cmd)
    };
    apt(&["update"]).context("apt-get update failed (installing packages needs root)")?;
    apt(&["install", "-y", "chromium"]).context("could not install Debian's chromium")?;
    if !Path::new(CHROMIUM).exists() {
        bail!("chromium was installed but {CHROMIUM} is still missing");
    }
    Ok(())
}

/// Checks that Node.js (recent enough) and npm are on PATH (also for the PWA
/// build's npm packages, `web.rs`, and `lighthouse.rs`).
pub(crate) fn ensure_node() -> Result<()> {
    let version = tool_version("node")?;
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .with_context(|| format!("cannot read the Node.js version from {version:?}"))?;
    if major < MIN_NODE_MAJOR {
        bail!(
            "the PWA build and browser tests need Node.js {MIN_NODE_MAJOR} or newer; found {version}"
        );
    }
    tool_version("npm")?;
    Ok(())
}

fn tool_version(tool: &str) -> Result<String> {
    let missing = || {
        format!(
            "`{tool}` is needed for the PWA build and the browser tests but was not found on PATH; install Node.js and npm (e.g. `apt-get install -y nodejs npm`)"
        )
    };
    let out = Command::new(tool)
        .arg("--version")
        .output()
        .with_context(missing)?;
    if !out.status.success() {
        bail!("{}: `{tool} --version` failed ({})", missing(), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `npm ci` in `dir` when its node_modules is missing or older than its
/// package-lock.json. npm writes `node_modules/.package-lock.json` on every
/// install, so its modification time says when node_modules was last brought
/// up to date.
pub(crate) fn ensure_npm_packages(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules").join(".package-lock.json");
    let lock_time = modified(&lock).with_context(|| format!("{} is missing", lock.display()))?;
    let shown = dir.display();
    match modified(&stamp) {
        Some(installed) if installed >= lock_time => return Ok(()),
        Some(_) => say(format_args!(
            "{shown}/package-lock.json changed: reinstalling the npm packages"
        )),
        None => say(format_args!(
            "{shown}/node_modules is missing: installing the npm packages"
        )),
    }
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    util::run(&mut cmd)
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The `*.test.mjs` files, sorted. Listed here rather than handing node the
/// directory, whose meaning changed across Node versions (path vs glob).
fn test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".test.mjs"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no *.test.mjs files in {}", dir.display());
    }
    Ok(files)
}
