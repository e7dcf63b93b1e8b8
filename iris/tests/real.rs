//! Regression tests on real near-infrared captures (the development sets of
//! `../shared/iris-dev/README.md`). The images are licensed for research
//! only and never enter the repository: the tests read them from
//! `KUDAKYAR_IRIS_DEV_DIR` (default `../iris-dev-data` from the project
//! root) and are skipped with a loud line when they are absent, as in CI.
//! `cargo xtask iris-dev` gives the full figures; these tests take the first
//! eyes of each set so they stay quick in a debug build.

use std::path::PathBuf;

use iris::Config;
use iris::eval::{MAX_IMPOSTORS, Report, enrol_all, list_samples, pair_scores, summarise};

fn dev_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KUDAKYAR_IRIS_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../iris-dev-data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** SKIPPED: no real iris captures at {} (set KUDAKYAR_IRIS_DEV_DIR) ***\n",
            dir.display()
        );
        None
    }
}

/// Evaluate the first `eyes` eyes of `set`.
fn evaluate(set: &str, eyes: usize) -> Option<Report> {
    evaluate_eyes(set, &format!("first {eyes} eyes"), &|i, _| i < eyes)
}

/// Evaluate the eyes of `set` for which `keep(index, label)` holds.
fn evaluate_eyes(set: &str, what: &str, keep: &dyn Fn(usize, &str) -> bool) -> Option<Report> {
    let dir = dev_dir()?.join(set);
    let mut samples = list_samples(&dir, &|_| None).unwrap();
    let mut labels: Vec<String> = samples.iter().map(|s| s.label.clone()).collect();
    labels.dedup();
    let labels: Vec<String> = labels
        .into_iter()
        .enumerate()
        .filter(|(i, l)| keep(*i, l))
        .map(|(_, l)| l)
        .collect();
    samples.retain(|s| labels.contains(&s.label));
    let cfg = Config::default();
    let enrolled = enrol_all(&samples, &cfg, &|| {});
    let report = summarise(
        &enrolled,
        &pair_scores(&enrolled, &cfg.matcher, MAX_IMPOSTORS, 1),
    );
    eprintln!("{set} ({what}): {report:?}");
    Some(report)
}

/// Close-range captures whose iris circle runs past the top or bottom of the
/// frame (most of CASIA-Iris-Interval) used to be refused as "eye not fully
/// in the picture" though nearly all the band was visible; and the quality
/// score must rank captures so that discarding the worst lowers FNMR (an
/// error-versus-discard curve that falls; random discarding keeps it level).
/// The ring of LED reflections in CASIA pupils used to hide the pupil (the
/// dark disc inside the ring was taken for it): with the reflections filled
/// before the search, FTE on these eyes was 19 % (from 35 %) and EER 4.5 %
/// (from 6.4 %). With glows judged by their LED cores, the glow-lit core no
/// longer taken for a pupil nested in an iris, the limbus accepted where the
/// sclera is brighter than the iris beside it (not than the iris by the
/// pupil) and the iris–sclera contrast taken across the limbus, they are
/// 3.9 % and 0.19 %.
#[test]
fn real_captures_enrol_and_quality_predicts_errors() {
    // MMU1 takes 60 eyes: the EDC is judged on the errors there are, and
    // in its first 30 there are 8 genuine pairs above the threshold, half of
    // them one capture looking far sideways (002-L), which none of the
    // quality measures sees, so that curve is level whatever the verdict.
    for (set, eyes, max_fte, max_eer) in [
        ("MMU1", 60, 0.05, 0.03),
        ("CASIA-Iris-Interval", 30, 0.08, 0.01),
    ] {
        let Some(r) = evaluate(set, eyes) else { return };
        assert!(r.eer <= max_eer, "{set}: EER {:.4}", r.eer);
        assert!(
            r.fte <= max_fte,
            "{set}: FTE {:.3} {:?}",
            r.fte,
            r.fte_reasons
        );
        assert!(
            !r.fte_reasons
                .iter()
                .any(|(why, n)| why.contains("not fully in the picture") && *n * 20 > r.images),
            "{set}: {:?}",
            r.fte_reasons
        );
        assert!(r.genuine_mean < r.impostor_mean - 0.1, "{set}: {r:?}");
        let (first, last) = (r.edc.first().unwrap(), r.edc.last().unwrap());
        assert!(
            first.fnmr == 0.0 || last.fnmr < first.fnmr,
            "{set}: EDC {:?}",
            r.edc
        );
    }
}

/// Light irises whose rim, in near-infrared, is as bright as the sclera until
/// a narrow dark ring right at the limbus. Their limbus circle fits, but the
/// iris–sclera contrast, taken between bands of iris and sclera 10–20 px
/// from the boundary, was under 3 % on 19 of their 26 captures, refused as
/// "iris edge unclear"; taken across the boundary it is 3.5–7 %. They must
/// enrol and match one another.
#[test]
fn light_irises_with_a_limbal_ring_enrol_and_match() {
    const EYES: [&str; 4] = ["043-R", "094-L", "195-R", "203-L"];
    let Some(r) = evaluate_eyes("CASIA-Iris-Interval", "light irises", &|_, l| {
        EYES.contains(&l)
    }) else {
        return;
    };
    assert!(
        !r.fte_reasons
            .iter()
            .any(|(why, _)| why.contains("edge unclear")),
        "{:?}",
        r.fte_reasons
    );
    assert!(r.fte <= 0.1, "FTE {:.3} {:?}", r.fte, r.fte_reasons);
    assert!(r.genuine_mean < 0.15, "{r:?}");
    assert!(r.eer == 0.0, "EER {:.4}", r.eer);
}
