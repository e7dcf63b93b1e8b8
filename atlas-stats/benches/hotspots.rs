//! The nightly hot-spot run at the scale: 20,000 cells × 52 weeks
//! (Gi* per week with Benjamini-Hochberg, Mann-Kendall per cell, the emerging
//! hot spot category), and the zoning breaks of 20,000 cells. The issue's
//! target for the nightly run is ≤ 60 s; figures go in BENCHMARKS.md.
//!
//! The cells sit on a 200 × 100 hexagonal grid (offset rows), each with its
//! k = 1 ring including itself, the shape of an H3 k-ring away from the
//! pentagons. Counts are seeded Poisson-like draws with a few growing clusters.

use atlas_stats::breaks;
use atlas_stats::emerging::{Params, analyse};
use atlas_stats::gistar::Weights;
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WIDTH: usize = 200;
const HEIGHT: usize = 100;
const WEEKS: usize = 52;

/// The k = 1 ring (self included) of each cell on an offset-row hex grid.
fn hex_rings() -> Vec<Vec<usize>> {
    let mut rings = Vec::with_capacity(WIDTH * HEIGHT);
    for r in 0..HEIGHT as i64 {
        for c in 0..WIDTH as i64 {
            // Odd rows are shifted right by half a cell.
            let shift = r & 1;
            let around = [
                (0, 0),
                (0, -1),
                (0, 1),
                (-1, shift - 1),
                (-1, shift),
                (1, shift - 1),
                (1, shift),
            ];
            rings.push(
                around
                    .iter()
                    .map(|(dr, dc)| (r + dr, c + dc))
                    .filter(|&(r, c)| {
                        (0..HEIGHT as i64).contains(&r) && (0..WIDTH as i64).contains(&c)
                    })
                    .map(|(r, c)| (r as usize) * WIDTH + c as usize)
                    .collect(),
            );
        }
    }
    rings
}

fn cube(rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    (0..WEEKS)
        .map(|week| {
            (0..WIDTH * HEIGHT)
                .map(|cell| {
                    let (r, c) = (cell / WIDTH, cell % WIDTH);
                    let growing = r % 25 < 3 && c % 40 < 3;
                    let mean = if growing { 2.0 + week as f64 * 0.3 } else { 0.7 };
                    // A cheap Poisson-like draw: the sum of 4 Bernoulli(mean/4).
                    (0..4).filter(|_| rng.gen_bool((mean / 4.0).min(1.0))).count() as f64
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let weights = Weights::binary(&hex_rings()).expect("valid rings");
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
