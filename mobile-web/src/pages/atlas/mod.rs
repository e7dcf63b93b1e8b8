//! The presence atlas (`/atlas`, «اطلس حضور»), for provincial and national
//! staff: the choropleth of counties (or provinces) by zoning class, the hex
//! heat map and the emerging hot spots on a Leaflet map ([`crate::atlas`]),
//! the zoning legend, the hot spots counted by category, a monthly trend
//! ([`chart`]) and the downloads, for a Jalali date range and filters.
//!
//! The server decides what the user sees: every atlas endpoint answers
//! within the caller's scope, so a provincial user's map holds their
//! province's counties only and opens fitted to them (a national
//! administrator's, the country's provinces). The screen asks for the
//! user's own area (`area` of the trend, the map's level) so it never asks
//! for more than it may show. Figures under 5 children arrive as
//! "suppressed" and are drawn as such, never as low.
//!
//! Order of loading: everything the first map needs at once — the map
//! module (Leaflet, on demand), the choropleth and the hexes of the user's
//! scope — then both layers drawn; the legend and the trend each on their
//! own; the hot spots once the map is open. On a slow phone network each
//! of these is a round trip, so none waits for another it does not need.
//! Loaded on demand (`pages::deferred`), with its texts.

mod chart;

use std::cell::RefCell;

use futures::channel::oneshot;
use kudakyar_api::children::Sex;
use kudakyar_api::users::{Role, User};
use leptos::ev::SubmitEvent;
use leptos::html::H1;
use leptos::prelude::*;
use serde::Deserialize;

use super::{ErrorBox, focus_on_mount};
use crate::api::{self, ApiError};
use crate::atlas;
use crate::dates::{self, jalali};
use crate::i18n::{ErrorText, L, Lang, digits, error_text, l, lang, vocabulary};
use crate::route::{Link, Route};
use crate::session::{Auth, use_session};
use crate::settle;

const MEASURES: [(&str, L); 3] = [
    ("children", L::MeasureChildren),
    ("encounters", L::MeasureEncounters),
    ("reports", L::MeasureReports),
];
const AGE_BANDS: [&str; 6] = ["0-5", "6-11", "12-14", "15-17", "18+", "unknown"];
const SEXES: [Sex; 3] = [Sex::Male, Sex::Female, Sex::Unknown];
const PATTERNS: [(&str, L); 8] = [
    ("new", L::PatternNew),
    ("consecutive", L::PatternConsecutive),
    ("intensifying", L::PatternIntensifying),
    ("persistent", L::PatternPersistent),
    ("diminishing", L::PatternDiminishing),
    ("sporadic", L::PatternSporadic),
    ("oscillating", L::PatternOscillating),
    ("historical", L::PatternHistorical),
];

/// The filters as the form holds them ("" = any).
#[derive(Clone, Default, PartialEq)]
pub struct Filters {
    pub measure: String,
    pub level: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sex: String,
    pub age_band: String,
    pub nationality: String,
    pub work_type: String,
    pub source: String,
}

impl Filters {
    /// What a user's atlas opens with: distinct children, by county (or by
    /// province for national staff), the whole time, nobody left out.
    pub fn first(user: &User) -> Filters {
        Filters {
            measure: "children".into(),
            level: home_level(user).into(),
            ..Filters::default()
        }
    }

    /// Do the child filters apply (children, encounters) or the source (reports)?
    pub fn of_children(&self) -> bool {
        self.measure != "reports"
    }

    /// The query parameters every atlas endpoint shares, `&`-joined; the
    /// filters that do not apply to the measure are left out.
    pub fn common(&self) -> String {
        let mut q = format!("measure={}", self.measure);
        let child = self.of_children();
        for (key, value, applies) in [
            ("from", self.from.as_deref().unwrap_or_default(), true),
            ("to", self.to.as_deref().unwrap_or_default(), true),
            ("sex", &self.sex, child),
            ("age_band", &self.age_band, child),
            ("nationality", &self.nationality, child),
            ("work_type", &self.work_type, child),
            ("source", &self.source, !child),
        ] {
            if applies && !value.is_empty() {
                // Only `+` needs escaping among these values (`18+`).
                q.push_str(&format!("&{key}={}", value.replace('+', "%2B")));
            }
        }
        q
    }
}

