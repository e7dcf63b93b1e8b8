//! Circular edge search (Daugman's integro-differential operator) and circle
//! fitting (through three points; least squares), shared by the pupil and
//! limbus stages.
//!
//! Layout: [`Arcs`] (which angles to integrate over), [`EdgeSearch`] (the
//! operator: for every candidate centre, the mean grey level on concentric
//! arcs, differentiated along the radius and smoothed) and [`SearchBox`].
//! Samples brighter than `ignore_above` (specular highlights) are left out of
//! the arc means, so a highlight on the boundary cannot fake or hide an edge.
//! Edge strength is summed per direction over the directions where the
//! boundary is visible — no sample near it darker than `occluded_below`
//! (eyelashes, lid-margin shadow) and a dark-to-bright step — and divided by
//! the directions sampled, so an occluded direction adds nothing.

use crate::plane::{Circle, Plane};

/// Angles (as cos/sin pairs) over which arc means are taken.
#[derive(Clone, Debug)]
pub struct Arcs {
    pub dirs: Vec<(f32, f32)>,
    /// `dirs[groups[g]..groups[g+1]]` is sector g; each sector's edge
    /// strength is measured separately and then combined (see [`Combine`]).
    pub groups: Vec<usize>,
}

/// How the sectors' edge strengths make one score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// The weakest sector: the edge must be present in every sector (limbus,
    /// integrated over two lateral sectors).
    Min,
    /// The median sector: an eyelid or lashes over a minority of sectors
    /// neither hide the true edge nor lend their own edge to a wrong circle
    /// (pupil, integrated over eight sectors).
    Median,
    /// The geometric mean of the sectors, or the weakest when one is not
    /// positive: every sector must show the edge, as with `Min`, but a circle
    /// is not ranked by its weakest side alone — two circles whose weaker
    /// sides tie are told apart by how well they fit the other side (limbus,
    /// where lids leave short arcs that fit several circles on one side).
    GeoMean,
}

impl Arcs {
    /// `n` evenly spaced directions around the full circle.
    pub fn full(n: usize) -> Arcs {
        Arcs::sectors(&[(0.0, 360.0)], n)
    }

    /// The full circle split into `k` equal sectors, `n` directions in all.
    pub fn split(k: usize, n: usize) -> Arcs {
        let w = 360.0 / k as f32;
        let sectors: Vec<(f32, f32)> = (0..k)
            .map(|i| (i as f32 * w, (i + 1) as f32 * w - 1e-3))
            .collect();
        Arcs::sectors(&sectors, n)
    }

    /// Directions inside the given sectors (degrees, image coordinates: 0° is
    /// right, 90° is *down*), `n` per full turn.
    pub fn sectors(sectors: &[(f32, f32)], n: usize) -> Arcs {
        let step = 360.0 / n as f32;
        let mut dirs = Vec::new();
        let mut groups = vec![0];
        for &(a, b) in sectors {
            let mut t = a;
            while t < b {
                let r = t.to_radians();
                dirs.push((r.cos(), r.sin()));
                t += step;
            }
            groups.push(dirs.len());
        }
        Arcs { dirs, groups }
    }
}

/// Candidate centres and radii (pixels).
#[derive(Clone, Copy, Debug)]
pub struct SearchBox {
    pub cx: f32,
    pub cy: f32,
    /// Centres are tried within ±`half` of (cx, cy) in steps of `step`.
    pub half: f32,
    pub step: f32,
    pub r_min: f32,
    pub r_max: f32,
    pub r_step: f32,
    /// A candidate's centre may be at most `max_offset_per_r · r` from
    /// (cx, cy): concentricity constraints scale with the circle.
    pub max_offset_per_r: f32,
    /// Concentricity prior: a candidate's score is multiplied by
    /// `1 − penalty · (d / (scale · r))²`, where d is the distance of its
    /// centre from `anchor` (e.g. the pupil centre). An ill-conditioned fit
    /// (little of the boundary visible) then settles on the most concentric
    /// of the near-equal circles instead of drifting. `penalty = 0` disables.
    pub prior: Prior,
}

/// See [`SearchBox::prior`].
#[derive(Clone, Copy, Debug)]
pub struct Prior {
    pub anchor: (f32, f32),
    pub scale: f32,
    pub penalty: f32,
}

impl Prior {
    pub const NONE: Prior = Prior {
        anchor: (0.0, 0.0),
        scale: 1.0,
        penalty: 0.0,
    };

