//! Writes `dist/`: every file under a content-hashed name (the JS minified
//! by terser), the precache list the service worker carries, and the size
//! report of the app shell against its budget. See [`super`] for the layout.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use flate2::{Compression, write::GzEncoder};
use sha2::{Digest, Sha256};

use super::split::{self, Split};
use super::wasm_names::strip_names;
use super::{CRATE, FONT_FILE, FONT_LICENCE, FONT_PACKAGE, FONT_PLACEHOLDER, SHELL_BUDGET_KB};
use crate::util::say;

mod atlas;
mod citizen;
mod modules;

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
pub(super) fn short_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))[..16].to_owned()
}

/// Assembles the new `dist` in `dist.partial`, then swaps it in.
pub fn write(root: &Path, glue: &Path, split: &Split, dist: &Path) -> Result<()> {
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
    let (js_name, chunks) = split::write(&mut out, split, &js, minify)?;
    let mut on_demand: Vec<String> = chunks.values().map(|name| format!("/{name}")).collect();
    // The deferred screens' texts (`src/i18n/later.rs`): fetched with their
    // chunks, so counted with them, not with the shell.
    let texts_name = out.hashed("texts-{}.json", &read(&web.join("later-texts.json"))?)?;
    on_demand.push(format!("/{texts_name}"));
    let atlas = atlas::write(&mut out, &web, minify)?;
    on_demand.extend(atlas.files.iter().cloned());
    let font_pkg = web.join("node_modules").join(FONT_PACKAGE);
    let font_name = out.hashed(
        "fonts/vazirmatn-{}.woff2",
        &read(&font_pkg.join(FONT_FILE))?,
    )?;
    // Not precached: nobody needs the licence offline, and a non-hashed file
    // in the service worker's cache-first store would never be refreshed.
    out.write_unlisted("fonts/OFL.txt", &read(&font_pkg.join(FONT_LICENCE))?)?;
    let css_name = out.hashed("app-{}.css", &read(&web.join("app.css"))?)?;
    // boot.js declares the font (see its comments).
    let boot = fill(
        &read_text(&web.join("boot.js"))?,
        &[
            ("__KUDAKYAR_JS__", &js_name),
            ("__KUDAKYAR_WASM__", &wasm_name),
            (FONT_PLACEHOLDER, &font_name),
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

    // Every module the glue imports, so that they arrive with it instead of
    // one round trip after another (see `modules`).
    let modules = modules::closure(&staging, &js_name)?
        .iter()
        .map(|path| format!(r#"<link rel="modulepreload" href="/{path}">"#))
        .collect::<Vec<_>>()
        .join("\n");
    let index = fill(
        &read_text(&web.join("index.html"))?,
        &[
            ("__KUDAKYAR_MODULES__", &modules),
            ("__APP_CSS__", &css_name),
            ("__BOOT_JS__", &boot_name),
            ("__KUDAKYAR_JS__", &js_name),
            ("__KUDAKYAR_WASM__", &wasm_name),
            ("__TEXTS_JSON__", &texts_name),
            ("__ATLAS_JS__", &atlas.module),
        ],
    )?;
    let atlas_page = preloading(
        &lower_shell_wasm(&index, &wasm_name)?,
        &atlas_preloads(split, &chunks, &texts_name, &atlas)?,
    )?;
    fs::write(staging.join("index.html"), index)?;
    fs::write(staging.join("atlas.html"), atlas_page)?;
    let version = hex::encode(out.contents.clone().finalize())[..16].to_owned();
    let precache = precache_json(&out.files, &version);
    fs::write(staging.join("precache.json"), &precache)?;
    // The service worker carries the list itself, so any change to any file
    // changes sw.js and the browser installs the new worker.
    // A module worker importing the outbox (its background sync) and the
    // push handlers from where wasm-bindgen put them.
    let snippet = |name: &str| {
        out.files
            .iter()
            .find(|f| f.starts_with("/snippets/") && f.ends_with(&format!("/{name}")))
            .with_context(|| format!("wasm-bindgen emitted no snippets/…/{name}"))
    };
    let sw = fill(
        &read_text(&web.join("sw.js"))?,
        &[
            ("__PRECACHE__", precache.trim_end()),
            ("__OUTBOX_JS__", snippet("outbox.js")?),
            ("__PUSH_JS__", snippet("push.js")?),
        ],
    )?;
    fs::write(staging.join("sw.js"), minify(&sw)?)?;
    citizen::write(&web, &staging, &font_name, &atlas)?;

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

/// The split points the atlas screen's first draw goes through: the
/// deferred texts' loader, then the atlas's own screen.
const ATLAS_SPLITS: [&str; 2] = ["load_texts", "atlas_view"];

/// What `/atlas` preloads beside the app shell (`dist/atlas.html`): the
/// chunks of [`ATLAS_SPLITS`], the texts, the map module with Leaflet and
/// their stylesheet. Fetched one after another by the code that needs
/// them, each would be a round trip after the last (five on a first visit,
/// 150 ms each on a slow phone network); preloaded, they arrive while the
/// shell does. Each `<link>` matches how its file is fetched (`fetch()` is
/// a CORS request: `crossorigin`), or the browser would fetch it twice.
///
/// The map's files come first (`fetchpriority="high"`), the app's after
/// (`low`, as the shell's wasm: [`lower_shell_wasm`]): with a stored
/// session `boot.js` draws the first map from them and its two answers
/// before the app runs, and on a slow link the browser then gives its
/// connections to those ≈ 60 KB before the app's ≈ 300 KB.
fn atlas_preloads(
    split: &Split,
    chunks: &std::collections::BTreeMap<String, String>,
    texts: &str,
    atlas: &atlas::Atlas,
) -> Result<Vec<String>> {
    let mut links = Vec::new();
    for point in ATLAS_SPLITS {
        // The splitter names a split point by its function and a hash of
        // where it is (`atlas_view_304241711919436966`).
        let named = |name: &String| {
            name.strip_prefix(point)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|hash| !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit()))
        };
        let mut found = split.prefetch.iter().filter(|(name, _)| named(name));
        let (Some((_, stems)), None) = (found.next(), found.next()) else {
            anyhow::bail!(
                "no one split point `{point}` (mobile-web/src/pages/deferred.rs) to preload for /atlas"
            );
        };
        for stem in stems {
            let name = chunks
                .get(stem)
                .with_context(|| format!("split point {point}: no chunk {stem}"))?;
            links.push(format!(
                r#"<link rel="preload" href="/{name}" as="fetch" type="application/wasm" crossorigin fetchpriority="low">"#
            ));
        }
    }
    links.push(format!(
        r#"<link rel="preload" href="/{texts}" as="fetch" crossorigin fetchpriority="low">"#
    ));
    links.push(format!(
        r#"<link rel="modulepreload" href="/{}" fetchpriority="high">"#,
        atlas.module
    ));
    links.push(format!(
        r#"<link rel="modulepreload" href="/{}" fetchpriority="high">"#,
        atlas.leaflet
    ));
    links.push(format!(
        r#"<link rel="preload" href="/{}" as="style" fetchpriority="high">"#,
        atlas.css
    ));
    Ok(links)
}

/// The app page with its shell's wasm preloaded at low priority, for
/// `/atlas` (see [`atlas_preloads`]).
fn lower_shell_wasm(page: &str, wasm: &str) -> Result<String> {
    let link = format!(
        r#"<link rel="preload" href="/{wasm}" as="fetch" type="application/wasm" crossorigin>"#
    );
    anyhow::ensure!(
        page.contains(&link),
        "the page does not preload /{wasm} as expected"
    );
    Ok(page.replace(
        &link,
        &link.replace("crossorigin>", r#"crossorigin fetchpriority="low">"#),
    ))
}

/// `page` with `links` added at the end of its `<head>`.
fn preloading(page: &str, links: &[String]) -> Result<String> {
    let at = page.find("</head>").context("the page has no </head>")?;
    let mut out = String::with_capacity(page.len() + 512);
    out.push_str(&page[..at]);
    for link in links {
        out.push_str(link);
        out.push('\n');
    }
    out.push_str(&page[at..]);
    Ok(out)
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
        "loaded on demand: {:.1} KB gzipped ({} files: wasm chunks and the texts of their screens; precached after start-up)",
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
pub(super) struct Output {
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
    pub(super) fn hashed(&mut self, pattern: &str, bytes: &[u8]) -> Result<String> {
        let name = pattern.replace("{}", &short_hash(bytes));
        self.write(&name, bytes)?;
        Ok(name)
    }

    /// As [`Output::hashed`], left out of the precache list.
    pub(super) fn hashed_unlisted(&self, pattern: &str, bytes: &[u8]) -> Result<String> {
        let name = pattern.replace("{}", &short_hash(bytes));
        self.write_unlisted(&name, bytes)?;
        Ok(name)
    }

    pub(super) fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.write_unlisted(rel, bytes)?;
        self.contents.update(rel.as_bytes());
        self.contents.update(Sha256::digest(bytes));
        self.files.push(format!("/{rel}"));
        Ok(())
    }

    /// Writes a file that is served but left out of the precache list.
    pub(super) fn write_unlisted(&self, rel: &str, bytes: &[u8]) -> Result<()> {
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

pub(super) fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Replaces each placeholder in a template, failing if one is missing so a
/// template edit cannot silently ship an unresolved name.
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> Result<String> {
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
