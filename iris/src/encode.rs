//! Stage 5 — encoding: 2-D Gabor phase quantised to 2 bits, with a validity
//! mask.
//!
//! Layout: [`EncodeParams`], [`encode`], then the filter kernels.
//!
//! Filter: a complex 2-D Gabor wavelet on the normalised band, separable into
//! a Gaussian across the radius (σ = `sigma_radial` rows) and a complex
//! Gabor along the angle (wavelength `wavelength` columns, Gaussian envelope
//! σ = `sigma_angular` wavelengths). The DC response of the real part is
//! removed so that the bits depend on texture, not on brightness. It is
//! evaluated at the [`CODE_ROWS`] × [`CODE_COLS`] grid (every 4th row, every
//! 2nd column) and the signs of the real and imaginary parts give the two
//! bits (Daugman's phase-quadrant code).
//!
//! Mask: a bit is valid when (a) at least `min_support` of the filter's
//! Gaussian weight lies on usable tissue (occlusion from [`crate::mask`]),
//! and (b) its coefficient is not "fragile": coefficients whose magnitude is
//! in the lowest `fragile_fraction` of the template flip between captures
//! with the slightest noise (Hollingsworth et al.), so they are masked.
//! Unusable samples are replaced by the mean usable grey level before
//! filtering, so an eyelid edge does not ring into neighbouring coefficients.

use serde::{Deserialize, Serialize};

use crate::normalise::Polar;
use crate::template::{CODE_COLS, CODE_ROWS, Template};

/// Encoder parameters. Changing them changes [`crate::template::PARAMS_ID`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EncodeParams {
    /// Gabor wavelength along the angle, in normalised columns (of 256).
    pub wavelength: f32,
    /// Angular Gaussian σ in wavelengths. 0.3 gives the filter a
    /// half-amplitude bandwidth of about two octaves (B octaves need
    /// σ = λ/π·√(ln 2/2)·(2^B+1)/(2^B−1)), the broad band of the log-Gabor
    /// filters used for iris codes (Masek: σ/f₀ = 0.5). Each coefficient
    /// weighs texture over σ = 3.6 columns, not the 5.4 of a 1.25-octave
    /// filter (0.45), so neighbouring bits, 2 columns apart, share less of
    /// it: the code has more independent bits (Daugman's degrees of freedom
    /// of unrelated codes, p(1 − p)/σ², about 30 % more on random texture),
    /// unrelated eyes' distances gather closer to 0.5, and a given FMR is
    /// reached at a higher threshold.
    pub sigma_angular: f32,
    /// Radial Gaussian σ in normalised rows (of 32).
    pub sigma_radial: f32,
    /// Fraction of lowest-magnitude coefficients masked as fragile.
    pub fragile_fraction: f32,
    /// Minimum fraction of filter weight on usable tissue.
    pub min_support: f32,
}

impl Default for EncodeParams {
    fn default() -> Self {
        EncodeParams {
            wavelength: 12.0,
            sigma_angular: 0.3,
            sigma_radial: 2.0,
            fragile_fraction: 0.1,
            min_support: 0.8,
        }
    }
}

