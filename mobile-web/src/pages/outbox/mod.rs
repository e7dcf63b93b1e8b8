//! What the outbox is doing, always in view: the sync bar under the header
//! (pending count, last sync, offline, errors with a retry) and the list of
//! this phone's registrations with the server's answer (registry code,
//! identity pending review, duplicate candidates, conflicts).

use leptos::prelude::*;
use wasm_bindgen_futures::js_sys::Date;

use super::deferred;
use super::location::seen_here;
use crate::i18n::{digits, t};
use crate::outbox::{self, Item, use_outbox};
use crate::route::{Link, Route};

pub mod conflict;

/// The always-visible sync state. `data-pending` carries the count for tests.
#[component]
pub fn SyncBar() -> impl IntoView {
    let s = t();
    let outbox = use_outbox();
    let status = outbox.status;
    let pending = Memo::new(move |_| status.with(|st| st.pending));
    let line = move || {
        status.with(|st| {
            let count = if st.pending == 0 {
                s.sync_none.to_owned()
            } else {
                s.sync_pending.replace("{}", &digits(st.pending))
            };
            let last = match st.last_sync {
                Some(ms) => s.sync_last.replace("{}", &time_of_day(ms)),
                None => s.sync_never.to_owned(),
            };
            format!("{count} · {last}")
        })
    };
    let flag = move || {
        status.with(|st| {
            if !st.online {
                Some(s.sync_offline)
            } else if st.syncing {
                Some(s.sync_running)
            } else {
                None
            }
        })
    };
    let error = move || {
        status.with(|st| {
            st.error.as_ref().map(|e| match e.kind.as_str() {
                "unauthorized" => s.sync_error_auth.to_owned(),
                "server" => s
                    .sync_error_server
                    .replace("{}", &digits(u32::from(e.status.unwrap_or(0)))),
                _ => s.sync_error_network.to_owned(),
            })
        })
    };
    // Items the server refused (409 conflict, or another 4xx): they wait for
    // the worker, listed below with the details.
    let refused = Memo::new(move |_| {
        status.with(|st| {
            st.items
                .iter()
                .filter(|i| matches!(i.state.as_str(), "conflict" | "failed"))
                .count() as u32
        })
    });
    view! {
        <div id="sync-status" class="syncbar" role="status" aria-live="polite"
            data-pending=move || pending.get().to_string()
            data-refused=move || refused.get().to_string()
            data-online=move || status.with(|st| st.online).to_string()>
            <p>{line}</p>
            // Always there, so «sending…» coming and going does not move the
            // page below (a layout shift Lighthouse counts).
            <p class="flag">{move || flag().unwrap_or("\u{a0}")}</p>
            {move || error().map(|e| view! { <p class="sync-error">{e}</p> })}
            {move || (refused.get() > 0).then(|| view! {
                <p class="sync-error">{s.sync_refused.replace("{}", &digits(refused.get()))}</p>
            })}
            {move || (pending.get() > 0 || error().is_some()).then(|| view! {
                <button type="button" class="btn link" on:click=move |_| outbox.sync_now()>
                    {s.sync_now}
                </button>
            })}
        </div>
    }
}

/// This phone's queued and sent items, newest first.
#[component]
pub fn OutboxList() -> impl IntoView {
    let s = t();
    let status = use_outbox().status;
    let items = move || {
        let mut items = status.with(|st| st.items.clone());
        items.reverse();
        items
    };
    view! {
        <section class="card" aria-labelledby="outbox-title">
            <h2 id="outbox-title">{s.outbox_title}</h2>
            <ul class="outbox" id="outbox">
                <For each=items key=item_key let:item>
                    <OutboxItem item/>
                </For>
            </ul>
        </section>
    }
}

/// An item is redrawn when its state, the server's answer or what it waits
/// on changes.
fn item_key(i: &Item) -> (String, String, Option<String>, Option<String>) {
    let code = i.result.as_ref().and_then(|r| r.registry_code.clone());
    (i.id.clone(), i.state.clone(), code, i.blocked_by.clone())
}

