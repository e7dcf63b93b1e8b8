//! Emerging hot spots: the space-time pattern of each cell, in the categories
//! of ArcGIS Pro's *Emerging Hot Spot Analysis* ("How Emerging Hot Spot
//! Analysis works", pro.arcgis.com, space-time-pattern-mining/learnmoreemerging).
//!
//! ## The run ([`analyse`])
//!
//! 1. Refuse with fewer than [`MIN_TIME_STEPS`] time steps (weeks) or fewer
//!    than [`MIN_EVENTS`] events in the whole cube (the minimums issue 17
//!    sets): a trend over a handful of weeks, or clusters among a few dozen
//!    sightings, would be noise drawn as a map.
//! 2. Per time step, the Gi\* z-score of every cell over the spatial weights
//!    ([`crate::gistar`]), its two-sided p-value, and (by default) the
//!    Benjamini-Hochberg correction across that step's cells. A step where
//!    every cell has the same value (typically a week with no event at all)
//!    has no clustering to find: all its cells get z = 0, p = 1.
//! 3. Per cell, the Mann-Kendall test ([`crate::mann_kendall`]) of its series
//!    of z-scores: is the clustering intensifying or diminishing?
//! 4. Per cell, the category ([`classify`]).
//!
//! A *hot bin* is a (cell, step) with p ≤ α and z > 0, a *cold bin* p ≤ α and
//! z < 0 (α = 0.05 by default). "≥ 90 %" means at least 90 % of all the time
//! steps, counted exactly (`10·count ≥ 9·n`). A trend is significant when the
//! Mann-Kendall p ≤ the trend α (0.05 by default).
//!
//! ## The categories, as ArcGIS publishes them (hot; cold is the mirror)
//!
//! - **New**: hot in the final step and never hot before.
//! - **Consecutive**: a single uninterrupted run of at least two hot bins
//!   ending in the final step, never hot before that run, and fewer than
//!   90 % of the steps hot.
//! - **Intensifying**: hot in ≥ 90 % of the steps including the final one,
//!   and the intensity of clustering (the z-scores) rises significantly.
//! - **Persistent**: hot in ≥ 90 % of the steps, no significant trend.
//! - **Diminishing**: hot in ≥ 90 % of the steps including the final one, and
//!   the z-scores fall significantly.
//! - **Sporadic**: hot in the final step, on-and-off hot before, fewer than
//!   90 % of the steps hot, and never a cold bin.
//! - **Oscillating**: hot in the final step, at least one earlier cold bin,
//!   fewer than 90 % of the steps hot.
//! - **Historical**: the final step not hot, but ≥ 90 % of the steps hot.
//! - **No pattern**: none of the above.
//!
//! For cold spots "intensifying" means the z-scores fall (colder), and
//! "diminishing" that they rise.
//!
//! ## Where the published definitions overlap, and how we decide
//!
//! The text leaves a few cases to the reader; our reading, in order:
//! the final step decides the family (hot final → the hot categories except
//! historical; cold final → the cold ones; neither → historical hot if ≥ 90 %
//! hot, historical cold if ≥ 90 % cold, else no pattern). So a cell hot in
//! ≥ 90 % of the steps but not the last is *historical*, not persistent.
//! Among the hot categories: new, then consecutive (both by their text look
//! only at earlier *hot* bins, so an earlier cold bin does not stop them), then
//! the ≥ 90 % trio by trend, then oscillating (an earlier cold bin), then
//! sporadic.

use crate::Error;
use crate::gistar::{Weights, benjamini_hochberg, gi_star};
use crate::mann_kendall::{self, MannKendall};
use crate::normal::two_sided_p;

/// Fewer time steps than this and [`analyse`] refuses.
pub const MIN_TIME_STEPS: usize = 10;
/// Fewer events in the whole cube than this and [`analyse`] refuses.
pub const MIN_EVENTS: u64 = 60;

