//! Stage 6 — quality report in the spirit of ISO/IEC 29794-6, and a verdict.
//!
//! Layout: [`QualityParams`] (the acceptance limits), [`QualityReport`],
//! [`Verdict`], [`assess`], then one helper per measure.
//!
//! Measures (all from the segmented eye):
//! - usable iris area: % of the normalised band left by the noise mask;
//! - iris–pupil and iris–sclera contrast: Michelson contrast, in % (ISO
//!   reports these to catch low-contrast captures, e.g. visible-light photos
//!   of dark irises). Iris–pupil: of the median grey levels. Iris–sclera: of
//!   the grey levels just either side of the limbus circle (5 px each side),
//!   per ray in the lateral sectors only (30° above to 45° below horizontal,
//!   since above and below the iris the ring is eyelid), median over the
//!   rays. Not of bands of iris and sclera farther from the boundary: a
//!   light iris is lighter by the pupil than at its rim, and in near-infrared
//!   its rim can be as bright as the sclera until a narrow dark ring right at
//!   the limbus — the edge the limbus search finds;
//! - pupil/iris ratio (%): dilation; outside 15–70 % the texture is too
//!   compressed or stretched;
//! - pupil boundary circularity (%): 100 − relative spread of the edge radius
//!   found along 32 rays (off-axis gaze makes the pupil an ellipse);
//! - pupil boundary visible (%): rays that cross a clear dark-to-bright step;
//!   eyelids or lashes over the pupil (or a pupil circle that does not fit)
//!   lower it;
//! - limbus visible (%): the same for the lateral iris–sclera boundary
//!   (the strongest step near the circle must lie on it). The verdict
//!   limits both: where too little of a boundary is seen, the band is
//!   sampled between a guessed edge and a found one;
//! - sharpness (0–100): the width of the pupil edge gives the blur σ; the
//!   score is the fraction of the encoder's Gabor response that survives that
//!   blur, exp(−2π²σ²/λ²), with λ the filter wavelength in image pixels at
//!   mid-band. So "blurred" means "blurred at the scale the code uses";
//! - quality score (0–100): one number to rank captures by, for an
//!   error-versus-discard curve (ISO/IEC 29794-1): the usable area times the
//!   sharpness factor times the geometric mean of the pupil and limbus
//!   visibility, i.e. the share of the code that is iris, in focus, and
//!   sampled between boundaries the image confirms;
//! - grey-level spread: entropy of the image histogram, in bits (0–8);
//! - iris diameter (px) and margin from the iris to the image edge (px,
//!   negative when the circle runs past the edge; reported, not a limit);
//! - iris in frame (%): the share of the iris band (pupil to limbus, by
//!   area) that lies inside the picture. Close-range scanners fill the frame
//!   and the limbus circle often runs past the top or bottom edge where the
//!   eyelid hides it anyway; what matters for matching is how much band is
//!   left, so the verdict limits this share (and the usable area), not the
//!   margin.

use serde::{Deserialize, Serialize};

use crate::encode::EncodeParams;
use crate::normalise::Polar;
use crate::plane::{Circle, Contour, Plane, percentile};
use crate::pupil::Pupil;

/// Acceptance limits. A capture failing any of them gets a "retake" verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QualityParams {
    pub min_usable_area: f32,
    pub min_iris_diameter: f32,
    pub min_sharpness: f32,
    pub min_iris_pupil_contrast: f32,
    pub min_iris_sclera_contrast: f32,
    pub pupil_iris_ratio: (f32, f32),
    pub min_circularity: f32,
    /// Least share (%) of the pupil boundary seen as an edge. Below it the
    /// lids or lashes cover the pupil, or the pupil circle does not fit it:
    /// either way the band's inner edge, and so every code bit's place, is a
    /// guess.
    pub min_pupil_visible: f32,
    /// Least share (%) of the lateral limbus rays whose strongest edge lies
    /// on the fitted circle. Below a third, two thirds of the boundary the
    /// circle was fitted to disagree with it (lids over the sides, or a
    /// circle run out to lashes or a lid margin): the band's outer edge is a
    /// guess. Not 40: on CASIA-Iris-Interval's narrow eyes the lids cover
    /// much of the lateral sectors, and 40 refused 3 % of its captures, most
    /// of them matching well.
    pub min_limbus_visible: f32,
    pub min_grey_spread: f32,
    /// Median iris grey level must lie in this range.
    pub iris_grey: (f32, f32),
    /// Least share (%) of the iris band inside the picture.
    pub min_iris_in_frame: f32,
}

