//! From captures to children: 1:N search, fusion of the two eyes, and the
//! line between what the caller may see and what stays hidden.
//!
//! **Fusion rule.** Each captured eye is searched against the whole gallery
//! (left and right alike: eye labels in the street are sometimes wrong). A
//! child is a match when *either* eye matches one of its templates under the
//! threshold; its fused distance is the smaller of the per-eye distances
//! (the min rule). For deduplication this favours recall: a child is missed
//! only when both eyes fail, at the price of at most twice the single-eye
//! false-match rate, which a supervisor's review absorbs. Both per-eye
//! distances are reported.

use std::collections::BTreeMap;

use kudakyar_api::children::ChildFacts;
use kudakyar_api::iris::{Eye, IrisCandidate, IrisMatches};

use super::Biometrics;
use super::capture::Probe;
use super::store::{self, Owner};
use crate::auth::Scope;
use crate::db::Db;
use crate::error::Result;

/// Candidates asked of the gallery per eye.
const PER_EYE: usize = 20;

/// A child matching the captures, before the scope decides what is shown.
#[derive(Debug, Clone)]
pub struct ChildMatch {
    pub owner: Owner,
    pub distance: f32,
    pub eye: Eye,
    pub left: Option<f32>,
    pub right: Option<f32>,
}

impl ChildMatch {
    pub fn distances_json(&self) -> String {
        serde_json::json!({"left": self.left, "right": self.right}).to_string()
    }
}

/// Every live child whose templates match, best first, leaving out `exclude`.
pub async fn find(
    bio: &Biometrics,
    db: &Db,
    probes: &[Probe],
    exclude: Option<&str>,
) -> Result<Vec<ChildMatch>> {
    let mut params = iris::SearchParams {
        k: PER_EYE,
        ..Default::default()
    };
    params.matcher.threshold = bio.threshold;
    // template id → (captured eye, distance)
    let mut hits: Vec<(String, Eye, f32)> = Vec::new();
    for probe in probes {
        for c in bio
            .gallery
            .search(probe.template.clone(), params.clone())
            .await?
        {
            hits.push((c.id, probe.raw.eye, c.result.distance));
        }
    }
    let ids: Vec<String> = hits.iter().map(|h| h.0.clone()).collect();
    let owners: BTreeMap<String, Owner> = store::owners(db.pool(), &ids)
        .await?
        .into_iter()
        .map(|o| (o.template_id.clone(), o))
        .collect();
    let mut by_child: BTreeMap<String, ChildMatch> = BTreeMap::new();
    for (template_id, eye, distance) in hits {
        let Some(owner) = owners.get(&template_id) else {
            continue; // removed or merged away since the gallery saw it
        };
        if Some(owner.child_id.as_str()) == exclude {
            continue;
        }
        let m = by_child
            .entry(owner.child_id.clone())
            .or_insert_with(|| ChildMatch {
                owner: owner.clone(),
                distance,
                eye,
                left: None,
                right: None,
            });
        let slot = match eye {
            Eye::Left => &mut m.left,
            Eye::Right => &mut m.right,
        };
        *slot = Some(slot.map_or(distance, |d| d.min(distance)));
        if distance < m.distance {
            m.distance = distance;
            m.eye = eye;
        }
    }
    let mut matches: Vec<ChildMatch> = by_child.into_values().collect();
    matches.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    Ok(matches)
}

/// What the caller may see: candidates in scope in full; beyond it, only
/// that a match exists.
pub fn visible(scope: &Scope, matches: &[ChildMatch], probes: &[Probe]) -> IrisMatches {
    let candidates = matches
        .iter()
        .filter(|m| store::in_scope(scope, &m.owner))
        .map(candidate)
        .collect();
    IrisMatches {
        candidates,
        match_elsewhere: matches.iter().any(|m| !store::in_scope(scope, &m.owner)),
        captures: probes.iter().map(Probe::report).collect(),
        identification_id: None,
    }
}

fn candidate(m: &ChildMatch) -> IrisCandidate {
    let facts: Option<ChildFacts> = serde_json::from_str(&m.owner.facts).ok();
    IrisCandidate {
        child_id: m.owner.child_id.clone(),
        registry_code: m.owner.registry_code.clone(),
        given_name: facts.as_ref().and_then(|f| f.given_name.clone()),
        family_name: facts.as_ref().and_then(|f| f.family_name.clone()),
        thumbnail_url: m
            .owner
            .photo_id
            .as_ref()
            .map(|p| crate::photos::thumbnail_url(&m.owner.child_id, p)),
        distance: m.distance,
        eye: m.eye,
        left_distance: m.left,
        right_distance: m.right,
    }
}
