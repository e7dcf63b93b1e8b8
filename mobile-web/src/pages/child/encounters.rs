//! The encounter timeline (newest first, Jalali dates) and the form to
//! record one: position (GPS, or typed when poor), the work observed, the
//! services given, notes and the next follow-up date.

use kudakyar_api::children::{Child, NewEncounter, PositionSource, Service, WorkType};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::super::location::LocationField;
use super::super::shared::{display_name, queue_write};
use crate::api;
use crate::dates::{self, JalaliDate};
use crate::i18n::{t, vocabulary};
use crate::outbox::{self, Position};
use crate::session::use_session;

/// Notes are free text, bounded like the server's.
const MAX_NOTES: usize = 4000;

#[component]
pub fn Timeline(child_id: String) -> impl IntoView {
    let s = t();
    let token = use_session().token().unwrap_or_default();
    let list = RwSignal::new(None::<Vec<api::EncounterEntry>>);
    leptos::task::spawn_local(async move {
        list.set(api::encounters(&token, &child_id).await.ok());
    });
    view! {
        <section class="card" aria-labelledby="encounters-title">
            <h2 id="encounters-title">{s.encounters}</h2>
            {move || list.get().map(|items| view! {
                {items.is_empty().then(|| view! { <p>{s.no_encounters}</p> })}
                <ol class="timeline">
                    {items.into_iter().map(|e| view! { <EncounterItem e/> }).collect_view()}
                </ol>
            })}
        </section>
    }
}

#[component]
fn EncounterItem(e: api::EncounterEntry) -> impl IntoView {
    let s = t();
    let d = e;
    let services = d
        .services
        .iter()
        .map(|v| vocabulary::service(*v))
        .collect::<Vec<_>>()
        .join("، ");
    view! {
        <li class="encounter">
            <p><time datetime=d.at.clone()>{dates::instant(&d.at)}</time></p>
            {d.activity.map(|a| view! { <p>{s.activity} ": " {vocabulary::work_type(a)}</p> })}
            {(!services.is_empty()).then(|| view! { <p>{s.services} ": " {services}</p> })}
            {d.notes.map(|n| view! { <p dir="auto">{n}</p> })}
            {d.next_follow_up.map(|f| view! { <p>{s.next_follow_up} ": " {dates::day(&f)}</p> })}
        </li>
    }
}

#[component]
pub fn NewEncounter(child: Child) -> impl IntoView {
    let s = t();
    let position = RwSignal::new(None::<Position>);
    let activity = RwSignal::new(String::new());
    let services = RwSignal::new(Vec::<Service>::new());
    let notes = RwSignal::new(String::new());
    let follow_up = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<&'static str>);
    let (this_year, _, _) = dates::jalali::to_jalali(dates::today()).unwrap_or((1405, 1, 1));
    let label = s.encounter_label.replace(
        "{}",
        &display_name(
            child.facts.given_name.as_deref(),
            child.facts.family_name.as_deref(),
        ),
    );
    let child_id = child.id.clone();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(pos) = position.get_untracked() else {
            message.set(Some(s.no_position));
            return;
        };
        let note = notes.get_untracked().trim().to_owned();
        if note.chars().count() > MAX_NOTES {
            message.set(Some(s.invalid));
            return;
        }
        let body = NewEncounter {
            id: Some(outbox::new_id()),
            at: outbox::now_rfc3339(),
            lat: pos.lat,
            lng: pos.lng,
            accuracy_m: pos.accuracy,
            activity: vocabulary::parse::<WorkType>(&activity.get_untracked()),
            accompanied_by_adult: None,
            services: services.get_untracked(),
            notes: Some(note).filter(|n| !n.is_empty()),
            next_follow_up: follow_up.get_untracked(),
            position_source: Some(if pos.accuracy.is_some() {
                PositionSource::Gps
            } else {
                PositionSource::Typed
            }),
            // Queued now: the outbox holds every write until it can be sent.
            queued_at: Some(outbox::now_rfc3339()),
            iris_identification: None,
        };
        let (label, child_id) = (label.clone(), child_id.clone());
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/children/{child_id}/encounters");
            let target = ("POST", path.as_str());
            if queue_write(
                &body,
                &label,
                target,
                &child_id,
                s.encounter_queued,
                message,
            )
            .await
            {
                services.set(Vec::new());
                notes.set(String::new());
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="new-encounter-title">
            <h2 id="new-encounter-title">{s.new_encounter}</h2>
            <form on:submit=on_submit novalidate>
                <LocationField position/>
                <div class="field">
                    <label for="activity">{s.activity}</label>
                    <select id="activity" on:change=move |ev| activity.set(event_target_value(&ev))>
                        <option value="">{s.none}</option>
                        {vocabulary::WORK_TYPES.map(|w| view! {
                            <option value=vocabulary::word(w)>{vocabulary::work_type(w)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <fieldset class="checks">
                    <legend>{s.services}</legend>
                    {vocabulary::SERVICES.map(|svc| {
                        let id = format!("svc-{}", vocabulary::word(svc));
                        let label_for = id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input id=id type="checkbox"
                                    prop:checked=move || services.with(|v| v.contains(&svc))
                                    on:change=move |ev| services.update(|v| {
                                        if event_target_checked(&ev) { v.push(svc) } else { v.retain(|x| *x != svc) }
                                    })/>
                                {vocabulary::service(svc)}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="field">
                    <label for="notes">{s.notes}</label>
                    <textarea id="notes" rows="3" dir="auto" bind:value=notes></textarea>
                </div>
                <JalaliDate id="follow-up" legend=s.next_follow_up value=follow_up
                    from_year=this_year to_year=this_year + 1/>
                {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
                <button type="submit" class="btn primary">{s.new_encounter}</button>
            </form>
        </section>
    }
}