impl Default for QualityParams {
    fn default() -> Self {
        QualityParams {
            min_usable_area: 50.0,
            min_iris_diameter: 100.0,
            min_sharpness: 40.0,
            min_iris_pupil_contrast: 10.0,
            min_iris_sclera_contrast: 3.0,
            pupil_iris_ratio: (15.0, 72.0),
            min_circularity: 80.0,
            min_pupil_visible: 60.0,
            min_limbus_visible: 33.0,
            min_grey_spread: 4.5,
            iris_grey: (30.0, 215.0),
            min_iris_in_frame: 80.0,
        }
    }
}

/// The measured quality of one capture.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QualityReport {
    pub usable_iris_area: f32,
    pub iris_pupil_contrast: f32,
    pub iris_sclera_contrast: f32,
    pub pupil_iris_ratio: f32,
    pub pupil_circularity: f32,
    /// % of the pupil boundary seen as a clear edge (lids and lashes hide it).
    pub pupil_visible: f32,
    /// % of the lateral limbus seen as a clear edge on the fitted circle.
    pub limbus_visible: f32,
    pub sharpness: f32,
    pub grey_level_spread: f32,
    pub iris_diameter: f32,
    pub margin: f32,
    /// % of the iris band (by area) inside the picture.
    pub iris_in_frame: f32,
    pub iris_grey: f32,
    /// One scalar quality (0–100) to rank captures by; see the module docs.
    pub score: f32,
    pub pupil: Circle,
    /// The pupil's boundary as the band was sampled from it
    /// ([`crate::pupil::contour`]); `pupil` is the circle fitted to it.
    pub pupil_contour: Contour,
    pub iris: Circle,
    pub verdict: Verdict,
}

/// Usable or not, with reasons in words for the person holding the scanner.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub usable: bool,
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.usable {
            write!(f, "usable")
        } else {
            write!(f, "retake: {}", self.reasons.join("; "))
        }
    }
}

/// Everything [`assess`] looks at.
pub struct Inputs<'a> {
    pub img: &'a Plane,
    pub pupil: &'a Pupil,
    /// The pupil's boundary the band was sampled from.
    pub pupil_contour: &'a Contour,
    pub iris: &'a Circle,
    pub polar: &'a Polar,
    pub usable: &'a [bool],
    pub encoder: &'a EncodeParams,
}