/// A space-time pattern category (rules in the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    New,
    Consecutive,
    Intensifying,
    Persistent,
    Diminishing,
    Sporadic,
    Oscillating,
    Historical,
}

/// A cell's pattern: a hot or cold category, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    NoPattern,
    Hot(Kind),
    Cold(Kind),
}

/// One (cell, step) bin: its Gi\* z-score and its (possibly FDR-adjusted) p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub z: f64,
    pub p: f64,
}

/// The knobs of [`analyse`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Significance level of a hot or cold bin.
    pub alpha: f64,
    /// Significance level of the Mann-Kendall trend.
    pub trend_alpha: f64,
    /// Apply Benjamini-Hochberg across each step's cells.
    pub fdr: bool,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            alpha: 0.05,
            trend_alpha: 0.05,
            fdr: true,
        }
    }
}

/// One cell's outcome of [`analyse`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellPattern {
    pub pattern: Pattern,
    /// The Mann-Kendall test of the cell's z-scores.
    pub trend: MannKendall,
}

/// Which way a bin points when significant.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Hot,
    Cold,
}

impl Side {
    fn of(bin: &Bin, alpha: f64) -> Option<Side> {
        // A NaN p-value is never significant.
        let significant = bin.p <= alpha;
        if !significant {
            None
        } else if bin.z > 0.0 {
            Some(Side::Hot)
        } else if bin.z < 0.0 {
            Some(Side::Cold)
        } else {
            None
        }
    }
}

/// The category of one cell from its bins in time order and the Mann-Kendall
/// test of its z-scores (rules and tie-breaking in the module doc). Does not
/// check the minimum size of the cube: [`analyse`] does.
pub fn classify(series: &[Bin], trend: &MannKendall, alpha: f64, trend_alpha: f64) -> Pattern {
    let Some(last) = series.last() else {
        return Pattern::NoPattern;
    };
    let n = series.len();
    let sides: Vec<Option<Side>> = series.iter().map(|b| Side::of(b, alpha)).collect();
    let count = |side: Side| sides.iter().filter(|&&s| s == Some(side)).count();
    let most = |count: usize| 10 * count >= 9 * n;
    let Some(side) = Side::of(last, alpha) else {
        return if most(count(Side::Hot)) {
            Pattern::Hot(Kind::Historical)
        } else if most(count(Side::Cold)) {
            Pattern::Cold(Kind::Historical)
        } else {
            Pattern::NoPattern
        };
    };
    let other = if side == Side::Hot {
        Side::Cold
    } else {
        Side::Hot
    };
    let same = count(side);
    let run = sides.iter().rev().take_while(|&&s| s == Some(side)).count();
    // "Intensifying" is a trend away from zero: up for hot, down for cold.
    let direction = match side {
        Side::Hot => trend.trend(trend_alpha),
        Side::Cold => -trend.trend(trend_alpha),
    };
    let kind = if same == 1 {
        Kind::New
    } else if run >= 2 && same == run && !most(same) {
        Kind::Consecutive
    } else if most(same) {
        match direction {
            1 => Kind::Intensifying,
            -1 => Kind::Diminishing,
            _ => Kind::Persistent,
        }
    } else if count(other) > 0 {
        Kind::Oscillating
    } else {
        Kind::Sporadic
    };
    match side {
        Side::Hot => Pattern::Hot(kind),
        Side::Cold => Pattern::Cold(kind),
    }
}

