//! Deterministic synthetic eye images for tests, benchmarks and evaluation.
//!
//! Layout: [`Rng`] (seeded ChaCha8 with uniform/normal draws), [`Identity`]
//! (the iris texture of one eye, on a polar grid), [`Resolution`],
//! [`Truth`], [`render`] (one capture of an identity), then drawing helpers.
//!
//! Identity (seeded by the identity number): a broadband random field
//! (sum of oriented sinusoids with 1/√f amplitudes), radial furrows, crypts,
//! a zig-zag collarette separating a pupillary zone of different brightness,
//! and pigment spots; plus a slight pupil decentration and base grey level.
//!
//! Capture (seeded by identity and capture number): eye rotation (±12°),
//! pupil dilation (pupil/iris 0.25–0.55, the texture stretches as a rubber
//! sheet), iris size and position, defocus blur, sensor noise, uneven
//! illumination, upper/lower eyelids, eyelashes and the illuminator's
//! specular highlight, at 320×240 or 640×480.
//!
//! [`mosaic`] makes gallery fillers for search benchmarks from real codes.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::plane::{Circle, Plane};
use crate::template::{Template, WORDS};
use image::GrayImage;

/// Seeded random source with the few distributions the generator needs.
pub struct Rng(ChaCha8Rng);

impl Rng {
    pub fn new(parts: &[u64]) -> Rng {
        let seed = parts.iter().fold(0x243f_6a88_85a3_08d3u64, |h, &p| {
            (h ^ p).wrapping_mul(0x1000_0000_01b3).rotate_left(29)
        });
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in [a, b).
    pub fn uniform(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * ((self.0.next_u32() >> 8) as f32 / (1u32 << 24) as f32)
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.0.next_u32()) * u64::from(n.max(1))) >> 32) as u32
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u = self.uniform(1e-7, 1.0);
        let v = self.uniform(0.0, 1.0);
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

const TEX_ROWS: usize = 48;
const TEX_COLS: usize = 512;

/// One synthetic eye: everything that stays the same across captures.
pub struct Identity {
    /// Iris texture on a polar grid: row = ρ (0 pupil … 1 limbus), col = θ.
    texture: Vec<f32>,
    /// Pupil centre offset from the iris centre, as a fraction of iris radius.
    pupil_offset: (f32, f32),
    sclera: f32,
    skin: f32,
    pupil: f32,
}

