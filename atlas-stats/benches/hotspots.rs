//! The nightly hot-spot run at the scale: 20,000 cells × 52 weeks
//! (Gi* per week with Benjamini-Hochberg, Mann-Kendall per cell, the emerging
//! hot spot category), and the zoning breaks of 20,000 cells. The issue's
//! target for the nightly run is ≤ 60 s; figures go in BENCHMARKS.md.
//!
//! The cells sit on a 200 × 100 hexagonal grid, each with its k = 1 ring
//! including itself (`tests/common/grid.rs`). Counts are seeded Poisson-like draws with a few growing clusters.

use atlas_stats::breaks;
use atlas_stats::emerging::{Params, analyse};
use atlas_stats::gistar::Weights;
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "../tests/common/grid.rs"]
mod grid;

const WIDTH: usize = 200;
const HEIGHT: usize = 100;
const WEEKS: usize = 52;

fn cube(rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    (0..WEEKS)
        .map(|week| {
            (0..WIDTH * HEIGHT)
                .map(|cell| {
                    let (r, c) = (cell / WIDTH, cell % WIDTH);
                    let growing = r % 25 < 3 && c % 40 < 3;
                    let mean = if growing {
                        2.0 + week as f64 * 0.3
                    } else {
                        0.7
                    };
                    // A cheap Poisson-like draw: the sum of 4 Bernoulli(mean/4).
                    (0..4)
                        .filter(|_| rng.gen_bool((mean / 4.0).min(1.0)))
                        .count() as f64
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let weights = Weights::binary(&grid::hex_rings(WIDTH, HEIGHT, 1)).expect("valid rings");
    let cube = cube(&mut rng);
    let events = cube.iter().flatten().sum::<f64>() as u64;
    let mut group = c.benchmark_group("nightly");
    group.sample_size(10);
    group.bench_function("emerging_20000_cells_52_weeks", |b| {
        b.iter(|| analyse(&cube, &weights, events, &Params::default()).expect("analysed"))
    });
    let totals: Vec<f64> = (0..WIDTH * HEIGHT)
        .map(|cell| cube.iter().map(|week| week[cell]).sum())
        .collect();
    group.bench_function("jenks_20000_cells_4_classes", |b| {
        b.iter(|| breaks::jenks(&totals, 4).expect("breaks"))
    });
    group.bench_function("quantiles_20000_cells_4_classes", |b| {
        b.iter(|| breaks::quantiles(&totals, 4).expect("breaks"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
