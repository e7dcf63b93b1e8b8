//! The printable SVG map drawn from real boundaries: Tehran province's
//! counties (`../shared/geo/iran/counties/IR-23.geojson`, or under
//! `KUDAKYAR_TEST_GEO_DIR`), simplified as the import simplifies them,
//! written to `target/test-artifacts/atlas-IR-23.svg` for a person (or the
//! browser screenshot) to look at. Skipped loudly without the data, failing
//! under `CI=true`.

use std::path::PathBuf;

use geo::{MapCoords, SimplifyVwPreserve};
use kudakyar::atlas::svg::{self, Class, Feature, LegendEntry, Map};
use kudakyar::geo::import::{DISPLAY_DECIMALS, SIMPLIFY_AREA};
use serde_json::Value;

/// Where test artifacts go: `target/test-artifacts` (or under `CARGO_TARGET_DIR`).
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Tehran's counties as the atlas holds them: tagged polygons, simplified
/// and rounded for display.
fn tehran_counties() -> Option<Vec<(String, String, geo::MultiPolygon<f64>)>> {
    let dir = std::env::var_os("KUDAKYAR_TEST_GEO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/geo/iran"));
    let file = dir.join("counties/IR-23.geojson");
    if !file.is_file() {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!in_ci, "{} must exist in CI", file.display());
        eprintln!("SKIPPED: the SVG map of IR-23 (no {})", file.display());
        return None;
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let collection: geojson::FeatureCollection = serde_json::from_str(&text).unwrap();
    let scale = 10f64.powi(DISPLAY_DECIMALS);
    let mut out = Vec::new();
    for (n, feature) in collection.features.into_iter().enumerate() {
        let tags = feature
            .properties
            .as_ref()
            .and_then(|p| p.get("tags"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let Some(geometry) = feature.geometry else {
            continue;
        };
        let Ok(shape) = kudakyar::geo::index::to_multipolygon(&geometry) else {
            continue; // the files' tagless Points
        };
        let name = tags
            .get("name:fa")
            .or_else(|| tags.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let code = tags
            .get("wikidata")
            .and_then(Value::as_str)
            .map_or_else(|| format!("f{n}"), str::to_string);
        let display = shape.simplify_vw_preserve(SIMPLIFY_AREA).map_coords(
            |c| geo::coord! { x: (c.x * scale).round() / scale, y: (c.y * scale).round() / scale },
        );
        out.push((code, name, display));
    }
    Some(out)
}

#[test]
fn tehran_province_map_is_written_for_print() {
    let Some(counties) = tehran_counties() else {
        return;
    };
    assert!(counties.len() >= 10, "Tehran has 16 counties");
    // Classes spread over the counties in a fixed way, with one suppressed
    // and one without data, so every legend row has a county.
    let classes = [
        Class::Critical,
        Class::High,
        Class::Medium,
        Class::Low,
        Class::Suppressed,
        Class::NoData,
    ];
    let features: Vec<Feature> = counties
        .into_iter()
        .enumerate()
        .map(|(i, (code, name_fa, shape))| {
            let class = classes[i % classes.len()];
            let value = match class {
                Class::Low => Some(3.0 + i as f64),
                Class::Medium => Some(12.0 + i as f64),
                Class::High => Some(30.0 + i as f64),
                Class::Critical => Some(80.0 + i as f64),
                Class::Suppressed | Class::NoData => None,
            };
            Feature {
                code,
                name_fa,
                shape,
                class,
                value,
            }
        })
        .collect();
    let legend: Vec<LegendEntry> = [
        (Class::Low, "۵ تا ۱۱"),
        (Class::Medium, "۱۲ تا ۲۹"),
        (Class::High, "۳۰ تا ۷۹"),
        (Class::Critical, "۸۰ و بیشتر"),
    ]
    .into_iter()
    .map(|(class, range)| LegendEntry {
        class,
        range: range.into(),
    })
    .collect();
    let svg = svg::render(&Map {
        title: "اطلس حضور کودکان کار — استان تهران",
        measure: "کودکان دیده‌شده",
        period: "۱ مهر ۱۴۰۵ تا ۳۰ آذر ۱۴۰۵",
        features: &features,
        legend: &legend,
    });
    for f in &features {
        assert!(
            svg.contains(&format!("data-code=\"{}\"", f.code)),
            "{} drawn",
            f.code
        );
    }
    assert!(svg.contains(svg::ATTRIBUTION));
    // Small enough to mail to a meeting.
    assert!(svg.len() < 400 * 1024, "{} bytes", svg.len());
    let out = artifacts_dir().join("atlas-IR-23.svg");
    std::fs::write(&out, &svg).unwrap();
    eprintln!("wrote {} ({} KB)", out.display(), svg.len() / 1024);
}