impl Identity {
    /// The eye of identity `id` in the data set seeded by `seed`.
    pub fn new(seed: u64, id: u64) -> Identity {
        let mut rng = Rng::new(&[seed, id, 1]);
        let base = rng.uniform(75.0, 125.0);
        let mut tex = vec![base; TEX_ROWS * TEX_COLS];
        let col_angle = |j: usize| std::f32::consts::TAU * j as f32 / TEX_COLS as f32;
        let rho_of = |i: usize| i as f32 / (TEX_ROWS - 1) as f32;
        // Broadband random field: many oriented sinusoids, angular frequency
        // log-uniform in 2–90 cycles per turn, amplitude falling as 1/√f.
        for _ in 0..240 {
            let m = (2.0f32 * 45.0f32.powf(rng.uniform(0.0, 1.0))).round(); // cycles around the iris
            let k = rng.uniform(-6.0, 6.0); // cycles across the band (sign = spiral sense)
            let amp = rng.uniform(1.0, 4.0) * (4.0 / m).sqrt().min(1.0);
            let ph = rng.uniform(0.0, std::f32::consts::TAU);
            for i in 0..TEX_ROWS {
                for j in 0..TEX_COLS {
                    let a = m * col_angle(j) + std::f32::consts::TAU * k * rho_of(i) + ph;
                    tex[i * TEX_COLS + j] += amp * a.cos();
                }
            }
        }
        // Collarette: zig-zag ridge; the pupillary zone inside differs in tone.
        let (rc, zig, zk, zone) = (
            rng.uniform(0.25, 0.42),
            rng.uniform(0.02, 0.05),
            6.0 + rng.below(10) as f32,
            rng.uniform(-14.0, 14.0),
        );
        let zph = rng.uniform(0.0, std::f32::consts::TAU);
        for i in 0..TEX_ROWS {
            for j in 0..TEX_COLS {
                let c = rc + zig * (zk * col_angle(j) + zph).sin();
                let d = rho_of(i) - c;
                let v = &mut tex[i * TEX_COLS + j];
                *v += 14.0 * (-d * d / (2.0 * 0.02f32.powi(2))).exp();
                if d < 0.0 {
                    *v += zone;
                }
            }
        }
        // Radial furrows (dark or light streaks) and crypts (dark pits).
        for _ in 0..(25 + rng.below(20)) {
            let (t0, w) = (rng.uniform(0.0, TEX_COLS as f32), rng.uniform(1.5, 5.0));
            let (r0, r1, depth) = (
                rng.uniform(0.0, 0.5),
                rng.uniform(0.5, 1.0),
                rng.uniform(-18.0, 10.0),
            );
            let bend = rng.uniform(-12.0, 12.0);
            splat(&mut tex, |i, j| {
                let rho = rho_of(i);
                if rho < r0 || rho > r1 {
                    return 0.0;
                }
                let centre = t0 + bend * rho;
                let dj = circ_dist(j as f32, centre, TEX_COLS as f32);
                depth * (-dj * dj / (2.0 * w * w)).exp()
            });
        }
        for _ in 0..(12 + rng.below(16)) {
            let (rr, tt) = (rng.uniform(0.1, 0.9), rng.uniform(0.0, TEX_COLS as f32));
            let (sr, st, depth) = (
                rng.uniform(0.03, 0.08),
                rng.uniform(3.0, 10.0),
                rng.uniform(-30.0, -10.0),
            );
            splat(&mut tex, |i, j| {
                let (dr, dt) = (
                    (rho_of(i) - rr) / sr,
                    circ_dist(j as f32, tt, TEX_COLS as f32) / st,
                );
                depth * (-(dr * dr + dt * dt) / 2.0).exp()
            });
        }
        // Pigment spots.
        for _ in 0..rng.below(6) {
            let (rr, tt, s, depth) = (
                rng.uniform(0.2, 0.9),
                rng.uniform(0.0, TEX_COLS as f32),
                rng.uniform(1.5, 4.0),
                rng.uniform(-25.0, 25.0),
            );
            splat(&mut tex, |i, j| {
                let (dr, dt) = (
                    (rho_of(i) - rr) * 100.0 / s,
                    circ_dist(j as f32, tt, TEX_COLS as f32) / s,
                );
                depth * (-(dr * dr + dt * dt) / 2.0).exp()
            });
        }
        let pupil_offset = (rng.uniform(-0.06, 0.06), rng.uniform(-0.05, 0.03));
        Identity {
            texture: tex,
            pupil_offset,
            sclera: rng.uniform(165.0, 205.0),
            skin: rng.uniform(130.0, 185.0),
            pupil: rng.uniform(12.0, 30.0),
        }
    }

    fn texture_at(&self, rho: f32, theta: f32) -> f32 {
        let x = theta.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU * TEX_COLS as f32;
        let y = rho.clamp(0.0, 1.0) * (TEX_ROWS - 1) as f32;
        let (j0, i0) = (x as usize % TEX_COLS, (y as usize).min(TEX_ROWS - 2));
        let (fx, fy) = (x - x.floor(), y - i0 as f32);
        let j1 = (j0 + 1) % TEX_COLS;
        let t = &self.texture;
        let a = t[i0 * TEX_COLS + j0] * (1.0 - fx) + t[i0 * TEX_COLS + j1] * fx;
        let b = t[(i0 + 1) * TEX_COLS + j0] * (1.0 - fx) + t[(i0 + 1) * TEX_COLS + j1] * fx;
        a * (1.0 - fy) + b * fy
    }
}

fn splat(tex: &mut [f32], f: impl Fn(usize, usize) -> f32) {
    for i in 0..TEX_ROWS {
        for j in 0..TEX_COLS {
            tex[i * TEX_COLS + j] += f(i, j);
        }
    }
}

fn circ_dist(a: f32, b: f32, n: f32) -> f32 {
    let d = (a - b).rem_euclid(n);
    if d > n / 2.0 { d - n } else { d }
}

/// Image size of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// 320×240, iris 116–144 px across.
    Small,
    /// 640×480, iris 210–270 px across.
    Large,
}

impl Resolution {
    fn dims(self) -> (usize, usize, f32) {
        match self {
            Resolution::Small => (320, 240, 1.0),
            Resolution::Large => (640, 480, 1.9),
        }
    }
}

