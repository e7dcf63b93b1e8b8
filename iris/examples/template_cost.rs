//! Template extraction, repeated, for an instruction profiler:
//! `valgrind --tool=callgrind target/release/examples/template_cost [N] [IMAGE…]`.
//!
//! Runs [`iris::analyse_image`] N times (default 20) on the criterion
//! bench's 320×240 synthetic capture, or on each IMAGE given. Instruction
//! counts (callgrind's `Ir`) do not depend on the machine's load, so they are
//! the fair before/after comparison on a shared machine; wall-clock figures
//! come from `cargo bench -p iris --bench template`.

use iris::synth::{Resolution, eye};
use iris::{Config, analyse_image};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(20);
    let paths: Vec<&String> = args
        .iter()
        .filter(|a| a.parse::<usize>().is_err())
        .collect();
    let images: Vec<image::GrayImage> = if paths.is_empty() {
        vec![eye(5, 1, 0, Resolution::Small)]
    } else {
        paths
            .iter()
            .map(|p| image::open(p).expect("readable image").to_luma8())
            .collect()
    };
    let cfg = Config::default();
    // A digest of every template and circle, so that a change meant to keep
    // the results bit for bit can be checked to do so.
    let (mut usable, mut digest) = (0usize, 0xcbf2_9ce4_8422_2325u64);
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            digest = (digest ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for _ in 0..n {
        for img in &images {
            match analyse_image(img, &cfg) {
                Ok(c) => {
                    usable += usize::from(c.usable());
                    eat(&c.template.to_bytes());
                    let (p, i) = (c.quality.pupil, c.quality.iris);
                    for v in [p.x, p.y, p.r, i.x, i.y, i.r, c.quality.score] {
                        eat(&v.to_le_bytes());
                    }
                }
                Err(e) => eat(e.to_string().as_bytes()),
            }
        }
    }
    println!(
        "{usable} of {} analyses usable; digest {digest:016x}",
        n * images.len()
    );
}