/// Encode the normalised band into a template. `usable` is the noise mask.
pub fn encode(polar: &Polar, usable: &[bool], p: &EncodeParams) -> Template {
    let (rows, cols) = (polar.rows, polar.cols);
    let row_step = rows / CODE_ROWS;
    let col_step = cols / CODE_COLS;
    let n_usable = usable.iter().filter(|&&u| u).count();
    let fill = if n_usable == 0 {
        0.0
    } else {
        polar
            .values
            .iter()
            .zip(usable)
            .filter(|(_, u)| **u)
            .map(|(v, _)| *v)
            .sum::<f32>()
            / n_usable as f32
    };
    let radial = gaussian(p.sigma_radial, (2.5 * p.sigma_radial).ceil() as usize);
    let (g_re, g_im, envelope) = gabor(p.wavelength, p.sigma_angular * p.wavelength);
    let half = g_re.len() / 2;
    // Radially filtered rows (value and usable weight) at each code row.
    let mut val = vec![0.0f32; CODE_ROWS * cols];
    let mut sup = vec![0.0f32; CODE_ROWS * cols];
    let rh = radial.len() as isize / 2;
    for r in 0..CODE_ROWS {
        let centre = (r * row_step + row_step / 2) as isize;
        for (k, &w) in radial.iter().enumerate() {
            // Edge rows are replicated: the band ends where segmentation says.
            let i = (centre + k as isize - rh).clamp(0, rows as isize - 1) as usize;
            for j in 0..cols {
                let u = usable[i * cols + j];
                val[r * cols + j] += w * if u { polar.values[i * cols + j] } else { fill };
                sup[r * cols + j] += w * f32::from(u8::from(u));
            }
        }
    }
    let n = CODE_ROWS * CODE_COLS;
    let (mut re, mut im, mut ok) = (vec![0.0f32; n], vec![0.0f32; n], vec![false; n]);
    for r in 0..CODE_ROWS {
        let line = &val[r * cols..(r + 1) * cols];
        let sline = &sup[r * cols..(r + 1) * cols];
        for c in 0..CODE_COLS {
            let centre = c * col_step + col_step / 2;
            let (mut a, mut b, mut s) = (0.0f32, 0.0f32, 0.0f32);
            for m in 0..g_re.len() {
                let j = (centre + cols + m - half) % cols;
                a += g_re[m] * line[j];
                b += g_im[m] * line[j];
                s += envelope[m] * sline[j];
            }
            let k = r * CODE_COLS + c;
            (re[k], im[k], ok[k]) = (a, b, s >= p.min_support);
        }
    }
    let q_re = fragile_threshold(&re, &ok, p.fragile_fraction);
    let q_im = fragile_threshold(&im, &ok, p.fragile_fraction);
    let mut t = Template::empty();
    for r in 0..CODE_ROWS {
        for c in 0..CODE_COLS {
            let k = r * CODE_COLS + c;
            t.set(
                Template::bit_index(r, c, 0),
                re[k] > 0.0,
                ok[k] && re[k].abs() >= q_re,
            );
            t.set(
                Template::bit_index(r, c, 1),
                im[k] > 0.0,
                ok[k] && im[k].abs() >= q_im,
            );
        }
    }
    t
}

/// Magnitude below which `fraction` of the valid coefficients lie.
fn fragile_threshold(v: &[f32], ok: &[bool], fraction: f32) -> f32 {
    let mut mags: Vec<f32> = v
        .iter()
        .zip(ok)
        .filter(|(_, o)| **o)
        .map(|(x, _)| x.abs())
        .collect();
    if mags.is_empty() || fraction <= 0.0 {
        return 0.0;
    }
    let k = ((mags.len() as f32 * fraction) as usize).min(mags.len() - 1);
    let (_, q, _) = mags.select_nth_unstable_by(k, f32::total_cmp);
    *q
}

