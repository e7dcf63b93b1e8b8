//! The notification settings (`/settings`, «تنظیمات اعلان‌ها»), for every
//! role, linked from the bottom bar and the inbox. Loaded on demand
//! (`pages::deferred`), its texts too (`i18n::later`).
//!
//! Three parts, each saved on its own:
//! - [`PushSwitch`]: Web Push on this device ([`crate::push`]). When the
//!   browser cannot take pushes, the permission is refused or its push
//!   service cannot be reached (common in Iran), it says so, and that the
//!   inbox and the SMS for urgent matters still work.
//! - [`PreferencesForm`]: `GET/PUT /api/v1/notifications/preferences`: muted
//!   kinds (every kind the server knows, [`KINDS`]; the critical ones shown
//!   but not mutable), quiet hours in Tehran time, Friday quiet, and the daily
//!   digest for the roles the server allows it ([`may_digest`]).
//! - [`PhoneForm`]: `PUT /api/v1/users/{id}/phone`, the number an unread
//!   urgent notification goes to by SMS. The server keeps it but does not
//!   show it back, so the form shows the number only as just saved.
//!
//! The server's validation errors (problem+json `errors`, by field) are
//! shown beside the field they name ([`FieldError`]).

use std::collections::BTreeMap;

use kudakyar_api::notifications::{KINDS, NotificationPreferences, QuietHours};
use kudakyar_api::users::{Role, UserPhone};
use leptos::html::H1;
use leptos::prelude::*;

use super::inbox::kind_text;
use super::shared::ascii_digits;
use super::{ErrorBox, focus_on_mount};
use crate::api::{self, ApiError};
use crate::i18n::{ErrorText, L, error_text, l, later};
use crate::push::{self, PushError, PushState};
use crate::session::{Auth, use_session};

/// Field name → the server's messages about it.
type FieldErrors = BTreeMap<String, Vec<String>>;

/// Whether the server lets `role` take a daily digest (supervisors and the
/// roles above them; `notify::delivery_routes::put_preferences`).
pub fn may_digest(role: Role) -> bool {
    !matches!(role, Role::OutreachWorker | Role::HotlineOperator)
}

/// The labels the service worker titles a push with, both languages (see
/// `pushSetTexts` in `push.js`).
fn worker_texts() -> String {
    let kinds: BTreeMap<&str, [&str; 2]> = KINDS
        .iter()
        .map(|(kind, _)| (*kind, later::both(kind_text(kind))))
        .collect();
    serde_json::json!({
        "kinds": kinds,
        "other": later::both(L::KindOther),
        "digest": later::both(L::Digest),
    })
    .to_string()
}

