//! Template extraction time for one 320×240 synthetic capture on one core
//! (target ≤ 20 ms), plus the stages that dominate it.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use iris::synth::{Resolution, eye};
use iris::{Config, analyse_image};

fn extraction(c: &mut Criterion) {
    let cfg = Config::default();
    let small = eye(5, 1, 0, Resolution::Small);
    let large = eye(5, 2, 1, Resolution::Large);
    let png = {
        let mut v = Vec::new();
        small
            .write_to(&mut std::io::Cursor::new(&mut v), image::ImageFormat::Png)
            .unwrap();
        v
    };
    c.bench_function("template 320x240 (decoded)", |b| {
        b.iter(|| analyse_image(black_box(&small), &cfg).unwrap())
    });
    c.bench_function("template 320x240 (from PNG bytes)", |b| {
        b.iter(|| iris::analyse(black_box(&png), &cfg).unwrap())
    });
    c.bench_function("template 640x480 (decoded)", |b| {
        b.iter(|| analyse_image(black_box(&large), &cfg).unwrap())
    });
}

criterion_group!(benches, extraction);
criterion_main!(benches);
