//! Stage 3 — noise mask: eyelids, eyelashes and specular reflections.
//!
//! Layout: [`MaskParams`], [`noise_mask`], the eyelash finder (`lashes`,
//! `thin_dark`), then the statistics helpers.
//!
//! Method, on the normalised band (see [`crate::normalise`]):
//! 1. A reference grey level per angular sector is the median of the inner
//!    half of the band (next to the pupil, rarely occluded); sectors follow
//!    uneven illumination. The spread is the robust (MAD) deviation from it.
//! 2. Outliers are pixels more than `outlier_k` spreads brighter (eyelid skin,
//!    sclera, specular light) or darker (eyelashes, shadows) than iris tissue.
//! 3. Eyelids enter the band from the outside: in each column, once the outer
//!    part is mostly outliers, everything beyond that radius is cut. Eyelids
//!    are smooth, so the cut radius is median-filtered across columns.
//! 4. Eyelashes that are not outliers (thin, blurred, often no darker than
//!    the iris's own furrows) are found by where they start: thin dark
//!    structures along the angle (a black top-hat deeper than `lash_k`
//!    spreads) connected to a lid — the cut of step 3, or the band's outer
//!    edge, beyond which a lid covering the outer iris lies — are masked.
//!    A furrow within the iris is not connected to either and stays.
//! 5. Outliers are dilated by one sample so their blurred fringes go too.

use serde::{Deserialize, Serialize};

use crate::normalise::Polar;

/// Tunable parameters of the noise mask.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MaskParams {
    /// Outlier threshold in robust standard deviations.
    pub outlier_k: f32,
    /// Floor on the spread (grey levels), so a very smooth iris does not turn
    /// its own texture into outliers.
    pub min_spread: f32,
    /// Fraction of outliers in the outer part of a column that means eyelid.
    pub eyelid_fraction: f32,
    /// Columns in the median filter of the eyelid cut (odd).
    pub eyelid_smooth: usize,
    /// Angular sectors for the reference grey level.
    pub sectors: usize,
    /// Eyelashes: half-width, in band columns, of the 1-D closing along the
    /// angle whose difference from the band (a black top-hat) finds dark
    /// structures narrower than `2·lash_half_width + 1` columns.
    #[serde(default = "default_lash_half_width")]
    pub lash_half_width: usize,
    /// Eyelashes: top-hat depth, in robust spreads, from which a thin dark
    /// structure is a lash rather than a furrow of the iris.
    #[serde(default = "default_lash_k")]
    pub lash_k: f32,
}

fn default_lash_half_width() -> usize {
    3
}

fn default_lash_k() -> f32 {
    1.0
}

impl Default for MaskParams {
    fn default() -> Self {
        MaskParams {
            outlier_k: 3.5,
            min_spread: 6.0,
            eyelid_fraction: 0.5,
            eyelid_smooth: 9,
            sectors: 8,
            lash_half_width: default_lash_half_width(),
            lash_k: default_lash_k(),
        }
    }
}

/// `true` where the normalised sample is iris tissue usable for encoding.
pub fn noise_mask(polar: &Polar, p: &MaskParams) -> Vec<bool> {
    let (rows, cols) = (polar.rows, polar.cols);
    let sectors = p.sectors.clamp(1, cols);
    let refs = sector_references(polar, sectors);
    let ref_at = |j: usize| refs[j * sectors / cols];
    let mut devs: Vec<f32> = Vec::with_capacity(rows * cols / 2);
    for i in 0..rows / 2 {
        for j in 0..cols {
            if polar.valid[i * cols + j] {
                devs.push((polar.at(i, j) - ref_at(j)).abs());
            }
        }
    }
    let spread = (median(&mut devs).unwrap_or(0.0) * 1.4826).max(p.min_spread);
    let lim = p.outlier_k * spread;
    let mut outlier: Vec<bool> = (0..rows * cols)
        .map(|k| !polar.valid[k] || (polar.values[k] - ref_at(k % cols)).abs() > lim)
        .collect();
    // Eyelid cut per column: smallest row from which the outer part is mostly noise.
    let mut cut = vec![rows; cols];
    for (j, c) in cut.iter_mut().enumerate() {
        let mut tail = 0usize;
        for i in (0..rows).rev() {
            tail += usize::from(outlier[i * cols + j]);
            if outlier[i * cols + j] && tail as f32 >= p.eyelid_fraction * (rows - i) as f32 {
                *c = i;
            }
        }
    }
    let cut = circular_median_filter(&cut, p.eyelid_smooth.max(1) | 1);
    for k in lashes(polar, &cut, p.lash_half_width, p.lash_k * spread) {
        outlier[k] = true;
    }
    let mut usable = vec![false; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            if i >= cut[j] {
                continue;
            }
            let near_outlier = (i.saturating_sub(1)..(i + 2).min(rows))
                .any(|ii| (0..3).any(|d| outlier[ii * cols + (j + cols + d - 1) % cols]));
            usable[i * cols + j] = !near_outlier;
        }
    }
    usable
}

