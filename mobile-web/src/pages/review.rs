//! Duplicate review (`/reviews`, `/reviews/{id}`): the iris matches the
//! server opened for a person to decide (`GET /api/v1/iris/reviews`), and
//! one of them with both records side by side (photo, registry code, name,
//! sex, nationality, encounters, the iris distance per eye). «Same child»
//! merges them into the older record (the server keeps the merge undoable
//! for 30 days); «different children» keeps both. A side outside the
//! reviewer's scope shows only its province. Loaded on demand
//! (`pages::deferred`).

use kudakyar_api::iris::{Review, ReviewDecision, ReviewReason, ReviewSide, ReviewVerdict};
use leptos::html::H1;
use leptos::prelude::*;

use super::shared::{Thumb, display_name};
use super::{ErrorBox, focus_on_mount};
use crate::api;
use crate::dates;
use crate::i18n::{ErrorText, L, digits, error_text, l, province_name, t, vocabulary};
use crate::route::{Link, Route};
use crate::session::use_session;

pub fn reason_label(r: ReviewReason) -> &'static str {
    l(match r {
        ReviewReason::OfflineRegistration => L::ReasonOffline,
        ReviewReason::DeclaredNewChild => L::ReasonDeclared,
        ReviewReason::Enrolment => L::ReasonEnrolment,
    })
}

/// An iris distance as the engine gives it (0 = identical), or «—».
fn distance(d: Option<f32>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| format!("{d:.3}"))
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let token = use_session().token().unwrap_or_default();
    let reviews = RwSignal::new(None::<Vec<Review>>);
    let error = RwSignal::new(None::<ErrorText>);
    leptos::task::spawn_local(async move {
        match api::reviews(&token).await {
            Ok(list) => reviews.set(Some(list)),
            Err(err) => error.set(Some(error_text(&err, false))),
        }
    });
    view! {
        <section class="card" aria-labelledby="reviews-title">
            <h1 id="reviews-title" tabindex="-1" node_ref=heading>{l(L::ReviewsTitle)}</h1>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || reviews.get().map(|list| view! {
                {list.is_empty().then(|| view! { <p role="status">{l(L::ReviewsEmpty)}</p> })}
                <ul class="reports">
                    {list.into_iter().map(|r| view! {
                        <li class="report-row" data-id=r.id.clone()>
                            <Link to=Route::Review(r.id.clone())>{reason_label(r.reason)}</Link>
                            <span class="muted">{dates::instant(&r.opened_at)}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
pub fn ReviewPage(id: String) -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let token = use_session().token().unwrap_or_default();
    let review = RwSignal::new(None::<Review>);
    let error = RwSignal::new(None::<ErrorText>);
    let busy = RwSignal::new(false);
    {
        let (token, id) = (token.clone(), id.clone());
        leptos::task::spawn_local(async move {
            match api::review(&token, &id).await {
                Ok(r) => review.set(Some(r)),
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    }
    let decide = move |decision: ReviewDecision| {
        let (token, id) = (token.clone(), id.clone());
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let (token, id) = (token.clone(), id.clone());
            leptos::task::spawn_local(async move {
                let verdict = ReviewVerdict {
                    decision,
                    survivor_id: None,
                    reason: None,
                };
                let result = api::decide_review(&token, &id, &verdict).await;
                busy.set(false);
                match result {
                    Ok(r) => review.set(Some(r)),
                    Err(err) => error.set(Some(error_text(&err, false))),
                }
            });
        }
    };
    let s = t();
    view! {
        <section class="card" aria-labelledby="review-title">
            <p><Link to=Route::Reviews>{l(L::ReviewsTitle)}</Link></p>
            <h1 id="review-title" tabindex="-1" node_ref=heading>
                {move || review.get().map_or(l(L::ReviewsTitle), |r| reason_label(r.reason))}
            </h1>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || review.get().map(|r| view! {
                <p>{s.distance} ": " {l(L::EyeLeft)} " " <bdi dir="ltr">{distance(r.left_distance)}</bdi>
                    " · " {l(L::EyeRight)} " " <bdi dir="ltr">{distance(r.right_distance)}</bdi></p>
                <div class="sides">
                    <Side side=r.record.clone() title=l(L::NewerRecord)/>
                    <Side side=r.candidate.clone() title=l(L::OlderRecord)/>
                </div>
                {match r.decision {
                    None => view! {
                        <div class="actions">
                            <button type="button" class="btn primary" disabled=move || busy.get()
                                on:click=decide(ReviewDecision::SameChild)>{l(L::SameChild)}</button>
                            <button type="button" class="btn secondary" disabled=move || busy.get()
                                on:click=decide(ReviewDecision::DifferentChildren)>{l(L::DifferentChildren)}</button>
                        </div>
                    }.into_any(),
                    Some(ReviewDecision::SameChild) => view! {
                        <p class="notice" role="status">{l(L::Merged)} " "
                            {r.candidate.child_id.clone().map(|id| view! {
                                <Link to=Route::Child(id)>{l(L::OpenMerged)}</Link>
                            })}</p>
                    }.into_any(),
                    Some(ReviewDecision::DifferentChildren) => view! {
                        <p class="notice" role="status">{l(L::Dismissed)}</p>
                    }.into_any(),
                }}
            })}
        </section>
    }
}

/// One record of the pair; only its province when outside the scope.
#[component]
fn Side(side: ReviewSide, title: &'static str) -> impl IntoView {
    let s = t();
    let province = province_name(&side.province).unwrap_or("").to_owned();
    let Some(child) = side.child else {
        return view! {
            <div class="side"><h2>{title}</h2>
                <p>{l(L::OutOfScope).replace("{}", &province)}</p></div>
        }
        .into_any();
    };
    let name = display_name(
        child.facts.given_name.as_deref(),
        child.facts.family_name.as_deref(),
    );
    let last = side
        .encounters
        .first()
        .map(|e| dates::instant(&e.created_at));
    view! {
        <div class="side" data-child=child.id.clone()>
            <h2>{title}</h2>
            <Thumb url=side.thumbnails.first().cloned() alt=name.clone()/>
            <p><Link to=Route::Child(child.id.clone())>
                <bdi dir="ltr" class="code">{child.registry_code.clone()}</bdi>
            </Link></p>
            <p><bdi>{name}</bdi></p>
            <p>{s.sex} ": " {vocabulary::sex(child.facts.sex)}</p>
            <p>{vocabulary::nationality(child.facts.nationality)}</p>
            <p>{province}</p>
            <p>{l(L::Encounters)} ": " {digits(u32::try_from(side.encounters.len()).unwrap_or(0))}</p>
            {last.map(|d| view! { <p class="muted">{l(L::LastSeen)} ": " {d}</p> })}
        </div>
    }
    .into_any()
}
