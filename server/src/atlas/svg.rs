//! The printable map of a province for provincial meetings: [`render`]
//! draws its counties as a choropleth of zoning classes on an A4 landscape
//! page, as an SVG document.
//!
//! - Page: `viewBox="0 0 297 210"` in millimetres (A4 landscape), so the
//!   file prints at true size. The title and the period (a Jalali range, as
//!   the caller writes it) head the page; the map fills the left three
//!   quarters; the legend stands on the right, where a right-to-left reader
//!   starts; the attribution and a scale bar run along the bottom.
//! - Projection: equirectangular around the features' middle latitude,
//!   longitudes scaled by cos(latitude), so a province keeps its shape (at
//!   Iran's latitudes an unscaled map would stretch it east–west by
//!   15–30 %); then fitted to the map area, aspect kept.
//! - Colours: ColorBrewer's YlOrRd, four classes — sequential and safe for
//!   the common colour-vision deficiencies, and still ordered when printed
//!   in grey. A suppressed county (fewer than five children, hidden for
//!   privacy) is hatched, not coloured, so it never reads as "low"; a
//!   county without data is light grey.
//! - Text: every Persian string is written with `direction="rtl"`, every
//!   caller's string is XML-escaped, and each county carries its code
//!   (`data-code`) and a `<title>` (its name and value) for screen readers
//!   and tooltips.
//!
//! It is a pure function of its input: no I/O, no clock, so the same input
//! gives the same bytes (an ETag can be its hash).

use std::fmt::Write;

use geo::{BoundingRect, InteriorPoint, MultiPolygon};

/// A zoning class of a county, or why it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Low,
    Medium,
    High,
    Critical,
    /// Fewer than five children (or reports): not shown, for privacy.
    Suppressed,
    NoData,
}

impl Class {
    /// The class's name on the map (Persian).
    pub fn label_fa(self) -> &'static str {
        match self {
            Class::Low => "کم",
            Class::Medium => "متوسط",
            Class::High => "زیاد",
            Class::Critical => "بحرانی",
            Class::Suppressed => "پنهان (کمتر از ۵ کودک)",
            Class::NoData => "بدون داده",
        }
    }

    /// The fill: a colour, or the hatch pattern for suppressed counties.
    pub fn fill(self) -> &'static str {
        match self {
            Class::Low => "#ffffb2",
            Class::Medium => "#fecc5c",
            Class::High => "#fd8d3c",
            Class::Critical => "#e31a1c",
            Class::Suppressed => "url(#suppressed)",
            Class::NoData => "#eeeeee",
        }
    }

    fn css(self) -> &'static str {
        match self {
            Class::Low => "low",
            Class::Medium => "medium",
            Class::High => "high",
            Class::Critical => "critical",
            Class::Suppressed => "suppressed",
            Class::NoData => "no-data",
        }
    }
}

/// One county on the map.
#[derive(Debug, Clone)]
pub struct Feature {
    pub code: String,
    pub name_fa: String,
    /// Simplified outline (longitude, latitude).
    pub shape: MultiPolygon<f64>,
    pub class: Class,
    /// The measure shown in the county's tooltip (none when suppressed).
    pub value: Option<f64>,
}

/// A legend row for a zoning class: the class and its range as the caller
/// writes it (say «۱۲ تا ۳۰»).
#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub class: Class,
    pub range: String,
}

/// Everything on the page.
#[derive(Debug, Clone)]
pub struct Map<'a> {
    /// Say «اطلس حضور کودکان کار — استان تهران».
    pub title: &'a str,
    /// The measure, say «کودکان دیده‌شده».
    pub measure: &'a str,
    /// The Jalali period, say «۱ مهر ۱۴۰۵ تا ۳۰ آذر ۱۴۰۵».
    pub period: &'a str,
    pub features: &'a [Feature],
    /// The zoning classes, lowest first; suppressed and no-data rows are
    /// added after them.
    pub legend: &'a [LegendEntry],
}

/// Data attribution required by the OSM boundaries (ODbL).
pub const ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// The page (mm): A4 landscape.
const PAGE: (f64, f64) = (297.0, 210.0);
/// The map's area: x, y, width, height (mm).
const MAP_AREA: (f64, f64, f64, f64) = (10.0, 30.0, 200.0, 165.0);
/// The legend's right edge and top (mm).
const LEGEND_AT: (f64, f64) = (287.0, 40.0);
const FONT: &str = "Vazirmatn, 'Noto Sans Arabic', Tahoma, sans-serif";

