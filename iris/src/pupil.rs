//! Stage 1 — pupil localisation.
//!
//! Layout: [`PupilParams`], [`Pupil`], [`locate_pupil`], the boundary fits
//! ([`contour`]), then the coarse blob search helpers.
//!
//! Method: in near-infrared the pupil is the darkest large, round region. On a
//! reduced copy of the image (≈160 px wide, which also averages out sensor
//! noise) we threshold at a ladder of grey levels above the darkest pixels and
//! keep, over all levels, the connected dark component that is best as a
//! pupil: round (fills its bounding ellipse, aspect near 1), inside the image,
//! of plausible size and much darker than the ring around it — unless a
//! smaller such component lies well inside it (0.15–0.75 of its radius; the darkest
//! if several):
//! then the larger one is a dark iris and the inner one its pupil, provided the
//! grey level stays up between them (a pupil lit by a ring of LED glow has a
//! dark core nested the same way, but is dark again outside the glow; where
//! the glow reaches the pupil's edge it is not, and [`locate_pupil_candidates`]
//! returns both blobs for the limbus to decide, see
//! [`crate::pipeline::segment`]). Holes inside a
//! component are filled first, so the specular highlight of the illuminator
//! that usually sits inside the pupil does not break it up. The circle is then
//! refined at full resolution by a consensus circle fit: 64 rays from the
//! blob centre each find where the grey level rises from pupil to iris
//! nearest the blob's radius (sub-pixel, highlights skipped); the circle through three points
//! that most boundary points agree with wins, and is refined by least
//! squares on those points. Points on an eyelid or eyelash crossing the
//! pupil disagree with the circle and are ignored, which a mean edge
//! strength would not do. The circle serves the limbus search and the
//! quality measures; the rubber sheet samples from the pupil's own boundary,
//! [`contour`]: a Fourier series of its radius to the second harmonic
//! (an ellipse to first order), fitted robustly to 128 such rays.

use serde::{Deserialize, Serialize};

use crate::edge::{Arcs, circle3, fit_least_squares};
use crate::error::IrisError;
use crate::plane::{Circle, Contour, Plane, percentile};

/// Tunable parameters of the pupil search.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PupilParams {
    /// Smallest pupil radius, as a fraction of the image's shorter side.
    pub min_radius_frac: f32,
    /// Largest pupil radius, as a fraction of the image's shorter side.
    pub max_radius_frac: f32,
    /// Width of the reduced image used for the coarse search, in px.
    pub coarse_width: usize,
    /// A pupil must be at least this many grey levels darker than its ring.
    pub min_contrast: f32,
}

impl Default for PupilParams {
    fn default() -> Self {
        PupilParams {
            min_radius_frac: 0.02,
            max_radius_frac: 0.3,
            coarse_width: 160,
            min_contrast: 12.0,
        }
    }
}

/// The located pupil.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Pupil {
    pub circle: Circle,
    /// Mean grey level inside the pupil (highlight excluded).
    pub grey: f32,
    /// Mean grey level of the ring just outside (mostly iris).
    pub ring_grey: f32,
}

impl Pupil {
    /// Grey level above which a sample near the pupil cannot be iris or pupil:
    /// halfway from the iris level to white. Used to ignore highlights.
    pub fn highlight_level(&self) -> f32 {
        (self.ring_grey + 0.5 * (255.0 - self.ring_grey)).max(self.ring_grey + 20.0)
    }
}

/// Find the pupil. Errors when nothing dark and round enough exists.
///
/// The first of [`locate_pupil_candidates`]: use that (or
/// [`crate::pipeline::segment`]) when the limbus can settle which of two
/// nested blobs is the pupil.
pub fn locate_pupil(img: &Plane, p: &PupilParams) -> Result<Pupil, IrisError> {
    locate_pupil_candidates(img, p).map(|c| c.pupil)
}