/// Measure the capture and decide whether it is usable.
pub fn assess(x: &Inputs, q: &QualityParams) -> QualityReport {
    let (pc, ic) = (x.pupil.circle, *x.iris);
    let usable_n = x.usable.iter().filter(|&&u| u).count();
    let usable_iris_area = 100.0 * usable_n as f32 / x.usable.len().max(1) as f32;
    let iris_grey = if usable_n > 0 {
        percentile(
            x.polar
                .values
                .iter()
                .zip(x.usable)
                .filter(|(_, u)| **u)
                .map(|(v, _)| *v),
            0.5,
        )
    } else {
        percentile(x.polar.values.iter().copied(), 0.5)
    };
    let full = crate::edge::Arcs::full(64);
    let pupil_grey = ring_median(x.img, &pc, 0.0, 0.6, x.pupil.highlight_level(), &full);
    let michelson = |a: f32, b: f32| 100.0 * (a - b) / (a + b).max(1.0);
    let (width, circularity, pupil_visible) = pupil_edge(x.img, x.pupil);
    let (limbus_visible, iris_sclera_contrast) = limbus_edge(x.img, &ic);
    // Encoder wavelength in image pixels at mid-band.
    let r_mid = 0.5 * (pc.r + ic.r);
    let lambda = std::f32::consts::TAU * r_mid * x.encoder.wavelength / x.polar.cols as f32;
    let sigma = width / 2.5;
    let sharpness =
        100.0 * (-2.0 * std::f32::consts::PI.powi(2) * sigma * sigma / (lambda * lambda)).exp();
    let margin = [
        ic.x - ic.r,
        ic.y - ic.r,
        x.img.width as f32 - 1.0 - ic.x - ic.r,
        x.img.height as f32 - 1.0 - ic.y - ic.r,
    ]
    .into_iter()
    .fold(f32::INFINITY, f32::min);
    let mut r = QualityReport {
        usable_iris_area,
        iris_pupil_contrast: michelson(iris_grey, pupil_grey),
        iris_sclera_contrast,
        pupil_iris_ratio: 100.0 * pc.r / ic.r.max(1.0),
        pupil_circularity: circularity,
        pupil_visible,
        limbus_visible,
        sharpness,
        grey_level_spread: entropy_bits(x.img),
        iris_diameter: 2.0 * ic.r,
        margin,
        iris_in_frame: band_in_frame(x.img, &pc, &ic),
        iris_grey,
        score: usable_iris_area * (sharpness / 100.0) * (pupil_visible * limbus_visible).sqrt()
            / 100.0,
        pupil: pc,
        pupil_contour: *x.pupil_contour,
        iris: ic,
        verdict: Verdict {
            usable: true,
            reasons: Vec::new(),
        },
    };
    r.verdict = verdict(&r, q);
    r
}

/// Apply the limits to a report.
pub fn verdict(r: &QualityReport, q: &QualityParams) -> Verdict {
    let mut reasons = Vec::new();
    let mut why = |bad: bool, s: &str| {
        if bad {
            reasons.push(s.to_string());
        }
    };
    why(r.iris_grey < q.iris_grey.0, "too dark");
    why(r.iris_grey > q.iris_grey.1, "too bright");
    why(
        r.grey_level_spread < q.min_grey_spread,
        "too little contrast in the picture, check the light",
    );
    why(
        r.iris_diameter < q.min_iris_diameter,
        "iris too small, move the scanner closer",
    );
    why(
        r.iris_in_frame < q.min_iris_in_frame,
        "eye not fully in the picture, centre the eye",
    );
    why(r.sharpness < q.min_sharpness, "blurred");
    why(
        r.usable_iris_area < q.min_usable_area,
        "eye not open enough",
    );
    why(
        r.iris_pupil_contrast < q.min_iris_pupil_contrast,
        "pupil hard to tell from iris (use the infrared scanner)",
    );
    why(
        r.iris_sclera_contrast < q.min_iris_sclera_contrast,
        "iris edge unclear",
    );
    why(
        r.pupil_iris_ratio < q.pupil_iris_ratio.0,
        "pupil too small (too much light)",
    );
    why(
        r.pupil_iris_ratio > q.pupil_iris_ratio.1,
        "pupil too large (too dark or dilated)",
    );
    why(
        r.pupil_circularity < q.min_circularity,
        "pupil not round, ask the child to look straight at the scanner",
    );
    why(
        r.pupil_visible < q.min_pupil_visible,
        "pupil partly hidden, open the eye wider",
    );
    why(
        r.limbus_visible < q.min_limbus_visible,
        "sides of the iris hidden, open the eye wider and centre it",
    );
    Verdict {
        usable: reasons.is_empty(),
        reasons,
    }
}