#[component]
fn OutboxItem(item: Item) -> impl IntoView {
    let s = t();
    let outbox = use_outbox();
    let state = match item.state.as_str() {
        "done" => s.state_done,
        "conflict" => s.state_conflict,
        "failed" => s.state_failed,
        _ => s.state_pending,
    };
    let result = item.result.clone().unwrap_or_default();
    let pending_review = result.identity.as_deref() == Some("pending_review");
    let stored = item
        .error
        .as_ref()
        .and_then(|e| e.stored.as_ref())
        .and_then(|v| v.get("registry_code"))
        .and_then(|v| v.as_str())
        .map(|code| s.conflict_stored.replace("{}", code));
    let detail = item.error.as_ref().and_then(|e| e.detail.clone());
    let retry = matches!(item.state.as_str(), "failed").then(|| {
        let id = item.id.clone();
        view! {
            <button type="button" class="btn link" on:click=move |_| outbox.retry(&id)>
                {s.retry}
            </button>
        }
    });
    // An unusable iris capture must not hold the child (and everything
    // queued about it) back for good.
    let without_iris = (item.state == "failed" && item.has_iris).then(|| {
        let id = item.id.clone();
        view! {
            <button type="button" class="btn link" on:click=move |_| outbox.send_without_iris(&id)>
                {s.send_without_iris}
            </button>
        }
    });
    let blocked = item.blocked_by.as_ref().map(|parent| {
        let label = outbox.status.with_untracked(|st| {
            st.items
                .iter()
                .find(|i| &i.id == parent)
                .map(|i| i.label.clone())
        });
        s.blocked_by.replace("{}", &label.unwrap_or_default())
    });
    // A sent item keeps no label: the child's name does not stay on the phone.
    let label = if item.label.is_empty() && item.state == "done" {
        view! { <p class="label">{s.details_removed}</p> }.into_any()
    } else {
        view! { <p class="label"><bdi>{item.label.clone()}</bdi></p> }.into_any()
    };
    let encounter_label = if item.label.is_empty() {
        result.registry_code.clone().unwrap_or_default()
    } else {
        item.label.clone()
    };
    let encounter = (item.kind == "registration"
        && matches!(item.state.as_str(), "pending" | "done"))
    .then(|| view! { <AddEncounter child_id=item.id.clone() label=encounter_label/> });
    let profile = (item.kind == "registration" && item.state == "done")
        .then(|| view! { <Link to=Route::Child(item.id.clone())>{s.open_record}</Link> });
    let choose = item
        .error
        .as_ref()
        .and_then(|e| Some((e.conflicts.clone()?, e.stored.clone()?)))
        .map(|(conflicts, stored)| view! { <deferred::Conflict item=item.clone() conflicts stored/> });
    view! {
        <li class="outbox-item" data-id=item.id.clone() data-kind=item.kind.clone()
            data-state=item.state.clone() data-blocked-by=item.blocked_by.clone()>
            {label}
            <p class=format!("state {}", item.state)>{state}</p>
            {result.registry_code.map(|code| view! {
                <p>{s.registry_code} ": " <bdi dir="ltr" class="code">{code}</bdi></p>
            })}
            {pending_review.then(|| view! { <p class="warn">{s.identity_pending}</p> })}
            {(!result.candidates.is_empty()).then(|| view! {
                <p>{s.candidates} ":"</p>
                <ul class="candidates">
                    {result.candidates.into_iter().map(|c| view! {
                        <li><bdi dir="ltr">{c.registry_code}</bdi> " " <bdi>{c.name}</bdi>
                            " (" {format!("{:.2}", c.distance)} ")"</li>
                    }).collect_view()}
                </ul>
            })}
            {stored.map(|t| view! { <p>{t}</p> })}
            {detail.map(|d| view! { <p class="detail" dir="auto">{d}</p> })}
            {blocked.map(|b| view! { <p class="warn">{b}</p> })}
            {retry}
            {without_iris}
            {choose}
            {profile}
            {encounter}
        </li>
    }
}

/// «Seen today, here»: queues an encounter at the phone's position (GPS
/// works offline); the details (services, follow-up) come with the child
/// profile.
#[component]
fn AddEncounter(child_id: String, label: String) -> impl IntoView {
    let s = t();
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<&'static str>);
    let add = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        message.set(None);
        let (child_id, label) = (child_id.clone(), label.clone());
        leptos::task::spawn_local(async move {
            let result = match outbox::current_position().await {
                None => Err(s.no_position),
                Some(pos) => {
                    let label = s.encounter_label.replace("{}", &label);
                    let path = format!("/api/v1/children/{child_id}/encounters");
                    match serde_json::to_string(&seen_here(pos)) {
                        Ok(json) => {
                            outbox::enqueue_json(&label, "POST", &path, &json, Some(&child_id))
                                .await
                                .map(|_| s.encounter_queued)
                                .map_err(|_| s.store_failed)
                        }
                        Err(_) => Err(s.store_failed),
                    }
                }
            };
            busy.set(false);
            message.set(Some(result.unwrap_or_else(|e| e)));
        });
    };
    view! {
        <button type="button" class="btn secondary" disabled=move || busy.get() on:click=add>
            {s.add_encounter}
        </button>
        {move || message.get().map(|m| view! { <p role="status">{m}</p> })}
    }
}

/// `ms` since the epoch as the phone's local time of day.
fn time_of_day(ms: f64) -> String {
    let date = Date::new(&ms.into());
    String::from(date.to_locale_time_string(crate::i18n::lang().tag()))
}
