//! A child's profile: facts, photos, the encounter timeline, and what a
//! worker does next: record an encounter, change the status, refer to a
//! suggested centre.
//!
//! - `mod.rs`: loading (server, else the phone's working set) and the facts.
//! - [`encounters`]: the timeline and the «record an encounter» form.
//! - [`actions`]: photos, status change, referral.
//! - [`edit`]: every fact of the record, edited and checked by the server's
//!   rules.
//!
//! Every write goes through the outbox (works offline, sent once); the page
//! says so, and the outbox list on the home page shows the server's answer.

mod actions;
pub mod edit;
mod encounters;

use kudakyar_api::children::{Birth, BirthPrecision, Child};
use leptos::html::H1;
use leptos::prelude::*;

use super::shared::display_name;
use super::{ErrorBox, focus_on_mount};
use crate::api::{self, ApiError};
use crate::dates;
use crate::i18n::later::{L, l};
use crate::i18n::{ErrorText, digits, error_text, province_name, t, vocabulary};
use crate::outbox::use_outbox;
use crate::session::use_session;
use crate::workset;

/// What the page could load.
#[derive(Clone)]
enum Loaded {
    Loading,
    Online(Child),
    /// Offline: the copy from the working set.
    Cached(Child),
    /// Registered on this phone, not yet on the server.
    Queued,
    Failed(ErrorText),
}

#[component]
pub fn ChildPage(id: String) -> impl IntoView {
    let s = t();
    let session = use_session();
    let outbox = use_outbox();
    let loaded = RwSignal::new(Loaded::Loading);
    let token = session.token().unwrap_or_default();
    {
        let (id, token) = (id.clone(), token.clone());
        leptos::task::spawn_local(async move {
            let queued = outbox
                .status
                .with_untracked(|st| st.items.iter().any(|i| i.id == id && i.state != "done"));
            loaded.set(match api::child(&token, &id).await {
                Ok(child) => Loaded::Online(child),
                Err(ApiError::Network) => workset::child(&id).map_or(
                    if queued {
                        Loaded::Queued
                    } else {
                        Loaded::Failed(error_text(&ApiError::Network, false))
                    },
                    Loaded::Cached,
                ),
                Err(_) if queued => Loaded::Queued,
                Err(err) => Loaded::Failed(error_text(&err, false)),
            });
        });
    }
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let title = move || match loaded.get() {
        Loaded::Online(c) | Loaded::Cached(c) => display_name(
            c.facts.given_name.as_deref(),
            c.facts.family_name.as_deref(),
        ),
        _ => s.open_record.to_owned(),
    };
    view! {
        <section class="card" aria-labelledby="child-title">
            <h1 id="child-title" tabindex="-1" node_ref=heading><bdi>{title}</bdi></h1>
            {move || match loaded.get() {
                Loaded::Loading => view! { <p role="status">{s.loading}</p> }.into_any(),
                Loaded::Queued => view! { <p class="notice" role="status">{s.not_synced}</p> }.into_any(),
                Loaded::Failed(text) => view! { <ErrorBox text/> }.into_any(),
                Loaded::Cached(child) => view! {
                    <p class="notice" role="status">{s.offline_copy}</p>
                    <Facts child/>
                }.into_any(),
                Loaded::Online(child) => view! { <Facts child/> }.into_any(),
            }}
        </section>
        {move || match loaded.get() {
            Loaded::Online(child) => view! {
                <actions::Photos child_id=child.id.clone()/>
                <encounters::Timeline child_id=child.id.clone()/>
                <encounters::NewEncounter child=child.clone()/>
                <edit::EditRecord id=child.id.clone() version=child.version facts=child.facts.clone()/>
                <actions::StatusChange child=child.clone()/>
                <actions::Referral child/>
            }.into_any(),
            // Offline or queued: what can be recorded without the server.
            Loaded::Cached(child) => view! {
                <encounters::NewEncounter child=child.clone()/>
                <edit::EditRecord id=child.id.clone() version=child.version facts=child.facts.clone()/>
                <actions::StatusChange child/>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

/// The record's facts as a description list.
#[component]
fn Facts(child: Child) -> impl IntoView {
    let s = t();
    let f = child.facts.clone();
    let province = province_name(&f.home_province)
        .unwrap_or(&f.home_province)
        .to_owned();
    let row =
        |dt: &'static str, dd: String| view! { <div><dt>{dt}</dt><dd><bdi>{dd}</bdi></dd></div> };
    view! {
        <dl class="who facts">
            <div><dt>{s.registry_code}</dt><dd><bdi dir="ltr" class="code">{child.registry_code.clone()}</bdi></dd></div>
            {row(s.status, vocabulary::status(child.status).to_owned())}
            {(child.identity == kudakyar_api::iris::Identity::PendingReview)
                .then(|| view! { <p class="warn">{s.identity_pending}</p> })}
            {row(s.sex, vocabulary::sex(f.sex).to_owned())}
            {row(s.nationality, vocabulary::nationality(f.nationality).to_owned())}
            {f.birth.as_ref().map(|b| row(s.age, age(b)))}
            {f.father_name.clone().map(|n| row(l(L::FatherName), n))}
            {(!f.aliases.is_empty()).then(|| row(l(L::Aliases), f.aliases.join("، ")))}
            {f.national_code.clone().map(|c| row(l(L::NationalCode), c))}
            {f.foreign_id.clone().map(|c| row(l(L::ForeignId), c))}
            {list(l(L::Languages), f.languages.iter().map(|v| edit::language(*v)))}
            {list(l(L::WorkTypes), f.work_types.iter().map(|v| vocabulary::work_type(*v)))}
            {f.living_situation.map(|v| row(l(L::Living), edit::living(v).to_owned()))}
            {f.school_status.map(|v| row(l(L::School), edit::schooling(v).to_owned()))}
            {list(l(L::Risks), f.risk_flags.iter().map(|v| edit::risk(*v)))}
            {f.guardian.as_ref().map(|g| row(l(L::Guardian), [g.name.as_deref(), g.relation.as_deref(), g.phone.as_deref()]
                .into_iter().flatten().collect::<Vec<_>>().join(" · ")))}
            {f.consent.as_ref().map(|c| row(l(L::Consent), format!("{} · {}{}", c.given_by, dates::instant(&c.given_at),
                if c.child_assent { format!(" · {}", l(L::ChildAssent)) } else { String::new() })))}
            {row(s.province, province)}
            {row(s.registered_at, dates::instant(&child.created_at))}
            {child.last_seen_at.as_deref().map(|at| row(s.last_seen, dates::instant(at)))}
        </dl>
    }
}

/// A row of several values, none when there are none.
fn list<'a>(dt: &'static str, values: impl Iterator<Item = &'a str>) -> Option<AnyView> {
    let joined = values.collect::<Vec<_>>().join("، ");
    (!joined.is_empty())
        .then(|| view! { <div><dt>{dt}</dt><dd><bdi>{joined}</bdi></dd></div> }.into_any())
}

/// The birth as the record knows it: a date, a year, or an estimated age.
fn age(birth: &Birth) -> String {
    let s = t();
    match birth.precision {
        BirthPrecision::Exact => birth.date.as_deref().map(dates::day).unwrap_or_default(),
        BirthPrecision::Year => birth
            .year
            .and_then(|y| dates::jalali::to_jalali((i64::from(y), 7, 1)))
            .map(|(jy, _, _)| digits(jy as u32))
            .unwrap_or_default(),
        BirthPrecision::Estimated => birth
            .estimated_age
            .map(|a| s.years.replace("{}", &digits(u32::from(a))))
            .unwrap_or_default(),
    }
}