/// The pupil, and the blob it was chosen from when the nested rule (see the
/// module docs) picked a dark blob inside a larger one.
#[derive(Clone, Copy, Debug)]
pub struct PupilCandidates {
    /// The best pupil by the blob search alone.
    pub pupil: Pupil,
    /// The larger dark blob that `pupil` lies nested in, refined as a pupil
    /// itself: either a dark iris around its pupil, or a pupil whose centre
    /// is darker than the rest of it (the illuminator's glow lights a ring
    /// inside it). The blob search cannot tell the two apart when the glow
    /// reaches the pupil's edge; what lies outside it can: an iris and its
    /// limbus around a pupil, sclera and skin around an iris (see
    /// [`crate::pipeline::segment`]).
    pub enclosing: Option<Pupil>,
}

/// Find the pupil and, when it was found nested in a larger dark blob, that
/// blob too (see [`PupilCandidates`]).
pub fn locate_pupil_candidates(img: &Plane, p: &PupilParams) -> Result<PupilCandidates, IrisError> {
    let f = (img.width / p.coarse_width.max(16)).max(1);
    let small = img.reduce(f);
    let short = img.width.min(img.height) as f32;
    let (r_min, r_max) = (
        p.min_radius_frac * short / f as f32,
        p.max_radius_frac * short / f as f32,
    );
    let (blob, enclosing) = best_dark_blob(&small, r_min.max(2.0), r_max, p.min_contrast)
        .ok_or_else(|| {
            IrisError::NoEye(
                "no dark round pupil was found; hold the scanner square to an open eye".into(),
            )
        })?;
    let refine = |blob: Pupil| {
        // Back to full resolution: centre of the f×f block, radius scaled.
        let mut pupil = Pupil {
            circle: Circle {
                x: (blob.circle.x + 0.5) * f as f32,
                y: (blob.circle.y + 0.5) * f as f32,
                r: blob.circle.r * f as f32,
            },
            ..blob
        };
        if let Some(c) = fit_boundary(img, &pupil) {
            pupil.circle = c;
        }
        pupil
    };
    Ok(PupilCandidates {
        pupil: refine(blob),
        enclosing: enclosing.map(refine),
    })
}

/// Rays cast for the boundary fit.
const RAYS: usize = 64;

/// Where the grey level along the ray from the pupil's centre in direction
/// (`dx`, `dy`) crosses from pupil to iris grey, sub-pixel, sampled every
/// `step` px from `from` to `to` (radii): of the upward crossings along the
/// ray, the one nearest the pupil's radius (a lighter glow inside the pupil,
/// left by the illuminator, is a crossing too, and is not the boundary).
/// Highlights break the ray; it ends at the image's edge.
fn crossing(
    img: &Plane,
    p: &Pupil,
    (dx, dy): (f32, f32),
    step: f32,
    from: f32,
    to: f32,
) -> Option<f32> {
    let c = p.circle;
    let mid = 0.5 * (p.grey + p.ring_grey);
    let high = p.highlight_level();
    let mut r = from;
    let mut prev: Option<f32> = None;
    let mut nearest: Option<f32> = None;
    while r < to {
        let Some(v) = img.sample(c.x + r * dx, c.y + r * dy) else {
            break;
        };
        if v >= high {
            prev = None; // inside a highlight: no crossing can be located here
        } else {
            if let Some(u) = prev
                && u < mid
                && v >= mid
            {
                let f = (mid - u) / (v - u).max(1e-3);
                let rr = r - step + f * step;
                if nearest.is_none_or(|n| (rr - c.r).abs() < (n - c.r).abs()) {
                    nearest = Some(rr);
                }
            }
            prev = Some(v);
        }
        r += step;
    }
    nearest
}