    fn weight(&self, cx: f32, cy: f32, r: f32) -> f32 {
        if self.penalty == 0.0 {
            return 1.0;
        }
        let d = (cx - self.anchor.0).hypot(cy - self.anchor.1) / (self.scale * r);
        (1.0 - self.penalty * d * d).max(0.0)
    }
}

/// The integro-differential operator over one image.
pub struct EdgeSearch<'a> {
    pub img: &'a Plane,
    pub arcs: &'a Arcs,
    /// Samples at or above this grey level are ignored (specular light).
    pub ignore_above: f32,
    pub combine: Combine,
    /// A sector counts only where the arc just inside the circle is darker
    /// than this (the pupil's interior is dark; a circle drawn through an
    /// eyelid edge over grey iris is not a pupil). `INFINITY` to disable.
    pub inner_below: f32,
    /// Likewise, the arc just outside must be brighter than this (the sclera
    /// outside the limbus is brighter than iris). `NEG_INFINITY` to disable.
    pub outer_above: f32,
    /// Per-direction visibility: a direction's edge counts only where the
    /// samples just inside and just outside the circle are both at least this
    /// grey level. Darker samples on the boundary are not iris nor sclera but
    /// something lying over it (eyelashes, the shadow of a lid margin): that
    /// direction neither supports a circle (a lash against the sclera is a
    /// strong dark-to-bright edge) nor counts against it (a lash just outside
    /// the true limbus is a bright-to-dark one). `NEG_INFINITY` to disable.
    pub occluded_below: f32,
    /// How far either side of the circle (in `r_step`s) the visibility
    /// check looks: the operator's own reach (2) plus a margin for the
    /// blurred fringe of a lash, so a circle cannot ride a lash's outer edge.
    pub occlusion_reach: usize,
}

