//! Builds the PWA (`mobile-web`) into `mobile-web/dist`, ready to serve.
//!
//! [`build`] runs these steps, each announced on stderr as `xtask: …`:
//! 0. `npm ci` the PWA's npm packages (`mobile-web/package.json`: the
//!    Vazirmatn font it ships, terser which minifies its JS) into the ignored
//!    `mobile-web/node_modules`, from the committed lock file;
//! 1. make sure the `wasm32-unknown-unknown` target is installed (rustup);
//! 2. make sure the wasm-bindgen CLI matches the `wasm-bindgen` crate version
//!    in Cargo.lock exactly (the CLI refuses wasm from another version), and
//!    `cargo install` it otherwise;
//! 3. `cargo build` the crate for wasm with the size-optimised `wasm-release`
//!    profile (honouring `CARGO_TARGET_DIR`; the wasm rustflags are in
//!    `.cargo/config.toml`);
//! 4. split the screens loaded on demand out of the main module ([`split`]);
//! 5. generate the JS glue with `wasm-bindgen --target web`, then drop the
//!    wasm's function-name section (about 40% of the file; only useful for
//!    stack traces in a debugger; [`wasm_names`]);
//! 6. write `dist/` ([`dist`]) with content-hashed names (the JS minified), so the server can cache them
//!    forever (`immutable`) and only `index.html` is revalidated:
//!
//! ```text
//! dist/index.html                          the page (not hashed: no-cache)
//! dist/precache.json                       files for the service worker
//! dist/sw.js                               the service worker (not hashed:
//!                                          no-cache), precache list inlined
//! dist/app-<hash16>.css                    styles      (mobile-web/app.css)
//! dist/boot-<hash16>.js                    loader      (mobile-web/boot.js)
//! dist/kudakyar-web-<hash16>.js            wasm-bindgen glue
//! dist/kudakyar-web-<hash16>_bg.wasm       the app shell
//! dist/wasm-split-<hash16>.js              loads the chunks (split.rs)
//! dist/split_<name>_…-<hash16>.wasm, …     code loaded on demand: one chunk
//! dist/chunk_<n>-<hash16>.wasm, …          per split point, and shared ones
//! dist/fonts/vazirmatn-<hash16>.woff2      Vazirmatn (npm `vazirmatn`), named
//!                                          in app.css
//! dist/fonts/OFL.txt                       the font's licence (the OFL asks
//!                                          that it travel with the font)
//! dist/…                                   assets/web/* copied verbatim
//! ```
//!
//! Names are hashed leaf-first: the wasm, glue and font, then the stylesheet
//! and loader that name them, then the page that names those. The new `dist` is assembled
//! next to the old one and swapped in at the end, so a failed build leaves
//! the previous one intact.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::browser;
use crate::util::{cargo_command, cargo_home, output, run, say, target_dir};

mod dist;
mod split;
mod wasm_names;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";
const CRATE: &str = "kudakyar-web";

/// The font's npm package (`mobile-web/package.json`) and what is taken from
/// it: the variable font (one file for every weight, 100–900) in its
/// Non-Latin cut, which has the Persian letters and digits but leaves Latin
/// text to the system font. Android's system font is Roboto, the very Latin
/// that the full cut embeds, so the phone shows the same glyphs for 48 KB
/// instead of 111 KB, and a first visit on a slow network gets the wasm
/// sooner (Lighthouse's LCP about 0.2 s better, `cargo xtask lighthouse`).
/// The full cut is `fonts/webfonts/Vazirmatn[wght].woff2`.
const FONT_PACKAGE: &str = "vazirmatn";
const FONT_FILE: &str = "misc/Non-Latin/fonts/webfonts/Vazirmatn-NL[wght].woff2";
const FONT_LICENCE: &str = "OFL.txt";
/// Where the hashed font's URL goes in `app.css` and `index.html`.
const FONT_PLACEHOLDER: &str = "__VAZIRMATN_WOFF2__";
/// The issue's budget for the app shell without fonts, gzipped.
const SHELL_BUDGET_KB: f64 = 250.0;

/// Builds the PWA and returns the path of `<root>/mobile-web/dist`.
pub fn build(root: &Path) -> Result<PathBuf> {
    browser::ensure_node()?;
    browser::ensure_npm_packages(&root.join("mobile-web"))?;
    ensure_wasm_target(root)?;
    let wasm_bindgen = ensure_wasm_bindgen(root)?;
    let wasm = cargo_build(root)?;
    say("splitting the screens loaded on demand out of the app shell");
    let split = split::split(&wasm, &target_dir(root).join("kudakyar-web-split"))?;
    let glue = target_dir(root).join("kudakyar-web-bindgen");
    run_wasm_bindgen(&wasm_bindgen, &split.main, &glue)?;
    let dist = root.join("mobile-web").join("dist");
    dist::write(root, &glue, &split, &dist)?;
    Ok(dist)
}

