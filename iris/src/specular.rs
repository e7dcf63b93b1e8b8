//! Stage 0.5 — specular reflections of the illuminator, found and filled in
//! before the boundaries are searched.
//!
//! Layout: [`SpecularParams`], [`fill_reflections`], the inpainting, then the
//! min/max filters.
//!
//! Why: a near-infrared scanner lights the eye with one LED or a ring of
//! them, and each leaves a small saturated spot, usually inside the pupil.
//! One spot is a hole in the dark pupil blob; a ring of them cuts the pupil
//! into a dark disc inside the ring and a dark annulus outside it, and the
//! disc — small, round and darker than its surround — is then taken for the
//! pupil and the real pupil for the iris. Boundary searches only need the
//! reflections gone, not their texture, so they run on a copy in which each
//! reflection is replaced by the grey level around it.
//!
//! Method (Masek's and OSIRIS' "fill the reflections" step, done with grey
//! morphology): a grey-level opening with a square of side
//! `2·half_width + 1` removes every bright feature narrower than the square
//! and leaves larger regions (skin, sclera) as they are; the white top-hat
//! (image − opening) is large only on such narrow bright features. Pixels
//! whose top-hat exceeds [`SpecularParams::min_excess`] grey levels, grown
//! by one pixel for the blurred rim, make bright spots. A reflection's core
//! is spot pixels among the brightest 1 % of the picture (specular light is;
//! iris texture between crypts is not); a core must be compact (fit in two
//! squares), and the spot pixels within half a square of a compact core are
//! its glow. Cores are judged without their glows because the glows of a
//! ring of LEDs touch and make one ring-shaped spot far larger than any
//! reflection. Long thin bright features (the skin between eyelashes) have
//! no compact core and stay. Each reflection is then inpainted from outside
//! inwards with the grey level around it (the opening's value would still
//! reach into the glow of the next LED and leave a light disc in the
//! pupil). The encoder still samples the original image, where the noise
//! mask removes reflections lying on the iris rather than inventing texture
//! for them.

use serde::{Deserialize, Serialize};

use crate::plane::Plane;

/// Tunable parameters of the reflection filling.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpecularParams {
    /// Half the side of the opening's square, as a fraction of the image's
    /// shorter side (an LED spot is ≈ 2 % of it on close-range scanners).
    pub half_width_frac: f32,
    /// Least top-hat (grey levels above the opening) that is a reflection.
    pub min_excess: f32,
    /// A reflection is at least this bright: the grey level below which this
    /// fraction of the picture lies.
    pub min_percentile: f32,
}

impl Default for SpecularParams {
    fn default() -> Self {
        SpecularParams {
            half_width_frac: 0.016,
            min_excess: 60.0,
            min_percentile: 0.99,
        }
    }
}

/// A copy of `img` with the illuminator's reflections replaced by the grey
/// level around them (see the module docs).
pub fn fill_reflections(img: &Plane, p: &SpecularParams) -> Plane {
    let (w, h) = (img.width, img.height);
    let k = ((p.half_width_frac * w.min(h) as f32).round() as usize).max(1);
    let opened = max_filter(&min_filter(img, k), k);
    // Specular light is among the brightest in the picture, not merely
    // brighter than what is around it (iris texture between crypts, skin
    // between lashes): a spot counts when its peak is. Its glow, above the
    // opening by as much but not as bright, belongs to it.
    let bright = img.percentile(p.min_percentile);
    let mut spot = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if img.data[i] - opened.data[i] > p.min_excess {
                // Grown by one pixel: the spot's blurred rim is reflection too.
                for yy in y.saturating_sub(1)..(y + 2).min(h) {
                    for xx in x.saturating_sub(1)..(x + 2).min(w) {
                        spot[yy * w + xx] = true;
                    }
                }
            }
        }
    }
    // Compact spots only, judged by their cores (the pixels among the
    // brightest 1 %): a core must fit in two of the opening's squares. The
    // glow around a core is judged with it, not on its own: in a ring of
    // LEDs inside a pupil the glows touch and make one ring-shaped spot far
    // larger than any single reflection, though each core is small.
    let max_extent = 2 * (2 * k + 1);
    let mut core = Vec::new();
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut pixels = Vec::new();
    let is_core = |i: usize| spot[i] && img.data[i] >= bright;
    for start in 0..w * h {
        if !is_core(start) || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        pixels.clear();
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            pixels.push(i);
            for j in neighbours(i, w, h) {
                if is_core(j) && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        if x1 - x0 < max_extent && y1 - y0 < max_extent {
            core.extend_from_slice(&pixels);
        }
    }
    // A reflection is its compact core and the spot pixels (its glow)
    // within one square's half-width of it.
    let near_core = near(&core, w, h, k);
    let hole: Vec<bool> = (0..w * h).map(|i| spot[i] && near_core[i]).collect();
    inpaint(img, &hole)
}

