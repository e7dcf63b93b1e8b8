//! 1:N search over a 100,000-entry gallery of random templates (criterion);
//! the 1,000,000-entry figure with realistic codes and planted probes comes
//! from `kudakyar iris bench-search`. Also one 1:1 comparison (±25°).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use iris::synth::Rng;
use iris::template::{CODE_BITS, Template};
use iris::{Gallery, SearchParams, compare};

fn random_template(rng: &mut Rng) -> Template {
    let mut t = Template::empty();
    for b in 0..CODE_BITS {
        t.set(b, rng.below(2) == 1, rng.below(4) != 0);
    }
    t
}

fn search(c: &mut Criterion) {
    let mut rng = Rng::new(&[42]);
    let pool: Vec<Template> = (0..512).map(|_| random_template(&mut rng)).collect();
    let mut g: Gallery<u32> = Gallery::with_capacity(100_000);
    for i in 0..100_000u32 {
        g.insert(i, &pool[i as usize % 512].rotated((i / 512) as i32));
    }
    let probe = random_template(&mut rng);
    let p = SearchParams::default();
    c.bench_function("search 100k (prefilter)", |b| {
        b.iter(|| g.search(black_box(&probe), &p))
    });
    c.bench_function("search 100k (exhaustive)", |b| {
        b.iter(|| g.search_exhaustive(black_box(&probe), &p))
    });
    c.bench_function("compare 1:1 (15 shifts)", |b| {
        b.iter(|| compare(black_box(&probe), black_box(&pool[0]), &p.matcher))
    });
}

criterion_group!(benches, search);
criterion_main!(benches);
