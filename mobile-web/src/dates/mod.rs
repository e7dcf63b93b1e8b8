//! Dates as people in Iran read and write them: the Jalali calendar.
//!
//! - [`jalali`]: the calendar arithmetic (tested natively).
//! - [`day`]: a `YYYY-MM-DD` (Gregorian, as the API stores it) shown as a
//!   Jalali date, e.g. «۳ آذر ۱۴۰۵».
//! - [`instant`]: an RFC 3339 time shown in the phone's time zone, through
//!   `Intl.DateTimeFormat` with the Persian calendar (no wasm cost).
//! - [`JalaliDate`]: the date picker: day, month and year selects in Jalali,
//!   bound to a Gregorian `YYYY-MM-DD` signal.

pub mod jalali;

use leptos::prelude::*;
use wasm_bindgen_futures::js_sys::{Date, JSON, Object};

use crate::i18n::{Lang, digits, lang, t};

const MONTHS_FA: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];
const MONTHS_EN: [&str; 12] = [
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
];

/// The name of Jalali month `m` (1–12) in the UI language.
pub fn month_name(m: i64) -> &'static str {
    let names = match lang() {
        Lang::Fa => &MONTHS_FA,
        Lang::En => &MONTHS_EN,
    };
    names[(m.clamp(1, 12) - 1) as usize]
}

fn num(n: i64) -> String {
    digits(u32::try_from(n).unwrap_or(0))
}

/// Parses `YYYY-MM-DD` (also the date part of an RFC 3339 time).
pub fn parse_ymd(s: &str) -> Option<jalali::Ymd> {
    let mut parts = s.get(..10)?.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

pub fn format_ymd((y, m, d): jalali::Ymd) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// A Gregorian `YYYY-MM-DD` as a Jalali date («۳ آذر ۱۴۰۵»).
pub fn day(ymd: &str) -> String {
    match parse_ymd(ymd).and_then(jalali::to_jalali) {
        Some((y, m, d)) => format!("{} {} {}", num(d), month_name(m), num(y)),
        None => ymd.to_owned(),
    }
}

/// An RFC 3339 time as a Jalali date and time in the phone's time zone.
///
/// Runs in code loaded on demand (the profile), where a `JsValue` made from
/// a Rust string or number would go through wasm-bindgen's cast, which the
/// split cannot carry (`xtask/src/web/split.rs`): the date is parsed and
/// the options read by JS functions that take the string itself.
pub fn instant(rfc3339: &str) -> String {
    let date = Date::new_0();
    date.set_time(Date::parse(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let locale = match lang() {
        Lang::Fa => "fa-IR-u-ca-persian",
        Lang::En => "en-GB-u-ca-persian",
    };
    let options = JSON::parse(r#"{"dateStyle":"medium","timeStyle":"short"}"#)
        .map(Object::from)
        .unwrap_or_default();
    date.to_locale_string(locale, &options).into()
}

/// Today on the phone's calendar, Gregorian.
pub fn today() -> jalali::Ymd {
    let now = Date::new_0();
    (
        i64::from(now.get_full_year()),
        i64::from(now.get_month()) + 1,
        i64::from(now.get_date()),
    )
}

/// A Jalali date picker bound to `value` (Gregorian `YYYY-MM-DD`, `None` for
/// no date). Years run from `from_year` to `to_year` (Jalali). Each select
/// has a visible label; the three sit in one `fieldset` named by `legend`.
#[component]
pub fn JalaliDate(
    id: &'static str,
    legend: &'static str,
    value: RwSignal<Option<String>>,
    from_year: i64,
    to_year: i64,
) -> impl IntoView {
    let s = t();
    // The picked parts, kept even while the date is incomplete.
    let initial = value
        .get_untracked()
        .and_then(|v| parse_ymd(&v))
        .and_then(jalali::to_jalali);
    let y = RwSignal::new(initial.map(|d| d.0));
    let m = RwSignal::new(initial.map_or(1, |d| d.1));
    let d = RwSignal::new(initial.map_or(1, |d| d.2));
    let sync = move || {
        let date = y.get_untracked().and_then(|y| {
            let day = d
                .get_untracked()
                .min(jalali::month_len(y, m.get_untracked()));
            jalali::to_gregorian((y, m.get_untracked(), day))
        });
        value.set(date.map(format_ymd));
    };
    let pick = move |target: RwSignal<i64>| {
        move |ev: leptos::ev::Event| {
            if let Ok(v) = event_target_value(&ev).parse() {
                target.set(v);
                sync();
            }
        }
    };
    let ids = |part: &str| (format!("{id}-{part}"), format!("{id}-{part}"));
    let ((day_for, day_id), (month_for, month_id), (year_for, year_id)) =
        (ids("day"), ids("month"), ids("year"));
    view! {
        <fieldset class="date" id=id>
            <legend>{legend}</legend>
            <div class="date-parts">
                <label for=day_for>{s.day}
                    <select id=day_id on:change=pick(d) prop:value=move || d.get().to_string()>
                        {(1..=31).map(|n| view! {
                            <option value=n.to_string() selected=n == d.get_untracked()>{num(n)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label for=month_for>{s.month}
                    <select id=month_id on:change=pick(m) prop:value=move || m.get().to_string()>
                        {(1..=12).map(|n| view! {
                            <option value=n.to_string() selected=n == m.get_untracked()>{month_name(n)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label for=year_for>{s.year}
                    <select id=year_id
                        on:change=move |ev| {
                            y.set(event_target_value(&ev).parse().ok());
                            sync();
                        }
                        prop:value=move || y.get().map(|y| y.to_string()).unwrap_or_default()>
                        <option value="" selected=initial.is_none()>{s.clear_date}</option>
                        {(from_year..=to_year).map(|n| view! {
                            <option value=n.to_string() selected=Some(n) == initial.map(|d| d.0)>{num(n)}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
        </fieldset>
    }
}
