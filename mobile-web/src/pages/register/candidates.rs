//! The duplicate-candidates screen: shown online before anything is saved
//! when the eyes of the child being registered match known children.
//!
//! Each candidate shows its thumbnail, registry code, name and distance
//! (0 identical, about 0.45–0.5 unrelated). «Same child» queues an encounter
//! and the captures for that record; «a different child» queues the
//! registration with `decision=new_child` (the server opens a review task
//! for each match, for a supervisor to confirm). `finish` is told whether a
//! new record was queued.

use kudakyar_api::iris::IrisMatches;
use leptos::prelude::*;
use leptos::reactive::owner::LocalStorage;

use super::Pending;
use crate::i18n::t;
use crate::pages::shared::CandidateCard;

#[component]
pub fn Candidates<F, B>(
    matches: IrisMatches,
    pending: RwSignal<Option<Pending>, LocalStorage>,
    finish: F,
    back: B,
) -> impl IntoView
where
    F: Fn(Result<bool, ()>, String) + Copy + Send + Sync + 'static,
    B: Fn() + Copy + Send + Sync + 'static,
{
    let s = t();
    let busy = RwSignal::new(false);
    let same = move |child_id: String, code: String| {
        let Some(p) = pending.get_untracked() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = p.queue_for(&child_id).await.map(|()| false);
            busy.set(false);
            finish(result, s.same_child_queued.replace("{}", &code));
        });
    };
    let different = move |_| {
        let Some(p) = pending.get_untracked() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = p.queue("new_child").await.map(|()| true);
            busy.set(false);
            finish(result, s.queued.replace("{}", &p.label));
        });
    };
    view! {
        <div class="dup" role="region" aria-labelledby="dup-title">
            <h3 id="dup-title">{s.dup_title}</h3>
            <p>{s.dup_lead}</p>
            {matches.match_elsewhere.then(|| view! { <p class="notice">{s.match_elsewhere}</p> })}
            <ul class="candidates">
                {matches.candidates.into_iter().map(|c| {
                    let (id, code) = (c.child_id.clone(), c.registry_code.clone());
                    view! {
                        <CandidateCard candidate=c>
                            <button type="button" class="btn primary" disabled=move || busy.get()
                                on:click=move |_| same(id.clone(), code.clone())>
                                {s.same_child}
                            </button>
                        </CandidateCard>
                    }
                }).collect_view()}
            </ul>
            <button type="button" class="btn secondary" disabled=move || busy.get() on:click=different>
                {s.new_child}
            </button>
            <button type="button" class="btn link" on:click=move |_| back()>{s.cancel}</button>
        </div>
    }
}
