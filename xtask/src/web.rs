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
//!    stack traces in a debugger);
//! 6. write `dist/` with content-hashed names (the JS minified), so the server can cache them
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

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use flate2::{Compression, write::GzEncoder};
use sha2::{Digest, Sha256};

use crate::browser;

mod split;

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
    write_dist(root, &glue, &split, &dist)?;
    Ok(dist)
}

fn say(msg: impl std::fmt::Display) {
    eprintln!("xtask: {msg}");
}

/// Runs `cmd` to completion, failing with the command line if it fails.
fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    ensure!(status.success(), "{cmd:?} failed ({status})");
    Ok(())
}

/// Runs `cmd` and returns its stdout, or `None` if it cannot run or fails.
fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The cargo that runs us (so toolchain overrides carry over), else `cargo`.
fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
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
    run(cargo().args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    let got = cli_version(&installed);
    ensure!(
        got.as_deref() == Some(want.as_str()),
        "installed wasm-bindgen at {} reports {got:?}, expected {want}",
        installed.display()
    );
    Ok(installed)
}

fn cargo_home() -> PathBuf {
    match env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => {
            PathBuf::from(env::var_os("HOME").unwrap_or_else(|| OsString::from("/"))).join(".cargo")
        }
    }
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

/// Where cargo puts build output: `CARGO_TARGET_DIR` (or the equivalent
/// `CARGO_BUILD_TARGET_DIR`) if set, relative to the workspace, else `target`.
fn target_dir(root: &Path) -> PathBuf {
    ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(env::var_os)
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// Builds the wasm and returns the path cargo wrote it to.
fn cargo_build(root: &Path) -> Result<PathBuf> {
    say(format_args!(
        "building {CRATE} for {WASM_TARGET} (profile {PROFILE})"
    ));
    run(cargo()
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

/// `js` minified by terser (npm `terser`, pinned in `mobile-web/package.json`):
/// whitespace, comments and local names go, which takes about a third off
/// the gzipped JS of the app shell. Every file here is an ES module.
fn minify(web: &Path, js: &str) -> Result<String> {
    use std::io::Write;
    use std::process::Stdio;
    let terser = web
        .join("node_modules")
        .join("terser")
        .join("bin")
        .join("terser");
    let mut child = Command::new("node")
        .arg(&terser)
        .args(["--module", "--compress", "--mangle"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start node {}", terser.display()))?;
    let mut stdin = child.stdin.take().context("terser's stdin")?;
    // Written from another thread: terser answers while it reads, and a
    // large file would fill both pipes.
    let input = js.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to terser panicked"))??;
    ensure!(out.status.success(), "terser failed ({})", out.status);
    Ok(String::from_utf8(out.stdout)?)
}

/// Minifies every `.js` file under `dir` in place (wasm-bindgen's snippets).
fn minify_tree(web: &Path, dir: &Path) -> Result<()> {
    if dir.is_dir() {
        for entry in fs::read_dir(dir)? {
            minify_tree(web, &entry?.path())?;
        }
    } else if dir.extension().is_some_and(|e| e == "js") {
        let js = minify(web, &read_text(dir)?)?;
        fs::write(dir, js)?;
    }
    Ok(())
}

/// The first 16 hex digits of the SHA-256 of `bytes`: plenty to tell builds
/// apart, short enough to read in logs.
fn short_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))[..16].to_owned()
}

/// Assembles the new `dist` in `dist.partial`, then swaps it in.
fn write_dist(root: &Path, glue: &Path, split: &split::Split, dist: &Path) -> Result<()> {
    say(format_args!(
        "writing {} (content-hashed names)",
        dist.display()
    ));
    let web = root.join("mobile-web");
    let staging = dist.with_file_name("dist.partial");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    let mut out = Output {
        dir: staging.clone(),
        files: Vec::new(),
        contents: Sha256::new(),
    };

    let wasm = strip_names(&read(&glue.join(format!("{CRATE}_bg.wasm")))?)?;
    let wasm_name = out.hashed(&format!("{CRATE}-{{}}_bg.wasm"), &wasm)?;
    let minify = |js: &str| minify(&web, js);
    let js = read_text(&glue.join(format!("{CRATE}.js")))?;
    let (js_name, on_demand) = split::write(&mut out, split, &js, minify)?;
    let font_pkg = web.join("node_modules").join(FONT_PACKAGE);
    let font_name = out.hashed(
        "fonts/vazirmatn-{}.woff2",
        &read(&font_pkg.join(FONT_FILE))?,
    )?;
    // Not precached: nobody needs the licence offline, and a non-hashed file
    // in the service worker's cache-first store would never be refreshed.
    out.write_unlisted("fonts/OFL.txt", &read(&font_pkg.join(FONT_LICENCE))?)?;
    let css = fill(
        &read_text(&web.join("app.css"))?,
        &[(FONT_PLACEHOLDER, &font_name)],
    )?;
    let css_name = out.hashed("app-{}.css", css.as_bytes())?;
    let boot = fill(
        &read_text(&web.join("boot.js"))?,
        &[
            ("__KUDAKYAR_JS__", &js_name),
            ("__KUDAKYAR_WASM__", &wasm_name),
        ],
    )?;
    let boot_name = out.hashed("boot-{}.js", minify(&boot)?.as_bytes())?;

    // Anything else wasm-bindgen emitted (e.g. `snippets/` of inline JS)
    // is imported by relative path from the glue: keep names, copy as is.
    // Except its `package.json`, which lists mobile-web/package.json's npm
    // packages for a bundler: there is none, and the page never loads it.
    for entry in fs::read_dir(glue)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let skip = [
            format!("{CRATE}.js"),
            format!("{CRATE}_bg.wasm"),
            "package.json".into(),
        ];
        if !skip.iter().any(|s| *s == name) {
            minify_tree(&web, &glue.join(&*name))?;
            out.copy_tree(&glue.join(&*name), &name)?;
        }
    }
    let assets = root.join("assets").join("web");
    if assets.is_dir() {
        for entry in fs::read_dir(&assets)? {
            let name = entry?.file_name();
            out.copy_tree(&assets.join(&name), &name.to_string_lossy())?;
        }
    }

    let index = fill(
        &read_text(&web.join("index.html"))?,
        &[
            ("__APP_CSS__", &css_name),
            ("__BOOT_JS__", &boot_name),
            ("__KUDAKYAR_JS__", &js_name),
            ("__KUDAKYAR_WASM__", &wasm_name),
        ],
    )?;
    fs::write(staging.join("index.html"), index)?;
    let version = hex::encode(out.contents.clone().finalize())[..16].to_owned();
    let precache = precache_json(&out.files, &version);
    fs::write(staging.join("precache.json"), &precache)?;
    // The service worker carries the list itself, so any change to any file
    // changes sw.js and the browser installs the new worker.
    // A module worker importing the outbox (its background sync) from
    // where wasm-bindgen put it.
    let outbox = out
        .files
        .iter()
        .find(|f| f.starts_with("/snippets/") && f.ends_with("/outbox.js"))
        .context("wasm-bindgen emitted no snippets/…/outbox.js")?;
    let sw = fill(
        &read_text(&web.join("sw.js"))?,
        &[
            ("__PRECACHE__", precache.trim_end()),
            ("__OUTBOX_JS__", outbox),
        ],
    )?;
    fs::write(staging.join("sw.js"), minify(&sw)?)?;

    if dist.exists() {
        fs::remove_dir_all(dist).with_context(|| format!("removing {}", dist.display()))?;
    }
    fs::rename(&staging, dist)?;
    let size = |name: &str| fs::metadata(dist.join(name)).map_or(0, |m| m.len()) / 1024;
    say(format_args!(
        "PWA built: wasm {} KiB, glue {} KiB, css {} KiB (uncompressed)",
        size(&wasm_name),
        size(&js_name),
        size(&css_name)
    ));
    report_shell_size(dist, &out.files, &on_demand, &font_name)
}

/// Prints the gzipped size of the app shell without fonts (the issue's
/// budget), of the code loaded on demand, and of the font apart: a woff2 is
/// already compressed, and the font arrives after the first paint
/// (`font-display: swap`), so it does not delay the app the way the shell does.
///
/// The shell is what a first visit downloads before the app can show its
/// first screen (login, or home with registration and the outbox): the page,
/// the service worker and every precached file except fonts, images (the
/// icons are only fetched when the app is installed) and the chunks loaded
/// on demand (profile, search, candidates, conflicts, working set), which the
/// service worker fetches once the app runs. `gzip -9`-like compression, as
/// the server's compression layer is not slower than that on the wire.
fn report_shell_size(
    dist: &Path,
    files: &[String],
    on_demand: &[String],
    font: &str,
) -> Result<()> {
    let gzipped = |names: &[String]| -> Result<u64> {
        let mut total = 0;
        for name in names {
            total += gzipped_len(&read(&dist.join(name.trim_start_matches('/')))?)?;
        }
        Ok(total)
    };
    let mut names = vec!["/index.html".to_owned(), "/sw.js".to_owned()];
    names.extend(
        files
            .iter()
            .filter(|f| !f.starts_with("/fonts/") && !is_image(f) && !on_demand.contains(f))
            .cloned(),
    );
    let shell = gzipped(&names)?;
    let lazy = gzipped(on_demand)?;
    let kb = |bytes: u64| bytes as f64 / 1000.0;
    let font_bytes = fs::metadata(dist.join(font))?.len();
    say(format_args!(
        "app shell without fonts: {:.1} KB gzipped ({} files; budget {SHELL_BUDGET_KB} KB){}",
        kb(shell),
        names.len(),
        if kb(shell) > SHELL_BUDGET_KB {
            " OVER BUDGET"
        } else {
            ""
        }
    ));
    say(format_args!(
        "loaded on demand: {:.1} KB gzipped ({} wasm chunks; precached after start-up)",
        kb(lazy),
        on_demand.len()
    ));
    say(format_args!(
        "font: Vazirmatn {:.1} KB (woff2, Non-Latin variable; precached; not needed for the first paint)",
        kb(font_bytes)
    ));
    Ok(())
}

fn is_image(name: &str) -> bool {
    [".png", ".svg", ".ico", ".webp", ".jpg"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn gzipped_len(bytes: &[u8]) -> Result<u64> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    std::io::Write::write_all(&mut gz, bytes)?;
    Ok(gz.finish()?.len() as u64)
}

/// The files written to the staging `dist`, as URL paths.
struct Output {
    dir: PathBuf,
    files: Vec<String>,
    /// Every listed file's name and bytes, in writing order: the precache
    /// version. Names alone would miss a file whose name is not a hash of
    /// its content (wasm-bindgen's `snippets/`): the service worker would
    /// not change, and phones would keep the old copy.
    contents: Sha256,
}

impl Output {
    /// Writes `bytes` as `pattern` with `{}` replaced by their hash.
    fn hashed(&mut self, pattern: &str, bytes: &[u8]) -> Result<String> {
        let name = pattern.replace("{}", &short_hash(bytes));
        self.write(&name, bytes)?;
        Ok(name)
    }

    fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.write_unlisted(rel, bytes)?;
        self.contents.update(rel.as_bytes());
        self.contents.update(Sha256::digest(bytes));
        self.files.push(format!("/{rel}"));
        Ok(())
    }

    /// Writes a file that is served but left out of the precache list.
    fn write_unlisted(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(rel);
        ensure!(!path.exists(), "two build outputs are named {rel}");
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    }

    /// Copies a file, or a directory recursively, to `rel` inside `dist`.
    fn copy_tree(&mut self, from: &Path, rel: &str) -> Result<()> {
        if from.is_dir() {
            for entry in fs::read_dir(from)? {
                let name = entry?.file_name();
                self.copy_tree(
                    &from.join(&name),
                    &format!("{rel}/{}", name.to_string_lossy()),
                )?;
            }
            Ok(())
        } else {
            self.write(rel, &read(from)?)
        }
    }
}

/// Returns `wasm` without its `name` and `producers` custom sections.
///
/// The profile could strip them (`strip = true`), but wasm-bindgen must still
/// see its own custom sections, so stripping after it is the safe place.
fn strip_names(wasm: &[u8]) -> Result<Vec<u8>> {
    ensure!(wasm.starts_with(b"\0asm"), "not a wasm module");
    let mut out = wasm[..8].to_vec();
    let mut rest = &wasm[8..];
    while let Some(&id) = rest.first() {
        let (size, len) = leb128(&rest[1..])?;
        let end = 1 + len + size;
        ensure!(end <= rest.len(), "truncated wasm section");
        let drop = id == 0 && matches!(custom_name(&rest[1 + len..end])?, "name" | "producers");
        if !drop {
            out.extend_from_slice(&rest[..end]);
        }
        rest = &rest[end..];
    }
    Ok(out)
}

/// An unsigned LEB128 number (at most 32 bits) and how many bytes it took.
fn leb128(bytes: &[u8]) -> Result<(usize, usize)> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().take(5).enumerate() {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    bail!("bad LEB128 number in wasm")
}

/// The name of a custom section, from its payload.
fn custom_name(payload: &[u8]) -> Result<&str> {
    let (n, len) = leb128(payload)?;
    let name = payload
        .get(len..len + n)
        .context("truncated custom section")?;
    Ok(std::str::from_utf8(name)?)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Replaces each placeholder in a template, failing if one is missing so a
/// template edit cannot silently ship an unresolved name.
fn fill(template: &str, values: &[(&str, &str)]) -> Result<String> {
    let mut text = template.to_owned();
    for (placeholder, value) in values {
        ensure!(
            text.contains(placeholder),
            "template lacks placeholder {placeholder}"
        );
        text = text.replace(placeholder, value);
    }
    Ok(text)
}

/// `{"version": "<hash>", "files": ["/app-….css", …]}`. `index.html` is not
/// listed: it is never cached as immutable, and the service worker should
/// fetch it network-first. `version` changes whenever any file does (see
/// [`Output::contents`]), so it can name the service worker's cache.
fn precache_json(files: &[String], version: &str) -> String {
    let mut files = files.to_vec();
    files.sort();
    let list: Vec<String> = files.iter().map(|f| json_string(f)).collect();
    format!(
        "{{\n  \"version\": {},\n  \"files\": [\n    {}\n  ]\n}}\n",
        json_string(version),
        list.join(",\n    ")
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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

    #[test]
    fn strips_only_name_sections() {
        let custom = |name: &str, body: &[u8]| {
            let mut payload = vec![name.len() as u8];
            payload.extend_from_slice(name.as_bytes());
            payload.extend_from_slice(body);
            let mut section = vec![0, payload.len() as u8];
            section.extend(payload);
            section
        };
        let header = b"\0asm\x01\0\0\0".to_vec();
        let types = vec![1u8, 1, 0]; // a (bogus) type section, kept as is
        let kept = custom("__wasm_bindgen_unstable", b"x");
        let module = [
            header.clone(),
            types.clone(),
            custom("name", b"abc"),
            kept.clone(),
            custom("producers", b""),
        ]
        .concat();
        assert_eq!(
            strip_names(&module).unwrap(),
            [header, types, kept].concat()
        );
        assert!(strip_names(b"nope").is_err());
    }

    #[test]
    fn fill_requires_every_placeholder() {
        assert_eq!(fill("<__A__>", &[("__A__", "x")]).unwrap(), "<x>");
        assert!(fill("<__A__>", &[("__B__", "x")]).is_err());
    }

    #[test]
    fn precache_lists_sorted_files() {
        let json = precache_json(&["/b.js".into(), "/a\"x.css".into()], "0123");
        assert!(json.find("/a\\\"x.css").unwrap() < json.find("/b.js").unwrap());
        assert!(json.contains("\"version\": \"0123\""));
    }
}
