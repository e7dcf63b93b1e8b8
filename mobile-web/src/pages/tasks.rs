//! «My tasks» (`/tasks`): what is the user's to do next, from
//! `GET /api/v1/tasks` — follow-ups due this week (overdue first), reports
//! assigned to them to visit, referrals of their children a centre has not
//! settled — each opening its screen (the child's profile, the report).
//!
//! The last list fetched is kept on the phone (`kudakyar.tasks.v1`, erased
//! at logout with the working set), so the screen works offline too and
//! says it shows the stored copy.

use kudakyar_api::tasks::{FollowUpTask, Tasks};
use leptos::html::H1;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::shared::display_name;
use super::{ErrorBox, focus_on_mount};
use crate::api::{self, ApiError};
use crate::dates;
use crate::i18n::{ErrorText, L, digits, error_text, l, t, vocabulary};
use crate::local;
use crate::route::{Link, Route};
use crate::session::{Auth, use_session};

const KEY: &str = "kudakyar.tasks.v1";

/// The copy kept on the phone: whose, and the lists.
#[derive(Serialize, Deserialize)]
struct Stored {
    user_id: String,
    tasks: Tasks,
}

/// Forgets the stored lists (at logout).
pub fn clear() {
    local::remove(KEY);
}

#[derive(Clone)]
enum Loaded {
    Loading,
    Online(Tasks),
    /// Offline: the copy kept from the last time.
    Stored(Tasks),
    Failed(ErrorText),
}

#[component]
pub fn TasksPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let user_id = match session.auth.get_untracked() {
        Auth::LoggedIn { user, .. } => user.id,
        _ => String::new(),
    };
    let loaded = RwSignal::new(Loaded::Loading);
    let token = session.token().unwrap_or_default();
    leptos::task::spawn_local(async move {
        loaded.set(match api::get::<Tasks>(&token, "/tasks").await {
            Ok(tasks) => {
                let stored = Stored {
                    user_id,
                    tasks: tasks.clone(),
                };
                if let Ok(json) = serde_json::to_string(&stored) {
                    local::set(KEY, &json);
                }
                Loaded::Online(tasks)
            }
            Err(ApiError::Network) => local::get(KEY)
                .and_then(|json| serde_json::from_str::<Stored>(&json).ok())
                .filter(|stored| stored.user_id == user_id)
                .map_or(
                    Loaded::Failed(error_text(&ApiError::Network, false)),
                    |stored| Loaded::Stored(stored.tasks),
                ),
            Err(err) => Loaded::Failed(error_text(&err, false)),
        });
    });
    view! {
        <section class="card" aria-labelledby="tasks-title">
            <h1 id="tasks-title" tabindex="-1" node_ref=heading>{l(L::TasksTitle)}</h1>
            {move || match loaded.get() {
                Loaded::Loading => view! { <p role="status">{t().loading}</p> }.into_any(),
                Loaded::Failed(text) => view! { <ErrorBox text/> }.into_any(),
                Loaded::Stored(tasks) => view! {
                    <p class="notice" role="status">{t().offline_copy}</p>
                    <Lists tasks/>
                }.into_any(),
                Loaded::Online(tasks) => view! { <Lists tasks/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Lists(tasks: Tasks) -> impl IntoView {
    let Tasks {
        today,
        follow_ups,
        reports,
        referrals,
    } = tasks;
    let nothing = follow_ups.is_empty() && reports.is_empty() && referrals.is_empty();
    view! {
        <p class="muted">{l(L::TasksAsOf).replace("{}", &dates::day(&today))}</p>
        {nothing.then(|| view! { <p role="status">{l(L::TasksNone)}</p> })}
        {(!follow_ups.is_empty()).then(|| view! {
            <h2>{l(L::TasksFollowUps)}</h2>
            <ul class="tasks" data-kind="follow-up">
                {follow_ups.into_iter().map(|f| {
                    let name = display_name(f.given_name.as_deref(), f.family_name.as_deref());
                    let detail = format!(" · {} · {}", dates::day(&f.due), when(&f));
                    view! {
                        <li data-id=f.child_id.clone() class:overdue=(f.days_overdue > 0)>
                            <Link to=Route::Child(f.child_id.clone())><bdi>{name}</bdi></Link>
                            <span class="muted">{detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {(!reports.is_empty()).then(|| view! {
            <h2>{l(L::TasksReports)}</h2>
            <ul class="tasks" data-kind="report">
                {reports.into_iter().map(|r| {
                    let seen = dates::instant(&r.seen_at);
                    let detail = format!(
                        " · {}: {}",
                        l(L::Children),
                        digits(u32::try_from(r.children_count).unwrap_or(0))
                    );
                    view! {
                        <li data-id=r.id.clone()>
                            <Link to=Route::Report(r.id.clone())>{seen}</Link>
                            <span class="muted">{detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {(!referrals.is_empty()).then(|| view! {
            <h2>{l(L::TasksReferrals)}</h2>
            <ul class="tasks" data-kind="referral">
                {referrals.into_iter().map(|r| {
                    let name = display_name(r.given_name.as_deref(), r.family_name.as_deref());
                    let detail = format!(" · {} · {}", r.centre_name, vocabulary::referral_state(r.state));
                    view! {
                        <li data-id=r.id.clone()>
                            <Link to=Route::Child(r.child_id)><bdi>{name}</bdi></Link>
                            <span class="muted"><bdi>{detail}</bdi></span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
    }
}

/// How far the follow-up is: overdue by, today, or days left.
fn when(f: &FollowUpTask) -> String {
    let days = |n: i64| digits(u32::try_from(n.unsigned_abs()).unwrap_or(u32::MAX));
    match f.days_overdue {
        0 => l(L::DueToday).to_owned(),
        n if n > 0 => l(L::DaysOverdue).replace("{}", &days(n)),
        n => l(L::DaysLeft).replace("{}", &days(n)),
    }
}
