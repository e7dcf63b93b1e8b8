//! Cuts the PWA's wasm into the app shell and the screens loaded on demand.
//!
//! The split points are the `#[lazy]` functions in
//! `mobile-web/src/pages/deferred.rs`. `wasm_split_cli_support` (the library
//! behind `cargo leptos --split`) follows the relocations the linker kept
//! (`-Clink-args=--emit-relocs`, `.cargo/config.toml`) to find the code only
//! those functions reach, and writes:
//!
//! ```text
//! <out>/main.wasm          the shell, for wasm-bindgen (--keep-lld-exports)
//! <out>/<split>.wasm, …    one module per split point, plus chunks they share
//! <out>/__wasm_split.js    the link module: fetches and instantiates a chunk
//!                          the first time one of its functions is called
//! ```
//!
//! The main module imports the loaders from the link module, and the link
//! module imports `initSync` from the wasm-bindgen glue: [`Split::link`]
//! still names the glue by a placeholder, filled when `dist/` is written.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, ensure};

use super::CRATE;
use super::dist::{Output, fill, read, short_hash};
use super::wasm_names::{custom_name, leb128, strip_names};

/// The module the main wasm imports the chunk loaders from; the glue imports
/// it by this relative name.
pub const LINK_MODULE: &str = "./__wasm_split.js";
/// Stands for the glue's hashed name in the link module.
pub const GLUE_PLACEHOLDER: &str = "__KUDAKYAR_JS__";

/// What [`split`] wrote.
pub struct Split {
    /// The shell, to hand to wasm-bindgen.
    pub main: PathBuf,
    /// The chunks, by file stem (the link module names them `./<stem>.wasm`).
    pub chunks: Vec<(String, PathBuf)>,
    /// The link module's text.
    pub link: String,
    /// Each split point's chunk files (stems), the ones its first call
    /// fetches: what a page that opens on that screen may preload.
    pub prefetch: std::collections::HashMap<String, Vec<String>>,
}

/// Splits `wasm` into `out` (cleared first).
pub fn split(wasm: &Path, out: &Path) -> Result<Split> {
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
    }
    fs::create_dir_all(out)?;
    let input = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let main = out.join("main.wasm");
    let glue = format!("./{GLUE_PLACEHOLDER}");
    let mut opts = wasm_split_cli_support::Options::new(&input);
    opts.output_dir = out;
    opts.main_out_path = &main;
    opts.link_name = LINK_MODULE;
    opts.main_module = &glue;
    let result = wasm_split_cli_support::transform(opts)
        .map_err(|e| anyhow!("splitting {}: {e:?}", wasm.display()))?;
    let mut chunks = Vec::new();
    for path in result.split_modules {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a split module without a file name")?
            .to_owned();
        refuse_casts(&stem, &read(&path)?)?;
        chunks.push((stem, path));
    }
    chunks.sort();
    let link = fs::read_to_string(out.join(LINK_MODULE))
        .with_context(|| format!("reading the link module in {}", out.display()))?;
    Ok(Split {
        main,
        chunks,
        link,
        prefetch: result.prefetch_map,
    })
}

/// Writes the chunks and the link module to `dist` with content-hashed names
/// and points the glue at them; returns the glue's hashed name and the
/// chunks' hashed names by stem (loaded on demand).
///
/// The glue and the link module import each other, so neither name can be a
/// hash of the other's final text. The link module is named by a hash of its
/// text (chunk names filled in, the glue's name still a placeholder) and of
/// the glue's text (the link module's name still the placeholder): any change
/// to either renames the link module, which changes the glue and so its name.
pub(super) fn write(
    out: &mut Output,
    split: &Split,
    glue: &str,
    minify: impl Fn(&str) -> Result<String>,
) -> Result<(String, std::collections::BTreeMap<String, String>)> {
    let mut link = split.link.clone();
    let mut chunks = std::collections::BTreeMap::new();
    for (stem, path) in &split.chunks {
        let wasm = strip_names(&read(path)?)?;
        let name = out.hashed(&format!("{stem}-{{}}.wasm"), &wasm)?;
        link = fill(
            &link,
            &[(&format!("\"./{stem}.wasm\""), &format!("\"./{name}\""))],
        )?;
        chunks.insert(stem.clone(), name);
    }
    let link_name = format!(
        "wasm-split-{}.js",
        short_hash(format!("{link}\n{glue}").as_bytes())
    );
    let import = format!("from \"{LINK_MODULE}\"");
    let glue = minify(&fill(
        glue,
        &[(&import, &format!("from \"./{link_name}\""))],
    )?)?;
    let glue_name = out.hashed(&format!("{CRATE}-{{}}.js"), glue.as_bytes())?;
    let link = fill(&link, &[(GLUE_PLACEHOLDER, &glue_name)])?;
    out.write(&link_name, minify(&link)?.as_bytes())?;
    Ok((glue_name, chunks))
}