/// The server's field errors in `err`, if it is a validation problem.
fn field_errors(err: &ApiError) -> Option<FieldErrors> {
    match err {
        ApiError::Problem(p) if !p.errors.is_empty() => Some(p.errors.clone()),
        _ => None,
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let user = match session.auth.get_untracked() {
        Auth::LoggedIn { user, .. } => Some(user),
        _ => None,
    };
    let digest = user.as_ref().is_some_and(|u| may_digest(u.role));
    view! {
        <section class="card" aria-labelledby="settings-title">
            <h1 id="settings-title" tabindex="-1" node_ref=heading>{l(L::SettingsTitle)}</h1>
            <p class="lead">{l(L::SettingsIntro)}</p>
            <PushSwitch/>
            <Preferences may_digest=digest/>
            {user.map(|u| view! { <PhoneForm user_id=u.id/> })}
        </section>
    }
}

/// Web Push on this device: its state, and the button that changes it.
#[component]
fn PushSwitch() -> impl IntoView {
    let session = use_session();
    // None while the browser is asked.
    let state = RwSignal::new(None::<PushState>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorText>);
    leptos::task::spawn_local(async move {
        // Kept current at each visit: the worker titles pushes with them.
        push::store_texts(&worker_texts()).await;
        state.set(Some(push::state().await));
    });
    let toggle = move |_| {
        let Some(token) = session.token() else { return };
        let turn_off = state.get_untracked() == Some(PushState::On);
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = if turn_off {
                push::disable(&token).await.map_err(PushError::Api)
            } else {
                push::enable(&token).await
            };
            match result {
                Ok(()) => state.set(Some(push::state().await)),
                Err(PushError::Browser(why)) => state.set(Some(why)),
                Err(PushError::Api(err)) => {
                    error.set(Some(error_text(&err, false)));
                    state.set(Some(push::state().await));
                }
            }
            busy.set(false);
        });
    };
    let message = move || match state.get() {
        None => l(L::PushChecking),
        Some(PushState::On) => l(L::PushOn),
        Some(PushState::Off) => l(L::PushOff),
        Some(PushState::Unsupported) => l(L::PushUnsupported),
        Some(PushState::Denied) => l(L::PushDenied),
        Some(PushState::Unreachable) => l(L::PushUnreachable),
    };
    let trouble = move || {
        matches!(
            state.get(),
            Some(PushState::Unsupported | PushState::Denied | PushState::Unreachable)
        )
    };
    // Nothing to press when the browser cannot or may not take pushes.
    let button = move || match state.get() {
        Some(PushState::On) => Some(l(L::PushDisable)),
        Some(PushState::Off | PushState::Unreachable) => Some(l(L::PushEnable)),
        _ => None,
    };
    view! {
        <fieldset class="push">
            <legend>{l(L::PushTitle)}</legend>
            <div id="push-status" role="status" class=move || if trouble() { "alert" } else { "notice" }
                data-state=move || state.get().map_or("checking", PushState::word)>
                <p>{message}</p>
                {move || trouble().then(|| view! { <p class="detail">{l(L::PushFallback)}</p> })}
            </div>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || button().map(|label| view! {
                <button type="button" class="btn" disabled=move || busy.get() on:click=toggle>{label}</button>
            })}
        </fieldset>
    }
}

/// The preferences as the server has them, then the form.
#[component]
fn Preferences(may_digest: bool) -> impl IntoView {
    let session = use_session();
    let loaded = RwSignal::new(None::<NotificationPreferences>);
    let error = RwSignal::new(None::<ErrorText>);
    let token = session.token().unwrap_or_default();
    leptos::task::spawn_local(async move {
        match api::preferences(&token).await {
            Ok(p) => loaded.set(Some(p)),
            Err(err) => error.set(Some(error_text(&err, false))),
        }
    });
    view! {
        {move || error.get().map(|text| view! { <ErrorBox text/> })}
        {move || loaded.get().map(|initial| view! { <PreferencesForm initial may_digest/> })}
    }
}

