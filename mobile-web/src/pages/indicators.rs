//! The programme's indicators (`/indicators`, «شاخص‌های برنامه»), for
//! provincial and national staff, as the server's nightly job materialised
//! them for the user's area: centre load, timeliness and re-entry
//! (`GET /api/v1/indicators?indicator=…`, the latest day), the outcomes of
//! each registration cohort 3, 6 and 12 months on
//! (`GET /api/v1/indicators/cohorts`), and the quarterly report of the
//! province to download (`GET /api/v1/indicators/report`, a printable page).
//!
//! A figure resting on fewer than 5 children arrives as "suppressed" and is
//! shown as such («کمتر از ۵»), never as 0. Loaded on demand with the atlas
//! (`pages::deferred`).

use kudakyar_api::children::Status;
use kudakyar_api::indicators::{CohortItem, CohortTable, FigureValue, IndicatorSeries};
use kudakyar_api::users::User;
use leptos::html::H1;
use leptos::prelude::*;

use super::atlas::number;
use super::{ErrorBox, focus_on_mount};
use crate::api;
use crate::atlas;
use crate::dates::{self, jalali};
use crate::i18n::{ErrorText, L, digits, error_text, l, vocabulary};
use crate::route::{Link, Route};
use crate::session::{Auth, use_session};

/// An indicator's figures to show, in order, each with its label.
type Figures = &'static [(&'static str, L)];

/// The indicators shown, with their heading and the figures in order.
const SHOWN: [(&str, L, Figures); 3] = [
    (
        "centre_load",
        L::CentreLoad,
        &[
            ("centres", L::FigureCentres),
            ("capacity", L::FigureCapacity),
            ("open_files", L::FigureOpenFiles),
            ("load_share", L::FigureLoadShare),
        ],
    ),
    (
        "timeliness",
        L::Timeliness,
        &[
            (
                "contact_to_registration_median_days",
                L::FigureContactMedian,
            ),
            ("contact_to_registration_p90_days", L::FigureContactP90),
            (
                "registration_to_follow_up_median_days",
                L::FigureFollowUpMedian,
            ),
            ("registration_to_follow_up_p90_days", L::FigureFollowUpP90),
            ("follow_ups_due", L::FigureDue),
            ("follow_ups_on_time", L::FigureOnTime),
            ("on_time_share", L::FigureOnTimeShare),
            ("overdue_follow_ups", L::FigureOverdue),
        ],
    ),
    (
        "reentry",
        L::Reentry,
        &[
            ("closed", L::FigureClosed),
            ("reentered_6m", L::FigureReentered6),
            ("reentered_6m_iris", L::FigureReentered6Iris),
            ("reentered_12m", L::FigureReentered12),
            ("reentered_12m_iris", L::FigureReentered12Iris),
            ("rate_6m", L::FigureRate6),
            ("rate_12m", L::FigureRate12),
        ],
    ),
];

/// A figure as shown: «کمتر از ۵ (پنهان)» when suppressed, shares and rates
/// as percentages.
pub fn shown(figure: &str, v: FigureValue) -> String {
    match v.value() {
        None => l(L::Suppressed).to_owned(),
        Some(x) if figure.ends_with("share") || figure.starts_with("rate_") => {
            format!("{}٪", digits((x * 100.0).round().clamp(0.0, 1000.0) as u32))
        }
        Some(x) => number(x),
    }
}

/// An outcome's label: a status, or «in school».
fn outcome_label(outcome: &str) -> String {
    match vocabulary::parse::<Status>(outcome) {
        Some(s) => vocabulary::status(s).to_owned(),
        None if outcome == "in_school" => l(L::InSchool).to_owned(),
        None => outcome.to_owned(),
    }
}

/// The Jalali quarter a Gregorian day falls in, and the three before it:
/// `1405-Q2`, newest first.
pub fn recent_quarters(today: jalali::Ymd) -> Vec<String> {
    let Some((y, m, _)) = jalali::to_jalali(today) else {
        return Vec::new();
    };
    let mut q = (m - 1) / 3 + 1;
    let mut y = y;
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(format!("{y}-Q{q}"));
        q -= 1;
        if q == 0 {
            q = 4;
            y -= 1;
        }
    }
    out
}

/// `1405-Q2` → «۱۴۰۵ فصل ۲».
fn quarter_label(q: &str) -> String {
    match q.split_once("-Q") {
        Some((y, n)) => format!(
            "{} {} {}",
            digits(y.parse().unwrap_or(0)),
            l(L::ReportQuarter),
            digits(n.parse().unwrap_or(0))
        ),
        None => q.to_owned(),
    }
}