/// The whole emerging hot spot run over a cube of `cube[step][cell]` values
/// (counts per cell and week) with `events` events in all.
pub fn analyse(
    cube: &[Vec<f64>],
    weights: &Weights,
    events: u64,
    params: &Params,
) -> Result<Vec<CellPattern>, Error> {
    if cube.len() < MIN_TIME_STEPS {
        return Err(Error::TooFewTimeSteps {
            need: MIN_TIME_STEPS,
            got: cube.len(),
        });
    }
    if events < MIN_EVENTS {
        return Err(Error::TooFewEvents {
            need: MIN_EVENTS,
            got: events,
        });
    }
    for alpha in [params.alpha, params.trend_alpha] {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(Error::BadAlpha(alpha));
        }
    }
    let cells = weights.len();
    // bins[cell][step], so each cell's series is contiguous for step 3.
    let mut bins = vec![Vec::with_capacity(cube.len()); cells];
    for (step, values) in cube.iter().enumerate() {
        if values.len() != cells {
            return Err(Error::RaggedCube {
                step,
                got: values.len(),
                expected: cells,
            });
        }
        let z = match gi_star(values, weights) {
            Ok(z) => z,
            Err(Error::Constant { .. }) => vec![0.0; cells],
            Err(e) => return Err(e),
        };
        let raw: Vec<f64> = z.iter().map(|&z| two_sided_p(z)).collect();
        let p = if params.fdr {
            benjamini_hochberg(&raw)
        } else {
            raw
        };
        for (cell, series) in bins.iter_mut().enumerate() {
            series.push(Bin {
                z: z[cell],
                p: p[cell],
            });
        }
    }
    let mut zs = Vec::with_capacity(cube.len());
    bins.iter()
        .map(|series| {
            zs.clear();
            zs.extend(series.iter().map(|b| b.z));
            let trend = mann_kendall::test(&zs)?;
            Ok(CellPattern {
                pattern: classify(series, &trend, params.alpha, params.trend_alpha),
                trend,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Bin = Bin { z: 3.0, p: 0.001 };
    const C: Bin = Bin { z: -3.0, p: 0.001 };
    const O: Bin = Bin { z: 0.5, p: 0.6 };

    fn pattern(series: &[Bin]) -> Pattern {
        let z: Vec<f64> = series.iter().map(|b| b.z).collect();
        classify(series, &mann_kendall::test(&z).unwrap(), 0.05, 0.05)
    }

    fn rising_hot(n: usize) -> Vec<Bin> {
        (0..n)
            .map(|i| Bin {
                z: 2.0 + i as f64,
                p: 0.01,
            })
            .collect()
    }

    #[test]
    fn every_hot_category_from_its_rule() {
        let mut s = vec![O; 9];
        s.push(H);
        assert_eq!(pattern(&s), Pattern::Hot(Kind::New));
        // New even with an earlier cold bin: the text only asks "never hot".
        s[2] = C;
        assert_eq!(pattern(&s), Pattern::Hot(Kind::New));

        let s = [O, O, O, O, O, O, O, H, H, H];
        assert_eq!(pattern(&s), Pattern::Hot(Kind::Consecutive));

        assert_eq!(pattern(&rising_hot(10)), Pattern::Hot(Kind::Intensifying));
        let mut falling = rising_hot(10);
        falling.reverse();
        assert_eq!(pattern(&falling), Pattern::Hot(Kind::Diminishing));
        // 9 of 10 hot (exactly 90 %), no trend: persistent.
        let s = [H, H, H, O, H, H, H, H, H, H];
        assert_eq!(pattern(&s), Pattern::Hot(Kind::Persistent));

        let s = [H, O, O, H, O, H, O, O, O, H];
        assert_eq!(pattern(&s), Pattern::Hot(Kind::Sporadic));
        let s = [H, O, C, H, O, H, O, O, O, H];
        assert_eq!(pattern(&s), Pattern::Hot(Kind::Oscillating));
        // Hot before a run, then the run: not consecutive but sporadic.
        let s = [H, O, O, O, O, O, O, H, H, H];
        assert_eq!(pattern(&s), Pattern::Hot(Kind::Sporadic));

        let s = [H, H, H, H, H, H, H, H, H, O];
        assert_eq!(pattern(&s), Pattern::Hot(Kind::Historical));
        // 8 of 10 hot and not the last: nothing.
        let s = [H, H, H, H, O, H, H, H, H, O];
        assert_eq!(pattern(&s), Pattern::NoPattern);
        assert_eq!(pattern(&[O; 10]), Pattern::NoPattern);
    }

    #[test]
    fn cold_mirrors_hot() {
        let s = [O, O, O, O, O, O, O, C, C, C];
        assert_eq!(pattern(&s), Pattern::Cold(Kind::Consecutive));
        // Colder and colder: an intensifying cold spot.
        let colder: Vec<Bin> = (0..10)
            .map(|i| Bin {
                z: -2.0 - i as f64,
                p: 0.01,
            })
            .collect();
        assert_eq!(pattern(&colder), Pattern::Cold(Kind::Intensifying));
        let s = [C, H, O, C, O, O, O, O, O, C];
        assert_eq!(pattern(&s), Pattern::Cold(Kind::Oscillating));
        let s = [C, C, C, C, C, C, C, C, C, O];
        assert_eq!(pattern(&s), Pattern::Cold(Kind::Historical));
    }

    #[test]
    fn significance_is_p_at_most_alpha() {
        let edge = Bin { z: 2.0, p: 0.05 };
        let mut s = vec![O; 9];
        s.push(edge);
        assert_eq!(pattern(&s), Pattern::Hot(Kind::New));
        s[9].p = 0.050_000_1;
        assert_eq!(pattern(&s), Pattern::NoPattern);
    }

    fn line(n: usize) -> Weights {
        Weights::binary(
            &(0..n)
                .map(|i| (i.saturating_sub(1)..(i + 2).min(n)).collect())
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn analyse_refuses_small_cubes_and_says_why() {
        let w = line(20);
        let cube = vec![vec![1.0; 20]; 9];
        let err = analyse(&cube, &w, 1000, &Params::default()).unwrap_err();
        assert_eq!(err, Error::TooFewTimeSteps { need: 10, got: 9 });
        assert!(err.to_string().contains("at least 10 time steps"));
        let cube = vec![vec![0.0; 20]; 10];
        let err = analyse(&cube, &w, 59, &Params::default()).unwrap_err();
        assert_eq!(err, Error::TooFewEvents { need: 60, got: 59 });
        let mut ragged = vec![vec![0.0; 20]; 10];
        ragged[3].pop();
        assert!(matches!(
            analyse(&ragged, &w, 60, &Params::default()),
            Err(Error::RaggedCube { step: 3, .. })
        ));
        let bad = Params {
            alpha: 0.0,
            ..Params::default()
        };
        assert_eq!(
            analyse(&vec![vec![0.0; 20]; 10], &w, 60, &bad),
            Err(Error::BadAlpha(0.0))
        );
    }

    /// A line of 40 cells over 12 weeks; cells 18–21 get busier every week,
    /// the rest stay at the same low, uneven level. As the cluster outgrows its
    /// surroundings its Gi* rises every week (towards a limit, as Gi* does not
    /// change when all values are scaled): the middle must come out an
    /// intensifying hot spot, and an empty week must not break the run.
    #[test]
    fn analyse_finds_a_growing_cluster() {
        let n = 40;
        let w = line(n);
        let cube: Vec<Vec<f64>> = (0..12)
            .map(|week| {
                if week == 0 {
                    return vec![0.0; n];
                }
                (0..n)
                    .map(|c| {
                        let base = ((c * 7) % 4) as f64;
                        if (18..22).contains(&c) {
                            base + 4.0 + 3.0 * week as f64
                        } else {
                            base
                        }
                    })
                    .collect()
            })
            .collect();
        let events = cube.iter().flatten().sum::<f64>() as u64;
        let out = analyse(&cube, &w, events, &Params::default()).unwrap();
        assert_eq!(out.len(), n);
        for (c, cell) in out.iter().enumerate().take(21).skip(19) {
            assert_eq!(cell.pattern, Pattern::Hot(Kind::Intensifying), "cell {c}");
            assert!(cell.trend.s > 0);
        }
        assert_eq!(out[0].pattern, Pattern::NoPattern);
    }
}
