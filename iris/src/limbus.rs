//! Stage 2 — limbus (outer iris boundary).
//!
//! Layout: [`LimbusParams`], [`locate_limbus`].
//!
//! Method: the integro-differential operator ([`crate::edge`]) looking for the
//! strongest dark-to-bright circular edge (iris → sclera), constrained by the
//! pupil: the centre lies within a few pixels of the pupil centre (the pupil
//! is often slightly nasal) and the radius gives a pupil/iris ratio within
//! [`LimbusParams::min_ratio`, `max_ratio`]. Only the lateral sectors are
//! integrated (30° above to 45° below horizontal) because the eyelids usually
//! cover the top and bottom of the limbus.
//!
//! Within each lateral sector, evidence is counted per direction and only
//! where the limbus is visible in that direction (see
//! [`crate::edge::EdgeSearch::occluded_below`]): a direction adds its radial
//! dark-to-bright step when no sample within
//! [`LimbusParams::occlusion_reach_px`] of the candidate boundary is darker
//! than halfway from the pupil's grey level to the iris' ring, and nothing
//! otherwise. The narrower the lids, the more of a sector lies under them,
//! and what lies there is not neutral: dark eyelashes against the sclera and
//! the dark band of the upper lid margin are strong dark-to-bright edges,
//! which a sector mean credits to a circle shifted up (or down) and enlarged
//! to pass through them — and the same shadow just outside the true limbus
//! is a bright-to-dark step the mean counts *against* the right circle. With
//! the check, occluded directions neither support nor penalise a circle;
//! a direction whose grey level falls outward is likewise occluded (the
//! sclera is brighter than the iris) and adds nothing. The sectors' edge
//! strengths are combined by their geometric mean (zero unless both sides
//! show the edge), so a circle is ranked by both arcs rather than by its
//! weaker side alone. When the lids are narrow, only short arcs of those
//! sectors show the limbus and many circles (shifted up or down, radius
//! adjusted) fit them almost equally well; a concentricity prior
//! ([`LimbusParams::offset_penalty`]) scales each candidate's edge strength
//! down with its centre's distance from the pupil centre, so the nearly
//! concentric circle wins such ties while a clearly stronger off-centre edge
//! still does. The search runs coarse-to-fine: on a copy reduced at least
//! twofold (so the smallest candidate iris is ≈20 px in radius, 10 at
//! least) and smoothed first, then at full size around the coarse circle
//! (± one coarse centre step, ±2 coarse px in radius).

use serde::{Deserialize, Serialize};

use crate::edge::{Arcs, Combine, EdgeSearch, Prior, SearchBox};
use crate::error::IrisError;
use crate::plane::{Circle, Plane};
use crate::pupil::Pupil;

/// Tunable parameters of the limbus search.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimbusParams {
    /// Smallest plausible pupil/iris radius ratio (very constricted pupil).
    pub min_ratio: f32,
    /// Largest plausible pupil/iris radius ratio (very dilated pupil).
    pub max_ratio: f32,
    /// Largest offset between pupil and iris centres, as a fraction of the
    /// iris radius (the pupil sits slightly nasal and up, rarely by more
    /// than 10 % of the iris radius).
    pub max_offset_frac: f32,
    /// Minimum edge strength (grey levels across two pixels) to accept.
    pub min_edge: f32,
    /// Concentricity prior ([`crate::edge::Prior`]): fraction of a
    /// candidate's edge strength lost when its centre is `max_offset_frac`
    /// iris radii from the pupil centre (quadratic in the offset). When the
    /// eyelids leave only short lateral arcs of the limbus visible, many
    /// circles fit them almost equally well; the prior picks the one closest
    /// to concentric with the pupil, as real irises are (decentration is
    /// typically under 5 % of the radius).
    #[serde(default = "default_offset_penalty")]
    pub offset_penalty: f32,
    /// Per-direction visibility window, in pixels either side of a candidate
    /// circle: a direction's edge counts only when no sample within this
    /// distance of the boundary is darker than halfway from the pupil's grey
    /// level to the iris' (such samples are eyelashes or the shadow of a lid
    /// margin lying over the limbus, not iris or sclera). The operator's own
    /// reach (2 px) plus the blurred fringe of a lash.
    #[serde(default = "default_occlusion_reach_px")]
    pub occlusion_reach_px: f32,
}

fn default_offset_penalty() -> f32 {
    LimbusParams::default().offset_penalty
}

fn default_occlusion_reach_px() -> f32 {
    LimbusParams::default().occlusion_reach_px
}

impl Default for LimbusParams {
    fn default() -> Self {
        LimbusParams {
            min_ratio: 0.15,
            max_ratio: 0.75,
            max_offset_frac: 0.15,
            min_edge: 4.0,
            offset_penalty: 0.5,
            occlusion_reach_px: 3.0,
        }
    }
}