/// Muted kinds, quiet hours, Friday, digest; saved together.
#[component]
fn PreferencesForm(initial: NotificationPreferences, may_digest: bool) -> impl IntoView {
    let session = use_session();
    let muted = RwSignal::new(initial.muted_kinds.clone());
    let quiet_on = RwSignal::new(initial.quiet_hours.is_some());
    let (start, end) = initial
        .quiet_hours
        .as_ref()
        .map_or(("22:00".to_owned(), "07:00".to_owned()), |q| {
            (q.start.clone(), q.end.clone())
        });
    let start = RwSignal::new(start);
    let end = RwSignal::new(end);
    let friday = RwSignal::new(initial.quiet_friday);
    let digest = RwSignal::new(initial.digest);
    let errors = RwSignal::new(FieldErrors::new());
    let error = RwSignal::new(None::<ErrorText>);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = session.token() else { return };
        let wanted = NotificationPreferences {
            muted_kinds: muted.get_untracked(),
            quiet_hours: quiet_on.get_untracked().then(|| QuietHours {
                start: start.get_untracked(),
                end: end.get_untracked(),
            }),
            quiet_friday: friday.get_untracked(),
            digest: digest.get_untracked(),
        };
        busy.set(true);
        saved.set(false);
        error.set(None);
        errors.set(FieldErrors::new());
        leptos::task::spawn_local(async move {
            match api::put_preferences(&token, &wanted).await {
                Ok(stored) => {
                    muted.set(stored.muted_kinds);
                    digest.set(stored.digest);
                    friday.set(stored.quiet_friday);
                    quiet_on.set(stored.quiet_hours.is_some());
                    if let Some(q) = stored.quiet_hours {
                        start.set(q.start);
                        end.set(q.end);
                    }
                    saved.set(true);
                }
                Err(err) => match field_errors(&err) {
                    Some(fields) => errors.set(fields),
                    None => error.set(Some(error_text(&err, false))),
                },
            }
            busy.set(false);
        });
    };
    let toggle_kind = move |kind: &'static str, on: bool| {
        muted.update(|list| {
            list.retain(|k| k != kind);
            if on {
                list.push(kind.to_owned());
            }
        });
    };
    let time_field = move |id: &'static str, label: L, value: RwSignal<String>| {
        let key = format!("quiet_hours.{}", id.trim_start_matches("quiet-"));
        let invalid = {
            let key = key.clone();
            move || errors.with(|e| e.contains_key(&key)).to_string()
        };
        view! {
            <div class="field">
                <label for=id>{l(label)}</label>
                <input id=id type="time" dir="ltr" required prop:value=move || value.get()
                    disabled=move || !quiet_on.get() aria-invalid=invalid
                    aria-describedby=format!("{id}-error")
                    on:input=move |ev| value.set(event_target_value(&ev))/>
                <FieldError errors field=key id=format!("{id}-error")/>
            </div>
        }
    };
    view! {
        <form class="preferences" on:submit=submit novalidate>
            <fieldset class="checks" aria-describedby="muted-hint muted-error">
                <legend>{l(L::MutedTitle)}</legend>
                <p class="muted" id="muted-hint">{l(L::MutedHint)}</p>
                {KINDS.iter().map(|&(kind, critical)| view! {
                    <label class="check" data-kind=kind>
                        <input type="checkbox" name="muted" value=kind disabled=critical
                            prop:checked=move || !critical && muted.with(|m| m.iter().any(|k| k == kind))
                            on:change=move |ev| toggle_kind(kind, event_target_checked(&ev))/>
                        <span>
                            {l(kind_text(kind))}
                            {critical.then(|| view! { " " <span class="muted">{l(L::CannotMute)}</span> })}
                        </span>
                    </label>
                }).collect_view()}
                <FieldError errors field="muted_kinds".to_owned() id="muted-error".to_owned()/>
            </fieldset>
            <fieldset>
                <legend>{l(L::QuietTitle)}</legend>
                <label class="check">
                    <input type="checkbox" name="quiet" prop:checked=move || quiet_on.get()
                        on:change=move |ev| quiet_on.set(event_target_checked(&ev))/>
                    {l(L::QuietOn)}
                </label>
                <div class="pair">
                    {time_field("quiet-start", L::QuietFrom, start)}
                    {time_field("quiet-end", L::QuietTo, end)}
                </div>
                <label class="check">
                    <input type="checkbox" name="friday" prop:checked=move || friday.get()
                        on:change=move |ev| friday.set(event_target_checked(&ev))/>
                    {l(L::QuietFriday)}
                </label>
            </fieldset>
            {may_digest.then(|| view! {
                <fieldset>
                    <legend>{l(L::DigestTitle)}</legend>
                    <label class="check">
                        <input type="checkbox" name="digest" prop:checked=move || digest.get()
                            aria-describedby="digest-error"
                            on:change=move |ev| digest.set(event_target_checked(&ev))/>
                        {l(L::DigestOn)}
                    </label>
                    <FieldError errors field="digest".to_owned() id="digest-error".to_owned()/>
                </fieldset>
            })}
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            <button type="submit" class="btn" disabled=move || busy.get()>{l(L::Save)}</button>
            {move || saved.get().then(|| view! { <p class="notice" role="status">{l(L::Saved)}</p> })}
        </form>
    }
}