/// The area the user's trend is drawn for: their county, province, or the country.
pub fn home_area(user: &User) -> String {
    match (&user.county, &user.province) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => "IR".to_owned(),
    }
}

/// The map level a user opens on: the counties of their province, or the
/// provinces of the country for national staff.
pub fn home_level(user: &User) -> &'static str {
    if user.province.is_some() || user.role != Role::NationalAdmin {
        "county"
    } else {
        "province"
    }
}

/// `GET /api/v1/atlas/zones`.
#[derive(Clone, Deserialize, PartialEq)]
struct Zones {
    #[serde(default)]
    frozen: bool,
    #[serde(default)]
    legend: Vec<LegendRow>,
}

#[derive(Clone, Deserialize, PartialEq)]
struct LegendRow {
    class: String,
    from: f64,
    to: f64,
}

/// The hot spots' GeoJSON, read for the counts by category.
#[derive(Deserialize)]
struct HotspotCollection {
    features: Vec<HotspotFeature>,
}

#[derive(Deserialize)]
struct HotspotFeature {
    properties: HotspotProperties,
}

#[derive(Deserialize)]
struct HotspotProperties {
    pattern: String,
}

/// The label of a hot-spot pattern (`hot_new` → «نقطهٔ داغ تازه»).
pub fn pattern_label(pattern: &str) -> Option<String> {
    let (template, kind) = if let Some(k) = pattern.strip_prefix("hot_") {
        (l(L::Hot), k)
    } else {
        (l(L::Cold), pattern.strip_prefix("cold_")?)
    };
    let (_, key) = PATTERNS.iter().find(|(name, _)| *name == kind)?;
    let word = l(*key);
    Some(template.replace("{}", word))
}

/// Every pattern with its label, for the map's tooltips (JSON object).
fn pattern_labels() -> serde_json::Value {
    let mut labels = serde_json::Map::new();
    for side in ["hot_", "cold_"] {
        for (kind, _) in PATTERNS {
            let name = format!("{side}{kind}");
            if let Some(label) = pattern_label(&name) {
                labels.insert(name, label.into());
            }
        }
    }
    labels.into()
}