/// Boundary points where each of [`RAYS`] rays crosses from pupil to iris
/// grey ([`crossing`]), from 0.3 to 1.8 blob radii: the fit refines the blob.
fn boundary_points(img: &Plane, p: &Pupil) -> Vec<(f32, f32)> {
    let c = p.circle;
    (0..RAYS)
        .filter_map(|k| {
            let t = std::f32::consts::TAU * k as f32 / RAYS as f32;
            let (dx, dy) = (t.cos(), t.sin());
            crossing(img, p, (dx, dy), 0.5, 0.3 * c.r, 1.8 * c.r)
                .map(|rr| (c.x + rr * dx, c.y + rr * dy))
        })
        .collect()
}

/// Rays cast for the pupil's contour.
const CONTOUR_RAYS: usize = 128;
/// A ray counts towards the contour only when its crossing lies within this
/// share of the radius (at least [`CONTOUR_NEAR_MIN_PX`]) of the pupil's
/// circle: an elliptical pupil departs from its circle by a few % (6 % at an
/// aspect of 0.88, a gaze 28° off-axis), while a lid or lashes over the pupil
/// put their crossing well inside it, and a series free to follow them bends
/// into the lid.
const CONTOUR_NEAR: f32 = 0.08;
const CONTOUR_NEAR_MIN_PX: f32 = 1.5;
/// The widest gap (in rays) between the rays the contour rests on: beyond
/// 45°, the second harmonic across the gap is a guess.
const CONTOUR_MAX_GAP: usize = CONTOUR_RAYS / 8;

/// The pupil's boundary as a [`Contour`] about its circle's centre, for the
/// rubber sheet: a pupil is not a circle (it is slightly elliptical, more
/// so seen off-axis), and a circle fitted to it lies a pixel or two inside
/// it along one axis and outside along the other, which shifts the band's
/// inner rows by as much. [`CONTOUR_RAYS`] rays, sampled every quarter
/// pixel from 0.5 to 1.5 radii, give the boundary's radius per angle
/// ([`crossing`]); those near the circle ([`CONTOUR_NEAR`]) are fitted by
/// least squares, robustly (four rounds; a ray off the series by more than
/// 2.5 robust spreads, and by more than a pixel, is dropped: lids, lashes
/// and highlights over the boundary). Falls back to the circle when too few
/// rays are left to fix the series (fewer than a quarter of them plus
/// three per coefficient) or they leave a gap wider than
/// [`CONTOUR_MAX_GAP`].
pub fn contour(img: &Plane, p: &Pupil) -> Contour {
    let c = p.circle;
    let dirs: Vec<(f32, f32)> = (0..CONTOUR_RAYS)
        .map(|k| {
            let t = std::f32::consts::TAU * k as f32 / CONTOUR_RAYS as f32;
            (t.cos(), t.sin())
        })
        .collect();
    let near = (CONTOUR_NEAR * c.r).max(CONTOUR_NEAR_MIN_PX);
    let radii: Vec<Option<f32>> = dirs
        .iter()
        .map(|&d| {
            crossing(img, p, d, 0.25, 0.5 * c.r, 1.5 * c.r).filter(|r| (r - c.r).abs() <= near)
        })
        .collect();
    let basis =
        |(co, si): (f32, f32)| [1.0, co, si, co * co - si * si, 2.0 * si * co].map(f64::from);
    let fallback = Contour::circle(&c);
    let mut keep: Vec<bool> = radii.iter().map(Option::is_some).collect();
    let mut fit = fallback;
    for _round in 0..4 {
        let (mut ata, mut atb) = ([[0.0f64; 5]; 5], [0.0f64; 5]);
        let mut n = 0;
        for ((&d, r), _) in dirs.iter().zip(&radii).zip(&keep).filter(|(_, k)| **k) {
            let (b, r) = (basis(d), f64::from(r.unwrap_or(0.0)));
            for u in 0..5 {
                atb[u] += b[u] * r;
                for v in 0..5 {
                    ata[u][v] += b[u] * b[v];
                }
            }
            n += 1;
        }
        if n < 3 * 5 + CONTOUR_RAYS / 4 {
            return fallback;
        }
        let Some(coef) = solve5(ata, atb) else {
            return fallback;
        };
        fit.r = coef.map(|x| x as f32);
        let residual =
            |(d, r): (&(f32, f32), &Option<f32>)| r.map(|r| (r - fit.radius(d.0, d.1)).abs());
        let mut res: Vec<f32> = dirs.iter().zip(&radii).filter_map(residual).collect();
        let k = res.len() / 2;
        let spread = 1.4826 * *res.select_nth_unstable_by(k, f32::total_cmp).1;
        let limit = (2.5 * spread).max(1.0);
        for (keep, e) in keep.iter_mut().zip(dirs.iter().zip(&radii).map(residual)) {
            *keep = e.is_some_and(|e| e <= limit);
        }
    }
    // The widest run of rays left out, round the circle.
    let (mut gap, mut run) = (0, 0);
    for k in 0..2 * CONTOUR_RAYS {
        run = if keep[k % CONTOUR_RAYS] { 0 } else { run + 1 };
        gap = gap.max(run);
    }
    if gap > CONTOUR_MAX_GAP { fallback } else { fit }
}