/// The number an unread urgent notification is sent to by SMS.
#[component]
fn PhoneForm(user_id: String) -> impl IntoView {
    let session = use_session();
    let value = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let error = RwSignal::new(None::<ErrorText>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let save = move |phone: Option<String>| {
        let Some(token) = session.token() else { return };
        let user_id = user_id.clone();
        busy.set(true);
        done.set(None);
        error.set(None);
        errors.set(FieldErrors::new());
        leptos::task::spawn_local(async move {
            match api::set_phone(&token, &user_id, &UserPhone { phone }).await {
                Ok(UserPhone {
                    phone: Some(number),
                }) => {
                    done.set(Some(l(L::PhoneSaved).replace("{}", &number)));
                    value.set(String::new());
                }
                Ok(UserPhone { phone: None }) => done.set(Some(l(L::PhoneRemoved).to_owned())),
                Err(err) => match field_errors(&err) {
                    Some(fields) => errors.set(fields),
                    None => error.set(Some(error_text(&err, false))),
                },
            }
            busy.set(false);
        });
    };
    let submit = {
        let save = save.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save(Some(ascii_digits(value.get_untracked().trim())));
        }
    };
    view! {
        <form class="phone" on:submit=submit novalidate>
            <fieldset>
                <legend>{l(L::PhoneTitle)}</legend>
                <p class="muted" id="phone-hint">{l(L::PhoneHint)}</p>
                <div class="field">
                    <label for="phone">{l(L::PhoneLabel)}</label>
                    <input id="phone" type="tel" inputmode="tel" autocomplete="tel" dir="ltr"
                        placeholder="09121234567" prop:value=move || value.get()
                        aria-invalid=move || errors.with(|e| e.contains_key("phone")).to_string()
                        aria-describedby="phone-hint phone-error"
                        on:input=move |ev| value.set(event_target_value(&ev))/>
                    <FieldError errors field="phone".to_owned() id="phone-error".to_owned()/>
                </div>
                {move || error.get().map(|text| view! { <ErrorBox text/> })}
                <button type="submit" class="btn" disabled=move || busy.get()>{l(L::PhoneSave)}</button>
                <button type="button" class="btn secondary" disabled=move || busy.get()
                    on:click=move |_| save(None)>{l(L::PhoneRemove)}</button>
                {move || done.get().map(|text| view! { <p class="notice" role="status" dir="auto">{text}</p> })}
            </fieldset>
        </form>
    }
}

/// The server's messages about `field`, beside it (`id` is what the
/// field's `aria-describedby` names); empty (and hidden) when there are none.
#[component]
fn FieldError(errors: RwSignal<FieldErrors>, field: String, id: String) -> impl IntoView {
    let name = field.clone();
    view! {
        <p class="field-error" id=id role="alert" data-field=name>
            {move || errors.with(|e| e.get(&field).map(|m| m.join(" — ")))}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use kudakyar_api::notifications::KINDS;
    use kudakyar_api::users::Role;

    use super::{may_digest, worker_texts};
    use crate::i18n::{L, l};
    use crate::pages::inbox::kind_text;
    use crate::pages::shared::ascii_digits;

    #[test]
    fn a_digest_is_for_supervisors_and_above() {
        assert!(!may_digest(Role::OutreachWorker));
        assert!(!may_digest(Role::HotlineOperator));
        for role in [Role::Supervisor, Role::ProvincialStaff, Role::NationalAdmin] {
            assert!(may_digest(role), "{role:?}");
        }
    }

    #[test]
    fn persian_digits_become_ascii() {
        assert_eq!(ascii_digits("۰۹۱۲ ۱۲۳ ۴۵۶۷"), "0912 123 4567");
        assert_eq!(ascii_digits("٠٩١٢"), "0912");
        assert_eq!(ascii_digits("+98912"), "+98912");
    }

    #[test]
    fn every_kind_has_its_own_label_for_the_worker_too() {
        let other = l(L::KindOther);
        for (kind, _) in KINDS {
            assert_ne!(l(kind_text(kind)), other, "{kind} has no label");
        }
        let texts: serde_json::Value = serde_json::from_str(&worker_texts()).unwrap();
        assert_eq!(
            texts["kinds"]["child_at_risk"][1], "A child at risk",
            "{texts}"
        );
        assert_eq!(texts["kinds"].as_object().unwrap().len(), KINDS.len());
        assert_eq!(texts["digest"][0], "{} اعلان تازه");
    }
}