/// Pixels within `k` (in x and in y) of one of the `marks` in a `w × h`
/// image: a dilation by a `(2k+1)²` square, done by marking each mark's
/// square, since the marks (reflection cores) are a few pixels.
fn near(marks: &[usize], w: usize, h: usize, k: usize) -> Vec<bool> {
    let mut out = vec![false; w * h];
    for &i in marks {
        let (x, y) = (i % w, i / w);
        let xs = x.saturating_sub(k)..(x + k + 1).min(w);
        for yy in y.saturating_sub(k)..(y + k + 1).min(h) {
            out[yy * w + xs.start..yy * w + xs.end].fill(true);
        }
    }
    out
}

/// `img` with the `hole` pixels filled from outside inwards (onion peel):
/// each takes the mean of its 8 neighbours already known, so a reflection
/// takes the grey level that surrounds it. The opening's value would not
/// do: where glows of neighbouring LEDs overlap, its square still reaches
/// glow, and the spots become lighter than the pupil around them.
fn inpaint(img: &Plane, hole: &[bool]) -> Plane {
    let (w, h) = (img.width, img.height);
    let mut out = img.clone();
    let mut known: Vec<bool> = hole.iter().map(|&b| !b).collect();
    let mut front: Vec<usize> = (0..w * h)
        .filter(|&i| hole[i] && ring8(i, w, h).any(|j| known[j]))
        .collect();
    let mut queued: Vec<bool> = vec![false; w * h];
    front.iter().for_each(|&i| queued[i] = true);
    let mut next = Vec::new();
    while !front.is_empty() {
        // Values of one layer come from the layers outside it only.
        let vals: Vec<f32> = front
            .iter()
            .map(|&i| {
                let (s, n) = ring8(i, w, h)
                    .filter(|&j| known[j])
                    .fold((0.0, 0), |(s, n), j| (s + out.data[j], n + 1));
                s / n.max(1) as f32
            })
            .collect();
        for (&i, v) in front.iter().zip(vals) {
            out.data[i] = v;
            known[i] = true;
        }
        next.clear();
        for &i in &front {
            for j in ring8(i, w, h) {
                if hole[j] && !queued[j] {
                    queued[j] = true;
                    next.push(j);
                }
            }
        }
        std::mem::swap(&mut front, &mut next);
    }
    out
}

/// The 8 neighbours of pixel `i` inside a `w × h` image.
fn ring8(i: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = ((i % w) as isize, (i / w) as isize);
    (-1isize..=1)
        .flat_map(move |dy| (-1isize..=1).map(move |dx| (x + dx, y + dy)))
        .filter(move |&(xx, yy)| {
            (xx, yy) != (x, y) && xx >= 0 && yy >= 0 && xx < w as isize && yy < h as isize
        })
        .map(move |(xx, yy)| yy as usize * w + xx as usize)
}

fn neighbours(i: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % w, i / w);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < w).then(|| i + 1),
        (y > 0).then(|| i - w),
        (y + 1 < h).then(|| i + w),
    ]
    .into_iter()
    .flatten()
}

/// Grey erosion with a `(2k+1)²` square (separable; edges clamped).
fn min_filter(img: &Plane, k: usize) -> Plane {
    // No NaN in an image: a plain comparison is the minimum, one
    // instruction where `f32::min` takes several.
    separable(img, k, |a, b| if a < b { a } else { b }, f32::INFINITY)
}

/// Grey dilation with a `(2k+1)²` square.
fn max_filter(img: &Plane, k: usize) -> Plane {
    separable(img, k, |a, b| if a > b { a } else { b }, f32::NEG_INFINITY)
}

