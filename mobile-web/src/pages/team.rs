//! The team (`/team`): each outreach worker's open cases, visits in the last
//! 30 days and the share of them verified (iris or location), and their
//! overdue follow-ups, as of the
//! last day the server's nightly job computed (`GET /api/v1/indicators/workers`).
//!
//! A figure resting on fewer than 5 children comes back as "suppressed" for
//! every role below national admin, and is shown as such, never as 0.
//! Loaded on demand (`pages::deferred`).

use kudakyar_api::indicators::{FigureValue, WorkerIndicators};
use leptos::html::H1;
use leptos::prelude::*;

use super::{ErrorBox, focus_on_mount};
use crate::api;
use crate::dates;
use crate::i18n::{ErrorText, L, digits, error_text, l};
use crate::route::{Link, Route};
use crate::session::use_session;

/// A figure as the table shows it: the number, or «suppressed».
pub fn figure(v: FigureValue) -> String {
    match v.value() {
        Some(n) => digits(n.round().max(0.0) as u32),
        None => l(L::Suppressed).to_owned(),
    }
}

/// 0.756 → «۷۶٪».
pub fn share(v: f64) -> String {
    format!("{}٪", digits((v * 100.0).round().clamp(0.0, 100.0) as u32))
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let table = RwSignal::new(None::<(Option<String>, Vec<WorkerIndicators>)>);
    let error = RwSignal::new(None::<ErrorText>);
    let token = session.token().unwrap_or_default();
    leptos::task::spawn_local(async move {
        match api::worker_table(&token).await {
            Ok(t) => table.set(Some((t.day, t.items))),
            Err(err) => error.set(Some(error_text(&err, false))),
        }
    });
    view! {
        <section class="card" aria-labelledby="team-title">
            <h1 id="team-title" tabindex="-1" node_ref=heading>{l(L::TeamTitle)}</h1>
            <p class="muted">{l(L::TeamIntro)}</p>
            <p><Link to=Route::Centres>{l(L::ToCentres)}</Link></p>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || table.get().map(|(day, items)| match day.filter(|_| !items.is_empty()) {
                None => view! { <p role="status">{l(L::TeamEmpty)}</p> }.into_any(),
                Some(day) => view! {
                    <p class="muted">{l(L::TeamDay).replace("{}", &dates::day(&day))}</p>
                    <table class="team">
                        <thead><tr>
                            <th scope="col">{l(L::Worker)}</th>
                            <th scope="col">{l(L::OpenCases)}</th>
                            <th scope="col">{l(L::Visits)}</th>
                            <th scope="col">{l(L::VerifiedShare)}</th>
                            <th scope="col">{l(L::FigureOverdue)}</th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|w| view! {
                                <tr data-worker=w.username.clone()>
                                    <th scope="row">{w.display_name.clone().unwrap_or(w.username.clone())}</th>
                                    <td>{figure(w.open_cases)}</td>
                                    <td>{digits(u32::try_from(w.visits).unwrap_or(0))}</td>
                                    <td>{share(w.verified_share)}</td>
                                    <td class="overdue">{figure(w.overdue_follow_ups)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use kudakyar_api::indicators::{FigureValue, Suppressed};

    use super::{figure, share};

    #[test]
    fn suppressed_figures_say_so_and_shares_are_percentages() {
        assert_eq!(figure(FigureValue::Value(12.0)), "۱۲");
        let hidden = figure(FigureValue::Suppressed(Suppressed::Suppressed));
        assert!(hidden.contains('۵'), "{hidden}");
        assert_eq!(share(0.756), "۷۶٪");
        assert_eq!(share(0.0), "۰٪");
    }
}
