//! Circular edge search (Daugman's integro-differential operator) and circle
//! fitting (through three points; least squares), shared by the pupil and
//! limbus stages.
//!
//! Layout: [`Arcs`] (which angles to integrate over), [`EdgeSearch`] (the
//! operator: for every candidate centre, the mean grey level on concentric
//! arcs, differentiated along the radius and smoothed) and [`SearchBox`].
//! Samples brighter than `ignore_above` (specular highlights) are left out of
//! the arc means, so a highlight on the boundary cannot fake or hide an edge.

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
}

impl EdgeSearch<'_> {
    /// Best circle in the box whose boundary goes from dark (inside) to bright
    /// (outside), ranked by edge strength times the prior's weight. Returns
    /// the circle and its edge strength (grey levels per `r_step`, without
    /// the prior), or `None` when no arc could be sampled.
    pub fn best(&self, b: &SearchBox) -> Option<(Circle, f32)> {
        let n_r = ((b.r_max - b.r_min) / b.r_step).floor() as usize + 1;
        if n_r < 1 || b.r_min <= 0.0 {
            return None;
        }
        let steps = (b.half / b.step).floor() as i32;
        // (circle, score with the prior, edge strength without it)
        let mut best: Option<(Circle, f32, f32)> = None;
        let n_groups = self.arcs.groups.len() - 1;
        // Means at r_min - r_step .. r_max + r_step for each sector, so the
        // central difference exists at every candidate radius.
        let mut means = vec![vec![0.0f32; n_r + 2]; n_groups];
        // Per radius, the smoothed edge strength of every sector.
        let mut per = vec![vec![f32::NEG_INFINITY; n_groups]; n_r];
        for iy in -steps..=steps {
            for ix in -steps..=steps {
                let (cx, cy) = (b.cx + ix as f32 * b.step, b.cy + iy as f32 * b.step);
                // Radii whose arcs leave the image end the profile early.
                let mut got = n_r + 2;
                for (g, m) in means.iter_mut().enumerate() {
                    let dirs = &self.arcs.dirs[self.arcs.groups[g]..self.arcs.groups[g + 1]];
                    let filled = self.arc_means(dirs, cx, cy, b.r_min - b.r_step, b.r_step, m);
                    got = got.min(filled);
                    for k in 1..filled.saturating_sub(1).min(n_r + 1) {
                        // Central difference, lightly smoothed by the neighbours' differences.
                        let d = m[k + 1] - m[k - 1];
                        let dl = if k >= 2 { m[k] - m[k - 2] } else { d };
                        let dr = if k + 2 < filled { m[k + 2] - m[k] } else { d };
                        let dark_inside =
                            m[k - 1] < self.inner_below && m[k + 1] > self.outer_above;
                        per[k - 1][g] = if dark_inside {
                            0.5 * d + 0.25 * (dl + dr)
                        } else {
                            0.0
                        };
                    }
                }
                let offset = (ix as f32).hypot(iy as f32) * b.step;
                for k in 1..got.saturating_sub(1).min(n_r + 1) {
                    let r = b.r_min + (k - 1) as f32 * b.r_step;
                    if offset > b.max_offset_per_r * r {
                        continue;
                    }
                    let raw = combine(self.combine, &mut per[k - 1]);
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

    /// Mean grey level on each arc radius `r0 + i*dr`, stopping at the first
    /// radius with too few usable samples (arc mostly outside the image).
    /// Returns how many radii were filled.
    fn arc_means(
        &self,
        dirs: &[(f32, f32)],
        cx: f32,
        cy: f32,
        r0: f32,
        dr: f32,
        out: &mut [f32],
    ) -> usize {
        let need = (dirs.len() / 2).max(1);
        for (i, m) in out.iter_mut().enumerate() {
            let r = (r0 + i as f32 * dr).max(0.5);
            let (mut s, mut n) = (0.0f32, 0usize);
            for &(c, sn) in dirs {
                if let Some(v) = self.img.sample(cx + r * c, cy + r * sn)
                    && v < self.ignore_above
                {
                    s += v;
                    n += 1;
                }
            }
            if n < need {
                return i;
            }
            *m = s / n as f32;
        }
        out.len()
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
    fn sectors_restrict_directions() {
        let a = Arcs::sectors(&[(-30.0, 30.0)], 36);
        assert_eq!(a.dirs.len(), 6);
        assert_eq!(a.groups, vec![0, 6]);
        assert!(a.dirs.iter().all(|&(c, _)| c > 0.8));
    }
}
