//! One report of the triage queue (`/triage/{id}`): what the reporter said
//! (when, where, how many children, ages, work, description, phone, photo),
//! its history, the children it was linked to, and the supervisor's
//! decisions: assign it to a worker or supervisor of the area, or close it
//! as a duplicate or a false report.
//!
//! Decisions are made online on the report as the server has it (its answer
//! replaces the one shown); a refusal (e.g. the report changed meanwhile)
//! is shown with the server's reason. The people offered for assignment are
//! the outreach workers and supervisors the server lists for the user's
//! area (`GET /api/v1/users`).

use kudakyar_api::sightings::{AssignSighting, CloseReason, CloseSighting, Sighting};
use kudakyar_api::users::{Role, User};
use leptos::html::H1;
use leptos::prelude::*;

use super::{decides, place, source_label, state_label};
use crate::api;
use crate::dates;
use crate::i18n::{ErrorText, L, digits, error_text, l, t, vocabulary};
use crate::pages::{ErrorBox, focus_on_mount};
use crate::route::{Link, Route};
use crate::session::{Auth, use_session};
use crate::workset;

#[component]
pub fn ReportPage(id: String) -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let report = RwSignal::new(None::<Sighting>);
    let error = RwSignal::new(None::<ErrorText>);
    let done = RwSignal::new(None::<&'static str>);
    let token = session.token().unwrap_or_default();
    {
        let (token, id) = (token.clone(), id.clone());
        leptos::task::spawn_local(async move {
            match api::sighting(&token, &id).await {
                Ok(r) => report.set(Some(r)),
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    }
    let role = match session.auth.get_untracked() {
        Auth::LoggedIn { user, .. } => Some(user.role),
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="report-title">
            <p><Link to=Route::Triage>{l(L::Back)}</Link></p>
            <h1 id="report-title" tabindex="-1" node_ref=heading>
                {move || report.get().map_or_else(
                    || l(L::TriageTitle).to_owned(),
                    |r| format!("{} · {}", source_label(r.source), state_label(r.state)),
                )}
            </h1>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || report.get().map(|r| view! { <Facts report=r/> })}
        </section>
        {move || {
            let r = report.get()?;
            (role.is_some_and(decides) && !r.state.is_closed())
                .then(|| view! { <Decide report=r on_done=report done/> })
        }}
        {move || done.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
    }
}

/// The report's facts as a description list, then its photo and history.
#[component]
fn Facts(report: Sighting) -> impl IntoView {
    let s = t();
    let row = |term: &'static str, value: AnyView| {
        view! { <div><dt>{term}</dt><dd>{value}</dd></div> }
    };
    let geo = format!("geo:{:.6},{:.6}", report.lat, report.lng);
    let ages = report
        .age_bands
        .iter()
        .map(vocabulary::word)
        .collect::<Vec<_>>()
        .join("، ");
    let photo = report
        .has_photo
        .then(|| format!("/api/v1/sightings/{}/photo", report.id));
    view! {
        <dl class="who report" data-state=vocabulary::word(report.state)>
            {row(l(L::Receipt), view! { <bdi dir="ltr" class="code">{report.receipt_code.clone()}</bdi> }.into_any())}
            {row(l(L::Seen), dates::instant(&report.seen_at).into_any())}
            {row(l(L::Place), view! {
                {place(&report)} " "
                <a href=geo>{l(L::OpenMap)}</a>
            }.into_any())}
            {row(l(L::Children), digits(u32::try_from(report.children_count).unwrap_or(0)).into_any())}
            {(!ages.is_empty()).then(|| row(l(L::AgeBands), view! { <bdi dir="ltr">{ages}</bdi> }.into_any()))}
            {report.sex.map(|v| row(s.sex, vocabulary::sex(v).into_any()))}
            {report.activity.map(|v| row(l(L::Activity), vocabulary::work_type(v).into_any()))}
            {report.description.clone().map(|d| row(l(L::Description), view! { <span dir="auto">{d}</span> }.into_any()))}
            {report.reporter_phone.clone().map(|p| row(l(L::ReporterPhone), view! {
                <a href=format!("tel:{p}") dir="ltr">{p.clone()}</a>
            }.into_any()))}
            {report.flag.clone().map(|f| row(l(L::Flagged), view! { <bdi dir="ltr">{f}</bdi> }.into_any()))}
            {report.assigned_to.clone().map(|w| row(l(L::AssignedTo), view! { <bdi dir="ltr" class="assignee">{w}</bdi> }.into_any()))}
        </dl>
        {photo.map(|url| view! { <ReportPhoto url/> })}
        {(!report.linked_children.is_empty()).then(|| view! {
            <h2>{l(L::LinkedChildren)}</h2>
            <ul>
                {report.linked_children.iter().map(|child| view! {
                    <li><Link to=Route::Child(child.clone())>{l(L::OpenChild)}</Link></li>
                }).collect_view()}
            </ul>
        })}
        <h2>{l(L::History)}</h2>
        <ol class="history">
            {report.history.iter().map(|e| view! {
                <li>{state_label(e.state)} " · " {dates::instant(&e.at)}
                    {e.note.clone().map(|n| view! { " · " <span dir="auto">{n}</span> })}</li>
            }).collect_view()}
        </ol>
    }
}

/// The report's photo, fetched with the bearer token (an `<img>` cannot
/// send it) and kept, like the children's thumbnails, until logout.
#[component]
fn ReportPhoto(url: String) -> impl IntoView {
    let src = RwSignal::new(None::<String>);
    if let Some(token) = use_session().token() {
        leptos::task::spawn_local(async move {
            src.set(workset::thumbnail(&token, &url).await);
        });
    }
    move || {
        src.get()
            .map(|src| view! { <img class="report-photo" src=src alt=l(L::Photo)/> })
    }
}

/// Assign to someone of the area, or close; `on_done` receives the report
/// as the server now has it, `done` what to tell the user.
#[component]
fn Decide(
    report: Sighting,
    on_done: RwSignal<Option<Sighting>>,
    done: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let session = use_session();
    let people = RwSignal::new(Vec::<User>::new());
    let worker = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorText>);
    let token = session.token().unwrap_or_default();
    {
        let token = token.clone();
        leptos::task::spawn_local(async move {
            match api::users(&token, "limit=200").await {
                Ok(page) => people.set(
                    page.items
                        .into_iter()
                        .filter(|u| {
                            !u.disabled && matches!(u.role, Role::OutreachWorker | Role::Supervisor)
                        })
                        .collect(),
                ),
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    }
    let id = report.id.clone();
    // One step at a time; the answer replaces the report shown.
    let act = move |step: &'static str, body: serde_json::Value, message: &'static str| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        done.set(None);
        let (token, id) = (token.clone(), id.clone());
        leptos::task::spawn_local(async move {
            let result = api::sighting_step(&token, &id, step, &body).await;
            busy.set(false);
            match result {
                Ok(r) => {
                    done.set(Some(message));
                    on_done.set(Some(r));
                }
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    };
    let note_value = move || Some(note.get_untracked().trim().to_owned()).filter(|n| !n.is_empty());
    let assign = {
        let act = act.clone();
        move |_| {
            let worker_id = worker.get_untracked();
            if worker_id.is_empty() {
                error.set(Some(ErrorText::plain(l(L::ChooseWorker))));
                return;
            }
            let body = AssignSighting {
                worker_id,
                note: note_value(),
            };
            act(
                "assign",
                serde_json::to_value(body).unwrap_or_default(),
                l(L::Assigned),
            );
        }
    };
    let close = move |reason: CloseReason| {
        let act = act.clone();
        move |_| {
            let body = CloseSighting {
                reason,
                note: note_value(),
            };
            act(
                "close",
                serde_json::to_value(body).unwrap_or_default(),
                l(L::Closed),
            );
        }
    };
    view! {
        <section class="card" aria-labelledby="decide-title">
            <h2 id="decide-title">{l(L::Assign)}</h2>
            <div class="field">
                <label for="assign-worker">{l(L::AssignTo)}</label>
                <select id="assign-worker" bind:value=worker>
                    <option value="">{l(L::ChooseWorker)}</option>
                    {move || people.get().into_iter().map(|u| {
                        let name = u.display_name.clone().unwrap_or_else(|| u.username.clone());
                        let selected = report.assigned_to.as_deref() == Some(u.id.as_str());
                        view! { <option value=u.id.clone() selected=selected>{name} " (" {vocabulary::role(u.role)} ")"</option> }
                    }).collect_view()}
                </select>
            </div>
            {move || people.with(Vec::is_empty).then(|| view! { <p class="muted">{l(L::NoWorkers)}</p> })}
            <div class="field">
                <label for="decide-note">{l(L::Note)}</label>
                <textarea id="decide-note" maxlength="1000" bind:value=note></textarea>
            </div>
            <button type="button" class="btn primary" disabled=move || busy.get() on:click=assign>
                {l(L::Assign)}
            </button>
            <h2>{l(L::Close)}</h2>
            <div class="actions">
                <button type="button" class="btn secondary" disabled=move || busy.get()
                    on:click=close(CloseReason::Duplicate)>{l(L::CloseDuplicate)}</button>
                <button type="button" class="btn secondary" disabled=move || busy.get()
                    on:click=close(CloseReason::FalseReport)>{l(L::CloseFalse)}</button>
            </div>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
        </section>
    }
}
