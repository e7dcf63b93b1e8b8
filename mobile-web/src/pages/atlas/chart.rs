//! The atlas's trend: `GET /api/v1/atlas/timeseries` per Jalali month as a
//! bar chart in plain SVG (no chart library: a few rectangles and labels).
//! A suppressed month is an empty dashed bar, never a short one; each bar
//! carries its month and figure in a `<title>` for screen readers and
//! tooltips, and the chart as a whole an `aria-label`.

use leptos::prelude::*;
use serde::Deserialize;

use super::number;
use crate::dates;
use crate::i18n::{L, digits, l};

/// The answer: one figure per period.
#[derive(Clone, Deserialize, PartialEq)]
pub struct Series {
    series: Vec<Period>,
}

#[derive(Clone, Deserialize, PartialEq)]
struct Period {
    /// `1404-07` for a Jalali month.
    period: String,
    /// A number, or "suppressed".
    value: serde_json::Value,
}

/// One bar: its label and figure (`None`: suppressed).
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
}

impl Series {
    pub fn points(self) -> Vec<Point> {
        self.series
            .into_iter()
            .map(|p| Point {
                label: month_label(&p.period),
                value: p.value.as_f64(),
            })
            .collect()
    }
}

/// `1404-07` → «مهر ۱۴۰۴».
fn month_label(period: &str) -> String {
    let mut parts = period.splitn(2, '-').map(|p| p.parse::<i64>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(y), Some(m)) => format!(
            "{} {}",
            dates::month_name(m),
            digits(u32::try_from(y).unwrap_or(0))
        ),
        _ => period.to_owned(),
    }
}

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 150.0;
/// Room for the labels under the bars and the maximum above them.
const BOTTOM: f64 = 22.0;
const TOP: f64 = 16.0;

#[component]
pub fn Trend(points: Vec<Point>) -> impl IntoView {
    let max = points
        .iter()
        .filter_map(|p| p.value)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let n = points.len().max(1) as f64;
    let slot = WIDTH / n;
    let plot = HEIGHT - BOTTOM - TOP;
    let first = points.first().map(|p| p.label.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.label.clone()).unwrap_or_default();
    let bars = points
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            // Right to left in Persian: time runs the way the text does.
            let x = if crate::i18n::lang() == crate::i18n::Lang::Fa {
                WIDTH - (i as f64 + 1.0) * slot
            } else {
                i as f64 * slot
            };
            let (h, class, shown) = match p.value {
                Some(v) => (plot * v / max, "bar", number(v)),
                None => (plot * 0.15, "bar hidden", l(L::Suppressed).to_owned()),
            };
            view! {
                <rect class=class x=format!("{:.1}", x + slot * 0.15) y=format!("{:.1}", TOP + plot - h)
                    width=format!("{:.1}", slot * 0.7) height=format!("{:.1}", h.max(0.5))
                    data-value=p.value.map(|v| v.to_string()).unwrap_or_else(|| "suppressed".into())>
                    <title>{format!("{}: {shown}", p.label)}</title>
                </rect>
            }
        })
        .collect_view();
    let label = format!("{} ({first} – {last})", l(L::TrendLabel));
    let (left, right) = if crate::i18n::lang() == crate::i18n::Lang::Fa {
        (last, first)
    } else {
        (first, last)
    };
    view! {
        <svg class="trend" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
            <line class="axis" x1="0" x2=WIDTH.to_string() y1=(HEIGHT - BOTTOM).to_string() y2=(HEIGHT - BOTTOM).to_string()/>
            {bars}
            <text x=WIDTH.to_string() y="12" text-anchor="end">{number(max)}</text>
            <text x=WIDTH.to_string() y=(HEIGHT - 6.0).to_string() text-anchor="end">{right}</text>
            <text x="0" y=(HEIGHT - 6.0).to_string() text-anchor="start">{left}</text>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressed_months_have_no_value_and_months_are_jalali() {
        let s: Series = serde_json::from_str(
            r#"{"series":[{"period":"1404-07","start":"2025-09-23","value":12},
                          {"period":"1404-08","start":"2025-10-23","value":"suppressed"}]}"#,
        )
        .unwrap();
        let points = s.points();
        assert_eq!(points[0].value, Some(12.0));
        assert_eq!(points[0].label, "مهر ۱۴۰۴");
        assert_eq!(points[1].value, None);
    }
}