/// Find the iris outer boundary given the pupil.
pub fn locate_limbus(img: &Plane, pupil: &Pupil, p: &LimbusParams) -> Result<Circle, IrisError> {
    let pc = pupil.circle;
    let short = img.width.min(img.height) as f32;
    let long = img.width.max(img.height) as f32;
    let r_min = (pc.r / p.max_ratio).max(pc.r + 6.0);
    let r_max = (pc.r / p.min_ratio).min(0.6 * long);
    if r_min >= r_max {
        return Err(IrisError::NoEye(
            "the pupil fills the picture; hold the scanner further away".into(),
        ));
    }
    let half = (p.max_offset_frac * r_max).clamp(3.0, 0.1 * short);
    let prior = |f: f32| Prior {
        anchor: ((pc.x + 0.5) / f - 0.5, (pc.y + 0.5) / f - 0.5),
        scale: p.max_offset_frac,
        penalty: p.offset_penalty,
    };
    // Per-direction visibility: samples darker than halfway from the pupil
    // to the iris are lashes or lid-margin shadow over the boundary. The
    // same level bounds the sclera from below: it is brighter than the iris
    // beside it (each direction must step up), but not necessarily than the
    // iris next to the pupil — light irises are lightest there and darken
    // towards the limbus, so requiring the sclera to outshine the pupil's
    // ring refused them ("outer edge not found").
    let occluded_below = 0.5 * (pupil.grey + pupil.ring_grey);
    // Reduce so the smallest candidate iris is ≈20 px in radius: enough to
    // locate, cheap to search. At least by 2, unless that leaves it under
    // 10 px: the coarse search tries every radius at every centre, and at
    // full size it was most of the time of a whole template; the fine
    // search below refines the circle at full size anyway.
    let f = (r_min / 20.0)
        .floor()
        .max(if r_min >= 20.0 { 2.0 } else { 1.0 }) as usize;
    let smooth = img.box_blur(1);
    // Unreduced, the coarse image is the fine one.
    let reduced = (f > 1).then(|| img.reduce(f).box_blur(1));
    let small = reduced.as_ref().unwrap_or(&smooth);
    let sf = f as f32;
    // The visibility window in search steps (a coarse step is f pixels).
    let reach = |step_px: f32| (p.occlusion_reach_px / step_px).ceil().max(1.0) as usize;
    // Both sides must show the edge (Combine::GeoMean).
    let sectors = [(-30.0, 45.0), (135.0, 210.0)];
    let coarse_arcs = Arcs::sectors(&sectors, 96);
    let es = EdgeSearch {
        img: small,
        arcs: &coarse_arcs,
        ignore_above: 250.0,
        combine: Combine::GeoMean,
        inner_below: f32::INFINITY,
        outer_above: occluded_below,
        occluded_below,
        occlusion_reach: reach(sf),
    };
    let b = SearchBox {
        cx: (pc.x + 0.5) / sf - 0.5,
        cy: (pc.y + 0.5) / sf - 0.5,
        half: half / sf,
        step: (half / sf / 6.0).max(1.0),
        r_min: r_min / sf,
        r_max: r_max / sf,
        r_step: 1.0,
        max_offset_per_r: p.max_offset_frac,
        prior: prior(sf),
    };
    let (coarse, _) = es.best(&b).ok_or_else(no_limbus)?;
    let fine_arcs = Arcs::sectors(&sectors, 192);
    let es = EdgeSearch {
        img: &smooth,
        arcs: &fine_arcs,
        ignore_above: 250.0,
        combine: Combine::GeoMean,
        inner_below: f32::INFINITY,
        outer_above: occluded_below,
        occluded_below,
        occlusion_reach: reach(1.0),
    };
    let c = Circle {
        x: (coarse.x + 0.5) * sf - 0.5,
        y: (coarse.y + 0.5) * sf - 0.5,
        r: coarse.r * sf,
    };
    let b = SearchBox {
        cx: c.x,
        cy: c.y,
        half: b.step * sf + 1.0,
        step: 1.0,
        r_min: (c.r - 2.0 * sf).max(r_min),
        r_max: (c.r + 2.0 * sf).min(r_max),
        r_step: 1.0,
        max_offset_per_r: f32::INFINITY,
        prior: prior(1.0),
    };
    let (fine, strength) = es.best(&b).ok_or_else(no_limbus)?;
    if strength < p.min_edge {
        return Err(no_limbus());
    }
    Ok(fine)
}

fn no_limbus() -> IrisError {
    IrisError::NoEye(
        "the outer edge of the iris was not found; open the eye wider and centre it".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_light_iris_darkening_towards_a_dimmer_sclera_is_found() {
        // Pupil (r 30, grey 40); the iris is 215 next to the pupil and falls
        // to 150 at the limbus (r 100); the sclera (185) is brighter than
        // the iris beside it but darker than the iris next to the pupil.
        let mut img = Plane::new(320, 280, 185.0);
        for y in 0..280 {
            for x in 0..320 {
                let (dx, dy) = (x as f32 - 160.0, y as f32 - 140.0);
                let d = dx.hypot(dy);
                if d < 30.0 {
                    img.set(x, y, 40.0);
                } else if d < 100.0 {
                    let t = (d - 30.0) / 70.0;
                    img.set(x, y, 215.0 - 65.0 * t + 6.0 * (dy.atan2(dx) * 24.0).sin());
                }
            }
        }
        let pupil = Pupil {
            circle: Circle {
                x: 160.0,
                y: 140.0,
                r: 30.0,
            },
            grey: 40.0,
            ring_grey: 205.0,
        };
        let c = locate_limbus(&img, &pupil, &LimbusParams::default()).unwrap();
        assert!((c.r - 100.0).abs() < 3.0, "{c:?}");
        assert!(
            (c.x - 160.0).abs() < 3.0 && (c.y - 140.0).abs() < 3.0,
            "{c:?}"
        );
    }
}