/// Band samples (indices) on eyelashes: thin dark samples (see
/// [`thin_dark`], deeper than `depth`) connected, through other thin dark
/// samples, to where lashes come from — an eyelid inside the band (the
/// samples beyond the eyelid cut, `cut[j]` per column) or the band's outer
/// edge, beyond which the lids lie when they cover only the outer iris.
///
/// Why connectivity and not depth alone: at 320×240 a lash is one or two
/// pixels wide and blurred, often no darker than a furrow or crypt of the
/// iris, so no depth threshold separates them (a lower one masks texture,
/// a higher one misses lashes). What differs is where they start: a lash
/// hangs from a lid, a furrow lies within the iris.
fn lashes(polar: &Polar, cut: &[usize], h: usize, depth: f32) -> Vec<usize> {
    let (rows, cols) = (polar.rows, polar.cols);
    let thin: Vec<bool> = thin_dark(polar, h).iter().map(|&t| t > depth).collect();
    let inside = |k: usize| k / cols < cut[k % cols];
    let mut seen = vec![false; rows * cols];
    let mut stack = Vec::new();
    for (k, s) in seen.iter_mut().enumerate() {
        let (i, j) = (k / cols, k % cols);
        if !thin[k] || !inside(k) {
            continue;
        }
        let at_lid = (0..3).any(|d| cut[(j + cols + d - 1) % cols] <= i + 1);
        if at_lid || i + 1 == rows {
            *s = true;
            stack.push(k);
        }
    }
    let mut out = Vec::new();
    while let Some(k) = stack.pop() {
        out.push(k);
        let (i, j) = (k / cols, k % cols);
        for ii in i.saturating_sub(1)..(i + 2).min(rows) {
            for d in 0..3 {
                let kk = ii * cols + (j + cols + d - 1) % cols;
                if thin[kk] && !seen[kk] && inside(kk) {
                    seen[kk] = true;
                    stack.push(kk);
                }
            }
        }
    }
    out
}

/// Black top-hat of the band along the angle: for each sample, how much
/// darker it is than the closing (largest-then-smallest grey over
/// `2·h + 1` columns, wrapping round) — deep where a structure narrower
/// than the window is darker than the tissue on both sides of it. Lashes
/// that cross the iris cross the band's rows, so they are narrow along the
/// angle whatever their length; invalid samples take part as the row's
/// brightest so a band edge is never a "thin dark" structure.
fn thin_dark(polar: &Polar, h: usize) -> Vec<f32> {
    let (rows, cols) = (polar.rows, polar.cols);
    let mut out = vec![0.0f32; rows * cols];
    if h == 0 || 2 * h + 1 > cols {
        return out;
    }
    let mut dil = vec![0.0f32; cols];
    for i in 0..rows {
        let row = &polar.values[i * cols..(i + 1) * cols];
        let valid = &polar.valid[i * cols..(i + 1) * cols];
        let v = |j: usize| if valid[j] { row[j] } else { f32::INFINITY };
        for (j, d) in dil.iter_mut().enumerate() {
            *d = (0..=2 * h)
                .map(|m| v((j + cols + m - h) % cols))
                .fold(f32::NEG_INFINITY, f32::max);
        }
        for j in 0..cols {
            if !valid[j] {
                continue;
            }
            let close = (0..=2 * h)
                .map(|m| dil[(j + cols + m - h) % cols])
                .fold(f32::INFINITY, f32::min);
            if close.is_finite() {
                out[i * cols + j] = close - row[j];
            }
        }
    }
    out
}

/// Median grey level of the inner half of the band in each angular sector;
/// sectors with too few valid samples take the global median.
fn sector_references(polar: &Polar, sectors: usize) -> Vec<f32> {
    let (rows, cols) = (polar.rows, polar.cols);
    let collect = |range: std::ops::Range<usize>| -> Vec<f32> {
        (0..rows / 2)
            .flat_map(|i| range.clone().map(move |j| i * cols + j))
            .filter(|&k| polar.valid[k])
            .map(|k| polar.values[k])
            .collect()
    };
    let global = median(&mut collect(0..cols)).unwrap_or(128.0);
    (0..sectors)
        .map(|s| {
            let mut v = collect(s * cols / sectors..(s + 1) * cols / sectors);
            if v.len() < rows * cols / sectors / 8 {
                global
            } else {
                median(&mut v).unwrap_or(global)
            }
        })
        .collect()
}

