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
//!
//! Cost: the search samples every direction at every radius around every
//! candidate centre, so the inner loop is one bilinear sample. Centres lie
//! on a whole-pixel grid, so all of them see the same sub-pixel positions:
//! each (direction, radius) sample's pixel offset and bilinear weights are
//! computed once per search (`Table`, the search's trig table), and the
//! image is copied into a window bordered with NaN (`Window`), so a sample
//! needs no bounds test and one that touches a pixel outside the image is
//! NaN, "not sampled", as it should be.

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
    /// Centres are tried within ±`half` of (cx, cy) in steps of `step`,
    /// rounded to whole pixels (at least 1), so that every centre samples
    /// the same sub-pixel positions (see the module docs).
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
        // Centres lie on a grid of whole pixels, so every centre sees the same
        // sub-pixel positions along each direction: the sampling offsets and
        // bilinear weights are computed once ([`Table`]) and a centre only
        // adds its own pixel index to them.
        let step = b.step.round().max(1.0);
        let steps = (b.half / step).floor() as i32;
        // (circle, score with the prior, edge strength without it)
        let mut best: Option<(Circle, f32, f32)> = None;
        let n_groups = self.arcs.groups.len() - 1;
        // Profiles at r_min - pad·r_step .. r_max + pad·r_step, so the
        // smoothed central difference and the visibility window exist at
        // every candidate radius.
        let pad = self.occlusion_reach.max(2);
        let len = n_r + 2 * pad;
        let r0 = b.r_min - pad as f32 * b.r_step;
        let radius = |i: usize| (r0 + i as f32 * b.r_step).max(0.5);
        let (bx, by) = (b.cx.floor(), b.cy.floor());
        let reach = (steps as f32 * step + radius(len - 1)).ceil() as isize + 2;
        let win = Window::around(self.img, bx as isize, by as isize, reach);
        let table = Table::new(
            &self.arcs.dirs,
            (b.cx - bx, b.cy - by),
            len,
            radius,
            win.width,
        );
        let widest = self.arcs.groups.windows(2).map(|w| w[1] - w[0]);
        let mut scratch = Scratch {
            means: vec![0.0; len],
            profiles: vec![f32::NAN; widest.max().unwrap_or(0) * len],
            sums: vec![0.0; len],
            counts: vec![0; len],
            occluded: vec![0; len + 1],
        };
        // Per radius, the smoothed edge strength of every sector.
        let mut per = vec![vec![f32::NEG_INFINITY; n_groups]; n_r];
        for iy in -steps..=steps {
            for ix in -steps..=steps {
                let (cx, cy) = (b.cx + ix as f32 * step, b.cy + iy as f32 * step);
                let st = step as isize;
                let base = win.index(
                    bx as isize + ix as isize * st,
                    by as isize + iy as isize * st,
                );
                // Radii whose arcs leave the image end the profile early.
                let mut got = len;
                for (g, w) in self.arcs.groups.windows(2).enumerate() {
                    let filled = self.arc_profiles(&win, &table, base, w[0]..w[1], &mut scratch);
                    got = got.min(filled);
                    let ks = pad..filled.saturating_sub(pad).min(n_r + pad);
                    self.visible_edges(w[1] - w[0], ks.clone(), &mut scratch);
                    let m = &scratch.means;
                    for k in ks {
                        // The arc means must go from dark inside to bright outside.
                        let dark_inside =
                            m[k - 1] < self.inner_below && m[k + 1] > self.outer_above;
                        let n = scratch.counts[k];
                        per[k - pad][g] = if dark_inside && n > 0 {
                            scratch.sums[k] / n as f32
                        } else {
                            0.0
                        };
                    }
                }
                let offset = (ix as f32).hypot(iy as f32) * step;
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

    /// Edge strength of one sector at every profile index in `ks`, as a
    /// sum and a count (`scratch.sums`, `scratch.counts`): the central
    /// difference, lightly smoothed by the neighbours' differences, summed
    /// over the directions whose samples on both sides of the boundary are
    /// visible; the count is the directions sampled there (the strength is
    /// sum / count). `scratch.profiles` holds the sector's `n_dirs`
    /// profiles (NaN where not sampled).
    ///
    /// Directions are taken one at a time over all radii (a running count
    /// of occluded samples makes each radius' visibility window one
    /// subtraction), and each radius' sum still adds the directions in
    /// order, so the result is the same as direction by direction per radius.
    fn visible_edges(&self, n_dirs: usize, ks: std::ops::Range<usize>, scratch: &mut Scratch) {
        // Arcs that leave the image within the padding leave no radius.
        if ks.is_empty() {
            return;
        }
        let len = scratch.means.len();
        let reach = self.occlusion_reach;
        scratch.sums[ks.clone()].fill(0.0);
        scratch.counts[ks.clone()].fill(0);
        for v in scratch.profiles[..n_dirs * len].chunks_exact(len) {
            // occluded[i]: samples before i darker than `occluded_below`
            // (NaN, outside the image or a highlight, is not).
            let occ = &mut scratch.occluded;
            let mut seen = 0;
            occ[0] = 0;
            for (o, &x) in occ[1..].iter_mut().zip(v) {
                seen += u32::from(x < self.occluded_below);
                *o = seen;
            }
            let sums = &mut scratch.sums[ks.clone()];
            let counts = &mut scratch.counts[ks.clone()];
            let (occ_in, occ_out) = (&occ[ks.start - reach..], &occ[ks.start + reach + 1..]);
            let near = v[ks.start - 2..ks.end + 2].windows(5);
            for ((((s, n), w5), &o_in), &o_out) in sums
                .iter_mut()
                .zip(counts)
                .zip(near)
                .zip(occ_in)
                .zip(occ_out)
            {
                let (a, c) = (w5[1], w5[3]);
                // NaN (outside the image or a highlight) fails every comparison.
                if !(a >= f32::MIN && c >= f32::MIN) {
                    continue;
                }
                *n += 1;
                if o_out > o_in {
                    continue;
                }
                let d = c - a;
                let wide = w5[4] - w5[0];
                let e = if wide.is_nan() {
                    d
                } else {
                    0.5 * d + 0.25 * wide
                };
                // Only a dark-to-bright step is the boundary seen: where the grey
                // level falls outward, something darker (a lid margin, a lash's
                // fringe) lies just outside, and that direction is occluded.
                *s += e.max(0.0);
            }
        }
    }

    /// Grey level of directions `dirs` (indices into the arcs) on each arc
    /// radius of `table`, around the centre at pixel index `base` of `win`,
    /// into `scratch.profiles` (`scratch.means.len()` samples per direction;
    /// NaN outside the image or on a highlight), and each radius' mean over
    /// the sampled directions into `scratch.means`, stopping at the first
    /// radius with too few usable samples (arc mostly outside the image).
    /// Returns how many radii were filled.
    fn arc_profiles(
        &self,
        win: &Window,
        table: &Table,
        base: usize,
        dirs: std::ops::Range<usize>,
        scratch: &mut Scratch,
    ) -> usize {
        let len = scratch.means.len();
        let n_dirs = dirs.len();
        let need = (n_dirs / 2).max(1);
        let prof = &mut scratch.profiles[..n_dirs * len];
        let taps = &table.taps[dirs.start * len..dirs.end * len];
        for (p, t) in prof.iter_mut().zip(taps) {
            let v = win.bilinear(base.wrapping_add_signed(t.offset), t.fx, t.fy);
            // NaN (outside the image) fails the comparison too.
            *p = if v < self.ignore_above { v } else { f32::NAN };
        }
        for (i, m) in scratch.means.iter_mut().enumerate() {
            let (mut s, mut n) = (0.0f32, 0usize);
            for v in prof[i..].iter().step_by(len) {
                if !v.is_nan() {
                    s += v;
                    n += 1;
                }
            }
            if n < need {
                return i;
            }
            *m = s / n as f32;
        }
        len
    }
}

/// The part of an image that a search can sample, with a border of NaN
/// where it lies outside the image: a bilinear sample that touches a pixel
/// outside is NaN, which is how the search marks "not sampled", so the
/// inner loop needs no bounds test.
struct Window {
    x0: isize,
    y0: isize,
    width: usize,
    data: Vec<f32>,
}

impl Window {
    /// Pixels within `reach` of (cx, cy), plus one for the bilinear
    /// neighbour.
    fn around(img: &Plane, cx: isize, cy: isize, reach: isize) -> Window {
        let (x0, y0) = (cx - reach, cy - reach);
        let side = (2 * reach + 2) as usize;
        let mut data = vec![f32::NAN; side * side];
        let xs = x0.max(0)..(x0 + side as isize).min(img.width as isize);
        if !xs.is_empty() {
            for y in y0.max(0)..(y0 + side as isize).min(img.height as isize) {
                let row = (y - y0) as usize * side;
                let src = y as usize * img.width;
                data[row + (xs.start - x0) as usize..row + (xs.end - x0) as usize]
                    .copy_from_slice(&img.data[src + xs.start as usize..src + xs.end as usize]);
            }
        }
        Window {
            x0,
            y0,
            width: side,
            data,
        }
    }

    /// Index of image pixel (x, y) in `data`.
    fn index(&self, x: isize, y: isize) -> usize {
        ((y - self.y0) * self.width as isize + x - self.x0) as usize
    }

    /// Bilinear sample at pixel index `i` plus (fx, fy), as
    /// [`Plane::sample`] computes it.
    #[inline]
    fn bilinear(&self, i: usize, fx: f32, fy: f32) -> f32 {
        let w = self.width;
        let d = &self.data[i..i + w + 2];
        let top = d[0] + (d[1] - d[0]) * fx;
        let bot = d[w] + (d[w + 1] - d[w]) * fx;
        top + (bot - top) * fy
    }
}

/// One sample of a direction's profile: the pixel offset from the centre's
/// pixel (in a [`Window`] of the given width) and the bilinear weights.
#[derive(Clone, Copy)]
struct Tap {
    offset: isize,
    fx: f32,
    fy: f32,
}

/// The taps of every direction at every radius, direction-major (the
/// precomputed "trig table" of the search).
struct Table {
    taps: Vec<Tap>,
}

impl Table {
    /// `frac`: the sub-pixel position of every centre; `radius(i)`: the
    /// i-th of `len` radii.
    fn new(
        dirs: &[(f32, f32)],
        frac: (f32, f32),
        len: usize,
        radius: impl Fn(usize) -> f32,
        width: usize,
    ) -> Table {
        let mut taps = Vec::with_capacity(dirs.len() * len);
        for &(c, s) in dirs {
            for i in 0..len {
                let r = radius(i);
                let (x, y) = (frac.0 + r * c, frac.1 + r * s);
                let (xf, yf) = (x.floor(), y.floor());
                taps.push(Tap {
                    offset: yf as isize * width as isize + xf as isize,
                    fx: x - xf,
                    fy: y - yf,
                });
            }
        }
        Table { taps }
    }
}

/// Buffers of one [`EdgeSearch::best`] call, reused for every centre.
struct Scratch {
    /// Mean grey level of a sector's arc at each radius.
    means: Vec<f32>,
    /// The sector's profiles, one per direction, `means.len()` radii each.
    profiles: Vec<f32>,
    /// Per radius: summed edge strength and directions sampled.
    sums: Vec<f32>,
    counts: Vec<u32>,
    /// Running count of occluded samples along one direction.
    occluded: Vec<u32>,
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
    fn arcs_that_leave_the_image_within_the_padding_are_no_candidates() {
        let img = disc(
            40,
            40,
            Circle {
                x: 20.0,
                y: 20.0,
                r: 10.0,
            },
            30.0,
            140.0,
        );
        let arcs = Arcs::sectors(&[(-30.0, 45.0), (135.0, 210.0)], 96);
        let es = EdgeSearch {
            img: &img,
            arcs: &arcs,
            combine: Combine::GeoMean,
            inner_below: f32::INFINITY,
            outer_above: f32::NEG_INFINITY,
            occluded_below: f32::NEG_INFINITY,
            occlusion_reach: 3,
            ignore_above: 250.0,
        };
        // Some of these radii leave the image after 1–5 samples: no panic,
        // and nothing whose arcs are mostly outside the image.
        for r_min in (5..40).map(|r| r as f32) {
            let b = SearchBox {
                cx: 20.0,
                cy: 20.0,
                half: 2.0,
                step: 1.0,
                r_min,
                r_max: r_min + 10.0,
                r_step: 1.0,
                max_offset_per_r: f32::INFINITY,
                prior: Prior::NONE,
            };
            if let Some((c, _)) = es.best(&b) {
                assert!(c.r < 28.0, "r_min {r_min}: {c:?}");
            }
        }
    }

    #[test]
    fn sectors_restrict_directions() {
        let a = Arcs::sectors(&[(-30.0, 30.0)], 36);
        assert_eq!(a.dirs.len(), 6);
        assert_eq!(a.groups, vec![0, 6]);
        assert!(a.dirs.iter().all(|&(c, _)| c > 0.8));
    }
}