/// The SVG document of a map.
pub fn render(map: &Map) -> String {
    let projection = Projection::fit(map.features);
    let mut svg = String::with_capacity(64 * 1024);
    let _ = write!(
        svg,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" font-family="{FONT}" lang="fa">
<title>{title}</title>
<defs><pattern id="suppressed" patternUnits="userSpaceOnUse" width="2" height="2" patternTransform="rotate(45)"><rect width="2" height="2" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="2" stroke="#666666" stroke-width="0.7"/></pattern></defs>
<rect width="{w}" height="{h}" fill="#ffffff"/>
"##,
        w = PAGE.0,
        h = PAGE.1,
        title = escape(map.title),
    );
    // Heading, right-aligned as Persian reads.
    let _ = writeln!(
        svg,
        r##"<text x="{x}" y="14" direction="rtl" text-anchor="start" font-size="7" font-weight="bold" fill="#222222">{}</text>"##,
        escape(map.title),
        x = LEGEND_AT.0,
    );
    let _ = writeln!(
        svg,
        r##"<text x="{x}" y="22" direction="rtl" text-anchor="start" font-size="4.2" fill="#444444">{} — {}</text>"##,
        escape(map.measure),
        escape(map.period),
        x = LEGEND_AT.0,
    );

    let _ = writeln!(
        svg,
        r##"<g id="counties" stroke="#555555" stroke-width="0.25" stroke-linejoin="round">"##
    );
    for f in map.features {
        let value = match (f.class, f.value) {
            (Class::Suppressed, _) => Class::Suppressed.label_fa().to_string(),
            (_, Some(v)) => format_value(v),
            (_, None) => Class::NoData.label_fa().to_string(),
        };
        let _ = write!(
            svg,
            r#"<path data-code="{code}" class="{css}" fill="{fill}" fill-rule="evenodd" d=""#,
            code = escape(&f.code),
            css = f.class.css(),
            fill = f.class.fill(),
        );
        projection.path(&mut svg, &f.shape);
        let _ = writeln!(
            svg,
            r#""><title>{}: {}</title></path>"#,
            escape(&f.name_fa),
            escape(&value)
        );
    }
    let _ = writeln!(svg, "</g>");

    // County names at an interior point, small enough not to hide the colours.
    let _ = writeln!(
        svg,
        r##"<g id="names" font-size="2.4" fill="#222222" text-anchor="middle" direction="rtl" stroke="#ffffff" stroke-width="0.5" paint-order="stroke">"##
    );
    for f in map.features {
        if let Some(p) = f.shape.interior_point() {
            let (x, y) = projection.point(p.x(), p.y());
            let _ = writeln!(
                svg,
                r#"<text x="{x:.2}" y="{y:.2}">{}</text>"#,
                escape(short_name(&f.name_fa))
            );
        }
    }
    let _ = writeln!(svg, "</g>");

    legend(&mut svg, map);
    projection.scale_bar(&mut svg);
    let _ = writeln!(
        svg,
        r##"<text x="10" y="204" direction="ltr" text-anchor="start" font-size="3" fill="#555555">{}</text>"##,
        escape(ATTRIBUTION)
    );
    svg.push_str("</svg>\n");
    svg
}

fn legend(svg: &mut String, map: &Map) {
    let (right, top) = LEGEND_AT;
    let _ = writeln!(
        svg,
        r##"<g id="legend" direction="rtl" font-size="3.6" fill="#222222">"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{right}" y="{top}" text-anchor="start" font-weight="bold">پهنه‌بندی</text>"#
    );
    let rows = map
        .legend
        .iter()
        .map(|e| (e.class, e.range.as_str()))
        .chain([(Class::Suppressed, ""), (Class::NoData, "")]);
    for (i, (class, range)) in rows.enumerate() {
        let y = top + 7.0 + 8.0 * i as f64;
        let _ = writeln!(
            svg,
            r##"<rect class="{css}" x="{bx}" y="{by}" width="8" height="5" fill="{fill}" stroke="#555555" stroke-width="0.25"/>"##,
            css = class.css(),
            bx = right - 8.0,
            by = y - 4.0,
            fill = class.fill(),
        );
        let text = if range.is_empty() {
            class.label_fa().to_string()
        } else {
            format!("{} ({})", class.label_fa(), range)
        };
        let _ = writeln!(
            svg,
            r#"<text x="{tx}" y="{y}" text-anchor="start">{}</text>"#,
            escape(&text),
            tx = right - 11.0,
        );
    }
    let _ = writeln!(svg, "</g>");
}