/// Solve the 5×5 normal equations (Gauss–Jordan, partial pivoting).
fn solve5(mut a: [[f64; 5]; 5], mut b: [f64; 5]) -> Option<[f64; 5]> {
    for i in 0..5 {
        let p = (i..5).max_by(|&x, &y| a[x][i].abs().total_cmp(&a[y][i].abs()))?;
        if a[p][i].abs() < 1e-9 {
            return None;
        }
        a.swap(i, p);
        b.swap(i, p);
        let (pivot, bi) = (a[i], b[i]);
        for (row, br) in a
            .iter_mut()
            .zip(b.iter_mut())
            .enumerate()
            .filter(|(r, _)| *r != i)
            .map(|(_, x)| x)
        {
            let f = row[i] / pivot[i];
            for (x, p) in row.iter_mut().zip(pivot) {
                *x -= f * p;
            }
            *br -= f * bi;
        }
    }
    Some(std::array::from_fn(|i| b[i] / a[i][i]))
}

/// Consensus circle fit to the boundary points (see the module docs).
fn fit_boundary(img: &Plane, p: &Pupil) -> Option<Circle> {
    let pts = boundary_points(img, p);
    let n = pts.len();
    if n < RAYS / 4 {
        return None;
    }
    let c0 = p.circle;
    let tol = (0.04 * c0.r).max(1.0);
    // A point is on a circle when its distance from the centre is within
    // `tol` of the radius (plain square root: `hypot`'s care for overflow
    // costs ten times as much, and these are pixel coordinates).
    let on = |q: &(f32, f32), c: &Circle| {
        let (dx, dy) = (q.0 - c.x, q.1 - c.y);
        ((dx * dx + dy * dy).sqrt() - c.r).abs() <= tol
    };
    let inliers = |c: &Circle| pts.iter().filter(|q| on(q, c)).count();
    let plausible = |c: &Circle| {
        c.r > 0.5 * c0.r && c.r < 1.6 * c0.r && (c.x - c0.x).hypot(c.y - c0.y) < 0.6 * c0.r
    };
    let mut best: Option<(usize, Circle)> = None;
    // Deterministic spread-out triples: roughly a third of the boundary apart.
    for i in 0..n {
        for d1 in 0..7 {
            for d2 in 0..7 {
                let j = (i + n / 3 + d1 - 3) % n;
                let k = (i + 2 * n / 3 + d2 - 3) % n;
                let Some(c) = circle3(pts[i], pts[j], pts[k]) else {
                    continue;
                };
                if !plausible(&c) {
                    continue;
                }
                let score = inliers(&c);
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, c));
                }
            }
        }
    }
    let (_, c) = best?;
    let on: Vec<(f32, f32)> = pts.iter().copied().filter(|q| on(q, &c)).collect();
    fit_least_squares(&on).filter(plausible).or(Some(c))
}