pub(crate) fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    Some(*m)
}

fn circular_median_filter(v: &[usize], width: usize) -> Vec<usize> {
    let n = v.len();
    let h = width / 2;
    (0..n)
        .map(|j| {
            let mut w: Vec<usize> = (0..width).map(|d| v[(j + n + d - h) % n]).collect();
            w.sort_unstable();
            w[h]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{POLAR_COLS, POLAR_ROWS};

    /// Iris-like texture, ±8 grey: smooth at the band's sampling (the
    /// optics blur anything finer), its features wider along the angle than
    /// the lash finder's window, with a little per-sample noise.
    fn textured() -> Polar {
        let (rows, cols) = (POLAR_ROWS, POLAR_COLS);
        let values = (0..rows * cols)
            .map(|k| {
                let (i, j) = ((k / cols) as f32, (k % cols) as f32);
                let t = std::f32::consts::TAU * j / cols as f32;
                100.0
                    + 4.0 * (t * 11.0 + i * 0.3).sin()
                    + 3.0 * (t * 7.0 - i * 0.5).cos()
                    + 1.0 * ((k * 7919 % 13) as f32 / 6.0 - 1.0)
            })
            .collect();
        Polar {
            rows,
            cols,
            values,
            valid: vec![true; rows * cols],
        }
    }

    #[test]
    fn clean_iris_is_fully_usable() {
        let usable = noise_mask(&textured(), &MaskParams::default());
        assert_eq!(
            usable.iter().filter(|&&u| u).count(),
            POLAR_ROWS * POLAR_COLS
        );
    }

    #[test]
    fn eyelid_is_cut_and_highlight_and_lash_are_masked() {
        let mut p = textured();
        let cols = p.cols;
        // Bright eyelid over the outer 12 rows of columns 160..224 (upper lid).
        for i in 20..POLAR_ROWS {
            for j in 160..224 {
                p.values[i * cols + j] = 190.0;
            }
        }
        p.values[5 * cols + 40] = 255.0; // highlight
        for i in 8..14 {
            p.values[i * cols + 100] = 20.0; // eyelash
        }
        let u = noise_mask(&p, &MaskParams::default());
        assert!(!u[25 * cols + 190] && !u[20 * cols + 170]);
        // The cut removes the whole tail, including texture-like samples in it.
        assert!(u[10 * cols + 190], "inner rows under the lid stay usable");
        assert!(!u[5 * cols + 40] && !u[5 * cols + 41] && !u[11 * cols + 100]);
        assert!(u[5 * cols + 60] && u[11 * cols + 110]);
    }

    #[test]
    fn faint_lashes_from_a_lid_are_masked_and_furrows_are_not() {
        // Iris texture; an upper lid over the outer rows of columns 170..214;
        // three faint lashes (2 columns wide, 20 grey darker: under the
        // outlier limit) — one hanging from the lid, one entering at the
        // band's outer edge beside it, one inside the iris touching neither
        // (a furrow: it must stay).
        let mut p = textured();
        let cols = p.cols;
        for i in 22..POLAR_ROWS {
            for j in 170..214 {
                p.values[i * cols + j] = 190.0;
            }
        }
        let mut dark = |rows: std::ops::Range<usize>, j: usize| {
            for i in rows {
                for jj in j..j + 2 {
                    p.values[i * cols + jj] -= 20.0;
                }
            }
        };
        dark(6..22, 190);
        dark(14..POLAR_ROWS, 230);
        dark(6..20, 60);
        let plain = noise_mask(&textured(), &MaskParams::default());
        let u = noise_mask(&p, &MaskParams::default());
        assert!(
            !u[10 * cols + 190] && !u[8 * cols + 191],
            "lash from the lid"
        );
        assert!(
            !u[18 * cols + 230] && !u[16 * cols + 231],
            "lash from the edge"
        );
        assert!(
            u[10 * cols + 60] && u[12 * cols + 61],
            "furrow inside the iris"
        );
        // Away from the lashes and the lid, the mask is as without them.
        for k in (0..POLAR_ROWS * cols).filter(|k| (k % cols) < 150) {
            assert!(
                u[k] == plain[k] || (k % cols).abs_diff(61) <= 3,
                "sample {k} changed"
            );
        }
    }
}