impl EdgeSearch<'_> {
    /// Best circle in the box whose boundary goes from dark (inside) to bright
    /// (outside), ranked by edge strength times the prior's weight. Returns
    /// the circle and its edge strength (grey levels per `r_step`, without
    /// the prior), or `None` when no arc could be sampled.
    ///
    /// Each sector's edge strength is the sum, over its directions where the
    /// boundary is visible (see [`EdgeSearch::occluded_below`]), of that
    /// direction's radial derivative, divided by the number of directions
    /// sampled: an occluded direction adds nothing, neither for nor against.
    pub fn best(&self, b: &SearchBox) -> Option<(Circle, f32)> {
        let n_r = ((b.r_max - b.r_min) / b.r_step).floor() as usize + 1;
        if n_r < 1 || b.r_min <= 0.0 {
            return None;
        }
        let steps = (b.half / b.step).floor() as i32;
        // (circle, score with the prior, edge strength without it)
        let mut best: Option<(Circle, f32, f32)> = None;
        let n_groups = self.arcs.groups.len() - 1;
        // Profiles at r_min - pad·r_step .. r_max + pad·r_step, so the
        // smoothed central difference and the visibility window exist at
        // every candidate radius.
        let pad = self.occlusion_reach.max(2);
        let len = n_r + 2 * pad;
        let mut means = vec![0.0f32; len];
        let mut profiles = vec![f32::NAN; self.arcs.dirs.len() * len];
        // Per radius, the smoothed edge strength of every sector.
        let mut per = vec![vec![f32::NEG_INFINITY; n_groups]; n_r];
        for iy in -steps..=steps {
            for ix in -steps..=steps {
                let (cx, cy) = (b.cx + ix as f32 * b.step, b.cy + iy as f32 * b.step);
                // Radii whose arcs leave the image end the profile early.
                let mut got = len;
                for (g, w) in self.arcs.groups.windows(2).enumerate() {
                    let span = w[0]..w[1];
                    let dirs = &self.arcs.dirs[span.clone()];
                    let prof = &mut profiles[span.start * len..span.end * len];
                    let r0 = b.r_min - pad as f32 * b.r_step;
                    let filled = self.arc_profiles(dirs, cx, cy, r0, b.r_step, prof, &mut means);
                    got = got.min(filled);
                    for k in pad..filled.saturating_sub(pad).min(n_r + pad) {
                        // The arc means must go from dark inside to bright outside.
                        let m = &means;
                        let dark_inside =
                            m[k - 1] < self.inner_below && m[k + 1] > self.outer_above;
                        per[k - pad][g] = if dark_inside {
                            self.visible_edge(prof, len, k)
                        } else {
                            0.0
                        };
                    }
                }
                let offset = (ix as f32).hypot(iy as f32) * b.step;
                for k in pad..got.saturating_sub(pad).min(n_r + pad) {
                    let r = b.r_min + (k - pad) as f32 * b.r_step;
                    if offset > b.max_offset_per_r * r {
                        continue;
                    }
                    let raw = combine(self.combine, &mut per[k - pad]);
                    // The prior only ever lowers a positive (dark-to-bright) score.
                    let score = if raw > 0.0 {
                        raw * b.prior.weight(cx, cy, r)
                    } else {
                        raw
                    };
                    if best.is_none_or(|(_, s, _)| score > s) {
                        best = Some((Circle { x: cx, y: cy, r }, score, raw));
                    }
                }
            }
        }
        best.map(|(c, _, raw)| (c, raw))
    }

    /// Edge strength at profile index `k` of one sector (`prof` holds its
    /// directions' profiles, `len` samples each, NaN where not sampled): the
    /// central difference, lightly smoothed by the neighbours' differences,
    /// summed over the directions whose samples on both sides of the
    /// boundary are visible and divided by the directions sampled there.
    fn visible_edge(&self, prof: &[f32], len: usize, k: usize) -> f32 {
        let (mut sum, mut n) = (0.0f32, 0usize);
        for v in prof.chunks_exact(len) {
            let (a, c) = (v[k - 1], v[k + 1]);
            // NaN (outside the image or a highlight) fails every comparison.
            if !(a >= f32::MIN && c >= f32::MIN) {
                continue;
            }
            n += 1;
            let reach = self.occlusion_reach;
            if v[k - reach..=k + reach]
                .iter()
                .any(|&x| x < self.occluded_below)
            {
                continue;
            }
            let d = c - a;
            let wide = v[k + 2] - v[k - 2];
            let e = if wide.is_nan() {
                d
            } else {
                0.5 * d + 0.25 * wide
            };
            // Only a dark-to-bright step is the boundary seen: where the grey
            // level falls outward, something darker (a lid margin, a lash's
            // fringe) lies just outside, and that direction is occluded.
            sum += e.max(0.0);
        }
        if n == 0 { 0.0 } else { sum / n as f32 }
    }

    /// Grey level of each direction on each arc radius `r0 + i*dr` into
    /// `prof` (`out.len()` samples per direction; NaN outside the image or
    /// on a highlight) and each radius' mean over the sampled directions into
    /// `out`, stopping at the first radius with too few usable samples (arc
    /// mostly outside the image). Returns how many radii were filled.
    #[allow(clippy::too_many_arguments)]
    fn arc_profiles(
        &self,
        dirs: &[(f32, f32)],
        cx: f32,
        cy: f32,
        r0: f32,
        dr: f32,
        prof: &mut [f32],
        out: &mut [f32],
    ) -> usize {
        let len = out.len();
        let need = (dirs.len() / 2).max(1);
        for (i, m) in out.iter_mut().enumerate() {
            let r = (r0 + i as f32 * dr).max(0.5);
            let (mut s, mut n) = (0.0f32, 0usize);
            for (j, &(c, sn)) in dirs.iter().enumerate() {
                let v = match self.img.sample(cx + r * c, cy + r * sn) {
                    Some(v) if v < self.ignore_above => {
                        s += v;
                        n += 1;
                        v
                    }
                    _ => f32::NAN,
                };
                prof[j * len + i] = v;
            }
            if n < need {
                return i;
            }
            *m = s / n as f32;
        }
        len
    }
}

/// Circle through three points, if they are not collinear.
pub fn circle3(a: (f32, f32), b: (f32, f32), c: (f32, f32)) -> Option<Circle> {
    let d = 2.0 * (a.0 * (b.1 - c.1) + b.0 * (c.1 - a.1) + c.0 * (a.1 - b.1));
    if d.abs() < 1e-3 {
        return None;
    }
    let (a2, b2, c2) = (
        a.0 * a.0 + a.1 * a.1,
        b.0 * b.0 + b.1 * b.1,
        c.0 * c.0 + c.1 * c.1,
    );
    let x = (a2 * (b.1 - c.1) + b2 * (c.1 - a.1) + c2 * (a.1 - b.1)) / d;
    let y = (a2 * (c.0 - b.0) + b2 * (a.0 - c.0) + c2 * (b.0 - a.0)) / d;
    Some(Circle {
        x,
        y,
        r: (a.0 - x).hypot(a.1 - y),
    })
}