/// «شهرستان تهران» → «تهران»: the word for county adds nothing on a map of
/// counties.
fn short_name(name: &str) -> &str {
    name.strip_prefix("شهرستان ").unwrap_or(name).trim()
}

/// A value in Persian digits, whole numbers without decimals.
fn format_value(v: f64) -> String {
    let text = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    };
    text.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('۰' as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
            '.' => '٫',
            other => other,
        })
        .collect()
}

/// XML-escapes text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Longitude/latitude to page millimetres.
struct Projection {
    /// cos of the middle latitude: how much a degree of longitude shrinks.
    k: f64,
    /// Millimetres per (scaled) degree.
    scale: f64,
    /// The projected west and north edges, and the page offsets that centre
    /// the map in its area.
    west: f64,
    north: f64,
    dx: f64,
    dy: f64,
}

impl Projection {
    fn fit(features: &[Feature]) -> Projection {
        let rect = features
            .iter()
            .filter_map(|f| f.shape.bounding_rect())
            .reduce(|a, b| {
                geo::Rect::new(
                    geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            });
        let (x0, y0, w, h) = MAP_AREA;
        let Some(rect) = rect else {
            return Projection {
                k: 1.0,
                scale: 1.0,
                west: 0.0,
                north: 0.0,
                dx: x0,
                dy: y0,
            };
        };
        let k = ((rect.min().y + rect.max().y) / 2.0).to_radians().cos();
        let width = ((rect.max().x - rect.min().x) * k).max(1e-9);
        let height = (rect.max().y - rect.min().y).max(1e-9);
        let scale = (w / width).min(h / height);
        Projection {
            k,
            scale,
            west: rect.min().x * k,
            north: rect.max().y,
            dx: x0 + (w - width * scale) / 2.0,
            dy: y0 + (h - height * scale) / 2.0,
        }
    }

    fn point(&self, lng: f64, lat: f64) -> (f64, f64) {
        (
            self.dx + (lng * self.k - self.west) * self.scale,
            self.dy + (self.north - lat) * self.scale,
        )
    }

    /// Appends the path data of a shape: one closed subpath per ring.
    fn path(&self, out: &mut String, shape: &MultiPolygon<f64>) {
        for polygon in shape {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                let mut last = None;
                for (i, c) in ring.coords().enumerate() {
                    let (x, y) = self.point(c.x, c.y);
                    // Hundredths of a millimetre; repeats at that precision dropped.
                    let p = ((x * 100.0).round() as i64, (y * 100.0).round() as i64);
                    if last == Some(p) {
                        continue;
                    }
                    last = Some(p);
                    let _ = write!(
                        out,
                        "{}{:.2} {:.2}",
                        if i == 0 { "M" } else { "L" },
                        p.0 as f64 / 100.0,
                        p.1 as f64 / 100.0
                    );
                }
                out.push('Z');
            }
        }
    }

