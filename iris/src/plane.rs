//! Floating-point image plane and the circle type shared by every stage.
//!
//! Layout: [`Plane`] (row-major `f32` pixels with bilinear sampling, box blur,
//! 2× reduction and percentiles), then [`Circle`] and [`Contour`] (a closed
//! boundary that need not be a circle: the pupil's, for the rubber sheet). Stages work in `f32` so that
//! blurring and sub-pixel sampling do not accumulate rounding error; grey levels
//! keep the 0–255 scale of the decoded 8-bit image so thresholds read naturally.

use image::GrayImage;
use serde::{Deserialize, Serialize};

/// A grey image with `f32` pixels on the 0–255 scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize, value: f32) -> Self {
        Plane {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    pub fn from_gray(img: &GrayImage) -> Self {
        Plane {
            width: img.width() as usize,
            height: img.height() as usize,
            data: img.as_raw().iter().map(|&v| f32::from(v)).collect(),
        }
    }

    /// Back to 8 bits (clamped, rounded) — used by the synthetic generator.
    pub fn to_gray(&self) -> GrayImage {
        let raw = self
            .data
            .iter()
            .map(|&v| v.round().clamp(0.0, 255.0) as u8)
            .collect();
        GrayImage::from_raw(self.width as u32, self.height as u32, raw)
            .expect("buffer length matches dimensions")
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    #[inline]
    pub fn set(&mut self, x: usize, y: usize, v: f32) {
        self.data[y * self.width + x] = v;
    }

    /// Bilinear sample; `None` outside the image so callers can mask instead of
    /// inventing data.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if !(x >= 0.0 && y >= 0.0) {
            return None;
        }
        let (x0, y0) = (x as usize, y as usize);
        if x0 + 1 >= self.width || y0 + 1 >= self.height {
            return None;
        }
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let i = y0 * self.width + x0;
        let d = &self.data;
        let top = d[i] + (d[i + 1] - d[i]) * fx;
        let bot = d[i + self.width] + (d[i + self.width + 1] - d[i + self.width]) * fx;
        Some(top + (bot - top) * fy)
    }

    /// Separable box blur of radius `r` (window 2r+1), edges clamped.
    pub fn box_blur(&self, r: usize) -> Plane {
        if r == 0 {
            return self.clone();
        }
        let (w, h) = (self.width, self.height);
        let mut tmp = vec![0.0f32; w * h];
        let norm = 1.0 / (2 * r + 1) as f32;
        for y in 0..h {
            let row = &self.data[y * w..(y + 1) * w];
            blur_line(row, &mut tmp[y * w..(y + 1) * w], r, norm);
        }
        // Down the columns, all columns at once (a row of running sums), so
        // memory is read row by row; each column's sum takes the same steps
        // as `blur_line`'s.
        let mut out = vec![0.0f32; w * h];
        let row = |y: isize| {
            let y = y.clamp(0, h as isize - 1) as usize;
            &tmp[y * w..(y + 1) * w]
        };
        let mut acc = row(-(r as isize)).to_vec();
        for y in -(r as isize) + 1..=r as isize {
            acc.iter_mut().zip(row(y)).for_each(|(a, v)| *a += v);
        }
        for (y, line) in out.chunks_exact_mut(w).enumerate() {
            let (add, sub) = (
                row(y as isize + r as isize + 1),
                row(y as isize - r as isize),
            );
            for (((o, a), p), m) in line.iter_mut().zip(&mut acc).zip(add).zip(sub) {
                *o = *a * norm;
                *a += p - m;
            }
        }
        Plane {
            width: w,
            height: h,
            data: out,
        }
    }

    /// Reduce by an integer factor, averaging each `f×f` block (anti-aliased).
    pub fn reduce(&self, f: usize) -> Plane {
        if f <= 1 {
            return self.clone();
        }
        let (w, h) = (self.width / f, self.height / f);
        let mut out = Plane::new(w.max(1), h.max(1), 0.0);
        let norm = 1.0 / (f * f) as f32;
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for dy in 0..f {
                    let row = (y * f + dy) * self.width + x * f;
                    s += self.data[row..row + f].iter().sum::<f32>();
                }
                out.set(x, y, s * norm);
            }
        }
        out
    }

    /// Value below which `p` (0–1) of the pixels lie, from a 256-bin histogram.
    pub fn percentile(&self, p: f32) -> f32 {
        percentile(self.data.iter().copied(), p)
    }
}