fn ensure_wasm_target(root: &Path) -> Result<()> {
    let installed = output(
        Command::new("rustup")
            .args(["target", "list", "--installed"])
            .current_dir(root),
    );
    match installed {
        Some(list) if list.lines().any(|l| l.trim() == WASM_TARGET) => {
            say(format_args!("{WASM_TARGET} target: installed"));
            Ok(())
        }
        Some(_) => {
            say(format_args!(
                "{WASM_TARGET} target missing: rustup target add {WASM_TARGET}"
            ));
            run(Command::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .current_dir(root))
        }
        // No rustup (e.g. a distribution's Rust): cargo build will say
        // clearly if the target's standard library is missing.
        None => {
            say("rustup not found; assuming the wasm target is available");
            Ok(())
        }
    }
}

/// Returns a wasm-bindgen CLI whose version equals the locked crate version,
/// installing it with `cargo install` when none is found.
fn ensure_wasm_bindgen(root: &Path) -> Result<PathBuf> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let want = locked_version(&lock, "wasm-bindgen")?;
    let installed = cargo_home().join("bin").join("wasm-bindgen");
    let candidates = [PathBuf::from("wasm-bindgen"), installed.clone()];
    for cli in candidates {
        if cli_version(&cli).as_deref() == Some(want.as_str()) {
            say(format_args!(
                "wasm-bindgen {want}: found ({})",
                cli.display()
            ));
            return Ok(cli);
        }
    }
    say(format_args!(
        "wasm-bindgen {want} (the version in Cargo.lock) not found: \
         cargo install wasm-bindgen-cli --version {want} (takes a few minutes)"
    ));
    // Not `--locked`: the CLI's own lock file does not build on current
    // toolchains; its dependencies resolve fine without it.
    run(cargo_command().args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    let got = cli_version(&installed);
    ensure!(
        got.as_deref() == Some(want.as_str()),
        "installed wasm-bindgen at {} reports {got:?}, expected {want}",
        installed.display()
    );
    Ok(installed)
}

/// `wasm-bindgen 0.2.130` → `0.2.130`; `None` if the CLI cannot run.
fn cli_version(cli: &Path) -> Option<String> {
    let out = output(Command::new(cli).arg("--version"))?;
    out.split_whitespace().nth(1).map(str::to_owned)
}

/// The version of package `name` in a Cargo.lock; an error if it is absent
/// or locked at several versions (then no single CLI would fit).
fn locked_version(lock: &str, name: &str) -> Result<String> {
    let mut versions = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.trim().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_owned())
            })
        };
        if field("name").as_deref() == Some(name) {
            versions.extend(field("version"));
        }
    }
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("Cargo.lock has no `{name}` package"),
        many => bail!("Cargo.lock has several `{name}` versions: {many:?}"),
    }
}

/// Builds the wasm and returns the path cargo wrote it to.
fn cargo_build(root: &Path) -> Result<PathBuf> {
    say(format_args!(
        "building {CRATE} for {WASM_TARGET} (profile {PROFILE})"
    ));
    run(cargo_command()
        .args([
            "build",
            "-p",
            CRATE,
            "--target",
            WASM_TARGET,
            "--profile",
            PROFILE,
        ])
        .current_dir(root))?;
    let wasm = target_dir(root)
        .join(WASM_TARGET)
        .join(PROFILE)
        .join(format!("{CRATE}.wasm"));
    ensure!(wasm.is_file(), "cargo built no {}", wasm.display());
    Ok(wasm)
}

/// Writes `<out>/kudakyar-web.js` and `<out>/kudakyar-web_bg.wasm`.
fn run_wasm_bindgen(cli: &Path, wasm: &Path, out: &Path) -> Result<()> {
    say("generating JS bindings (wasm-bindgen --target web)");
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
    }
    run(Command::new(cli)
        // `--keep-lld-exports`: the split chunks link against the main
        // module's exports (memory, table, shared functions).
        .args(["--target", "web", "--no-typescript", "--keep-lld-exports"])
        .args(["--out-name", CRATE])
        .arg("--out-dir")
        .arg(out)
        .arg(wasm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_locked_version() {
        let lock = "version = 4\n\n[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"0.2.1\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\nsource = \"x\"\n";
        assert_eq!(locked_version(lock, "wasm-bindgen").unwrap(), "0.2.130");
        assert!(locked_version(lock, "leptos").is_err());
    }

    #[test]
    fn refuses_several_locked_versions() {
        let lock = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\
                    [[package]]\nname = \"a\"\nversion = \"2.0.0\"\n";
        assert!(locked_version(lock, "a").is_err());
    }
}