/// Fails the build when a chunk calls wasm-bindgen's cast (`wbg_cast`,
/// behind `JsValue::from_str`, `JsValue::from_f64`, `Closure::new`, …).
///
/// wasm-bindgen rewrites each cast in the main module into a JS import with
/// `externref` types, but it never sees the chunks, which still call the
/// old signature: the browser traps with "function signature mismatch" the
/// first time that code runs. (The splitter keeps such callers in the main
/// module, but looks for the import `__wbindgen_describe_cast`, which
/// wasm-bindgen 0.2.130 calls `__wbindgen_describe_generic_import`.) Code
/// behind a split point must take other routes, e.g. `Date::parse` and
/// `set_time` instead of `Date::new(&JsValue::from_str(…))`, or
/// `JSON::parse` for an options object.
fn refuse_casts(chunk: &str, wasm: &[u8]) -> Result<()> {
    let casts: Vec<String> = function_names(wasm)?
        .into_iter()
        .filter(|name| name.contains("wbg_cast"))
        .collect();
    ensure!(
        casts.is_empty(),
        "the split chunk {chunk} calls wasm-bindgen's cast, which fails at run time \
         (see xtask/src/web/split.rs): {casts:?}; move that conversion out of the \
         code behind the split point"
    );
    Ok(())
}

/// The function names in a module's `name` section (none if it has none).
fn function_names(wasm: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = wasm.get(8..).context("not a wasm module")?;
    while let Some(&id) = rest.first() {
        let (size, len) = leb128(&rest[1..])?;
        let end = 1 + len + size;
        ensure!(end <= rest.len(), "truncated wasm section");
        let payload = &rest[1 + len..end];
        if id == 0 && custom_name(payload)? == "name" {
            let (n, len) = leb128(payload)?;
            let mut sub = &payload[len + n..];
            while let Some(&kind) = sub.first() {
                let (size, len) = leb128(&sub[1..])?;
                let body = sub
                    .get(1 + len..1 + len + size)
                    .context("truncated name section")?;
                if kind == 1 {
                    names.extend(name_map(body)?);
                }
                sub = &sub[1 + len + size..];
            }
        }
        rest = &rest[end..];
    }
    Ok(names)
}

/// The names of a `name` section's function map (index, name pairs).
fn name_map(mut body: &[u8]) -> Result<Vec<String>> {
    let (count, len) = leb128(body)?;
    body = &body[len..];
    let mut names = Vec::with_capacity(count);
    for _ in 0..count {
        let (_, len) = leb128(body)?;
        body = &body[len..];
        let (n, len) = leb128(body)?;
        let name = body.get(len..len + n).context("truncated function name")?;
        names.push(String::from_utf8_lossy(name).into_owned());
        body = &body[len + n..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module holding only a `name` section that names functions `names`.
    fn named(names: &[&str]) -> Vec<u8> {
        let mut map = vec![names.len() as u8];
        for (i, name) in names.iter().enumerate() {
            map.extend([i as u8, name.len() as u8]);
            map.extend(name.as_bytes());
        }
        let mut payload = vec![4];
        payload.extend(b"name");
        payload.extend([1, map.len() as u8]);
        payload.extend(map);
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend([0, payload.len() as u8]);
        module.extend(payload);
        module
    }

    #[test]
    fn reads_function_names() {
        let module = named(&["alloc", "kudakyar_web::workset::fetch"]);
        assert_eq!(
            function_names(&module).unwrap(),
            ["alloc", "kudakyar_web::workset::fetch"]
        );
        assert!(function_names(b"\0asm\x01\0\0\0").unwrap().is_empty());
    }

    #[test]
    fn refuses_a_chunk_that_casts() {
        let cast = "_ZN12wasm_bindgen4__rt8wbg_cast17breaks_if_inlined17hc750b109f21303dfE";
        let err = refuse_casts("split_refresh", &named(&["alloc", cast])).unwrap_err();
        assert!(err.to_string().contains("split_refresh"), "{err}");
        refuse_casts("split_refresh", &named(&["alloc"])).unwrap();
    }
}