/// `op` is generic (not a function pointer) so that it is inlined into the
/// running min/max: a call per sample would cost more than the sample.
fn separable(img: &Plane, k: usize, op: impl Fn(f32, f32) -> f32 + Copy, id: f32) -> Plane {
    let (w, h) = (img.width, img.height);
    let mut scratch = Scratch::default();
    let mut tmp = vec![0.0f32; w * h];
    for (src, dst) in img.data.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        scratch.window(src, dst, k, op, id);
    }
    let mut out = Plane::new(w, h, 0.0);
    down_columns(&tmp, &mut out.data, w, k, op, id);
    out
}

/// The running min or max of [`Scratch::window`] down every column of the
/// `w`-wide image `src` at once, a whole row per step: the same operations
/// per column as `window` on that column, read row by row.
fn down_columns(
    src: &[f32],
    dst: &mut [f32],
    w: usize,
    k: usize,
    op: impl Fn(f32, f32) -> f32 + Copy,
    id: f32,
) {
    let h = src.len() / w;
    let m = 2 * k + 1;
    let len = (h + 2 * k).div_ceil(m) * m;
    let edge = vec![id; w];
    // Row p of the column padded by k identities at each end.
    let row = |p: usize| match p.checked_sub(k) {
        Some(y) if y < h => &src[y * w..(y + 1) * w],
        _ => &edge[..],
    };
    let (mut fwd, mut bwd) = (vec![id; len * w], vec![id; len * w]);
    let combine = |out: &mut [f32], a: &[f32], b: &[f32]| {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = op(x, y);
        }
    };
    for b in (0..len).step_by(m) {
        fwd[b * w..(b + 1) * w].copy_from_slice(row(b));
        for i in b + 1..b + m {
            let (done, rest) = fwd.split_at_mut(i * w);
            combine(&mut rest[..w], &done[(i - 1) * w..], row(i));
        }
        let last = b + m - 1;
        bwd[last * w..(last + 1) * w].copy_from_slice(row(last));
        for i in (b..last).rev() {
            let (head, done) = bwd.split_at_mut((i + 1) * w);
            combine(&mut head[i * w..], &done[..w], row(i));
        }
    }
    for (y, out) in dst.chunks_exact_mut(w).enumerate() {
        combine(out, &bwd[y * w..(y + 1) * w], &fwd[(y + m - 1) * w..]);
    }
}

/// Buffers of the van Herk / Gil–Werman running min or max: three
/// operations per sample whatever the window, so the filter costs the same
/// on a 1280-px image (wide square) as on a 320-px one.
#[derive(Default)]
struct Scratch {
    pad: Vec<f32>,
    fwd: Vec<f32>,
    bwd: Vec<f32>,
}