/// Least-squares (Kåsa) circle through points.
pub fn fit_least_squares(pts: &[(f32, f32)]) -> Option<Circle> {
    let n = pts.len() as f64;
    if n < 3.0 {
        return None;
    }
    let (mx, my) = pts.iter().fold((0.0, 0.0), |a, p| {
        (a.0 + f64::from(p.0) / n, a.1 + f64::from(p.1) / n)
    });
    let (mut suu, mut svv, mut suv, mut suuu, mut svvv, mut suvv, mut svuu) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for p in pts {
        let (u, v) = (f64::from(p.0) - mx, f64::from(p.1) - my);
        suu += u * u;
        svv += v * v;
        suv += u * v;
        suuu += u * u * u;
        svvv += v * v * v;
        suvv += u * v * v;
        svuu += v * u * u;
    }
    let det = suu * svv - suv * suv;
    if det.abs() < 1e-9 {
        return None;
    }
    let (r1, r2) = (0.5 * (suuu + suvv), 0.5 * (svvv + svuu));
    let uc = (r1 * svv - r2 * suv) / det;
    let vc = (r2 * suu - r1 * suv) / det;
    let r = (uc * uc + vc * vc + (suu + svv) / n).sqrt();
    Some(Circle {
        x: (uc + mx) as f32,
        y: (vc + my) as f32,
        r: r as f32,
    })
}

