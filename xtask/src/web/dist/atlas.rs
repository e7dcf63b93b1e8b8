//! The atlas map, loaded on demand: Leaflet (npm `leaflet`, pinned in
//! `mobile-web/package.json`; its ES module build, minified) and the code
//! that draws the atlas's layers (`mobile-web/atlas/map.js`), with one
//! stylesheet (Leaflet's, then `mobile-web/atlas/atlas.css`).
//!
//! ```text
//! dist/atlas/leaflet-<hash16>.js   Leaflet 1.9 (BSD-2-Clause; its notice kept)
//! dist/atlas/atlas-<hash16>.css    leaflet.css + atlas.css
//! dist/atlas/map-<hash16>.js       the map module, importing the two above
//! ```
//!
//! The page names the map module in `<meta name="kudakyar-atlas">`; the app
//! shell's loader (`mobile-web/atlas.js`) imports it the first time the
//! atlas screen opens. All three are precached after start-up like the wasm
//! chunks, and counted with the code loaded on demand, not with the shell.
//!
//! The citizens' map picker (`citizen.rs`) imports the same Leaflet and
//! stylesheet.
//!
//! The basemap is the server's configuration (`map_tiles`): the page's
//! `<meta name="kudakyar-tiles">` is left empty here and filled as it is
//! served.

use std::path::Path;

use anyhow::Result;

use super::{Output, fill, read, read_text};

/// What [`write()`] wrote: the map module's name (for the page) and every
/// file, as URL paths (loaded on demand); Leaflet and the stylesheet by
/// name too (the citizens' map picker imports them).
pub(super) struct Atlas {
    pub module: String,
    pub files: Vec<String>,
    pub leaflet: String,
    pub css: String,
}

pub(super) fn write(
    out: &mut Output,
    web: &Path,
    minify: impl Fn(&str) -> Result<String>,
) -> Result<Atlas> {
    let dist = web.join("node_modules").join("leaflet").join("dist");
    let leaflet = out.hashed(
        "atlas/leaflet-{}.js",
        minify(&read_text(&dist.join("leaflet-src.esm.js"))?)?.as_bytes(),
    )?;
    let mut css = read(&dist.join("leaflet.css"))?;
    css.push(b'\n');
    css.extend(read(&web.join("atlas").join("atlas.css"))?);
    let css = out.hashed("atlas/atlas-{}.css", &css)?;
    let map = fill(
        &read_text(&web.join("atlas").join("map.js"))?,
        &[
            ("__LEAFLET_JS__", &format!("/{leaflet}")),
            ("__ATLAS_CSS__", &format!("/{css}")),
        ],
    )?;
    let module = out.hashed("atlas/map-{}.js", minify(&map)?.as_bytes())?;
    Ok(Atlas {
        files: [&leaflet, &css, &module]
            .iter()
            .map(|f| format!("/{f}"))
            .collect(),
        module,
        leaflet,
        css,
    })
}