#[component]
pub fn IndicatorsPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let user: Option<User> = match session.auth.get_untracked() {
        Auth::LoggedIn { user, .. } => Some(user),
        _ => None,
    };
    let token = session.token().unwrap_or_default();
    let series = RwSignal::new(Vec::<(usize, Result<IndicatorSeries, ErrorText>)>::new());
    for (i, (name, _, _)) in SHOWN.iter().enumerate() {
        let token = token.clone();
        leptos::task::spawn_local(async move {
            let answer =
                api::get::<IndicatorSeries>(&token, &format!("/indicators?indicator={name}")).await;
            series.update(|s| {
                s.push((i, answer.map_err(|e| error_text(&e, false))));
                s.sort_by_key(|(i, _)| *i);
            });
        });
    }
    let cohorts = RwSignal::new(None::<Result<CohortTable, ErrorText>>);
    {
        let token = token.clone();
        leptos::task::spawn_local(async move {
            let answer = api::get::<CohortTable>(&token, "/indicators/cohorts").await;
            cohorts.set(Some(answer.map_err(|e| error_text(&e, false))));
        });
    }
    let quarters = recent_quarters(dates::today());
    let quarter = RwSignal::new(quarters.first().cloned().unwrap_or_default());
    let province = user.as_ref().and_then(|u| u.province.clone());
    let report_error = RwSignal::new(None::<ErrorText>);
    let busy = RwSignal::new(false);
    let download = {
        let province = province.clone();
        move |_| {
            let q = quarter.get_untracked();
            let area = province.clone().unwrap_or_default();
            let arg = serde_json::json!({
                "url": format!("/api/v1/indicators/report?quarter={q}&area={area}"),
                "token": session.token().unwrap_or_default(),
                "name": format!("report-{area}-{q}.html"),
            })
            .to_string();
            report_error.set(None);
            busy.set(true);
            leptos::task::spawn_local(async move {
                let answer = atlas::call("download", &arg).await;
                busy.set(false);
                if answer.as_deref() != Ok("") {
                    report_error.set(Some(ErrorText::plain(l(L::DownloadFailed))));
                }
            });
        }
    };

    view! {
        <section class="card" aria-labelledby="indicators-title">
            <h1 id="indicators-title" tabindex="-1" node_ref=heading>{l(L::IndicatorsTitle)}</h1>
            <p class="muted">{l(L::IndicatorsIntro)}</p>
            <p><Link to=Route::Atlas>{l(L::ToAtlas)}</Link></p>
        </section>
        {move || series.get().into_iter().map(|(i, answer)| {
            let (name, title, figures) = SHOWN[i];
            let id = format!("ind-{name}");
            let labelled = id.clone();
            view! {
                <section class="card" aria-labelledby=labelled data-indicator=name>
                    <h2 id=id>{l(title)}</h2>
                    {match answer {
                        Err(text) => view! { <ErrorBox text/> }.into_any(),
                        Ok(s) => view! { <FigureTable series=s figures/> }.into_any(),
                    }}
                </section>
            }
        }).collect_view()}
        <section class="card" aria-labelledby="cohorts-title">
            <h2 id="cohorts-title">{l(L::Cohorts)}</h2>
            {move || cohorts.get().map(|c| match c {
                Err(text) => view! { <ErrorBox text/> }.into_any(),
                Ok(t) => view! { <Cohorts items=t.items/> }.into_any(),
            })}
        </section>
        {province.is_some().then(|| view! {
            <section class="card" aria-labelledby="report-title">
                <h2 id="report-title">{l(L::ReportTitle)}</h2>
                <p class="muted">{l(L::ReportHint)}</p>
                {move || report_error.get().map(|text| view! { <ErrorBox text/> })}
                <div class="field">
                    <label for="report-quarter">{l(L::ReportQuarter)}</label>
                    <select id="report-quarter" on:change=move |ev| quarter.set(event_target_value(&ev))
                        prop:value=move || quarter.get()>
                        {quarters.iter().map(|q| view! { <option value=q.clone()>{quarter_label(q)}</option> }).collect_view()}
                    </select>
                </div>
                <button type="button" class="btn primary" id="report-download"
                    disabled=move || busy.get() on:click=download>{l(L::ReportDownload)}</button>
            </section>
        })}
    }
}

