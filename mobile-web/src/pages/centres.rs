//! The service centres of the user's area (`/centres`, from the team
//! screen): each centre's open files — referrals sent or accepted — against
//! its capacity (about 450 files by the programme's rule), fullest first,
//! a centre at 90 % or more marked, so a supervisor sees where a referral
//! can still go (`GET /api/v1/centres`).

use kudakyar_api::cases::Centre;
use leptos::html::H1;
use leptos::prelude::*;

use super::{ErrorBox, focus_on_mount};
use crate::api;
use crate::i18n::{ErrorText, L, digits, error_text, l, province_name};
use crate::route::{Link, Route};
use crate::session::use_session;

/// A centre this full is nearly closed to new referrals.
const NEARLY_FULL: f64 = 0.9;

#[component]
pub fn CentresPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let centres = RwSignal::new(None::<Vec<Centre>>);
    let error = RwSignal::new(None::<ErrorText>);
    let token = use_session().token().unwrap_or_default();
    leptos::task::spawn_local(async move {
        match api::get::<Vec<Centre>>(&token, "/centres").await {
            Ok(mut list) => {
                list.sort_by(|a, b| {
                    load(b)
                        .total_cmp(&load(a))
                        .then_with(|| a.name.cmp(&b.name))
                });
                centres.set(Some(list));
            }
            Err(err) => error.set(Some(error_text(&err, false))),
        }
    });
    view! {
        <section class="card" aria-labelledby="centres-title">
            <p><Link to=Route::Team>{l(L::TeamTitle)}</Link></p>
            <h1 id="centres-title" tabindex="-1" node_ref=heading>{l(L::CentreLoad)}</h1>
            <p class="muted">{l(L::CentresIntro)}</p>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || centres.get().map(|list| view! {
                {list.is_empty().then(|| view! { <p role="status">{l(L::CentresNone)}</p> })}
                <ul class="centres-load">
                    {list.into_iter().map(|c| {
                        let share = load(&c);
                        let full = share >= NEARLY_FULL;
                        let place = province_name(&c.province).unwrap_or(&c.province).to_owned();
                        view! {
                            <li data-id=c.id.clone() class:full=full>
                                <p><bdi>{c.name.clone()}</bdi> <span class="muted">" · " {place}</span></p>
                                <meter min="0" max=c.capacity.max(1).to_string() low=(c.capacity as f64 * 0.75).to_string()
                                    high=(c.capacity as f64 * NEARLY_FULL).to_string() value=c.open_files.to_string()
                                    aria-label=format!("{}: {}", l(L::FigureLoadShare), c.name)></meter>
                                <p class="muted">
                                    {l(L::CentreFiles)
                                        .replacen("{}", &digits(u32::try_from(c.open_files).unwrap_or(0)), 1)
                                        .replacen("{}", &digits(u32::try_from(c.capacity).unwrap_or(0)), 1)}
                                    " (" {digits((share * 100.0).round() as u32)} "٪)"
                                    {full.then(|| view! { " · " <strong>{l(L::CentreNearlyFull)}</strong> })}
                                </p>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// Open files ÷ capacity.
fn load(c: &Centre) -> f64 {
    c.open_files as f64 / c.capacity.max(1) as f64
}
