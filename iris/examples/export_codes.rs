//! Export synthetic templates for the side-by-side with open-iris
//! (`iris/tools/openiris_compare.py`), and time our matcher on the same pairs:
//! `cargo run -p iris --release --example export_codes -- OUTDIR [N] [SEED] [REPEATS]`.
//!
//! Writes `OUTDIR/codes.u8` and `OUTDIR/masks.u8` (N × 8 rows × 128 columns
//! × 2 phase bits, one byte 0/1 per bit, C order — open-iris' IrisTemplate
//! array shape (rows, columns, 2) for one filter) and `OUTDIR/ours.json`:
//! the pairs (all i < j), our distances, and the time per [`iris::compare`]
//! (single thread, which rotates the probe ±9 columns = ±25° every call).
//! `raw_distance` is the untrimmed one (`trimmed_sectors` 0), like for like
//! with open-iris' plain Hamming distance; `distance` and the time are the
//! engine's own (trimmed).

use std::time::Instant;

use iris::synth::{Identity, Resolution, render};
use iris::template::{CODE_COLS, CODE_ROWS, Template};
use iris::{Config, analyse_image, compare};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(a.get(1).expect("OUTDIR"));
    let arg = |i: usize, d: u64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (n, seed, repeats) = (arg(2, 40) as usize, arg(3, 5), arg(4, 20));
    let cfg = Config::default();
    let mut templates: Vec<Template> = Vec::new();
    let mut k = 0u64;
    while templates.len() < n {
        // Two captures per identity, so there are genuine pairs too.
        let (id, c) = (k / 2, k % 2);
        k += 1;
        let res = if c == 0 {
            Resolution::Small
        } else {
            Resolution::Large
        };
        let (img, _) = render(&Identity::new(seed, id), seed, id, c, res);
        if let Ok(cap) = analyse_image(&img, &cfg)
            && cap.usable()
        {
            templates.push(cap.template);
        }
    }
    std::fs::create_dir_all(&out).unwrap();
    let mut codes = Vec::with_capacity(n * CODE_ROWS * CODE_COLS * 2);
    let mut masks = Vec::with_capacity(codes.capacity());
    for t in &templates {
        for row in 0..CODE_ROWS {
            for col in 0..CODE_COLS {
                for ph in 0..2 {
                    let (c, m) = t.get(Template::bit_index(row, col, ph));
                    codes.push(u8::from(c));
                    masks.push(u8::from(m));
                }
            }
        }
    }
    std::fs::write(out.join("codes.u8"), &codes).unwrap();
    std::fs::write(out.join("masks.u8"), &masks).unwrap();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect();
    let p = &cfg.matcher;
    let untrimmed = iris::MatchParams {
        trimmed_sectors: 0,
        ..p.clone()
    };
    let mut dist = Vec::new();
    let t0 = Instant::now();
    for r in 0..repeats {
        for &(i, j) in &pairs {
            let m = compare(&templates[i], &templates[j], p);
            if r == 0 {
                let plain = compare(&templates[i], &templates[j], &untrimmed);
                dist.push((m.distance, plain.raw_distance));
            }
            std::hint::black_box(m);
        }
    }
    let ns = t0.elapsed().as_secs_f64() * 1e9 / (repeats as f64 * pairs.len() as f64);
    let json = format!(
        "{{\"n\":{n},\"seed\":{seed},\"shift_cols\":{},\"kernel\":\"{}\",\"ns_per_compare\":{ns},\"pairs\":{:?},\"distance\":{:?},\"raw_distance\":{:?}}}",
        p.max_shift_cols(),
        iris::simd::kernel_name(),
        pairs.iter().map(|&(i, j)| [i, j]).collect::<Vec<_>>(),
        dist.iter().map(|d| d.0).collect::<Vec<_>>(),
        dist.iter().map(|d| d.1).collect::<Vec<_>>(),
    );
    std::fs::write(out.join("ours.json"), json).unwrap();
    println!(
        "{n} templates, {} pairs: {ns:.0} ns per compare ({})",
        pairs.len(),
        iris::simd::kernel_name()
    );
}
