//! # Kudakyar iris engine
//!
//! Recognises a child again from a near-infrared eye image, in pure Rust,
//! with no server dependencies. The engine is a pipeline of named stages,
//! each in its own module with its own parameters and tests:
//!
//! | stage | module | function | parameters |
//! |---|---|---|---|
//! | 0. decode under limits | [`decode`] | [`decode::decode`] | [`decode::MAX_SIDE`], [`decode::MAX_ALLOC`], [`decode::MIN_SIDE`], [`decode::WORK_SIDE`] |
//! | 0.5 reflections | [`specular`] | [`specular::fill_reflections`] | [`specular::SpecularParams`]: opening width, least top-hat (the illuminator's spots, judged by their brightest cores so that the touching glows of an LED ring still count, inpainted from the grey around them for the boundary searches) |
//! | 1. pupil | [`pupil`] | [`pupil::locate_pupil`] | [`pupil::PupilParams`]: radius range, coarse width, min contrast (a dark round blob nested in a larger, lighter one of 0.15–0.75 its radius wins: dark iris vs pupil — unless a ring between them falls back halfway to the inner blob's grey, as a pupil lit by a ring of glow does around its dark core; when the glow reaches the pupil's edge, [`pipeline::segment`] takes the larger blob if a limbus is found around it and the nested blob's own limbus is not well beyond it); [`pupil::contour`]: the pupil's own boundary for the rubber sheet, a Fourier series of its radius to the second harmonic fitted robustly to 128 rays near the circle |
//! | 2. limbus | [`limbus`] | [`limbus::locate_limbus`] | [`limbus::LimbusParams`]: pupil/iris ratio range, centre offset, min edge, concentricity prior (0.5 of the edge strength lost at the largest offset), per-direction visibility window (3 px: lashes and lid-margin shadow over the boundary count neither for nor against a circle) |
//! | 3. noise mask | [`mask`] | [`mask::noise_mask`] | [`mask::MaskParams`]: outlier k, spread floor, eyelid fraction and smoothing, eyelashes (thin dark structures connected to a lid or the band's outer edge: top-hat width and depth) |
//! | 4. normalise | [`normalise`] | [`normalise::normalise_contour`] | [`normalise::NormaliseParams`]: ρ range (0.04–0.8); grid 32×256; from the pupil's contour to the limbus circle |
//! | 5. encode | [`encode`] | [`encode::encode`] | [`encode::EncodeParams`]: Gabor wavelength and σ, fragile fraction, min support |
//! | 6. quality | [`quality`] | [`quality::assess`] | [`quality::QualityParams`]: acceptance limits (iris–sclera contrast across the limbus circle, lateral sectors only; least share of the pupil boundary and of the lateral limbus seen as an edge on their circles: 60 %, 33 %) |
//! | template | [`template`] | [`Template::to_bytes`], [`Template::from_bytes`] | 2,048 code + 2,048 mask bits, 524 bytes |
//! | match | [`matcher`] | [`matcher::compare`] | [`matcher::MatchParams`]: shift range (±25°), threshold (0.33), n_ref (1,024), sectors trimmed (0 of 8: the worst-disagreeing 45° sectors can be left out, off by default) |
//! | 1:N | [`gallery`] | [`gallery::Gallery::search`] | [`gallery::SearchParams`]: k, prefilter threshold (0.40 on a 512-bit subsample), shift step |
//!
//! Stage 3 runs on the normalised band (after stage 4's sampling), where
//! eyelids become curves entering from the outer rows.
//!
//! [`pipeline`] chains the stages: [`analyse`] returns the quality report and
//! template of any image in which an eye was found; [`enrol`] additionally
//! refuses captures whose verdict is "retake". Unusable input is always an
//! [`IrisError`] with a reason a field worker understands; nothing panics on
//! input data and memory is bounded by the decoder limits.
//!
//! ## Using it from a service
//!
//! ```no_run
//! use iris::{Config, Gallery, IrisError, SearchParams, Template};
//! # fn demo(bytes: &[u8]) -> Result<(), IrisError> {
//! let cfg = Config::default();
//! // Decode + quality + template; Err(IrisError::Unusable(report)) on "retake".
//! let capture = iris::enrol(bytes, &cfg)?;
//! let stored: Vec<u8> = capture.template.to_bytes(); // 524 bytes
//! let template = Template::from_bytes(&stored)?;
//! let one_to_one = iris::compare(&template, &capture.template, &cfg.matcher);
//! let mut gallery: Gallery<u64> = Gallery::new();
//! gallery.insert(42, &template);
//! let hits = gallery.search(&capture.template, &SearchParams::default());
//! gallery.remove(&42);
//! # let _ = (one_to_one, hits); Ok(()) }
//! ```
//!
//! ## Measuring
//!
//! - `kudakyar iris synth DIR --identities 200 --captures 10` then
//!   `kudakyar iris evaluate DIR --plot det.png`: FTE, EER, FNMR at FMR
//!   1e-2 … and template time. The default decision threshold (0.33) is the
//!   FMR 1e-4 point on synthetic data; re-calibrate it on real captures.
//! - `kudakyar iris bench-search --gallery 1000000 --probes 20`: 1:N search
//!   time and recall of planted genuine probes.
//! - `cargo bench -p iris --bench template` (criterion, one core) and
//!   `--bench search`.
//! - `cargo run -p iris --release --example calibrate -- DIR[,DIR…]`: the
//!   decision threshold's FMR / FNMR with the distance trimmed and
//!   untrimmed, and the prefilter's recall and cost, on real captures.
//! - `cargo run -p iris --release --example segdiag -- SEED IDS CAPTURES`:
//!   segmentation error against the synthetic ground truth, per capture
//!   (`SEGDIAG_DIR=dir` also draws the circles on the failing ones); with
//!   image paths instead (`-- IMAGE…`), the circles, verdict and noise mask
//!   of real captures.
//! - `cargo run -p iris --release --example genuine_pairs -- DIR [WORST]
//!   [OUT_DIR]`: why genuine pairs fail on a folder of real captures — the
//!   worst genuine pairs with their rotation, bits compared and where the
//!   disagreeing bits lie, drawn (circles, masked samples, both bands, the
//!   bits compared) for a person to judge.
//! - Side by side with open-iris' `HammingDistanceMatcher`: the
//!   `export_codes` example, then `iris/tools/openiris_compare.py` (see its
//!   docstring).
//! - Fuzzing (decode + pipeline + template parsing), from `iris/fuzz`:
//!   `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_pipeline -- -max_total_time=600`.
//!
//! [`synth`] generates deterministic synthetic eye images; [`eval`] measures
//! FTE, EER and FNMR at fixed FMR on a folder of images; [`cli`] (feature
//! `cli`) exposes `kudakyar iris …`. Feature `parallel` (default) uses rayon
//! for the gallery scan and evaluation; without it the crate builds for
//! `wasm32-unknown-unknown`.

pub mod decode;
pub mod edge;
pub mod encode;
pub mod error;
pub mod eval;
pub mod gallery;
pub mod limbus;
pub mod mask;
pub mod matcher;
pub mod normalise;
pub mod pipeline;
pub mod plane;
pub mod pupil;
pub mod quality;
pub mod simd;
pub mod specular;
pub mod synth;
pub mod template;

#[cfg(feature = "cli")]
pub mod cli;

pub use error::IrisError;
pub use gallery::{Candidate, Gallery, SearchParams};
pub use matcher::{MatchParams, MatchResult, compare};
pub use pipeline::{Capture, Config, analyse, analyse_image, enrol};
pub use quality::{QualityReport, Verdict};
pub use template::Template;
