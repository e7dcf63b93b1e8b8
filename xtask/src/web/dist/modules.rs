//! The JS modules the app shell's glue imports before it can run, so the
//! page can name them all in `<link rel="modulepreload">`.
//!
//! The browser only learns of a static import once it has parsed the module
//! that makes it: the glue's imports (the outbox, push and atlas snippets,
//! the split's link module) and theirs (the outbox's store and photo code)
//! would each be found a round trip later, and on a first visit to the atlas
//! they waited behind its fifty preloaded chunks on HTTP/1.1's six
//! connections: the wasm had arrived a second before the glue could run it.
//! Chromium preloads a module's dependencies with the module only when the
//! page lists them, so [`closure`] lists every one.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, ensure};

use super::read_text;

/// Every module `entry` (a path inside `dist`, e.g. `kudakyar-web-….js`)
/// imports statically, directly or not, as paths inside `dist`, sorted;
/// `entry` itself is not listed. Dynamic `import()`s are left out: they load
/// on demand.
pub(super) fn closure(dist: &Path, entry: &str) -> Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![entry.to_owned()];
    while let Some(module) = todo.pop() {
        let text = read_text(&dist.join(&module))?;
        for specifier in static_imports(&text) {
            let path = resolve(&module, &specifier)
                .with_context(|| format!("{module} imports {specifier}"))?;
            if path != entry && seen.insert(path.clone()) {
                todo.push(path);
            }
        }
    }
    Ok(seen.into_iter().collect())
}

/// The specifiers of `import … from "x"`, `export … from "x"` and
/// `import "x"` in (minified) `js`: relative or absolute paths only.
fn static_imports(js: &str) -> Vec<String> {
    let mut out = Vec::new();
    for keyword in ["from", "import"] {
        let mut rest = js;
        while let Some(at) = rest.find(keyword) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + keyword.len()..];
            // A word of its own (not `fromCharCode`, `imports`), followed by
            // a quoted string (not `import(`, a dynamic import).
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
                continue;
            }
            let after = rest.trim_start();
            let Some(quote) = after.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
                continue;
            };
            let Some(end) = after[1..].find(quote) else {
                continue;
            };
            let specifier = &after[1..1 + end];
            if specifier.starts_with("./")
                || specifier.starts_with("../")
                || specifier.starts_with('/')
            {
                out.push(specifier.to_owned());
            }
        }
    }
    out
}

/// `specifier` as imported by `module`, both paths inside `dist`.
fn resolve(module: &str, specifier: &str) -> Result<String> {
    if let Some(absolute) = specifier.strip_prefix('/') {
        return Ok(absolute.to_owned());
    }
    let mut parts: Vec<&str> = module.split('/').collect();
    parts.pop();
    for part in specifier.split('/') {
        match part {
            "." => {}
            ".." => {
                ensure!(parts.pop().is_some(), "a path above dist/");
            }
            _ => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_static_imports_only() {
        let js = r#"import{a as e}from"./snippets/x/atlas.js";import*as v from "./wasm-split-1.js";
            export{b}from'./b.js';import"./side.js";const m=import("./lazy.js");
            String.fromCharCode(1);const imports="./not.js";x.from("./nor.js")"#;
        let mut found = static_imports(js);
        found.sort();
        assert_eq!(
            found,
            [
                "./b.js",
                "./side.js",
                "./snippets/x/atlas.js",
                "./wasm-split-1.js"
            ]
        );
    }

    #[test]
    fn resolves_relative_to_the_importer() {
        assert_eq!(
            resolve("snippets/x/outbox.js", "./store.js").unwrap(),
            "snippets/x/store.js"
        );
        assert_eq!(
            resolve("snippets/x/outbox.js", "../../glue.js").unwrap(),
            "glue.js"
        );
        assert_eq!(
            resolve("glue.js", "./snippets/x/a.js").unwrap(),
            "snippets/x/a.js"
        );
        assert_eq!(resolve("a/b.js", "/c.js").unwrap(), "c.js");
        assert!(resolve("glue.js", "../x.js").is_err());
    }

    #[test]
    fn follows_imports_to_the_end_once_each() {
        let dist = std::env::temp_dir().join(format!("kudakyar-modules-{}", std::process::id()));
        std::fs::create_dir_all(dist.join("snippets")).unwrap();
        std::fs::write(
            dist.join("glue.js"),
            r#"import"./snippets/a.js";import*as l from"./link.js""#,
        )
        .unwrap();
        std::fs::write(dist.join("link.js"), r#"import{init}from"./glue.js""#).unwrap();
        std::fs::write(
            dist.join("snippets/a.js"),
            r#"import"./b.js";import"./c.js""#,
        )
        .unwrap();
        std::fs::write(dist.join("snippets/b.js"), r#"import"./c.js""#).unwrap();
        std::fs::write(dist.join("snippets/c.js"), "export const c=1").unwrap();
        let found = closure(&dist, "glue.js").unwrap();
        std::fs::remove_dir_all(&dist).unwrap();
        assert_eq!(
            found,
            ["link.js", "snippets/a.js", "snippets/b.js", "snippets/c.js"]
        );
    }
}