/// Percentile of 0–255 values via a 256-bin histogram (O(n), no sort).
pub fn percentile(values: impl Iterator<Item = f32>, p: f32) -> f32 {
    let mut hist = [0usize; 256];
    let mut n = 0usize;
    for v in values {
        hist[v.clamp(0.0, 255.0) as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let target = ((n as f32 * p.clamp(0.0, 1.0)) as usize).min(n - 1);
    let mut acc = 0;
    for (g, &c) in hist.iter().enumerate() {
        acc += c;
        if acc > target {
            return g as f32;
        }
    }
    255.0
}

fn blur_line(src: &[f32], dst: &mut [f32], r: usize, norm: f32) {
    let n = src.len();
    let at = |i: isize| src[i.clamp(0, n as isize - 1) as usize];
    let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
    for (i, d) in dst.iter_mut().enumerate() {
        *d = acc * norm;
        let i = i as isize;
        acc += at(i + r as isize + 1) - at(i - r as isize);
    }
}

/// A circle in image pixel coordinates (x right, y down).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Circle {
    pub x: f32,
    pub y: f32,
    pub r: f32,
}

impl Circle {
    pub fn point(&self, cos: f32, sin: f32) -> (f32, f32) {
        (self.x + self.r * cos, self.y + self.r * sin)
    }

    pub fn scaled(&self, f: f32) -> Circle {
        Circle {
            x: self.x * f,
            y: self.y * f,
            r: self.r * f,
        }
    }
}

/// A closed boundary given by its radius as a function of the angle about a
/// centre, a Fourier series to the second harmonic:
/// r(θ) = a₀ + a₁ cos θ + b₁ sin θ + a₂ cos 2θ + b₂ sin 2θ (`r = [a₀, a₁,
/// b₁, a₂, b₂]`). The first harmonic moves the boundary off the centre, the
/// second makes it an ellipse to first order — what a real pupil is, and what
/// off-axis gaze makes any round boundary (Daugman's "active contours" for
/// non-circular iris boundaries are such series).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contour {
    pub x: f32,
    pub y: f32,
    pub r: [f32; 5],
}

impl Contour {
    /// The circle as a contour (no harmonics).
    pub fn circle(c: &Circle) -> Contour {
        Contour {
            x: c.x,
            y: c.y,
            r: [c.r, 0.0, 0.0, 0.0, 0.0],
        }
    }

    /// The radius towards the unit direction (cos θ, sin θ).
    #[inline]
    pub fn radius(&self, cos: f32, sin: f32) -> f32 {
        let [a0, a1, b1, a2, b2] = self.r;
        a0 + a1 * cos + b1 * sin + a2 * (cos * cos - sin * sin) + b2 * (2.0 * sin * cos)
    }

    /// The boundary point towards the unit direction (cos θ, sin θ).
    #[inline]
    pub fn point(&self, cos: f32, sin: f32) -> (f32, f32) {
        let r = self.radius(cos, sin);
        (self.x + r * cos, self.y + r * sin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_sampling_interpolates_and_rejects_outside() {
        let mut p = Plane::new(4, 4, 0.0);
        p.set(1, 1, 100.0);
        p.set(2, 1, 200.0);
        assert_eq!(p.sample(1.5, 1.0), Some(150.0));
        assert_eq!(p.sample(-0.1, 1.0), None);
        assert_eq!(p.sample(3.0, 1.0), None);
    }

    #[test]
    fn box_blur_preserves_mean_of_constant_and_spreads_impulse() {
        let mut p = Plane::new(9, 9, 10.0);
        p.set(4, 4, 100.0);
        let b = p.box_blur(1);
        assert!((b.get(0, 0) - 10.0).abs() < 1e-4);
        assert!((b.get(4, 4) - 20.0).abs() < 1e-4);
        assert!((b.get(3, 3) - 20.0).abs() < 1e-4);
    }

    #[test]
    fn percentile_and_reduce() {
        let p = Plane {
            width: 4,
            height: 1,
            data: vec![0.0, 10.0, 20.0, 30.0],
        };
        assert_eq!(p.percentile(0.0), 0.0);
        assert_eq!(p.percentile(0.5), 20.0);
        let r = Plane {
            width: 2,
            height: 2,
            data: vec![0.0, 4.0, 8.0, 12.0],
        }
        .reduce(2);
        assert_eq!(r.data, vec![6.0]);
    }
}