fn combine(how: Combine, v: &mut [f32]) -> f32 {
    match how {
        Combine::Min => v.iter().copied().fold(f32::INFINITY, f32::min),
        Combine::GeoMean => {
            if v.iter().any(|&x| x <= 0.0) {
                v.iter().copied().fold(f32::INFINITY, f32::min)
            } else {
                (v.iter().map(|x| x.ln()).sum::<f32>() / v.len() as f32).exp()
            }
        }
        Combine::Median => {
            let mid = v.len() / 2;
            *v.select_nth_unstable_by(mid, f32::total_cmp).1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(w: usize, h: usize, c: Circle, inside: f32, outside: f32) -> Plane {
        let mut p = Plane::new(w, h, outside);
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f32 - c.x).powi(2) + (y as f32 - c.y).powi(2)).sqrt();
                // Anti-aliased edge so sub-pixel positions are recoverable.
                let t = (c.r - d + 0.5).clamp(0.0, 1.0);
                p.set(x, y, outside + (inside - outside) * t);
            }
        }
        p
    }

    #[test]
    fn finds_a_dark_disc_despite_a_highlight_on_its_edge() {
        let truth = Circle {
            x: 61.0,
            y: 47.0,
            r: 21.0,
        };
        let mut img = disc(120, 100, truth, 30.0, 140.0);
        for y in 44..52 {
            for x in 78..86 {
                img.set(x, y, 255.0);
            }
        }
        let arcs = Arcs::split(8, 64);
        let es = EdgeSearch {
            img: &img,
            arcs: &arcs,
            combine: Combine::Median,
            inner_below: f32::INFINITY,
            outer_above: f32::NEG_INFINITY,
            occluded_below: f32::NEG_INFINITY,
            occlusion_reach: 1,
            ignore_above: 240.0,
        };
        let b = SearchBox {
            cx: 58.0,
            cy: 50.0,
            half: 5.0,
            step: 1.0,
            r_min: 10.0,
            r_max: 35.0,
            r_step: 1.0,
            max_offset_per_r: f32::INFINITY,
            prior: Prior::NONE,
        };
        let (c, s) = es.best(&b).unwrap();
        assert!(
            (c.x - truth.x).abs() <= 1.0 && (c.y - truth.y).abs() <= 1.0,
            "{c:?}"
        );
        assert!((c.r - truth.r).abs() <= 1.0, "{c:?}");
        assert!(s > 30.0);
    }

    #[test]
    fn an_edge_on_one_side_only_does_not_win_over_a_full_circle() {
        // A faint full circle plus a strong straight edge on the left side.
        let truth = Circle {
            x: 60.0,
            y: 50.0,
            r: 30.0,
        };
        let mut img = disc(120, 100, truth, 100.0, 120.0);
        for y in 0..100 {
            for x in 0..36 {
                img.set(x, y, 200.0);
            }
        }
        let arcs = Arcs::sectors(&[(-30.0, 45.0), (135.0, 210.0)], 96);
        let es = EdgeSearch {
            img: &img,
            arcs: &arcs,
            combine: Combine::Min,
            inner_below: f32::INFINITY,
            outer_above: f32::NEG_INFINITY,
            occluded_below: f32::NEG_INFINITY,
            occlusion_reach: 1,
            ignore_above: 250.0,
        };
        let b = SearchBox {
            cx: 60.0,
            cy: 50.0,
            half: 10.0,
            step: 1.0,
            r_min: 15.0,
            r_max: 40.0,
            r_step: 1.0,
            max_offset_per_r: f32::INFINITY,
            prior: Prior::NONE,
        };
        let (c, _) = es.best(&b).unwrap();
        assert!(
            (c.x - 60.0).abs() <= 1.0 && (c.r - 30.0).abs() <= 1.0,
            "{c:?}"
        );
    }

    #[test]
    fn the_prior_picks_the_concentric_circle_among_equal_edges() {
        // Two equally strong limbus-like circles, one concentric with the
        // anchor and one 8 px below it: each sector's edge is the same, so
        // only the prior can decide.
        let at = |cy: f32| Circle {
            x: 60.0,
            y: cy,
            r: 30.0,
        };
        let (a, b) = (
            disc(120, 120, at(60.0), 100.0, 140.0),
            disc(120, 120, at(68.0), 100.0, 140.0),
        );
        let mut img = Plane::new(120, 120, 0.0);
        for y in 0..120 {
            for x in 0..120 {
                img.set(x, y, 0.5 * (a.get(x, y) + b.get(x, y)));
            }
        }
        let arcs = Arcs::sectors(&[(-30.0, 45.0), (135.0, 210.0)], 96);
        let es = EdgeSearch {
            img: &img,
            arcs: &arcs,
            combine: Combine::Min,
            inner_below: f32::INFINITY,
            outer_above: f32::NEG_INFINITY,
            occluded_below: f32::NEG_INFINITY,
            occlusion_reach: 1,
            ignore_above: 250.0,
        };
        let mut b = SearchBox {
            cx: 60.0,
            cy: 64.0,
            half: 6.0,
            step: 1.0,
            r_min: 20.0,
            r_max: 40.0,
            r_step: 1.0,
            max_offset_per_r: f32::INFINITY,
            prior: Prior {
                anchor: (60.0, 60.0),
                scale: 0.15,
                penalty: 0.5,
            },
        };
        let (c, _) = es.best(&b).unwrap();
        assert!(
            (c.y - 60.0).abs() <= 1.0 && (c.r - 30.0).abs() <= 1.0,
            "{c:?}"
        );
        b.prior.anchor = (60.0, 68.0);
        let (c, _) = es.best(&b).unwrap();
        assert!(
            (c.y - 68.0).abs() <= 1.0 && (c.r - 30.0).abs() <= 1.0,
            "{c:?}"
        );
    }

    #[test]
    fn lashes_over_the_boundary_neither_pull_nor_penalise_the_circle() {
        // Limbus-like circle (iris 100 inside, sclera 180 outside) with dark
        // lashes (grey 20) lying over the upper part of both lateral arcs,
        // from just outside the true boundary outwards: a strong
        // dark-to-bright edge for larger, raised circles and a bright-to-dark
        // one against the true circle.
        let truth = Circle {
            x: 60.0,
            y: 60.0,
            r: 30.0,
        };
        let mut img = disc(120, 120, truth, 100.0, 180.0);
        for y in 0..120 {
            for x in 0..120 {
                let (dx, dy) = (x as f32 - 60.0, y as f32 - 60.0);
                let (d, t) = (dx.hypot(dy), dy.atan2(dx.abs()).to_degrees());
                if (30.5..40.0).contains(&d) && (-30.0..-10.0).contains(&t) {
                    img.set(x, y, 20.0);
                }
            }
        }
        let arcs = Arcs::sectors(&[(-30.0, 45.0), (135.0, 210.0)], 192);
        let es = EdgeSearch {
            img: &img,
            arcs: &arcs,
            ignore_above: 250.0,
            combine: Combine::GeoMean,
            inner_below: f32::INFINITY,
            outer_above: 60.0,
            occluded_below: 60.0,
            occlusion_reach: 3,
        };
        let b = SearchBox {
            cx: 60.0,
            cy: 60.0,
            half: 8.0,
            step: 1.0,
            r_min: 20.0,
            r_max: 45.0,
            r_step: 1.0,
            max_offset_per_r: f32::INFINITY,
            prior: Prior::NONE,
        };
        let (c, _) = es.best(&b).unwrap();
        assert!(
            (c.x - 60.0).abs() <= 1.0 && (c.y - 60.0).abs() <= 1.0 && (c.r - 30.0).abs() <= 1.0,
            "{c:?}"
        );
    }

    #[test]
    fn sectors_restrict_directions() {
        let a = Arcs::sectors(&[(-30.0, 30.0)], 36);
        assert_eq!(a.dirs.len(), 6);
        assert_eq!(a.groups, vec![0, 6]);
        assert!(a.dirs.iter().all(|&(c, _)| c > 0.8));
    }
}