/// The counts by pattern, most frequent first (`no_pattern` left out).
fn count_patterns(text: &str) -> Vec<(String, u32)> {
    let mut counts: Vec<(String, u32)> = Vec::new();
    if let Ok(c) = serde_json::from_str::<HotspotCollection>(text) {
        for f in c.features {
            let p = f.properties.pattern;
            if p == "no_pattern" {
                continue;
            }
            match counts.iter_mut().find(|(name, _)| *name == p) {
                Some((_, n)) => *n += 1,
                None => counts.push((p, 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// A class's label.
fn zone_label(class: &str) -> &'static str {
    l(match class {
        "low" => L::ZoneLow,
        "medium" => L::ZoneMedium,
        "high" => L::ZoneHigh,
        "critical" => L::ZoneCritical,
        "suppressed" => L::ZoneSuppressed,
        _ => L::ZoneNoData,
    })
}

/// A figure as the UI writes it (whole numbers; rates to one decimal).
pub fn number(x: f64) -> String {
    if x.fract().abs() < 1e-9 || x >= 100.0 {
        digits(x.round().max(0.0) as u32)
    } else {
        let tenths = (x * 10.0).round().max(0.0) as u32;
        let sep = if lang() == Lang::En { "." } else { "٫" };
        format!("{}{sep}{}", digits(tenths / 10), digits(tenths % 10))
    }
}

/// The age band as shown: Persian digits, `unknown` in words.
fn age_label(band: &str) -> String {
    if band == "unknown" {
        return l(L::AgeUnknown).to_owned();
    }
    band.split('-')
        .map(|part| {
            let plus = part.ends_with('+');
            let n = digits(part.trim_end_matches('+').parse().unwrap_or(0));
            if plus { format!("{n}+") } else { n }
        })
        .collect::<Vec<_>>()
        .join("–")
}

/// The map's JSON argument holding a server answer as it came.
fn with_collection(text: &str, rest: &serde_json::Value) -> String {
    let rest = rest.to_string();
    // `rest` is an object: splice the collection in as its first member.
    match rest.strip_prefix('{') {
        Some("}") => format!("{{\"collection\":{text}}}"),
        Some(tail) => format!("{{\"collection\":{text},{tail}"),
        None => format!("{{\"collection\":{text}}}"),
    }
}

#[component]
pub fn AtlasPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let Auth::LoggedIn { user, .. } = session.auth.get_untracked() else {
        return ().into_any();
    };
    let national = user.province.is_none();
    let area = home_area(&user);
    let filters = RwSignal::new(Filters::first(&user));
    let show_zones = RwSignal::new(true);
    let show_hexes = RwSignal::new(true);
    let show_hotspots = RwSignal::new(true);
    let zones = RwSignal::new(None::<Result<Zones, ErrorText>>);
    let hotspots = RwSignal::new(None::<Result<Vec<(String, u32)>, ErrorText>>);
    let series = RwSignal::new(None::<Result<Vec<chart::Point>, ErrorText>>);
    let error = RwSignal::new(None::<ErrorText>);
    let busy = RwSignal::new(false);
    let map_open = RwSignal::new(None::<bool>);
    let download_error = RwSignal::new(None::<ErrorText>);

    // The legend and the trend for the filters.
    let panels = {
        let area = area.clone();
        move |token: String, f: &Filters| {
            let common = f.common();
            {
                let path = format!("/atlas/zones?level={}&{common}", f.level);
                let token = token.clone();
                leptos::task::spawn_local(async move {
                    let answer = api::get::<Zones>(&token, &path).await;
                    zones.set(Some(answer.map_err(|e| error_text(&e, false))));
                });
            }
            let path = format!("/atlas/timeseries?area={area}&bucket=jmonth&{common}");
            leptos::task::spawn_local(async move {
                let answer = api::get::<chart::Series>(&token, &path).await;
                series.set(Some(
                    answer
                        .map(|s| s.points())
                        .map_err(|e| error_text(&e, false)),
                ));
            });
        }
    };
    // What drawing the map's figures came to.
    let drawn = move |result: Result<(), ErrorText>| {
        busy.set(false);
        if let Err(text) = result {
            error.set(Some(text));
        }
    };
    let start = move || {
        busy.set(true);
        error.set(None);
        (session.token().unwrap_or_default(), filters.get_untracked())
    };

    // The first map: the module and the figures fetched side by side, then
    // drawn; the hot spots (one nightly run, whatever the filters) once.
    Effect::new({
        let panels = panels.clone();
        move |done: Option<()>| {
            if done.is_some() {
                return;
            }
            let (token, f) = start();
            panels(token.clone(), &f);
            let first_map = settle::hold();
            leptos::task::spawn_local(async move {
                let (opened, figures) = futures::future::join(
                    atlas::open("atlas-map", l(L::MapLabel)),
                    first_figures(&token, &f, national),
                )
                .await;
                let ok = opened.is_ok();
                map_open.set(Some(ok));
                if !ok {
                    busy.set(false);
                    return;
                }
                drawn(draw_map(figures, show_hexes).await);
                // The first map is what the link was kept free for.
                drop(first_map);
                // The resolution the nightly run stores.
                let answer = draw_hotspots(&token, 7, show_hotspots.get_untracked()).await;
                hotspots.set(Some(answer));
            });
        }
    });
    on_cleanup(|| {
        leptos::task::spawn_local(async {
            let _ = atlas::call("close", "").await;
        });
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (token, f) = start();
        panels(token.clone(), &f);
        leptos::task::spawn_local(async move {
            let figures = fetch_map(&token, &f, national).await;
            drawn(draw_map(figures, show_hexes).await);
        });
    };
    let toggle = |layer: &'static str, signal: RwSignal<bool>| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            signal.set(on);
            let arg = serde_json::json!({ "layer": layer, "on": on }).to_string();
            leptos::task::spawn_local(async move {
                let _ = atlas::call("show", &arg).await;
            });
        }
    };
    let download = move |kind: &'static str| {
        let f = filters.get_untracked();
        let common = f.common();
        let (path, name) = match kind {
            "csv" => (
                format!(
                    "/api/v1/atlas/choropleth?level={}&format=csv&{common}",
                    f.level
                ),
                "atlas.csv",
            ),
            "geojson" => (
                format!(
                    "/api/v1/atlas/choropleth?level={}&format=geojson&{common}",
                    f.level
                ),
                "atlas.geojson",
            ),
            "hexes" => (
                format!("/api/v1/atlas/hexes?res=7&format=geojson&{common}"),
                "atlas-hexes.geojson",
            ),
            // The printable map of the user's province (the server's zoning).
            _ => (format!("/api/v1/atlas/zones/map?{common}"), "atlas.svg"),
        };
        let token = session.token().unwrap_or_default();
        let arg = serde_json::json!({ "url": path, "token": token, "name": name }).to_string();
        download_error.set(None);
        leptos::task::spawn_local(async move {
            match atlas::call("download", &arg).await.as_deref() {
                Ok("") => {}
                Ok(_) | Err(()) => download_error.set(Some(ErrorText::plain(l(L::DownloadFailed)))),
            }
        });
    };

    let (this_year, _, _) = jalali::to_jalali(dates::today()).unwrap_or((1405, 1, 1));
    let from = RwSignal::new(None::<String>);
    let to = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let (from, to) = (from.get(), to.get());
        filters.update(|f| {
            f.from = from;
            f.to = to;
        });
    });
    let select = move |id: &'static str,
                       label: L,
                       options: Vec<(String, String)>,
                       get: fn(&Filters) -> String,
                       set: fn(&mut Filters, String),
                       disabled: Signal<bool>| {
        view! {
            <div class="field">
                <label for=id>{l(label)}</label>
                <select id=id disabled=move || disabled.get()
                    prop:value=move || get(&filters.get())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        filters.update(|f| set(f, v));
                    }>
                    {options.into_iter().map(|(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    let any = || (String::new(), l(L::FilterAll).to_owned());
    let child_off = Signal::derive(move || !filters.get().of_children());
    let report_off = Signal::derive(move || filters.get().of_children());
    let never = Signal::derive(|| false);

    view! {
        <section class="card" aria-labelledby="atlas-title">
            <h1 id="atlas-title" tabindex="-1" node_ref=heading>{l(L::AtlasTitle)}</h1>
            <p class="muted">{l(L::AtlasIntro)}</p>
            <p><Link to=Route::Indicators>{l(L::ToIndicators)}</Link></p>
            <form class="filters" on:submit=on_submit>
                <div class="atlas-filters">
                    {select("atlas-measure", L::Measure,
                        MEASURES.iter().map(|(v, k)| ((*v).to_owned(), l(*k).to_owned())).collect(),
                        |f| f.measure.clone(), |f, v| f.measure = v, never)}
                    {national.then(|| select("atlas-level", L::Level,
                        vec![("province".into(), l(L::LevelProvince).into()), ("county".into(), l(L::LevelCounty).into())],
                        |f| f.level.clone(), |f, v| f.level = v, never))}
                    {select("atlas-sex", L::Sex,
                        std::iter::once(any()).chain(SEXES.iter().map(|v| (vocabulary::word(v), vocabulary::sex(*v).to_owned()))).collect(),
                        |f| f.sex.clone(), |f, v| f.sex = v, child_off)}
                    {select("atlas-age", L::AgeBands,
                        std::iter::once(any()).chain(AGE_BANDS.iter().map(|b| ((*b).to_owned(), age_label(b)))).collect(),
                        |f| f.age_band.clone(), |f, v| f.age_band = v, child_off)}
                    {select("atlas-nationality", L::Nationality,
                        std::iter::once(any()).chain(vocabulary::NATIONALITIES.iter().map(|v| (vocabulary::word(v), vocabulary::nationality(*v).to_owned()))).collect(),
                        |f| f.nationality.clone(), |f, v| f.nationality = v, child_off)}
                    {select("atlas-work", L::WorkType,
                        std::iter::once(any()).chain(vocabulary::WORK_TYPES.iter().map(|v| (vocabulary::word(v), vocabulary::work_type(*v).to_owned()))).collect(),
                        |f| f.work_type.clone(), |f, v| f.work_type = v, child_off)}
                    {select("atlas-source", L::FilterSource,
                        std::iter::once(any()).chain(super::triage::SOURCES.iter().map(|v| (vocabulary::word(v), super::triage::source_label(*v).to_owned()))).collect(),
                        |f| f.source.clone(), |f, v| f.source = v, report_off)}
                </div>
                <p class="muted">{l(L::FilterNote)}</p>
                <dates::JalaliDate id="atlas-from" legend=l(L::RangeFrom) value=from from_year=this_year - 5 to_year=this_year/>
                <dates::JalaliDate id="atlas-to" legend=l(L::RangeTo) value=to from_year=this_year - 5 to_year=this_year/>
                <button type="submit" class="btn primary" disabled=move || busy.get()>{l(L::Apply)}</button>
            </form>
        </section>
        <section class="card" aria-labelledby="atlas-map-title">
            <h2 id="atlas-map-title">{l(L::MapLabel)}</h2>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || (map_open.get() == Some(false)).then(|| view! { <ErrorBox text=ErrorText::plain(l(L::MapFailed))/> })}
            <fieldset class="atlas-layers">
                <legend>{l(L::Layers)}</legend>
                <label><input type="checkbox" id="layer-zones" prop:checked=move || show_zones.get() on:change=toggle("counties", show_zones)/>{l(L::LayerZones)}</label>
                <label><input type="checkbox" id="layer-hexes" prop:checked=move || show_hexes.get() on:change=toggle("hexes", show_hexes)/>{l(L::LayerHexes)}</label>
                <label><input type="checkbox" id="layer-hotspots" prop:checked=move || show_hotspots.get() on:change=toggle("hotspots", show_hotspots)/>{l(L::LayerHotspots)}</label>
            </fieldset>
            <div id="atlas-map" class="atlas-map" dir="ltr" tabindex="0" role="region" aria-busy=move || busy.get().to_string()></div>
        </section>
        <section class="card" aria-labelledby="legend-title">
            <h2 id="legend-title">{l(L::LegendTitle)}</h2>
            {move || zones.get().map(|z| match z {
                Err(text) => view! { <ErrorBox text/> }.into_any(),
                Ok(z) => view! { <Legend zones=z/> }.into_any(),
            })}
        </section>
        <section class="card" aria-labelledby="hotspots-title">
            <h2 id="hotspots-title">{l(L::LayerHotspots)}</h2>
            {move || hotspots.get().map(|h| match h {
                Err(text) => view! { <p role="status">{l(L::HotspotsRefused)}</p> <ErrorBox text/> }.into_any(),
                Ok(counts) if counts.is_empty() => view! { <p role="status">{l(L::HotspotsNone)}</p> }.into_any(),
                Ok(counts) => view! {
                    <ul class="hotspots">
                        {counts.into_iter().map(|(pattern, n)| {
                            let side = if pattern.starts_with("hot_") { "hot" } else { "cold" };
                            let label = pattern_label(&pattern).unwrap_or_else(|| pattern.clone());
                            view! {
                                <li class=side data-pattern=pattern>
                                    {label} ": " {l(L::Cells).replace("{}", &digits(n))}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </section>
        <section class="card" aria-labelledby="trend-title">
            <h2 id="trend-title">{l(L::TrendTitle)}</h2>
            {move || series.get().map(|s| match s {
                Err(text) => view! { <ErrorBox text/> }.into_any(),
                Ok(points) => view! { <chart::Trend points/> }.into_any(),
            })}
        </section>
        <section class="card" aria-labelledby="exports-title">
            <h2 id="exports-title">{l(L::ExportsTitle)}</h2>
            {move || download_error.get().map(|text| view! { <ErrorBox text/> })}
            <div class="exports">
                <button type="button" class="btn secondary" data-export="csv" on:click=move |_| download("csv")>{l(L::ExportCsv)}</button>
                <button type="button" class="btn secondary" data-export="geojson" on:click=move |_| download("geojson")>{l(L::ExportGeojson)}</button>
                <button type="button" class="btn secondary" data-export="hexes" on:click=move |_| download("hexes")>{l(L::ExportHexes)}</button>
                {(!national).then(|| view! {
                    <button type="button" class="btn secondary" data-export="svg" on:click=move |_| download("svg")>{l(L::ExportSvg)}</button>
                })}
            </div>
        </section>
    }
    .into_any()
}

/// The map's two layers as the server answered them.
struct MapFigures {
    counties: String,
    hexes: String,
}

/// Figures on their way, with what they were asked for (token, scope,
/// level and filters).
type Asked = (String, oneshot::Receiver<Result<MapFigures, ErrorText>>);

thread_local! {
    /// The first map's figures, asked for by the app shell ([`prefetch`])
    /// while the screen's code was on its way.
    static PREFETCHED: RefCell<Option<Asked>> = const { RefCell::new(None) };
}

/// Asks for the figures the atlas opens with, now: called by the app shell
/// (`deferred::Atlas`) before the screen's code arrives, so that on a slow
/// link the answers are there when it does instead of a round trip after.
pub fn prefetch(token: String, user: &User) {
    let f = Filters::first(user);
    let national = user.province.is_none();
    let (sender, receiver) = oneshot::channel();
    let key = prefetch_key(&token, &f, national);
    PREFETCHED.with(|slot| *slot.borrow_mut() = Some((key, receiver)));
    leptos::task::spawn_local(async move {
        let _ = sender.send(fetch_map(&token, &f, national).await);
    });
}

fn prefetch_key(token: &str, f: &Filters, national: bool) -> String {
    format!("{token} {national} {} {}", f.level, f.common())
}

/// The first map's figures: the prefetched ones when they were asked for
/// these filters, else fetched now. Either way taken once.
async fn first_figures(token: &str, f: &Filters, national: bool) -> Result<MapFigures, ErrorText> {
    let key = prefetch_key(token, f, national);
    let prefetched = PREFETCHED.with(|slot| slot.borrow_mut().take());
    if let Some((asked, receiver)) = prefetched
        && asked == key
        && let Ok(figures) = receiver.await
    {
        return figures;
    }
    fetch_map(token, f, national).await
}

/// The choropleth and the hexes of the user's scope, fetched side by side.
async fn fetch_map(token: &str, f: &Filters, national: bool) -> Result<MapFigures, ErrorText> {
    let common = f.common();
    let level = &f.level;
    let res = if national && level == "province" {
        5
    } else {
        7
    };
    let (counties, hexes) = futures::future::join(
        fetched_or_get(token, &format!("/atlas/choropleth?level={level}&{common}")),
        fetched_or_get(
            token,
            &format!("/atlas/hexes?res={res}&format=geojson&{common}"),
        ),
    )
    .await;
    let text = |e: ApiError| error_text(&e, false);
    Ok(MapFigures {
        counties: counties.map_err(text)?,
        hexes: hexes.map_err(text)?,
    })
}

/// `path`'s answer as `boot.js` fetched it before the app ran (the atlas
/// opened by its address: its first map is drawn from it meanwhile), else
/// asked for now.
async fn fetched_or_get(token: &str, path: &str) -> Result<String, ApiError> {
    match atlas::first_answer(&format!("/api/v1{path}")).await {
        Some(text) => Ok(text),
        None => api::get_text(token, path).await,
    }
}

/// The choropleth (which fits the map to it), then the hexes, onto the map.
async fn draw_map(
    figures: Result<MapFigures, ErrorText>,
    show_hexes: RwSignal<bool>,
) -> Result<(), ErrorText> {
    let figures = figures?;
    let failed = |()| ErrorText::plain(l(L::MapFailed));
    let lang = if lang() == Lang::En { "en" } else { "fa" };
    let arg = with_collection(&figures.counties, &serde_json::json!({ "lang": lang }));
    atlas::call("counties", &arg).await.map_err(failed)?;
    let arg = with_collection(
        &figures.hexes,
        &serde_json::json!({ "visible": show_hexes.get_untracked() }),
    );
    atlas::call("hexes", &arg).await.map_err(failed)?;
    Ok(())
}

/// The last hot-spot run onto the map; the counts by pattern.
async fn draw_hotspots(
    token: &str,
    res: u8,
    visible: bool,
) -> Result<Vec<(String, u32)>, ErrorText> {
    let text = api::get_text(token, &format!("/atlas/hotspots?res={res}&format=geojson"))
        .await
        .map_err(|e| error_text(&e, false))?;
    let arg = with_collection(
        &text,
        &serde_json::json!({ "labels": pattern_labels(), "visible": visible }),
    );
    let _ = atlas::call("hotspots", &arg).await;
    Ok(count_patterns(&text))
}

/// The zoning legend: each class with its range, then «hidden» and «no data».
#[component]
fn Legend(zones: Zones) -> impl IntoView {
    let rows = zones.legend.clone();
    let classes = rows.len();
    view! {
        {rows.is_empty().then(|| view! { <p role="status">{l(L::ZonesNone)}</p> })}
        <ul class="legend" data-classes=classes>
            {rows.into_iter().map(|r| view! {
                <li data-class=r.class.clone()>
                    <span class=format!("swatch {}", r.class) aria-hidden="true"></span>
                    {zone_label(&r.class)} " (" {number(r.from)} "–" {number(r.to)} ")"
                </li>
            }).collect_view()}
            {["suppressed", "no-data"].into_iter().map(|c| view! {
                <li data-class=c><span class=format!("swatch {c}") aria-hidden="true"></span>{zone_label(c)}</li>
            }).collect_view()}
        </ul>
        {zones.frozen.then(|| view! { <p class="muted">{l(L::ZonesFrozen)}</p> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_keeps_only_the_filters_of_the_measure() {
        let mut f = Filters {
            measure: "children".into(),
            sex: "female".into(),
            age_band: "18+".into(),
            source: "citizen".into(),
            from: Some("2026-01-01".into()),
            ..Filters::default()
        };
        assert_eq!(
            f.common(),
            "measure=children&from=2026-01-01&sex=female&age_band=18%2B"
        );
        f.measure = "reports".into();
        assert_eq!(f.common(), "measure=reports&from=2026-01-01&source=citizen");
    }

    #[test]
    fn patterns_are_named_in_persian_and_counted() {
        assert_eq!(pattern_label("hot_new").as_deref(), Some("نقطهٔ داغ تازه"));
        assert_eq!(
            pattern_label("cold_persistent").as_deref(),
            Some("نقطهٔ سرد پایدار")
        );
        assert_eq!(pattern_label("no_pattern"), None);
        let text = r#"{"features":[{"properties":{"pattern":"hot_new"}},{"properties":{"pattern":"no_pattern"}},{"properties":{"pattern":"hot_new"}},{"properties":{"pattern":"cold_sporadic"}}]}"#;
        assert_eq!(
            count_patterns(text),
            [("hot_new".to_owned(), 2), ("cold_sporadic".to_owned(), 1)]
        );
    }

    #[test]
    fn the_collection_is_spliced_in_as_it_came() {
        let arg = with_collection(
            r#"{"type":"FeatureCollection"}"#,
            &serde_json::json!({"lang": "fa"}),
        );
        let v: serde_json::Value = serde_json::from_str(&arg).unwrap();
        assert_eq!(v["collection"]["type"], "FeatureCollection");
        assert_eq!(v["lang"], "fa");
        assert_eq!(age_label("18+"), "۱۸+");
        assert_eq!(age_label("6-11"), "۶–۱۱");
        assert_eq!(number(12.0), "۱۲");
        assert_eq!(number(2.25), "۲٫۳");
    }
}