/// One indicator's figures of its latest day, in the order of `figures`.
#[component]
fn FigureTable(series: IndicatorSeries, figures: Figures) -> impl IntoView {
    let day = series.items.iter().map(|i| i.day.clone()).max();
    let Some(day) = day else {
        return view! { <p role="status">{l(L::IndicatorsEmpty)}</p> }.into_any();
    };
    let rows = figures
        .iter()
        .filter_map(|(figure, label)| {
            let item = series
                .items
                .iter()
                .find(|i| i.day == day && i.figure == *figure && i.area == series.area)?;
            let suppressed = item.value.value().is_none();
            Some(view! {
                <tr data-figure=*figure>
                    <th scope="row">{l(*label)}</th>
                    <td class:suppressed=suppressed>{shown(figure, item.value)}</td>
                </tr>
            })
        })
        .collect_view();
    view! {
        <p class="muted">{l(L::TeamDay).replace("{}", &dates::day(&day))}</p>
        <table class="figures"><tbody>{rows}</tbody></table>
    }
    .into_any()
}

/// Each cohort (newest first, at most four): its outcomes after 3, 6 and
/// 12 months.
#[component]
fn Cohorts(items: Vec<CohortItem>) -> impl IntoView {
    let mut names: Vec<String> = items.iter().map(|i| i.cohort.clone()).collect();
    names.sort();
    names.dedup();
    names.reverse();
    names.truncate(4);
    if names.is_empty() {
        return view! { <p role="status">{l(L::IndicatorsEmpty)}</p> }.into_any();
    }
    names
        .into_iter()
        .map(|cohort| {
            let of: Vec<&CohortItem> = items
                .iter()
                .filter(|i| i.cohort == cohort && i.group.is_none())
                .collect();
            let mut outcomes: Vec<String> = of.iter().map(|i| i.outcome.clone()).collect();
            outcomes.sort();
            outcomes.dedup();
            let cell = |outcome: &str, months: i64| {
                let found = of
                    .iter()
                    .filter(|i| i.outcome == outcome && i.months == months)
                    .fold(None::<FigureValue>, |sum, i| match (sum, i.children) {
                        (_, FigureValue::Suppressed(s)) | (Some(FigureValue::Suppressed(s)), _) => {
                            Some(FigureValue::Suppressed(s))
                        }
                        (None, v) => Some(v),
                        (Some(FigureValue::Value(a)), FigureValue::Value(b)) => {
                            Some(FigureValue::Value(a + b))
                        }
                    });
                match found {
                    None => view! { <td>"—"</td> }.into_any(),
                    Some(v) => {
                        let suppressed = v.value().is_none();
                        view! { <td class:suppressed=suppressed>{shown("children", v)}</td> }
                            .into_any()
                    }
                }
            };
            view! {
                <h3>{l(L::CohortQuarter)} " " {quarter_label(&cohort)}</h3>
                <div class="table-wrap">
                    <table class="figures" data-cohort=cohort.clone()>
                        <thead><tr>
                            <th scope="col">{l(L::Outcome)}</th>
                            {[3, 6, 12].map(|m| view! {
                                <th scope="col">{l(L::CohortMonths).replace("{}", &digits(m))}</th>
                            })}
                        </tr></thead>
                        <tbody>
                            {outcomes.iter().map(|o| view! {
                                <tr data-outcome=o.clone()>
                                    <th scope="row">{outcome_label(o)}</th>
                                    {cell(o, 3)}{cell(o, 6)}{cell(o, 12)}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
        })
        .collect_view()
        .into_any()
}

#[cfg(test)]
mod tests {
    use kudakyar_api::indicators::Suppressed;

    use super::*;

    #[test]
    fn shares_are_percentages_and_suppressed_says_so() {
        assert_eq!(shown("load_share", FigureValue::Value(0.42)), "۴۲٪");
        assert_eq!(shown("rate_6m", FigureValue::Value(0.1)), "۱۰٪");
        assert_eq!(shown("closed", FigureValue::Value(7.0)), "۷");
        assert_eq!(
            shown("closed", FigureValue::Suppressed(Suppressed::Suppressed)),
            l(L::Suppressed)
        );
    }

    #[test]
    fn the_last_four_jalali_quarters() {
        // 2026-07-01 is 10 Tir 1405 (the second quarter).
        assert_eq!(
            recent_quarters((2026, 7, 1)),
            ["1405-Q2", "1405-Q1", "1404-Q4", "1404-Q3"]
        );
        assert_eq!(quarter_label("1405-Q2"), "۱۴۰۵ فصل ۲");
    }
}