/// Ground truth of a rendered capture (for segmentation tests).
#[derive(Clone, Copy, Debug)]
pub struct Truth {
    pub pupil: Circle,
    pub iris: Circle,
    pub rotation_deg: f32,
    pub blur_sigma: f32,
}

/// Render capture `capture` of `ident` (identity seeds `seed`, `id`).
pub fn render(
    ident: &Identity,
    seed: u64,
    id: u64,
    capture: u64,
    res: Resolution,
) -> (GrayImage, Truth) {
    let mut rng = Rng::new(&[seed, id, capture, 2]);
    let (w, h, scale) = res.dims();
    let ri = rng.uniform(58.0, 72.0) * scale;
    let rp = ri * rng.uniform(0.25, 0.55);
    let (cx, cy) = (
        w as f32 / 2.0 + rng.uniform(-0.1, 0.1) * w as f32,
        h as f32 / 2.0 + rng.uniform(-0.06, 0.06) * h as f32,
    );
    let (cx, cy) = (
        cx.clamp(ri + 6.0, w as f32 - ri - 6.0),
        cy.clamp(ri + 6.0, h as f32 - ri - 6.0),
    );
    let (ox, oy) = (
        ident.pupil_offset.0 * ri + rng.normal() * 0.4,
        ident.pupil_offset.1 * ri + rng.normal() * 0.4,
    );
    let pupil = Circle {
        x: cx + ox,
        y: cy + oy,
        r: rp,
    };
    let iris = Circle {
        x: cx,
        y: cy,
        r: ri,
    };
    let rotation = rng.uniform(-12.0, 12.0);
    let rot = rotation.to_radians();
    let blur = if rng.uniform(0.0, 1.0) < 0.8 {
        rng.uniform(0.0, 0.9)
    } else {
        rng.uniform(0.9, 1.6)
    } * scale;
    let noise = rng.uniform(1.5, 4.5);
    let (gx, gy, gain) = (
        rng.uniform(-0.25, 0.25),
        rng.uniform(-0.25, 0.25),
        rng.uniform(0.85, 1.15),
    );
    let upper = rng.uniform(0.3, 1.0); // lid height above the iris centre, in iris radii
    let lower = rng.uniform(0.6, 1.1);
    let lid_w = 2.4 * ri;
    let upper_y = |x: f32| cy - ri * upper * (1.0 - ((x - cx) / lid_w).powi(2)).max(0.0) - 0.0;
    let lower_y = |x: f32| cy + ri * lower * (1.0 - ((x - cx) / lid_w).powi(2)).max(0.0);

    let mut img = Plane::new(w, h, ident.skin);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let (dx, dy) = (fx - cx, fy - cy);
            let d = (dx * dx + dy * dy).sqrt();
            let theta = dy.atan2(dx);
            // Pupil boundary distance from the iris centre along this direction.
            let (ux, uy) = if d > 0.0 {
                (dx / d, dy / d)
            } else {
                (1.0, 0.0)
            };
            let b = ox * ux + oy * uy;
            let rp_dir = b + (b * b - ox * ox - oy * oy + rp * rp).max(0.0).sqrt();
            let rho = (d - rp_dir) / (ri - rp_dir);
            let iris_v = ident.texture_at(rho, theta - rot);
            let mut v = ident.sclera + 6.0 * (d / ri - 1.0).min(1.0);
            v = mix(v, iris_v, smooth_edge(ri - d, 1.2));
            v = mix(v, ident.pupil, smooth_edge(rp_dir - d, 0.6));
            // Eyelids: skin outside, with a darker lid margin.
            let (uy_, ly_) = (upper_y(fx), lower_y(fx));
            let inside = smooth_edge(fy - uy_, 1.0).min(smooth_edge(ly_ - fy, 1.0));
            let skin = ident.skin
                - 35.0 * (-(fy - uy_).powi(2) / 8.0).exp() * f32::from(u8::from(fy < uy_ + 4.0));
            v = mix(skin, v, inside);
            img.set(x, y, v);
        }
    }
    draw_lashes(&mut img, &mut rng, cx, ri, &upper_y);
    // Specular highlight of the illuminator, inside the pupil.
    for _ in 0..(1 + rng.below(2)) {
        let (hx, hy) = (
            pupil.x + rng.uniform(-0.5, 0.5) * rp,
            pupil.y + rng.uniform(-0.5, 0.5) * rp,
        );
        let hr = rng.uniform(2.0, 4.5) * scale;
        disc(&mut img, hx, hy, hr, 255.0);
    }
    // Uneven illumination, defocus, sensor noise.
    for y in 0..h {
        for x in 0..w {
            let g =
                gain * (1.0 + gx * (x as f32 - cx) / w as f32 + gy * (y as f32 - cy) / h as f32);
            let v = img.get(x, y) * g;
            img.set(x, y, v);
        }
    }
    let mut img = gaussian_blur(&img, blur);
    for v in img.data.iter_mut() {
        *v += noise * rng.normal();
    }
    (
        img.to_gray(),
        Truth {
            pupil,
            iris,
            rotation_deg: rotation,
            blur_sigma: blur,
        },
    )
}

