//! Getis-Ord Gi\*: is a cell, together with its neighbours, significantly
//! higher (hot spot) or lower (cold spot) than the whole map?
//!
//! With `n` cells of values `x`, mean `X̄ = Σx/n` and population standard
//! deviation `S = √(Σx²/n − X̄²)`, cell `i`'s z-score over weights `w_ij`
//! (which include `w_ii`: that is the star) is (Getis & Ord 1992, eq. 3 and
//! Ord & Getis 1995, eq. 8 and 14; ArcGIS "How Hot Spot Analysis (Getis-Ord
//! Gi*) works"):
//!
//! ```text
//!         Σ_j w_ij x_j − X̄ Σ_j w_ij
//! z_i = ─────────────────────────────────────────
//!       S · √[(n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)]
//! ```
//!
//! With binary weights (`Σ w² = Σ w`, the atlas's H3 k-ring including the cell)
//! this is exactly PyPI `esda`'s `G_Local(y, w, star=True, transform='B').Zs`,
//! the analytic z under the normality assumption (not the permutation one);
//! `tests/peer.rs` checks that within 1e-6. A cell whose neighbourhood is the
//! whole map with equal weights has a zero denominator and nothing to say: it
//! gets z = 0.
//!
//! The two-sided p-value is `P(|Z| ≥ |z|)` ([`crate::normal::two_sided_p`]).
//! Testing thousands of cells at once, about α of the cold, unremarkable ones
//! would come out "significant" by chance; [`benjamini_hochberg`] adjusts the
//! p-values so that keeping those with adjusted p ≤ α controls the expected
//! share of false discoveries at α (Benjamini & Hochberg 1995), the correction
//! ArcGIS applies in its hot spot tools.

use crate::Error;
use crate::error::check_values;

/// Spatial weights as compressed rows: cell `i`'s neighbours (itself
/// included, for Gi\*) are `cells[offsets[i]..offsets[i + 1]]` with weights
/// `weights[…]` at the same positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    offsets: Vec<usize>,
    cells: Vec<usize>,
    weights: Vec<f64>,
}

impl Weights {
    /// Binary weights from each cell's neighbour list, which must include the
    /// cell itself (the H3 k-ring `grid_disk(cell, k)` does).
    pub fn binary(neighbours: &[Vec<usize>]) -> Result<Weights, Error> {
        // Without itself a cell's score would be Gi, whose mean and spread
        // exclude the cell: a different statistic, silently.
        if let Some(cell) = (0..neighbours.len()).find(|&i| !neighbours[i].contains(&i)) {
            return Err(Error::BadWeights {
                cell,
                why: "the cell itself is missing from its neighbourhood (Gi* counts it)",
            });
        }
        Weights::from_lists(
            &neighbours
                .iter()
                .map(|list| list.iter().map(|&j| (j, 1.0)).collect())
                .collect::<Vec<Vec<_>>>(),
        )
    }

    /// Weights from each cell's list of `(neighbour, weight)`.
    pub fn from_lists(lists: &[Vec<(usize, f64)>]) -> Result<Weights, Error> {
        let n = lists.len();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut cells = Vec::new();
        let mut weights = Vec::new();
        offsets.push(0);
        for (cell, list) in lists.iter().enumerate() {
            if list.is_empty() {
                return Err(Error::BadWeights {
                    cell,
                    why: "no neighbour (Gi* needs at least the cell itself)",
                });
            }
            for &(j, w) in list {
                if j >= n {
                    return Err(Error::BadWeights {
                        cell,
                        why: "a neighbour index beyond the last cell",
                    });
                }
                if !w.is_finite() || w < 0.0 {
                    return Err(Error::BadWeights {
                        cell,
                        why: "a negative or non-finite weight",
                    });
                }
                cells.push(j);
                weights.push(w);
            }
            offsets.push(cells.len());
        }
        Ok(Weights {
            offsets,
            cells,
            weights,
        })
    }

    /// How many cells the weights cover.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when the weights cover no cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.offsets[i]..self.offsets[i + 1];
        self.cells[range.clone()]
            .iter()
            .copied()
            .zip(self.weights[range].iter().copied())
    }
}