struct Component {
    pixels: Vec<usize>,
    /// Width of the image the pixel indices refer to.
    width: usize,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// Coarse search: the darkest, roundest blob over a ladder of thresholds,
/// and the blob it lies nested in when the nested rule chose it.
fn best_dark_blob(
    img: &Plane,
    r_min: f32,
    r_max: f32,
    min_contrast: f32,
) -> Option<(Pupil, Option<Pupil>)> {
    let lo = percentile(img.data.iter().copied(), 0.001);
    let median = img.percentile(0.5);
    let (a_min, a_max) = (
        std::f32::consts::PI * r_min * r_min,
        std::f32::consts::PI * r_max * r_max,
    );
    let mut cands: Vec<(Pupil, f32)> = Vec::new();
    let mut seen = vec![false; img.data.len()];
    let mut t = lo + 4.0;
    while t < median.min(lo + 120.0) {
        seen.iter_mut().for_each(|s| *s = false);
        for start in 0..img.data.len() {
            if seen[start] || img.data[start] >= t {
                continue;
            }
            let comp = flood(img, start, t, &mut seen, a_max as usize * 2);
            let Some(comp) = comp else { continue };
            if let Some(c) = judge(img, &comp, a_min, a_max, min_contrast) {
                cands.push(c);
            }
        }
        t += 5.0;
    }
    let by_score = |a: &&(Pupil, f32), b: &&(Pupil, f32)| a.1.total_cmp(&b.1);
    let best = cands.iter().max_by(by_score)?.0;
    // A dark iris against bright sclera is itself a dark round blob, with a
    // better contrast to its surround than the pupil has to the iris. But a
    // pupil is never inside anything round and dark except its iris: when
    // the best candidate contains smaller round candidates well inside it,
    // of a pupil's size relative to an iris, and is itself on average
    // clearly lighter than they are (mostly iris, not more pupil: at a low
    // threshold the pupil's own core is a nested blob too), the darkest of
    // them is the pupil (crypts and other iris features are never as dark).
    // One level only: inside the pupil there is nothing more to find.
    let outer = best;
    if let Some(&(inner, _)) = cands
        .iter()
        .filter(|(c, _)| {
            c.grey + min_contrast <= outer.grey
                && nested(&c.circle, &outer.circle)
                && lighter_all_round(img, &c.circle, &outer.circle, c.grey, min_contrast)
        })
        .min_by(|a, b| a.0.grey.total_cmp(&b.0.grey))
    {
        return Some((inner, Some(outer)));
    }
    Some((best, None))
}

/// Pupil/iris radius ratios of a pupil candidate nested in a larger one (as
/// [`crate::limbus::LimbusParams`]' `min_ratio` and `max_ratio`): smaller
/// is an iris feature or noise; larger, the same pupil at a lower threshold.
const NESTED_RATIO: (f32, f32) = (0.15, 0.75);

/// `inner` lies well inside `outer` and has the size of its pupil.
fn nested(inner: &Circle, outer: &Circle) -> bool {
    (NESTED_RATIO.0 * outer.r..=NESTED_RATIO.1 * outer.r).contains(&inner.r)
        && (inner.x - outer.x).hypot(inner.y - outer.y) + inner.r <= 0.9 * outer.r
}

/// Whether the rings between `inner` and the edge of `outer` (around
/// `inner`'s centre) stay lighter than `inner`, as an iris around its pupil
/// does: no ring's median grey falls back halfway from the lightest ring
/// inside it to `inner_grey` (nor below `inner_grey + rise / 2`).
///
/// An iris is lighter than its pupil all the way out to the limbus. A pupil
/// lit from inside by a ring of LEDs is not: the glow makes a lighter ring
/// around a dark core, and outside the glow the pupil is dark again up to
/// its edge. The dark core is then nested in the pupil just as a pupil is
/// nested in a dark iris, but between them the grey level rises and falls
/// back, which an iris' texture (ring medians) does not do by half its step.
fn lighter_all_round(
    img: &Plane,
    inner: &Circle,
    outer: &Circle,
    inner_grey: f32,
    rise: f32,
) -> bool {
    let arcs = Arcs::full(32);
    let reach = outer.r - (inner.x - outer.x).hypot(inner.y - outer.y);
    let mut r = 1.3 * inner.r;
    let mut peak = inner_grey + rise;
    let mut ring = Vec::with_capacity(arcs.dirs.len());
    while r <= 0.95 * reach {
        ring.clear();
        ring.extend(
            arcs.dirs
                .iter()
                .filter_map(|&(co, si)| img.sample(inner.x + r * co, inner.y + r * si)),
        );
        if !ring.is_empty() {
            let m = percentile(ring.iter().copied(), 0.5);
            if m < 0.5 * (inner_grey + peak) {
                return false;
            }
            peak = peak.max(m);
        }
        r += 1.0;
    }
    true
}

/// 4-connected flood fill of pixels darker than `t`. Returns `None` (but
/// still marks the pixels) when the region grows beyond `cap` pixels.
fn flood(img: &Plane, start: usize, t: f32, seen: &mut [bool], cap: usize) -> Option<Component> {
    let w = img.width;
    let mut stack = vec![start];
    seen[start] = true;
    let mut c = Component {
        pixels: Vec::new(),
        width: w,
        x0: usize::MAX,
        y0: usize::MAX,
        x1: 0,
        y1: 0,
    };
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        c.pixels.push(i);
        (c.x0, c.y0, c.x1, c.y1) = (c.x0.min(x), c.y0.min(y), c.x1.max(x), c.y1.max(y));
        let mut push = |j: usize| {
            if !seen[j] && img.data[j] < t {
                seen[j] = true;
                stack.push(j);
            }
        };
        if x > 0 {
            push(i - 1);
        }
        if x + 1 < w {
            push(i + 1);
        }
        if y > 0 {
            push(i - w);
        }
        if y + 1 < img.height {
            push(i + w);
        }
    }
    (c.pixels.len() <= cap).then_some(c)
}