/// Normalised Gaussian weights (sum 1), `2·half + 1` taps.
fn gaussian(sigma: f32, half: usize) -> Vec<f32> {
    let w: Vec<f32> = (0..=2 * half)
        .map(|k| {
            let x = k as f32 - half as f32;
            (-x * x / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let s: f32 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

/// 1-D complex Gabor (real part DC-free) and its normalised envelope.
fn gabor(wavelength: f32, sigma: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let env = gaussian(sigma, (2.5 * sigma).ceil() as usize);
    let half = env.len() / 2;
    let omega = std::f32::consts::TAU / wavelength;
    let phase = |m: usize| omega * (m as f32 - half as f32);
    let re: Vec<f32> = env
        .iter()
        .enumerate()
        .map(|(m, e)| e * phase(m).cos())
        .collect();
    let dc: f32 = re.iter().sum();
    let re = re.iter().zip(&env).map(|(r, e)| r - dc * e).collect();
    let im = env
        .iter()
        .enumerate()
        .map(|(m, e)| e * phase(m).sin())
        .collect();
    (re, im, env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{POLAR_COLS, POLAR_ROWS};

    fn polar(f: impl Fn(usize, usize) -> f32) -> Polar {
        let (rows, cols) = (POLAR_ROWS, POLAR_COLS);
        let values = (0..rows * cols).map(|k| f(k / cols, k % cols)).collect();
        Polar {
            rows,
            cols,
            values,
            valid: vec![true; rows * cols],
        }
    }

    /// Fraction of bits, valid in both, that differ.
    fn disagreement(a: &Template, b: &Template) -> f32 {
        let (mut d, mut n) = (0u32, 0u32);
        for w in 0..a.code.len() {
            let m = a.mask[w] & b.mask[w];
            d += ((a.code[w] ^ b.code[w]) & m).count_ones();
            n += m.count_ones();
        }
        d as f32 / n as f32
    }

    #[test]
    fn a_two_octave_filter_gives_more_independent_bits() {
        // Random iris-like textures (noise smoothed over ~2 columns and ~3
        // rows: radial streaks). The distances between unrelated ones spread
        // round 0.5 as a binomial of N independent bits would, with
        // N = p(1 − p)/σ² (Daugman's degrees of freedom): bits that share
        // texture count as fewer.
        let (rows, cols) = (POLAR_ROWS, POLAR_COLS);
        let texture = |seed: u64| {
            let mut rng = crate::synth::Rng::new(&[seed, 7]);
            let raw: Vec<f32> = (0..rows * cols).map(|_| rng.normal()).collect();
            polar(|i, j| {
                let mut s = 100.0;
                for di in -3i32..=3 {
                    for dj in -2i32..=2 {
                        let ii = (i as i32 + di).clamp(0, rows as i32 - 1) as usize;
                        let jj = (j as i32 + dj).rem_euclid(cols as i32) as usize;
                        s += raw[ii * cols + jj];
                    }
                }
                s
            })
        };
        let bands: Vec<Polar> = (0..24).map(texture).collect();
        let usable = vec![true; rows * cols];
        let dof = |sigma_angular: f32| {
            let p = EncodeParams {
                sigma_angular,
                ..EncodeParams::default()
            };
            let t: Vec<Template> = bands.iter().map(|b| encode(b, &usable, &p)).collect();
            let d: Vec<f32> = (0..t.len())
                .flat_map(|i| (i + 1..t.len()).map(move |j| (i, j)))
                .map(|(i, j)| disagreement(&t[i], &t[j]))
                .collect();
            let mean = d.iter().sum::<f32>() / d.len() as f32;
            let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / d.len() as f32;
            (mean, mean * (1.0 - mean) / var)
        };
        let (one, two) = (dof(0.45), dof(EncodeParams::default().sigma_angular));
        assert!((0.45..0.55).contains(&one.0) && (0.45..0.55).contains(&two.0));
        assert!(
            two.1 > 1.2 * one.1,
            "degrees of freedom {} vs {}",
            two.1,
            one.1
        );
    }

    #[test]
    fn kernel_real_part_is_dc_free() {
        let (re, im, env) = gabor(18.0, 8.0);
        assert!(re.iter().sum::<f32>().abs() < 1e-5);
        assert!(im.iter().sum::<f32>().abs() < 1e-5);
        assert!((env.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn brightness_offset_and_gain_do_not_change_bits() {
        let tex = |i: usize, j: usize| {
            ((j as f32 * 0.37).sin() + (i as f32 * 0.5 + j as f32 * 0.11).cos()) * 20.0
        };
        let usable = vec![true; POLAR_ROWS * POLAR_COLS];
        let a = encode(
            &polar(|i, j| 100.0 + tex(i, j)),
            &usable,
            &EncodeParams::default(),
        );
        let b = encode(
            &polar(|i, j| 40.0 + 0.5 * tex(i, j)),
            &usable,
            &EncodeParams::default(),
        );
        assert_eq!(a.code, b.code);
        // 10 % of each bit plane is fragile, the rest valid.
        let v = a.valid_bits() as f32 / 2048.0;
        assert!((0.85..=0.95).contains(&v), "{v}");
    }

    #[test]
    fn occluded_region_is_masked_and_texture_shift_rotates_code() {
        let tex = |i: usize, j: usize| {
            (j as f32 * 0.41).sin() * 30.0 + (i as f32 * 0.7 + j as f32 * 0.23).cos() * 20.0
        };
        let mut usable = vec![true; POLAR_ROWS * POLAR_COLS];
        for i in 16..POLAR_ROWS {
            for j in 0..64 {
                usable[i * POLAR_COLS + j] = false;
            }
        }
        let t = encode(&polar(tex), &usable, &EncodeParams::default());
        assert!(
            !t.get(Template::bit_index(7, 10, 0)).1,
            "occluded code position is masked"
        );
        assert!(t.get(Template::bit_index(1, 10, 0)).1 || t.get(Template::bit_index(1, 10, 1)).1);
        // Shifting the texture by 8 polar columns (= 4 code columns) rotates the code.
        let all = vec![true; POLAR_ROWS * POLAR_COLS];
        let a = encode(&polar(tex), &all, &EncodeParams::default());
        let b = encode(
            &polar(|i, j| tex(i, (j + 8) % POLAR_COLS)),
            &all,
            &EncodeParams::default(),
        );
        assert_eq!(a.rotated(4).code, b.code);
    }
}