/// The Gi\* z-score of every cell (formula in the module doc).
///
/// Errors when `values` and `weights` disagree in length, there are fewer than
/// 2 cells, a value is not finite, or all values are equal (S = 0).
pub fn gi_star(values: &[f64], weights: &Weights) -> Result<Vec<f64>, Error> {
    check_values(values, 2, "Gi*")?;
    let n = values.len();
    if weights.len() != n {
        return Err(Error::RaggedCube {
            step: 0,
            got: n,
            expected: weights.len(),
        });
    }
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    // Two passes: the spread about the mean, not Σx²/n − X̄², which cancels
    // badly when counts are large and similar.
    let s = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / nf).sqrt();
    if s == 0.0 || !s.is_finite() {
        return Err(Error::Constant { what: "Gi*" });
    }
    Ok((0..n)
        .map(|i| {
            let (mut wx, mut sw, mut sw2) = (0.0, 0.0, 0.0);
            for (j, w) in weights.row(i) {
                wx += w * values[j];
                sw += w;
                sw2 += w * w;
            }
            let spread = (nf * sw2 - sw * sw) / (nf - 1.0);
            if spread <= 0.0 {
                0.0
            } else {
                (wx - mean * sw) / (s * spread.sqrt())
            }
        })
        .collect())
}

/// Benjamini-Hochberg adjusted p-values ("q-values"), in the input's order.
///
/// Sorted ascending, `q_(i) = min(1, min_{j ≥ i} p_(j) · m / j)`; a cell is
/// significant at false-discovery rate α when its q ≤ α. NaN p-values are
/// counted among the `m` tests and stay NaN (never significant).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len() as f64;
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![f64::NAN; p.len()];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m / (rank + 1) as f64);
        q[i] = running;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Benjamini & Hochberg (1995), section 4.1: 15
    /// p-values, α = 0.05 rejects exactly the four smallest.
    #[test]
    fn benjamini_hochberg_paper_example() {
        let p = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
            0.5719, 0.6528, 0.7590, 1.0,
        ];
        let q = benjamini_hochberg(&p);
        let rejected = q.iter().filter(|&&q| q <= 0.05).count();
        assert_eq!(rejected, 4);
        // q_(4) = 0.0095·15/4; q_(5) = min over j ≥ 5 of p_(j)·15/j = 0.0201·15/5.
        assert!((q[3] - 0.0095 * 15.0 / 4.0).abs() < 1e-15);
        assert!((q[4] - 0.0201 * 15.0 / 5.0).abs() < 1e-15);
        assert_eq!(q[14], 1.0);
        // Order of input does not matter, NaN stays NaN.
        let q2 = benjamini_hochberg(&[0.04, f64::NAN, 0.01]);
        assert!(q2[1].is_nan());
        assert!((q2[2] - 0.03).abs() < 1e-15 && (q2[0] - 0.06).abs() < 1e-15);
    }

    /// A hand-computed Gi* on a path of 5 cells (each with itself and its
    /// neighbours): values 0 0 0 0 10, cell 4 with {3, 4}.
    #[test]
    fn gi_star_by_hand() {
        let w = Weights::binary(&[
            vec![0, 1],
            vec![0, 1, 2],
            vec![1, 2, 3],
            vec![2, 3, 4],
            vec![3, 4],
        ])
        .unwrap();
        let z = gi_star(&[0.0, 0.0, 0.0, 0.0, 10.0], &w).unwrap();
        // mean 2, S = 4; cell 4: (10 − 2·2) / (4 √((5·2 − 4)/4)) = 6 / (4 √1.5)
        assert!((z[4] - 6.0 / (4.0 * 1.5f64.sqrt())).abs() < 1e-12);
        // cell 0: (0 − 4) / (4 √1.5)
        assert!((z[0] + 4.0 / (4.0 * 1.5f64.sqrt())).abs() < 1e-12);
        assert_eq!(gi_star(&[1.0; 5], &w), Err(Error::Constant { what: "Gi*" }));
        assert!(matches!(
            Weights::binary(&[vec![0, 5]]),
            Err(Error::BadWeights { cell: 0, .. })
        ));
        assert!(matches!(
            Weights::binary(&[vec![0, 1], vec![0]]),
            Err(Error::BadWeights { cell: 1, .. })
        ));
        // A neighbourhood of everything says nothing: z = 0.
        let all = Weights::binary(&[vec![0, 1], vec![0, 1]]).unwrap();
        assert_eq!(gi_star(&[1.0, 3.0], &all).unwrap(), vec![0.0, 0.0]);
    }
}