/// The lateral sectors where the limbus borders on sclera (degrees, 0° right,
/// 90° down): 30° above to 45° below horizontal on both sides, as in the
/// limbus search.
const LATERAL: [(f32, f32); 2] = [(-30.0, 45.0), (135.0, 210.0)];

/// Median grey level between radii `a·r` and `b·r` in the directions of
/// `arcs`, ignoring samples ≥ `cap`.
fn ring_median(img: &Plane, c: &Circle, a: f32, b: f32, cap: f32, arcs: &crate::edge::Arcs) -> f32 {
    let mut v = Vec::new();
    for k in 0..8 {
        let rr = c.r * (a + (b - a) * (k as f32 + 0.5) / 8.0);
        for &(co, si) in &arcs.dirs {
            if let Some(s) = img.sample(c.x + rr * co, c.y + rr * si)
                && s < cap
            {
                v.push(s);
            }
        }
    }
    percentile(v.into_iter(), 0.5)
}

/// Median pupil edge width (px), circularity (%) and visible boundary (%)
/// from 32 radial profiles. A ray sees the boundary when it crosses a clear
/// dark-to-bright step starting inside the pupil's grey level.
fn pupil_edge(img: &Plane, pupil: &Pupil) -> (f32, f32, f32) {
    let c = pupil.circle;
    let cap = pupil.highlight_level();
    let step = 0.5f32;
    let n = ((0.8 * c.r) / step).ceil() as usize + 1; // 0.6 r .. 1.4 r
    let (mut widths, mut radii) = (Vec::new(), Vec::new());
    'ray: for t in 0..32 {
        let mut prof = vec![0.0f32; n];
        for (i, p) in prof.iter_mut().enumerate() {
            let r = 0.6 * c.r + i as f32 * step;
            let mut s = 0.0;
            for d in [-1.0f32, 0.0, 1.0] {
                let th = std::f32::consts::TAU * (t as f32 + d * 0.15) / 32.0;
                match img.sample(c.x + r * th.cos(), c.y + r * th.sin()) {
                    Some(v) if v < cap => s += v / 3.0,
                    _ => continue 'ray,
                }
            }
            *p = s;
        }
        let q = n / 5;
        let inner = prof[..q].iter().sum::<f32>() / q as f32;
        let outer = prof[n - q..].iter().sum::<f32>() / q as f32;
        let (mut g_max, mut at) = (0.0f32, 0usize);
        for i in 1..n - 1 {
            let g = (prof[i + 1] - prof[i - 1]) / (2.0 * step);
            if g > g_max {
                (g_max, at) = (g, i);
            }
        }
        let dark = pupil.grey + 0.5 * (pupil.ring_grey - pupil.grey);
        if g_max > 0.0 && outer - inner > 5.0 && inner < dark {
            widths.push(((outer - inner) / g_max).max(1.0));
            radii.push(0.6 * c.r + at as f32 * step);
        }
    }
    let visible = 100.0 * widths.len() as f32 / 32.0;
    if widths.len() < 8 {
        return (f32::INFINITY, 0.0, visible); // no measurable edge: treat as blurred
    }
    let width = percentile_f(&mut widths, 0.5);
    let mean = radii.iter().sum::<f32>() / radii.len() as f32;
    let sd = (radii.iter().map(|r| (r - mean).powi(2)).sum::<f32>() / radii.len() as f32).sqrt();
    (
        width,
        (100.0 * (1.0 - sd / c.r.max(1.0))).clamp(0.0, 100.0),
        visible,
    )
}

fn percentile_f(v: &mut [f32], p: f32) -> f32 {
    let k = ((v.len() as f32 * p) as usize).min(v.len() - 1);
    *v.select_nth_unstable_by(k, f32::total_cmp).1
}