/// Score a component as a pupil candidate (higher is better).
fn judge(
    img: &Plane,
    c: &Component,
    a_min: f32,
    a_max: f32,
    min_contrast: f32,
) -> Option<(Pupil, f32)> {
    let (bw, bh) = (c.x1 - c.x0 + 1, c.y1 - c.y0 + 1);
    if c.x0 == 0 || c.y0 == 0 || c.x1 + 1 >= img.width || c.y1 + 1 >= img.height {
        return None; // touches the border: shadow or hair, not a pupil inside the eye
    }
    let filled = filled_area(c, bw, bh);
    let a = filled as f32;
    if a < a_min || a > a_max {
        return None;
    }
    let aspect = bw.min(bh) as f32 / bw.max(bh) as f32;
    let fill = a / (std::f32::consts::FRAC_PI_4 * (bw * bh) as f32);
    if aspect < 0.6 || !(0.7..=1.25).contains(&fill) {
        return None;
    }
    let n = c.pixels.len() as f32;
    let sv: f32 = c.pixels.iter().map(|&i| img.data[i]).sum();
    // Centre of the bounding box: robust to a highlight hole on one side.
    let (cx, cy) = ((c.x0 + c.x1) as f32 * 0.5, (c.y0 + c.y1) as f32 * 0.5);
    let r = (a / std::f32::consts::PI).sqrt();
    let inner = sv / n;
    let arcs = Arcs::full(32);
    let (mut rs, mut rn) = (0.0f32, 0usize);
    for k in [1.3f32, 1.5, 1.7] {
        for &(co, si) in &arcs.dirs {
            if let Some(v) = img.sample(cx + k * r * co, cy + k * r * si) {
                rs += v;
                rn += 1;
            }
        }
    }
    if rn < arcs.dirs.len() {
        return None;
    }
    let ring = rs / rn as f32;
    let contrast = ring - inner;
    if contrast < min_contrast {
        return None;
    }
    let roundness = aspect * (1.0 - 2.0 * (1.0 - fill).abs()).max(0.0);
    let pupil = Pupil {
        circle: Circle { x: cx, y: cy, r },
        grey: inner,
        ring_grey: ring,
    };
    // Michelson contrast favours the *darkest* round region over a larger
    // merged blob whose ring happens to be brighter (sclera, skin).
    let michelson = contrast / (ring + inner).max(1.0);
    Some((pupil, michelson * roundness))
}