/// A gallery entry that is nobody in particular: the left part of one pool
/// template and the right part of another, each rotated at random. It keeps
/// the local statistics and masks of real codes without being a genuine
/// match to any probe.
pub fn mosaic(pool: &[Template], rng: &mut Rng) -> Template {
    let a = pool[rng.below(pool.len() as u32) as usize].rotated(rng.below(128) as i32);
    let b = pool[rng.below(pool.len() as u32) as usize].rotated(rng.below(128) as i32);
    let split = 4 + rng.below(WORDS as u32 - 8) as usize;
    let mut t = a;
    t.code[split..].copy_from_slice(&b.code[split..]);
    t.mask[split..].copy_from_slice(&b.mask[split..]);
    t
}

/// Render with the identity built on the fly.
pub fn eye(seed: u64, id: u64, capture: u64, res: Resolution) -> GrayImage {
    render(&Identity::new(seed, id), seed, id, capture, res).0
}

fn mix(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// 0 → 1 across an edge at signed distance `s` (positive = inside), width `w`.
fn smooth_edge(s: f32, w: f32) -> f32 {
    (0.5 + s / w).clamp(0.0, 1.0)
}

fn disc(img: &mut Plane, x: f32, y: f32, r: f32, v: f32) {
    let (x0, x1) = (
        (x - r - 1.0).max(0.0) as usize,
        ((x + r + 2.0) as usize).min(img.width),
    );
    let (y0, y1) = (
        (y - r - 1.0).max(0.0) as usize,
        ((y + r + 2.0) as usize).min(img.height),
    );
    for yy in y0..y1 {
        for xx in x0..x1 {
            let d = ((xx as f32 - x).powi(2) + (yy as f32 - y).powi(2)).sqrt();
            let t = smooth_edge(r - d, 1.0);
            let old = img.get(xx, yy);
            img.set(xx, yy, mix(old, v, t));
        }
    }
}

fn draw_lashes(img: &mut Plane, rng: &mut Rng, cx: f32, ri: f32, upper_y: &dyn Fn(f32) -> f32) {
    let n = 10 + rng.below(30);
    for _ in 0..n {
        let x0 = cx + rng.uniform(-1.3, 1.3) * ri;
        let y0 = upper_y(x0);
        let len = rng.uniform(0.15, 0.45) * ri;
        let (dxs, curl) = (rng.uniform(-0.4, 0.4), rng.uniform(-0.3, 0.3));
        let (thick, dark) = (rng.uniform(0.6, 1.4) * ri / 65.0, rng.uniform(25.0, 55.0));
        let steps = (len * 2.0) as usize;
        for s in 0..steps {
            let t = s as f32 / steps as f32;
            let (x, y) = (x0 + len * (dxs * t + curl * t * t), y0 + len * t * 0.9);
            disc(img, x, y, thick * (1.0 - 0.5 * t), dark);
        }
    }
}

/// Gaussian blur as three box passes (σ² = Σ (r²+r)/3 per pass).
fn gaussian_blur(img: &Plane, sigma: f32) -> Plane {
    if sigma < 0.3 {
        return img.clone();
    }
    let r = ((4.0 * sigma * sigma + 1.0).sqrt() - 1.0) / 2.0; // 3 passes of radius r
    let r = r.round().max(1.0) as usize;
    img.box_blur(r).box_blur(r).box_blur(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        let a = eye(1, 3, 0, Resolution::Small);
        assert_eq!(a, eye(1, 3, 0, Resolution::Small));
        assert_ne!(a, eye(1, 3, 1, Resolution::Small));
        assert_ne!(a, eye(1, 4, 0, Resolution::Small));
        assert_eq!(a.dimensions(), (320, 240));
        assert_eq!(eye(1, 3, 0, Resolution::Large).dimensions(), (640, 480));
    }
}