/// The lateral limbus along 64 rays (30° above to 45° below horizontal,
/// both sides): the % of rays that see it, and its contrast (%).
///
/// A ray sees the limbus when its strongest dark-to-bright step within
/// ±15 % of the iris radius lies on the fitted circle (within 3 % of the
/// radius): a misplaced limbus circle, or one hidden by lids, scores low.
/// The step is between the mean grey levels of [`EDGE_SIDE_PX`] either
/// side, not between two pixels 3 px apart: the limbus in near-infrared is
/// often a ramp 10–20 px wide, whose steepest 3 px wander along it with the
/// texture and noise (a fitting circle then scored 4 %); the means peak at
/// the ramp's middle.
///
/// The contrast is the median over the rays of the Michelson contrast
/// across the circle: the mean grey level of the [`EDGE_SIDE_PX`] just
/// outside against those just inside, at the position within the same 3 %
/// where it is largest. It is taken at the boundary, not between bands of
/// iris and sclera farther from it: a light iris in near-infrared can be as
/// bright as the sclera a few pixels from the limbus and still show a clear
/// edge, because its rim darkens into a narrow ring just inside it (the
/// limbal ring); band medians 10–20 px either side see no contrast there and
/// refused such eyes as "iris edge unclear" although the circle fits them.
fn limbus_edge(img: &Plane, c: &Circle) -> (f32, f32) {
    let arcs = crate::edge::Arcs::sectors(&LATERAL, 64);
    let tol = (0.03 * c.r).max(2.0);
    let side = EDGE_SIDE_PX;
    // Profile from 0.85 r − side to 1.15 r + side in half-pixel steps.
    const STEP: f32 = 0.5;
    let (r0, r1) = (0.85 * c.r - side, 1.15 * c.r + side);
    let n = ((r1 - r0) / STEP).round() as usize + 1;
    let at = |r: f32| (((r - r0) / STEP).round().max(0.0) as usize).min(n - 1);
    let mut prof = vec![0.0f32; n];
    let (mut seen, mut contrasts) = (0, Vec::new());
    for &(dx, dy) in &arcs.dirs {
        // Outside the picture: NaN, which no comparison below selects.
        for (i, v) in prof.iter_mut().enumerate() {
            let r = r0 + i as f32 * STEP;
            *v = img.sample(c.x + r * dx, c.y + r * dy).unwrap_or(f32::NAN);
        }
        let mean = |a: f32, b: f32| {
            let s = &prof[at(a)..=at(b)];
            s.iter().sum::<f32>() / s.len() as f32
        };
        // Over ±15 % of the radius: the strongest step between the grey
        // levels either side, and the best contrast on the circle.
        let (mut best_g, mut best_r) = (0.0f32, 0.0f32);
        let mut best = f32::NEG_INFINITY;
        let mut r = 0.85 * c.r;
        while r <= 1.15 * c.r {
            let inner = mean(r - side, r - 1.0);
            let outer = mean(r + 1.0, r + side);
            if outer - inner > best_g {
                (best_g, best_r) = (outer - inner, r);
            }
            let m = 100.0 * (outer - inner) / (outer + inner).max(1.0);
            if (r - c.r).abs() <= tol && m > best {
                best = m;
            }
            r += STEP;
        }
        if best_g > 6.0 && (best_r - c.r).abs() <= tol {
            seen += 1;
        }
        // A ray whose sides leave the picture has no contrast to offer.
        if best.is_finite() {
            contrasts.push(best);
        }
    }
    let visible = 100.0 * seen as f32 / arcs.dirs.len().max(1) as f32;
    let contrast = if contrasts.is_empty() {
        0.0
    } else {
        percentile_f(&mut contrasts, 0.5)
    };
    (visible, contrast)
}

/// Width (px) of the grey levels averaged on each side of the limbus for its
/// step and contrast: about the width of the dark limbal ring of a light
/// iris, wide enough to average out texture and noise, narrow enough to stay
/// within the ring and the sclera beside it.
const EDGE_SIDE_PX: f32 = 5.0;

