//! 1:N search with templates from the real pipeline: planted genuine
//! captures among thousands of realistic impostor codes must all be found,
//! and the prefilter must return exactly what exhaustive search returns for
//! them.

use iris::synth::{Identity, Resolution, Rng, mosaic, render};
use iris::{Config, Gallery, SearchParams, Template, analyse_image};

const SEED: u64 = 4242;

fn template(id: u64, capture: u64, res: Resolution) -> Option<Template> {
    let (img, _) = render(&Identity::new(SEED, id), SEED, id, capture, res);
    analyse_image(&img, &Config::default())
        .ok()
        .filter(|c| c.usable())
        .map(|c| c.template)
}

#[test]
fn prefilter_loses_no_planted_genuine_match() {
    let pool: Vec<Template> = (100..116)
        .filter_map(|id| template(id, 0, Resolution::Small))
        .collect();
    assert!(pool.len() >= 12);
    let pairs: Vec<(u64, Template, Template)> = (0..8)
        .filter_map(|id| {
            Some((
                id,
                template(id, 0, Resolution::Small)?,
                template(id, 1, Resolution::Large)?,
            ))
        })
        .collect();
    assert!(pairs.len() >= 6, "too few synthetic captures enrolled");
    let mut rng = Rng::new(&[SEED]);
    let mut g: Gallery<u64> = Gallery::new();
    for i in 0..4000u64 {
        g.insert(10_000 + i, &mosaic(&pool, &mut rng));
    }
    for (id, enrolled, _) in &pairs {
        g.insert(*id, enrolled);
    }
    let p = SearchParams::default();
    for (id, _, probe) in &pairs {
        let (fast, stats) = g.search_with_stats(probe, &p, true);
        let slow = g.search_exhaustive(probe, &p);
        let planted_fast = fast.iter().find(|c| c.id == *id);
        let planted_slow = slow.iter().find(|c| c.id == *id);
        assert!(
            planted_slow.is_some(),
            "identity {id}: the genuine pair does not match at all"
        );
        assert_eq!(
            planted_fast, planted_slow,
            "identity {id}: prefilter lost or changed the planted match"
        );
        assert_eq!(
            fast[0].id, *id,
            "identity {id}: planted match is not the best candidate"
        );
        assert!(
            stats.exact < g.len() / 5,
            "prefilter kept {} of {}",
            stats.exact,
            g.len()
        );
    }
}
