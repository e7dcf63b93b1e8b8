//! Arbitrary bytes through decode + the whole pipeline + template parsing:
//! every outcome must be Ok or an IrisError, never a panic, hang or OOM.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = iris::Config::default();
    if let Ok(c) = iris::analyse(data, &cfg) {
        // A template we produced must round-trip.
        let bytes = c.template.to_bytes();
        assert_eq!(iris::Template::from_bytes(&bytes).ok(), Some(c.template));
    }
    if let Ok(t) = iris::Template::from_bytes(data) {
        let _ = iris::compare(&t, &t, &cfg.matcher);
    }
});