/// % of the band between the pupil and limbus circles (by area) that lies
/// inside the image, sampled as the rubber sheet samples it.
fn band_in_frame(img: &Plane, pupil: &Circle, limbus: &Circle) -> f32 {
    let (mut inside, mut total) = (0.0f32, 0.0f32);
    for j in 0..128 {
        let t = std::f32::consts::TAU * j as f32 / 128.0;
        let (x0, y0) = pupil.point(t.cos(), t.sin());
        let (x1, y1) = limbus.point(t.cos(), t.sin());
        for i in 0..16 {
            let rho = (i as f32 + 0.5) / 16.0;
            let (x, y) = (x0 + rho * (x1 - x0), y0 + rho * (y1 - y0));
            // Area element of the sheet: proportional to the distance from
            // the centre.
            let w = (x - limbus.x).hypot(y - limbus.y);
            total += w;
            if x >= 0.0 && y >= 0.0 && x <= (img.width - 1) as f32 && y <= (img.height - 1) as f32 {
                inside += w;
            }
        }
    }
    100.0 * inside / total.max(1e-6)
}

/// Shannon entropy of the grey-level histogram, in bits.
fn entropy_bits(img: &Plane) -> f32 {
    let mut hist = [0u32; 256];
    for &v in &img.data {
        hist[v.clamp(0.0, 255.0) as usize] += 1;
    }
    let n = img.data.len().max(1) as f32;
    hist.iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f32 / n)
        .map(|p| -p * p.log2())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A light iris as CASIA's near-infrared captures show many: pupil r 35,
    /// iris 185 out to r 96 with a fine texture, then a dark limbal ring
    /// (150) out to the limbus at r 104, and a sclera (185) as bright as the
    /// iris beyond it.
    fn light_iris_with_limbal_ring() -> Plane {
        let mut p = Plane::new(320, 280, 185.0);
        for y in 0..280 {
            for x in 0..320 {
                let (dx, dy) = (x as f32 - 160.0, y as f32 - 140.0);
                let d = dx.hypot(dy);
                let g = match d {
                    d if d < 35.0 => 40.0,
                    d if d < 96.0 => 185.0 + 6.0 * (dy.atan2(dx) * 31.0).sin(),
                    d if d < 104.0 => 150.0,
                    _ => 185.0,
                };
                p.set(x, y, g);
            }
        }
        p
    }

    fn centred(r: f32) -> Circle {
        Circle {
            x: 160.0,
            y: 140.0,
            r,
        }
    }

    #[test]
    fn a_light_iris_shows_its_limbus_contrast_at_the_boundary() {
        let img = light_iris_with_limbal_ring();
        let (visible, contrast) = limbus_edge(&img, &centred(104.0));
        assert!(visible >= 90.0, "{visible}");
        // (185 − 150) / (185 + 150) ≈ 10 %.
        assert!(contrast >= 8.0, "{contrast}");
        assert!(contrast > QualityParams::default().min_iris_sclera_contrast);
        // Bands of iris (0.8–0.92 r) and sclera (1.12–1.3 r) away from the
        // boundary have the same grey level: no contrast between them.
        let lateral = crate::edge::Arcs::sectors(&LATERAL, 64);
        let iris = ring_median(&img, &centred(104.0), 0.8, 0.92, 256.0, &lateral);
        let sclera = ring_median(&img, &centred(104.0), 1.12, 1.3, 256.0, &lateral);
        assert!((sclera - iris).abs() < 0.02 * sclera, "{iris} {sclera}");
    }

    #[test]
    fn a_limbus_circle_off_the_edge_sees_neither_contrast_nor_edge() {
        let img = light_iris_with_limbal_ring();
        // On the flat sclera, 16 px beyond the limbus.
        let (visible, contrast) = limbus_edge(&img, &centred(120.0));
        assert!(visible < 10.0, "{visible}");
        assert!(
            contrast < QualityParams::default().min_iris_sclera_contrast,
            "{contrast}"
        );
    }

    #[test]
    fn a_limbus_that_is_a_wide_ramp_is_seen_on_its_circle() {
        // Iris 135 out to r 96, a ramp up to the sclera (180) at r 112, the
        // fitted circle in its middle, and sensor noise (σ 4 grey levels):
        // the limbus of many near-infrared captures. The steepest 3 px of
        // such a ramp wander along it with the noise: 43 % of the rays saw
        // the limbus on its circle by a 3-px step, 68 % by the means.
        let mut rng = crate::synth::Rng::new(&[15]);
        let mut img = Plane::new(320, 280, 0.0);
        for y in 0..280 {
            for x in 0..320 {
                let d = (x as f32 - 160.0).hypot(y as f32 - 140.0);
                let g = match d {
                    d if d < 35.0 => 40.0,
                    d if d < 96.0 => 135.0,
                    d if d < 112.0 => 135.0 + 45.0 * (d - 96.0) / 16.0,
                    _ => 180.0,
                };
                img.set(x, y, g + 4.0 * rng.normal());
            }
        }
        let (visible, contrast) = limbus_edge(&img, &centred(104.0));
        assert!(visible >= 60.0, "{visible}");
        assert!(contrast >= 4.0, "{contrast}");
    }

    /// A report that passes every default limit.
    fn good_report() -> QualityReport {
        let mut r = QualityReport {
            usable_iris_area: 85.0,
            iris_pupil_contrast: 45.0,
            iris_sclera_contrast: 8.0,
            pupil_iris_ratio: 40.0,
            pupil_circularity: 97.0,
            pupil_visible: 95.0,
            limbus_visible: 70.0,
            sharpness: 90.0,
            grey_level_spread: 7.0,
            iris_diameter: 210.0,
            margin: 10.0,
            iris_in_frame: 100.0,
            iris_grey: 150.0,
            score: 70.0,
            pupil: centred(42.0),
            pupil_contour: Contour::circle(&centred(42.0)),
            iris: centred(105.0),
            verdict: Verdict {
                usable: true,
                reasons: Vec::new(),
            },
        };
        r.verdict = verdict(&r, &QualityParams::default());
        assert!(r.verdict.usable, "{}", r.verdict);
        r
    }

    #[test]
    fn a_pupil_boundary_mostly_hidden_is_retaken() {
        let q = QualityParams::default();
        let mut r = good_report();
        r.pupil_visible = q.min_pupil_visible;
        assert!(verdict(&r, &q).usable);
        r.pupil_visible = q.min_pupil_visible - 5.0;
        let v = verdict(&r, &q);
        assert!(!v.usable);
        assert_eq!(v.reasons, ["pupil partly hidden, open the eye wider"]);
    }

    #[test]
    fn a_limbus_mostly_unseen_on_its_circle_is_retaken() {
        let q = QualityParams::default();
        let mut r = good_report();
        r.limbus_visible = q.min_limbus_visible;
        assert!(verdict(&r, &q).usable);
        r.limbus_visible = q.min_limbus_visible - 5.0;
        let v = verdict(&r, &q);
        assert!(!v.usable);
        assert_eq!(
            v.reasons,
            ["sides of the iris hidden, open the eye wider and centre it"]
        );
    }

    #[test]
    fn a_limbus_circle_run_past_the_edge_is_retaken_by_its_visibility() {
        // The whole chain of measure and limit: on the fitted circle the
        // limbus is seen, 16 px beyond it hardly at all.
        let img = light_iris_with_limbal_ring();
        let q = QualityParams::default();
        for (r, usable) in [(104.0, true), (120.0, false)] {
            let mut report = good_report();
            report.limbus_visible = limbus_edge(&img, &centred(r)).0;
            assert_eq!(verdict(&report, &q).usable, usable, "r {r}");
        }
    }
}