impl Scratch {
    /// `dst[i] = op` over `src[i−k ..= i+k]` (clipped to the line).
    fn window(
        &mut self,
        src: &[f32],
        dst: &mut [f32],
        k: usize,
        op: impl Fn(f32, f32) -> f32,
        id: f32,
    ) {
        let m = 2 * k + 1;
        let len = (src.len() + 2 * k).div_ceil(m) * m;
        self.pad.clear();
        self.pad.resize(len, id);
        self.pad[k..k + src.len()].copy_from_slice(src);
        self.fwd.resize(len, id);
        self.bwd.resize(len, id);
        for b in (0..len).step_by(m) {
            self.fwd[b] = self.pad[b];
            for i in b + 1..b + m {
                self.fwd[i] = op(self.fwd[i - 1], self.pad[i]);
            }
            self.bwd[b + m - 1] = self.pad[b + m - 1];
            for i in (b..b + m - 1).rev() {
                self.bwd[i] = op(self.bwd[i + 1], self.pad[i]);
            }
        }
        for (i, d) in dst.iter_mut().enumerate() {
            *d = op(self.bwd[i], self.fwd[i + m - 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark pupil on grey iris with a ring of eight LED spots inside the
    /// pupil, and a long bright stripe (skin between lashes) on the iris.
    fn eye() -> Plane {
        let mut p = Plane::new(160, 140, 120.0);
        for y in 0..140 {
            for x in 0..160 {
                let (dx, dy) = (x as f32 - 80.0, y as f32 - 70.0);
                if dx.hypot(dy) < 30.0 {
                    p.set(x, y, 25.0);
                }
            }
        }
        for s in 0..8 {
            let t = std::f32::consts::TAU * s as f32 / 8.0;
            let (cx, cy) = (80.0 + 15.0 * t.cos(), 70.0 + 15.0 * t.sin());
            for y in 0..140 {
                for x in 0..160 {
                    if (x as f32 - cx).hypot(y as f32 - cy) < 2.0 {
                        p.set(x, y, 255.0);
                    }
                }
            }
        }
        for x in 10..60 {
            p.set(x, 10, 250.0);
            p.set(x, 11, 250.0);
        }
        p
    }

    #[test]
    fn led_spots_in_the_pupil_take_the_pupil_grey_and_long_stripes_stay() {
        let img = eye();
        let out = fill_reflections(&img, &SpecularParams::default());
        for y in 40..100 {
            for x in 50..110 {
                if (x as f32 - 80.0).hypot(y as f32 - 70.0) < 27.0 {
                    assert!(out.get(x, y) <= 30.0, "({x},{y}) {}", out.get(x, y));
                }
            }
        }
        // The iris around the pupil and the stripe are untouched.
        assert_eq!(out.get(130, 70), 120.0);
        assert_eq!(out.get(30, 10), 250.0);
    }

    #[test]
    fn leds_whose_glows_touch_are_still_filled() {
        // The eight spots inside a glow ring 4 px wide: the glow joins them
        // into one ring-shaped bright feature far wider than a reflection,
        // yet each core is small, and the spots take the pupil's grey.
        let mut img = eye();
        for y in 0..140 {
            for x in 0..160 {
                let d = (x as f32 - 80.0).hypot(y as f32 - 70.0);
                if (13.0..17.0).contains(&d) && img.get(x, y) < 255.0 {
                    img.set(x, y, 100.0);
                }
            }
        }
        let out = fill_reflections(&img, &SpecularParams::default());
        for (i, &v) in img.data.iter().enumerate() {
            if v == 255.0 {
                assert!(out.data[i] <= 100.0, "spot pixel {i}: {}", out.data[i]);
            }
        }
        assert_eq!(out.get(30, 10), 250.0, "the long stripe stays");
    }

    #[test]
    fn running_min_and_max_equal_the_direct_window() {
        let src: Vec<f32> = (0..37).map(|i| ((i * 7919) % 23) as f32).collect();
        let mut scratch = Scratch::default();
        for k in [1, 2, 4, 9] {
            for (op, id) in [
                (f32::min as fn(f32, f32) -> f32, f32::INFINITY),
                (f32::max, f32::NEG_INFINITY),
            ] {
                let mut got = vec![0.0; src.len()];
                scratch.window(&src, &mut got, k, op, id);
                for (i, g) in got.iter().enumerate() {
                    let direct = src[i.saturating_sub(k)..(i + k + 1).min(src.len())]
                        .iter()
                        .copied()
                        .fold(id, op);
                    assert_eq!(*g, direct, "k {k} at {i}");
                }
            }
        }
    }

    #[test]
    fn the_running_filter_down_columns_equals_it_along_each_column() {
        let (w, h) = (7, 23);
        let src: Vec<f32> = (0..w * h).map(|i| ((i * 7919) % 31) as f32).collect();
        let mut scratch = Scratch::default();
        for k in [1, 3, 12] {
            let mut got = vec![0.0; w * h];
            down_columns(&src, &mut got, w, k, f32::max, f32::NEG_INFINITY);
            for x in 0..w {
                let col: Vec<f32> = (0..h).map(|y| src[y * w + x]).collect();
                let mut want = vec![0.0; h];
                scratch.window(&col, &mut want, k, f32::max, f32::NEG_INFINITY);
                for y in 0..h {
                    assert_eq!(got[y * w + x], want[y], "k {k} at ({x},{y})");
                }
            }
        }
    }

    #[test]
    fn an_image_without_reflections_is_unchanged() {
        // The same eye with the LED spots gone (the long stripe stays).
        let mut img = eye();
        img.data
            .iter_mut()
            .filter(|v| **v == 255.0)
            .for_each(|v| *v = 25.0);
        assert_eq!(fill_reflections(&img, &SpecularParams::default()), img);
    }
}
