//! The atlas map's basemap: a tile server the deployer names at run time
//! (`map_tiles`, a URL template like `https://tiles.example.ir/{z}/{x}/{y}.png`,
//! and `map_tiles_attribution`), or none — the default, where the map
//! draws the boundaries alone and works offline.
//!
//! The PWA reads both from its page (`<meta name="kudakyar-tiles">`,
//! `<meta name="kudakyar-tiles-attribution">`), which the server fills in
//! as it serves `index.html` ([`fill_page`]); and the one origin the tiles
//! come from is added to the Content-Security-Policy's `img-src`
//! ([`content_security_policy`]), so the browser lets them in and nothing
//! else.

use anyhow::{bail, ensure};

use crate::config::Config;

/// The policy without a basemap: everything from this origin only. wasm
/// needs `'wasm-unsafe-eval'`; nothing needs inline scripts or styles.
const POLICY: [&str; 2] = [
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:",
    "; font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
];

/// The origin (`https://host[:port]`) tiles of this template come from —
/// none for a path on this server (`/tiles/{z}/{x}/{y}.png`, behind the same
/// reverse proxy); an error a deployer can act on when it is not a tile URL
/// template.
pub fn tiles_origin(template: &str) -> anyhow::Result<Option<String>> {
    ensure!(
        ["{z}", "{x}", "{y}"].iter().all(|p| template.contains(p)),
        "map_tiles must contain {{z}}, {{x}} and {{y}}"
    );
    ensure!(
        template
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b';')),
        "map_tiles must not contain spaces, quotes, '<', '>' or ';'"
    );
    if template.starts_with('/') && !template.starts_with("//") {
        return Ok(None);
    }
    let Some((scheme, rest)) = template.split_once("://") else {
        bail!(
            "map_tiles must be an http(s) URL template, e.g. https://tiles.example.ir/{{z}}/{{x}}/{{y}}.png"
        );
    };
    ensure!(
        matches!(scheme, "https" | "http"),
        "map_tiles must start with https:// (or http:// for a local tile server)"
    );
    let host = rest.split('/').next().unwrap_or_default();
    ensure!(
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')),
        "map_tiles must name its host plainly (no placeholder, user or odd character in it)"
    );
    Ok(Some(format!("{scheme}://{host}")))
}

/// Checks the basemap settings at startup.
pub fn check(config: &Config) -> anyhow::Result<()> {
    if let Some(template) = &config.map_tiles {
        tiles_origin(template)?;
    }
    Ok(())
}

/// The Content-Security-Policy for this configuration: the basemap's
/// origin, if any, may serve images.
pub fn content_security_policy(config: &Config) -> String {
    let tiles = config
        .map_tiles
        .as_deref()
        .and_then(|t| tiles_origin(t).ok().flatten())
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!("{}{tiles}{}", POLICY[0], POLICY[1])
}

/// `index.html` with the basemap settings in its meta tags.
pub fn fill_page(page: &str, config: &Config) -> String {
    let tiles = config
        .map_tiles
        .as_deref()
        .filter(|t| tiles_origin(t).is_ok())
        .unwrap_or_default();
    let attribution = config.map_tiles_attribution.as_deref().unwrap_or_default();
    page.replacen(
        r#"<meta name="kudakyar-tiles" content="">"#,
        &format!(
            r#"<meta name="kudakyar-tiles" content="{}">"#,
            escape(tiles)
        ),
        1,
    )
    .replacen(
        r#"<meta name="kudakyar-tiles-attribution" content="">"#,
        &format!(
            r#"<meta name="kudakyar-tiles-attribution" content="{}">"#,
            escape(attribution)
        ),
        1,
    )
}

/// Text for an HTML attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_templates() {
        assert_eq!(
            tiles_origin("https://tiles.example.ir/{z}/{x}/{y}.png").unwrap(),
            Some("https://tiles.example.ir".into())
        );
        assert_eq!(
            tiles_origin("http://127.0.0.1:8081/t/{z}/{x}/{y}.png?k=1&s=2").unwrap(),
            Some("http://127.0.0.1:8081".into())
        );
        assert_eq!(tiles_origin("/tiles/{z}/{x}/{y}.png").unwrap(), None);
        for bad in [
            "tiles.example.ir/{z}/{x}/{y}.png",
            "ftp://tiles.example.ir/{z}/{x}/{y}.png",
            "https://tiles.example.ir/{z}/{x}.png",
            "https://{s}.tiles.example.ir/{z}/{x}/{y}.png",
            "https://user@tiles.example.ir/{z}/{x}/{y}.png",
            "https://tiles.example.ir/{z}/{x}/{y}.png\" onload=\"x",
            "https:///{z}/{x}/{y}.png",
            "//tiles.example.ir/{z}/{x}/{y}.png",
            "/tiles/{z}/{x}/{y}.png'",
        ] {
            assert!(tiles_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_policy_names_the_tile_origin_only_when_set() {
        let mut config = Config::default();
        let plain = content_security_policy(&config);
        assert!(
            plain.contains("img-src 'self' data: blob:; font-src"),
            "{plain}"
        );
        config.map_tiles = Some("https://tiles.example.ir/{z}/{x}/{y}.png".into());
        let with = content_security_policy(&config);
        assert!(
            with.contains("img-src 'self' data: blob: https://tiles.example.ir; font-src"),
            "{with}"
        );
        assert_eq!(with.replace(" https://tiles.example.ir", ""), plain);
    }

    #[test]
    fn the_page_gets_the_settings() {
        let page = r#"<meta name="kudakyar-tiles" content=""><meta name="kudakyar-tiles-attribution" content="">"#;
        let mut config = Config::default();
        assert_eq!(fill_page(page, &config), page);
        config.map_tiles = Some("https://t.example.ir/{z}/{x}/{y}.png?a=1&b=2".into());
        config.map_tiles_attribution = Some("© <b>Example</b>".into());
        assert_eq!(
            fill_page(page, &config),
            r#"<meta name="kudakyar-tiles" content="https://t.example.ir/{z}/{x}/{y}.png?a=1&amp;b=2"><meta name="kudakyar-tiles-attribution" content="© &lt;b&gt;Example&lt;/b&gt;">"#
        );
    }
}
