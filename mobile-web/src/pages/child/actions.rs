//! What a worker changes on a record: photos, the status, a referral to a
//! suggested centre. Each is queued in the outbox like every other write.

use kudakyar_api::cases::{CentreSuggestion, NewReferral, Referral as ReferralRecord};
use kudakyar_api::children::{Child, ChildUpdate, Status};
use leptos::html::Input;
use leptos::prelude::*;

use super::super::shared::{Thumb, display_name, file, queue_write};
use crate::api;
use crate::dates;
use crate::i18n::{digits, t, vocabulary};
use crate::outbox;
use crate::session::use_session;

fn label_of(child: &Child) -> String {
    display_name(
        child.facts.given_name.as_deref(),
        child.facts.family_name.as_deref(),
    )
}

#[component]
pub fn Photos(child_id: String) -> impl IntoView {
    let s = t();
    let token = use_session().token().unwrap_or_default();
    let photos = RwSignal::new(Vec::<api::Photo>::new());
    {
        let id = child_id.clone();
        leptos::task::spawn_local(async move {
            photos.set(api::photos(&token, &id).await.unwrap_or_default());
        });
    }
    let input = NodeRef::<Input>::new();
    let message = RwSignal::new(None::<&'static str>);
    let add = move |_| {
        let Some(photo) = file(input) else { return };
        let id = child_id.clone();
        leptos::task::spawn_local(async move {
            let stored = outbox::enqueue_photo(s.photo, &id, photo).await;
            message.set(Some(if stored.is_ok() {
                s.photo_queued
            } else {
                s.store_failed
            }));
            if let (Ok(()), Some(input)) = (stored, input.get_untracked()) {
                input.set_value("");
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="photos-title">
            <h2 id="photos-title">{s.photos}</h2>
            <div class="thumbs">
                {move || photos.get().into_iter().map(|p| view! {
                    <Thumb url=Some(p.thumbnail_url) alt=dates::instant(&p.created_at)/>
                }).collect_view()}
            </div>
            <div class="field">
                <label for="add-photo">{s.add_photo}</label>
                <input id="add-photo" type="file" accept="image/*" capture="environment"
                    node_ref=input on:change=add/>
            </div>
            {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
        </section>
    }
}

#[component]
pub fn StatusChange(child: Child) -> impl IntoView {
    let s = t();
    let status = RwSignal::new(child.status);
    let current = child.status;
    let reason = RwSignal::new(String::new());
    let message = RwSignal::new(None::<&'static str>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let to = status.get_untracked();
        if to == child.status {
            return;
        }
        // The server keeps why with every status change.
        let why = reason.get_untracked().trim().to_owned();
        if why.is_empty() {
            message.set(Some(s.reason_required));
            return;
        }
        let mut changes = serde_json::Map::new();
        changes.insert("status".to_owned(), vocabulary::word(to).into());
        let update = ChildUpdate {
            base_version: child.version,
            changes,
            reason: Some(why),
        };
        let (id, label) = (
            child.id.clone(),
            format!("{}: {}", s.change_status, label_of(&child)),
        );
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/children/{id}");
            let target = ("PATCH", path.as_str());
            queue_write(&update, &label, target, &id, s.change_queued, message).await;
        });
    };
    view! {
        <section class="card" aria-labelledby="status-title">
            <h2 id="status-title">{s.change_status}</h2>
            <form on:submit=save novalidate>
                <div class="field">
                    <label for="status">{s.status}</label>
                    <select id="status" on:change=move |ev| {
                        if let Some(v) = vocabulary::parse::<Status>(&event_target_value(&ev)) { status.set(v) }
                    }>
                        // Only the changes the case lifecycle allows.
                        {vocabulary::STATUSES.into_iter().filter(|v| current.can_become(*v)).map(|v| view! {
                            <option value=vocabulary::word(v) selected=v == current>{vocabulary::status(v)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="status-reason">{s.reason}</label>
                    <input id="status-reason" type="text" dir="auto" bind:value=reason/>
                </div>
                {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
                <button type="submit" class="btn primary">{s.save}</button>
            </form>
        </section>
    }
}

#[component]
pub fn Referral(child: Child) -> impl IntoView {
    let s = t();
    let token = use_session().token().unwrap_or_default();
    let suggestions = RwSignal::new(None::<Vec<CentreSuggestion>>);
    let referrals = RwSignal::new(Vec::<ReferralRecord>::new());
    {
        let id = child.id.clone();
        leptos::task::spawn_local(async move {
            suggestions.set(api::centre_suggestions(&token, &id).await.ok());
            referrals.set(api::referrals(&token, &id).await.unwrap_or_default());
        });
    }
    let message = RwSignal::new(None::<&'static str>);
    let label = format!("{}: {}", s.refer, label_of(&child));
    let refer = move |centre_id: String| {
        let body = NewReferral {
            id: Some(outbox::new_id()),
            child_id: child.id.clone(),
            centre_id,
            note: None,
        };
        let (label, id) = (label.clone(), child.id.clone());
        leptos::task::spawn_local(async move {
            let target = ("POST", "/api/v1/referrals");
            queue_write(&body, &label, target, &id, s.referral_queued, message).await;
        });
    };
    view! {
        <section class="card" aria-labelledby="referral-title">
            <h2 id="referral-title">{s.referral_title}</h2>
            {move || (!referrals.get().is_empty()).then(|| view! {
                <h3>{s.referrals}</h3>
                <ul class="referrals">
                    {referrals.get().into_iter().map(|r| view! {
                        <li>{vocabulary::referral_state(r.state)} " · " {dates::instant(&r.updated_at)}</li>
                    }).collect_view()}
                </ul>
            })}
            <h3>{s.suggested_centres}</h3>
            {move || suggestions.get().map(|list| view! {
                {list.is_empty().then(|| view! { <p>{s.no_centres}</p> })}
                <ul class="centres">
                    {list.into_iter().map(|c| {
                        let centre_id = c.centre.id.clone();
                        let refer = refer.clone();
                        view! {
                            <li class="centre">
                                <p><bdi>{c.centre.name.clone()}</bdi></p>
                                <p class="muted">
                                    {c.distance_km.map(|km| s.km.replace("{}", &digits(km.round() as u32)))}
                                    " · " {s.free_places.replace("{}", &digits(c.free_capacity.max(0) as u32))}
                                </p>
                                <button type="button" class="btn secondary"
                                    on:click=move |_| refer(centre_id.clone())>{s.refer}</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {move || message.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
        </section>
    }
}
