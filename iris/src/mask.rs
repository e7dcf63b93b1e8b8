//! Stage 3 — noise mask: eyelids, eyelashes and specular reflections.
//!
//! Layout: [`MaskParams`], [`noise_mask`], then the statistics helpers.
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
//! 4. Outliers are dilated by one sample so their blurred fringes go too.

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
}

impl Default for MaskParams {
    fn default() -> Self {
        MaskParams {
            outlier_k: 3.5,
            min_spread: 6.0,
            eyelid_fraction: 0.5,
            eyelid_smooth: 9,
            sectors: 8,
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
    let outlier: Vec<bool> = (0..rows * cols)
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

    fn textured() -> Polar {
        let (rows, cols) = (POLAR_ROWS, POLAR_COLS);
        let values = (0..rows * cols)
            .map(|k| 100.0 + 8.0 * ((k * 7919 % 13) as f32 / 6.0 - 1.0))
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
}