/// Area of the component with its interior holes (highlights) filled.
fn filled_area(c: &Component, bw: usize, bh: usize) -> usize {
    // Mark the component in its bounding box, flood the outside from the box
    // border; whatever is neither component nor outside is a hole.
    let mut grid = vec![0u8; bw * bh]; // 0 unknown, 1 component, 2 outside
    for &i in &c.pixels {
        let (x, y) = (i % c.width - c.x0, i / c.width - c.y0);
        grid[y * bw + x] = 1;
    }
    let mut stack = Vec::new();
    for x in 0..bw {
        stack.push(x);
        stack.push((bh - 1) * bw + x);
    }
    for y in 0..bh {
        stack.push(y * bw);
        stack.push(y * bw + bw - 1);
    }
    while let Some(i) = stack.pop() {
        if grid[i] != 0 {
            continue;
        }
        grid[i] = 2;
        let (x, y) = (i % bw, i / bw);
        if x > 0 {
            stack.push(i - 1);
        }
        if x + 1 < bw {
            stack.push(i + 1);
        }
        if y > 0 {
            stack.push(i - bw);
        }
        if y + 1 < bh {
            stack.push(i + bw);
        }
    }
    grid.iter().filter(|&&g| g != 2).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 320×280 eye: light iris (r 100) with radial texture around a pupil
    /// of radius 30 at `pupil_grey`, with `inside` drawn over the pupil by
    /// distance from the centre.
    fn eye(pupil_grey: f32, inside: impl Fn(f32) -> Option<f32>) -> Plane {
        let mut p = Plane::new(320, 280, 200.0);
        for y in 0..280 {
            for x in 0..320 {
                let (dx, dy) = (x as f32 - 160.0, y as f32 - 140.0);
                let d = dx.hypot(dy);
                let v = if d < 30.0 {
                    inside(d).unwrap_or(pupil_grey)
                } else if d < 100.0 {
                    130.0 + 12.0 * (dy.atan2(dx) * 24.0).sin()
                } else {
                    200.0
                };
                p.set(x, y, v);
            }
        }
        p
    }

    #[test]
    fn a_pupil_lit_by_a_ring_of_glow_is_found_whole() {
        // The glow of a ring of LEDs (what is left once the spots are filled)
        // makes a lighter ring at 12–17 px around a dark core, reaching the
        // pupil's edge on one side: the core is nested in the pupil as a
        // pupil is in a dark iris and darker than the pupil on average, but
        // outside the glow the pupil is dark again.
        let mut img = eye(30.0, |d| (12.0..17.0).contains(&d).then_some(100.0));
        for y in 125..155 {
            for x in 175..190 {
                if (x as f32 - 160.0).hypot(y as f32 - 140.0) < 30.0 {
                    img.set(x, y, 100.0);
                }
            }
        }
        let p = locate_pupil(&img, &PupilParams::default()).unwrap();
        assert!((p.circle.r - 30.0).abs() < 3.0, "{:?}", p.circle);
        assert!((p.circle.x - 160.0).abs() < 2.0 && (p.circle.y - 140.0).abs() < 2.0);
    }

    #[test]
    fn a_pupil_inside_a_dark_iris_is_still_the_inner_disc() {
        // A dark iris (the disc of 30, grey 70) on bright sclera is the
        // better dark blob; the pupil (r 12, grey 15) is nested in it and
        // the iris stays lighter than the pupil out to its edge.
        let mut img = eye(70.0, |d| (d < 12.0).then_some(15.0));
        for v in img.data.iter_mut().filter(|v| (100.0..150.0).contains(*v)) {
            *v = 200.0;
        }
        let p = locate_pupil(&img, &PupilParams::default()).unwrap();
        assert!((p.circle.r - 12.0).abs() < 2.0, "{:?}", p.circle);
    }

    #[test]
    fn the_boundary_fit_keeps_the_crossing_nearest_the_blob() {
        // Rays from the centre cross from dark to light first at the glow's
        // inner edge (12 px), then at the pupil's edge (30 px).
        let img = eye(30.0, |d| (12.0..16.0).contains(&d).then_some(120.0));
        let pupil = Pupil {
            circle: Circle {
                x: 160.0,
                y: 140.0,
                r: 28.0,
            },
            grey: 30.0,
            ring_grey: 130.0,
        };
        let c = fit_boundary(&img, &pupil).unwrap();
        assert!((c.r - 30.0).abs() < 1.5, "{c:?}");
    }

    /// An elliptical pupil (semi-axes `a` across, `b` down, grey 30) at
    /// (160, 140) in an iris of grey 130, with `lid` drawn over it: rows
    /// above `lid` are skin (grey 200).
    fn elliptical(a: f32, b: f32, lid: f32) -> Plane {
        let mut p = Plane::new(320, 280, 200.0);
        for y in 0..280 {
            for x in 0..320 {
                let (dx, dy) = (x as f32 - 160.0, y as f32 - 140.0);
                // A soft edge one pixel wide, from the ellipse's distance
                // function scaled to pixels.
                let e = ((dx / a).hypot(dy / b) - 1.0) * a.min(b);
                let v = if (y as f32) < lid {
                    200.0
                } else if dx.hypot(dy) < 100.0 {
                    30.0 + 100.0 * (e + 0.5).clamp(0.0, 1.0)
                } else {
                    200.0
                };
                p.set(x, y, v);
            }
        }
        p
    }

    fn found(r: f32) -> Pupil {
        Pupil {
            circle: Circle {
                x: 160.0,
                y: 140.0,
                r,
            },
            grey: 30.0,
            ring_grey: 130.0,
        }
    }

    #[test]
    fn the_contour_follows_an_elliptical_pupil() {
        // Semi-axes 32 × 28 (aspect 0.875): the circle between them is 2 px
        // off along both axes, the contour well under a pixel.
        let img = elliptical(32.0, 28.0, 0.0);
        let c = contour(&img, &found(30.0));
        for (co, si, want) in [
            (1.0, 0.0, 32.0),
            (0.0, 1.0, 28.0),
            (-1.0, 0.0, 32.0),
            (0.0, -1.0, 28.0),
        ] {
            let r = c.radius(co, si);
            assert!((r - want).abs() < 0.6, "{co},{si}: {r} vs {want} ({c:?})");
        }
    }

    #[test]
    fn a_lid_over_the_pupil_does_not_bend_its_contour() {
        // A round pupil (r 30) whose top 10 px lie under a lid: the crossings
        // up there are the lid's edge, far inside the circle; the contour
        // keeps to the pupil's own boundary, or to its circle.
        let img = elliptical(30.0, 30.0, 120.0);
        let c = contour(&img, &found(30.0));
        for k in 0..16 {
            let t = std::f32::consts::TAU * k as f32 / 16.0;
            let r = c.radius(t.cos(), t.sin());
            assert!((r - 30.0).abs() < 1.0, "θ {t}: {r} ({c:?})");
        }
    }
}