    /// A scale bar of a round number of kilometres, about 30 mm long.
    fn scale_bar(&self, out: &mut String) {
        // A degree of latitude is 111.32 km and `scale` mm on the page.
        let mm_per_km = self.scale / 111.32;
        if !mm_per_km.is_finite() || mm_per_km <= 0.0 {
            return;
        }
        let target = 30.0 / mm_per_km;
        let km = [
            1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 250.0, 500.0,
        ]
        .into_iter()
        .min_by(|a, b| (a - target).abs().total_cmp(&(b - target).abs()))
        .unwrap_or(10.0);
        let length = km * mm_per_km;
        let (x, y) = (LEGEND_AT.0 - length, 198.0);
        let _ = writeln!(
            out,
            r##"<g id="scale"><rect x="{x:.2}" y="{y}" width="{length:.2}" height="1.5" fill="#333333"/><text x="{cx:.2}" y="{ty}" text-anchor="middle" direction="rtl" font-size="3" fill="#333333">{} کیلومتر</text></g>"##,
            format_value(km),
            cx = x + length / 2.0,
            ty = y - 1.5,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(code: &str, name: &str, x: f64, y: f64, class: Class) -> Feature {
        Feature {
            code: code.into(),
            name_fa: name.into(),
            shape: MultiPolygon::new(vec![polygon![
                (x: x, y: y), (x: x + 0.5, y: y), (x: x + 0.5, y: y + 0.5), (x: x, y: y + 0.5)
            ]]),
            class,
            value: Some(12.0),
        }
    }

    fn features() -> Vec<Feature> {
        vec![
            square("A1", "شهرستان تهران", 51.0, 35.5, Class::Critical),
            square("B2", "شمیرانات", 51.5, 35.5, Class::Low),
            square("C3", "ری", 51.0, 35.0, Class::Suppressed),
            square("D4", "دماوند", 51.5, 35.0, Class::NoData),
            square("E5", "<script>&\"'", 52.0, 35.0, Class::Medium),
        ]
    }

    fn legend() -> Vec<LegendEntry> {
        [
            (Class::Low, "۱ تا ۵"),
            (Class::Medium, "۶ تا ۱۲"),
            (Class::High, "۱۳ تا ۳۰"),
            (Class::Critical, "بیش از ۳۰"),
        ]
        .into_iter()
        .map(|(class, range)| LegendEntry {
            class,
            range: range.into(),
        })
        .collect()
    }

    fn rendered() -> String {
        let features = features();
        let legend = legend();
        render(&Map {
            title: "اطلس حضور کودکان کار — استان تهران",
            measure: "کودکان دیده‌شده",
            period: "۱ مهر ۱۴۰۵ تا ۳۰ آذر ۱۴۰۵",
            features: &features,
            legend: &legend,
        })
    }

    /// Every element's name and attributes, read by a real XML parser (it
    /// fails on anything not well-formed).
    /// An element's name, attributes and text.
    type Element = (String, Vec<(String, String)>, String);

    fn elements(svg: &str) -> Vec<Element> {
        use quick_xml::events::{BytesStart, Event};
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut out: Vec<Element> = Vec::new();
        // The open elements (indexes into `out`): text belongs to the innermost.
        let mut open: Vec<usize> = Vec::new();
        let element = |e: &BytesStart| {
            let attrs = e
                .attributes()
                .map(|a| {
                    let a = a.expect("a well-formed attribute");
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().expect("escaped").into_owned(),
                    )
                })
                .collect();
            let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
            (name, attrs, String::new())
        };
        loop {
            let text = match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    open.push(out.len());
                    out.push(element(&e));
                    continue;
                }
                Event::Empty(e) => {
                    out.push(element(&e));
                    continue;
                }
                Event::End(_) => {
                    open.pop();
                    continue;
                }
                // Text arrives in pieces: plain runs, and each reference
                // (`&amp;`) as an event of its own.
                Event::Text(t) => t.decode().expect("UTF-8 text").into_owned(),
                Event::GeneralRef(r) => {
                    let name = r.decode().expect("UTF-8 reference").into_owned();
                    match r.resolve_char_ref().expect("a character reference") {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_xml_entity(&name)
                            .expect("a predefined entity")
                            .to_string(),
                    }
                }
                Event::Eof => break,
                _ => continue,
            };
            if let Some(&i) = open.last() {
                out[i].2.push_str(&text);
            }
        }
        assert!(open.is_empty(), "every element closed");
        out
    }

    fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn an_a4_landscape_page_with_every_county_drawn_and_classed() {
        let svg = rendered();
        let elements = elements(&svg);
        let root = &elements[0];
        assert_eq!(root.0, "svg");
        assert_eq!(attr(&root.1, "viewBox"), Some("0 0 297 210"));
        let paths: Vec<_> = elements
            .iter()
            .filter(|(name, attrs, _)| name == "path" && attr(attrs, "data-code").is_some())
            .collect();
        let codes: Vec<&str> = paths
            .iter()
            .map(|(_, a, _)| attr(a, "data-code").unwrap())
            .collect();
        assert_eq!(codes, ["A1", "B2", "C3", "D4", "E5"]);
        for ((_, attrs, _), f) in paths.iter().zip(features()) {
            assert_eq!(attr(attrs, "fill"), Some(f.class.fill()));
            let d = attr(attrs, "d").unwrap();
            assert!(d.starts_with('M') && d.ends_with('Z'), "{d}");
        }
        // Suppressed is hatched, not a colour.
        assert_eq!(attr(&paths[2].1, "fill"), Some("url(#suppressed)"));
        assert!(
            elements
                .iter()
                .any(|(n, a, _)| n == "pattern" && attr(a, "id") == Some("suppressed"))
        );
    }

    #[test]
    fn projection_keeps_shapes_and_stays_in_the_map_area() {
        let svg = rendered();
        let numbers: Vec<f64> = elements(&svg)
            .iter()
            .filter(|(n, a, _)| n == "path" && attr(a, "data-code").is_some())
            .flat_map(|(_, a, _)| {
                attr(a, "d")
                    .unwrap()
                    .split(['M', 'L', 'Z', ' '])
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<f64>().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect();
        let xs: Vec<f64> = numbers.iter().step_by(2).copied().collect();
        let ys: Vec<f64> = numbers.iter().skip(1).step_by(2).copied().collect();
        let (x0, y0, w, h) = MAP_AREA;
        assert!(xs.iter().all(|x| (x0 - 0.01..=x0 + w + 0.01).contains(x)));
        assert!(ys.iter().all(|y| (y0 - 0.01..=y0 + h + 0.01).contains(y)));
        // The first square: 0.5° wide and high; on the
        // page its width is cos(35.5°) of its height (the middle latitude of
        // all the features, 35.0°–36.0°).
        let first: Vec<f64> = numbers[..8].to_vec();
        let width = first[2] - first[0];
        let height = first[1] - first[5];
        let expected = 35.5f64.to_radians().cos();
        assert!(
            (width / height - expected).abs() < 0.01,
            "{width} / {height}"
        );
    }

    #[test]
    fn legend_title_period_and_attribution_are_present_right_to_left() {
        let svg = rendered();
        let elements = elements(&svg);
        let texts: Vec<&str> = elements
            .iter()
            .filter(|(n, _, _)| n == "text")
            .map(|(_, _, t)| t.as_str())
            .collect();
        assert!(texts.contains(&"اطلس حضور کودکان کار — استان تهران"));
        assert!(texts.contains(&"کودکان دیده‌شده — ۱ مهر ۱۴۰۵ تا ۳۰ آذر ۱۴۰۵"));
        assert!(texts.contains(&ATTRIBUTION));
        for class in [Class::Low, Class::Medium, Class::High, Class::Critical] {
            assert!(
                texts.iter().any(|t| t.starts_with(class.label_fa())),
                "{class:?} in the legend"
            );
        }
        assert!(texts.contains(&Class::Suppressed.label_fa()));
        assert!(texts.contains(&Class::NoData.label_fa()));
        let legend = elements
            .iter()
            .find(|(n, a, _)| n == "g" && attr(a, "id") == Some("legend"))
            .expect("a legend group");
        assert_eq!(attr(&legend.1, "direction"), Some("rtl"));
        // The county word is dropped from labels; names stay whole.
        assert!(texts.contains(&"تهران"));
    }

    #[test]
    fn names_are_escaped() {
        let svg = rendered();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;&apos;"));
        let titles: Vec<String> = elements(&svg)
            .into_iter()
            .filter(|(n, _, _)| n == "title")
            .map(|(_, _, t)| t)
            .collect();
        assert!(
            titles.iter().any(|t| t.starts_with("<script>&\"'")),
            "{titles:?}"
        );
        assert_eq!(escape("a\u{1}b"), "ab", "control characters are not XML");
    }

    #[test]
    fn values_in_persian_digits_and_suppressed_never_as_zero() {
        assert_eq!(format_value(1404.0), "۱۴۰۴");
        assert_eq!(format_value(2.34), "۲٫۳");
        let svg = rendered();
        let titles: Vec<String> = elements(&svg)
            .into_iter()
            .filter(|(n, _, _)| n == "title")
            .map(|(_, _, t)| t)
            .collect();
        assert!(titles.contains(&format!("ری: {}", Class::Suppressed.label_fa())));
        assert!(titles.contains(&"شهرستان تهران: ۱۲".to_string()));
    }

    #[test]
    fn the_same_input_gives_the_same_bytes_and_an_empty_map_renders() {
        assert_eq!(rendered(), rendered());
        let svg = render(&Map {
            title: "خالی",
            measure: "",
            period: "",
            features: &[],
            legend: &[],
        });
        assert!(elements(&svg).iter().any(|(n, _, _)| n == "svg"));
    }
}
