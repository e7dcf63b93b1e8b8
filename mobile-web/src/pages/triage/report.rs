//! One report of the triage queue (`/triage/{id}`): what the reporter said
//! (when, where, how many children, ages, work, description, phone, photo),
//! its history, the children it was linked to, and the supervisor's
//! decisions: assign it to a worker or supervisor of the area, or close it
//! as a duplicate or a false report; split the report off its incident
//! (the reports of one place and evening, visited once), or join another
//! open incident of the county into it. The one it is assigned to records the
//! visit (found or not), and links a found child's record by its registry
//! code.
//!
//! Decisions are made online on the report as the server has it (its answer
//! replaces the one shown); a refusal (e.g. the report changed meanwhile)
//! is shown with the server's reason. The people offered for assignment are
//! the outreach workers and supervisors the server lists for the user's
//! area (`GET /api/v1/users`).

use kudakyar_api::sightings::{
    AssignSighting, CloseReason, CloseSighting, Incident, JoinIncidents, LinkSighting, Sighting,
    SightingState, SplitIncident, VisitOutcome, VisitSighting,
};
use kudakyar_api::users::Page;
use kudakyar_api::users::{Role, User};
use leptos::html::H1;
use leptos::prelude::*;

use super::{decides, place, source_label, state_label};
use crate::api::{self, ApiError};
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
    let (role, me) = match session.auth.get_untracked() {
        Auth::LoggedIn { user, .. } => (Some(user.role), user.id),
        _ => (None, String::new()),
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
        {move || {
            let r = report.get()?;
            role.is_some_and(decides).then(|| view! { <IncidentOf report=r on_done=report done/> })
        }}
        {move || {
            let r = report.get()?;
            let mine = r.assigned_to.as_deref() == Some(me.as_str());
            match r.state {
                SightingState::Assigned if mine => Some(view! { <Visit report=r on_done=report done/> }.into_any()),
                SightingState::Visited
                    if r.visit_outcome == Some(VisitOutcome::Found) && (mine || role.is_some_and(decides)) =>
                {
                    Some(view! { <LinkChild report=r on_done=report done/> }.into_any())
                }
                _ => None,
            }
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
    let people = RwSignal::new(Vec::<User>::new());
    let worker = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let step = Step::new(report.id.clone(), on_done, done);
    let (busy, error) = (step.busy, step.error);
    {
        let token = step.token.get_value();
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
    let note_value = move || Some(note.get_untracked().trim().to_owned()).filter(|n| !n.is_empty());
    let assign = move |_| {
        let worker_id = worker.get_untracked();
        if worker_id.is_empty() {
            error.set(Some(ErrorText::plain(l(L::ChooseWorker))));
            return;
        }
        let body = AssignSighting {
            worker_id,
            note: note_value(),
        };
        step.run(
            "assign",
            serde_json::to_value(body).unwrap_or_default(),
            l(L::Assigned),
        );
    };
    let close = move |reason: CloseReason| {
        move |_| {
            let body = CloseSighting {
                reason,
                note: note_value(),
            };
            step.run(
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

/// The assignee's visit: found the child(ren), or not.
#[component]
fn Visit(
    report: Sighting,
    on_done: RwSignal<Option<Sighting>>,
    done: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let note = RwSignal::new(String::new());
    let step = Step::new(report.id.clone(), on_done, done);
    let visit = move |outcome: VisitOutcome| {
        move |_| {
            let body = VisitSighting {
                outcome,
                note: Some(note.get_untracked().trim().to_owned()).filter(|n| !n.is_empty()),
            };
            step.run(
                "visit",
                serde_json::to_value(body).unwrap_or_default(),
                l(L::VisitDone),
            );
        }
    };
    view! {
        <section class="card" aria-labelledby="visit-title">
            <h2 id="visit-title">{l(L::VisitTitle)}</h2>
            <div class="field">
                <label for="visit-note">{l(L::Note)}</label>
                <textarea id="visit-note" maxlength="1000" bind:value=note></textarea>
            </div>
            <div class="actions">
                <button type="button" class="btn primary" disabled=move || step.busy.get()
                    on:click=visit(VisitOutcome::Found)>{l(L::VisitFound)}</button>
                <button type="button" class="btn secondary" disabled=move || step.busy.get()
                    on:click=visit(VisitOutcome::NotFound)>{l(L::VisitNotFound)}</button>
            </div>
            {move || step.error.get().map(|text| view! { <ErrorBox text/> })}
        </section>
    }
}

/// A found child's record, linked by its registry code.
#[component]
fn LinkChild(
    report: Sighting,
    on_done: RwSignal<Option<Sighting>>,
    done: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let step = Step::new(report.id.clone(), on_done, done);
    let token = step.token.get_value();
    let link = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = crate::pages::shared::ascii_digits(code.get_untracked().trim());
        if typed.is_empty() || step.busy.get_untracked() {
            return;
        }
        step.busy.set(true);
        let token = token.clone();
        leptos::task::spawn_local(async move {
            let query = format!("limit=2&code={}", workset::encode(&typed));
            let found = api::children(&token, &query).await;
            step.busy.set(false);
            match found {
                Ok(page) => match page.items.as_slice() {
                    [child] => {
                        let body = LinkSighting {
                            child_ids: vec![child.id.clone()],
                            note: None,
                        };
                        step.run(
                            "link",
                            serde_json::to_value(body).unwrap_or_default(),
                            l(L::LinkDone),
                        );
                    }
                    _ => step.error.set(Some(ErrorText::plain(l(L::LinkNoChild)))),
                },
                Err(err) => step.error.set(Some(error_text(&err, false))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="link-title">
            <h2 id="link-title">{l(L::LinkTitle)}</h2>
            <form on:submit=link novalidate>
                <div class="field">
                    <label for="link-code">{t().registry_code}</label>
                    <input id="link-code" type="text" dir="ltr" inputmode="numeric" autocomplete="off"
                        bind:value=code/>
                </div>
                <button type="submit" class="btn primary" disabled=move || step.busy.get()>{l(L::Link)}</button>
            </form>
            {move || step.error.get().map(|text| view! { <ErrorBox text/> })}
        </section>
    }
}

/// One step on the report (`POST /api/v1/sightings/{id}/{step}`), one at a
/// time; the answer replaces the report shown.
#[derive(Clone, Copy)]
struct Step {
    token: StoredValue<String>,
    id: StoredValue<String>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<ErrorText>>,
    on_done: RwSignal<Option<Sighting>>,
    done: RwSignal<Option<&'static str>>,
}

impl Step {
    fn new(
        id: String,
        on_done: RwSignal<Option<Sighting>>,
        done: RwSignal<Option<&'static str>>,
    ) -> Step {
        Step {
            token: StoredValue::new(use_session().token().unwrap_or_default()),
            id: StoredValue::new(id),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            on_done,
            done,
        }
    }

    fn run(self, step: &'static str, body: serde_json::Value, message: &'static str) {
        let (token, id) = (self.token.get_value(), self.id.get_value());
        self.settle(message, async move {
            api::sighting_step(&token, &id, step, &body).await
        });
    }

    /// Runs `work` unless a step is under way; its report replaces the one
    /// shown and `message` is told, or its error is.
    fn settle(
        self,
        message: &'static str,
        work: impl Future<Output = Result<Sighting, ApiError>> + 'static,
    ) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        self.done.set(None);
        leptos::task::spawn_local(async move {
            let result = work.await;
            self.busy.set(false);
            match result {
                Ok(r) => {
                    self.done.set(Some(message));
                    self.on_done.set(Some(r));
                }
                Err(err) => self.error.set(Some(error_text(&err, false))),
            }
        });
    }
}

/// The report's incident: its reports; split this one off into an incident
/// of its own, or join another open incident of the county into this one.
/// Each step answers with the incident; the report is read again after
/// it (its incident may have changed).
#[component]
fn IncidentOf(
    report: Sighting,
    on_done: RwSignal<Option<Sighting>>,
    done: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let incident = RwSignal::new(None::<Incident>);
    let others = RwSignal::new(Vec::<Incident>::new());
    let chosen = RwSignal::new(String::new());
    let step = Step::new(report.id.clone(), on_done, done);
    let incident_id = StoredValue::new(report.incident_id.clone());
    {
        let token = step.token.get_value();
        let county = report.county.clone();
        leptos::task::spawn_local(async move {
            let id = incident_id.get_value();
            match api::get::<Incident>(&token, &format!("/incidents/{id}")).await {
                Ok(i) => incident.set(Some(i)),
                Err(err) => step.error.set(Some(error_text(&err, false))),
            }
            let county = county
                .map(|c| format!("&county={}", workset::encode(&c)))
                .unwrap_or_default();
            let query = format!("/incidents?open=true&limit=20{county}");
            if let Ok(page) = api::get::<Page<Incident>>(&token, &query).await {
                others.set(page.items.into_iter().filter(|i| i.id != id).collect());
            }
        });
    }
    // A step on the incident, then the report read again.
    let change = move |name: &'static str, body: serde_json::Value, message: &'static str| {
        let (token, report_id, id) = (
            step.token.get_value(),
            step.id.get_value(),
            incident_id.get_value(),
        );
        step.settle(message, async move {
            api::incident_step(&token, &id, name, &body).await?;
            api::sighting(&token, &report_id).await
        });
    };
    let split = move |_| {
        let body = SplitIncident {
            sighting_ids: vec![step.id.get_value()],
        };
        change(
            "split",
            serde_json::to_value(body).unwrap_or_default(),
            l(L::IncidentSplitDone),
        );
    };
    let join = move |_| {
        let other = chosen.get_untracked();
        if other.is_empty() {
            step.error.set(Some(ErrorText::plain(l(L::ChooseIncident))));
            return;
        }
        let body = JoinIncidents {
            incident_ids: vec![other],
        };
        change(
            "join",
            serde_json::to_value(body).unwrap_or_default(),
            l(L::IncidentJoinDone),
        );
    };
    let this = report.id.clone();
    view! {
        <section class="card" aria-labelledby="incident-title">
            <h2 id="incident-title">{l(L::IncidentTitle)}</h2>
            <p class="muted">{l(L::IncidentIntro)}</p>
            {move || incident.get().map(|i| view! {
                <p data-reports=i.report_count>{l(L::IncidentReports).replace("{}", &digits(u32::try_from(i.report_count).unwrap_or(0)))}</p>
                <ul class="reports">
                    {i.sighting_ids.iter().filter(|id| **id != this).map(|id| view! {
                        <li><Link to=Route::Report(id.clone())>{l(L::OtherReport)}</Link></li>
                    }).collect_view()}
                </ul>
                {(i.report_count > 1).then(|| view! {
                    <button type="button" class="btn secondary" disabled=move || step.busy.get()
                        on:click=split>{l(L::IncidentSplit)}</button>
                })}
            })}
            {move || (!others.with(Vec::is_empty)).then(|| view! {
                <div class="field">
                    <label for="join-incident">{l(L::IncidentJoinWith)}</label>
                    <select id="join-incident" bind:value=chosen>
                        <option value="">{l(L::ChooseIncident)}</option>
                        {others.get().into_iter().map(|i| view! {
                            <option value=i.id.clone()>
                                {dates::instant(&i.last_seen_at)} " · "
                                {l(L::IncidentReports).replace("{}", &digits(u32::try_from(i.report_count).unwrap_or(0)))}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="button" class="btn secondary" disabled=move || step.busy.get()
                    on:click=join>{l(L::IncidentJoin)}</button>
            })}
            {move || step.error.get().map(|text| view! { <ErrorBox text/> })}
        </section>
    }
}
