//! `kudakyar iris …` subcommands (feature `cli`).
//!
//! Layout: [`IrisCommand`] (clap), [`run`], then one function per
//! subcommand: `template`, `match`, `synth`, `evaluate` (with the DET/histogram
//! plot), `bench-search` (with the synthetic gallery builder).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::eval::{
    MAX_IMPOSTORS, Report, det_curve, enrol_all, list_samples, pair_scores, summarise,
};
use crate::gallery::{Gallery, SearchParams};
use crate::pipeline::{Config, analyse};
use crate::synth::{Identity, Resolution, Rng, render};
use crate::template::Template;
use crate::{IrisError, compare};

/// Image sizes written by `synth`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SynthSize {
    /// 320×240 only.
    Small,
    /// 640×480 only.
    Large,
    /// Alternate: even captures 320×240, odd captures 640×480.
    Mixed,
}

#[derive(Debug, Subcommand)]
pub enum IrisCommand {
    /// Quality report and template of one eye image; exits non-zero with the
    /// reason when the capture is unusable.
    Template {
        image: PathBuf,
        /// Write the binary template here.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Compare two eye images (or saved templates): distance, shift, bits, verdict.
    Match {
        a: PathBuf,
        b: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write synthetic eye images to `DIR/<identity>/<n>.png`.
    Synth {
        dir: PathBuf,
        #[arg(long)]
        identities: u32,
        #[arg(long)]
        captures: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, value_enum, default_value = "mixed")]
        size: SynthSize,
    },
    /// FTE, EER and FNMR at fixed FMR over `DIR/<identity>/<image>`.
    Evaluate {
        dir: PathBuf,
        /// The first capture group of this regex on the file name is added to
        /// the identity, e.g. `_([LR])\.` for left/right eyes.
        #[arg(long)]
        label_regex: Option<String>,
        /// Draw the DET curve and score histograms to this PNG.
        #[arg(long)]
        plot: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Time 1:N search on a synthetic gallery with planted genuine probes.
    BenchSearch {
        #[arg(long, default_value_t = 1_000_000)]
        gallery: usize,
        #[arg(long, default_value_t = 20)]
        probes: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Sectors the distance is trimmed of (default: the engine's).
        #[arg(long)]
        trimmed_sectors: Option<usize>,
        /// Decision threshold (default: the engine's).
        #[arg(long)]
        threshold: Option<f32>,
        /// Prefilter threshold (default: the engine's).
        #[arg(long)]
        prefilter_threshold: Option<f32>,
        #[arg(long)]
        json: bool,
    },
}

/// Run one subcommand.
/// Run a subcommand as a program: a user error (missing file, unusable
/// capture, bad argument) is printed as one line, `error: what: why`, and
/// the exit code is 1 — never a stack trace, which anyhow would add when
/// `main` returns the error and `RUST_BACKTRACE` is set.
pub fn main(cmd: IrisCommand) -> std::process::ExitCode {
    match run(cmd) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub fn run(cmd: IrisCommand) -> Result<()> {
    match cmd {
        IrisCommand::Template { image, out, json } => template(&image, out.as_deref(), json),
        IrisCommand::Match { a, b, json } => match_cmd(&a, &b, json),
        IrisCommand::Synth {
            dir,
            identities,
            captures,
            seed,
            size,
        } => synth(&dir, identities, captures, seed, size),
        IrisCommand::Evaluate {
            dir,
            label_regex,
            plot,
            json,
        } => evaluate(&dir, label_regex.as_deref(), plot.as_deref(), json),
        IrisCommand::BenchSearch {
            gallery,
            probes,
            seed,
            trimmed_sectors,
            threshold,
            prefilter_threshold,
            json,
        } => {
            let mut params = SearchParams::default();
            if let Some(t) = trimmed_sectors {
                params.matcher.trimmed_sectors = t;
            }
            if let Some(t) = threshold {
                params.matcher.threshold = t;
            }
            if let Some(t) = prefilter_threshold {
                params.prefilter_threshold = t;
            }
            bench_search(gallery, probes, seed, &params, json)
        }
    }
}

fn template(image: &Path, out: Option<&Path>, json: bool) -> Result<()> {
    let bytes = std::fs::read(image).with_context(|| format!("reading {}", image.display()))?;
    let t0 = Instant::now();
    let cap = match analyse(&bytes, &Config::default()) {
        Ok(c) => c,
        Err(e) => {
            if json {
                println!("{}", json!({ "usable": false, "error": e.to_string() }));
            }
            bail!("{}: {e}", image.display());
        }
    };
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let bytes = cap.template.to_bytes();
    if json {
        let v = json!({ "usable": cap.usable(), "quality": cap.quality, "template_bytes": bytes.len(),
            "valid_bits": cap.template.valid_bits(), "ms": ms });
        println!("{v}");
    } else {
        let q = &cap.quality;
        println!("verdict:               {}", q.verdict);
        println!("usable iris area:      {:.1} %", q.usable_iris_area);
        println!("iris-pupil contrast:   {:.1} %", q.iris_pupil_contrast);
        println!("iris-sclera contrast:  {:.1} %", q.iris_sclera_contrast);
        println!("pupil/iris ratio:      {:.1} %", q.pupil_iris_ratio);
        println!("pupil circularity:     {:.1} %", q.pupil_circularity);
        println!("sharpness:             {:.1}", q.sharpness);
        println!("grey-level spread:     {:.2} bits", q.grey_level_spread);
        println!("iris diameter:         {:.0} px", q.iris_diameter);
        println!("margin to image edge:  {:.0} px", q.margin);
        println!("iris band in picture:  {:.0} %", q.iris_in_frame);
        println!(
            "template:              {} bytes, {} valid bits, {ms:.1} ms",
            bytes.len(),
            cap.template.valid_bits()
        );
    }
    if !cap.usable() {
        bail!("{}: {}", image.display(), cap.quality.verdict);
    }
    if let Some(out) = out {
        std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// A saved template, or the template of an eye image.
fn load_template(path: &Path) -> Result<Template> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"KIRT") {
        return Ok(Template::from_bytes(&bytes)?);
    }
    let cap = analyse(&bytes, &Config::default()).with_context(|| path.display().to_string())?;
    if !cap.usable() {
        return Err(IrisError::Unusable(Box::new(cap.quality)))
            .with_context(|| path.display().to_string());
    }
    Ok(cap.template)
}

fn match_cmd(a: &Path, b: &Path, json: bool) -> Result<()> {
    let cfg = Config::default();
    let m = compare(&load_template(a)?, &load_template(b)?, &cfg.matcher);
    let verdict = if m.is_match {
        "same eye"
    } else {
        "different eyes"
    };
    if json {
        println!(
            "{}",
            json!({ "result": m, "threshold": cfg.matcher.threshold, "verdict": verdict })
        );
    } else {
        println!(
            "distance:      {:.4} (raw {:.4}, threshold {:.3})",
            m.distance, m.raw_distance, cfg.matcher.threshold
        );
        println!(
            "shift:         {} columns ({:+.1}°)",
            m.shift, m.shift_degrees
        );
        println!("bits compared: {}", m.bits_compared);
        println!("verdict:       {verdict}");
    }
    Ok(())
}

fn synth(dir: &Path, identities: u32, captures: u32, seed: u64, size: SynthSize) -> Result<()> {
    let bar = progress((identities as u64) * (captures as u64), "synth");
    let work = |id: u32| -> Result<()> {
        let ident = Identity::new(seed, u64::from(id));
        let folder = dir.join(format!("{id:05}"));
        std::fs::create_dir_all(&folder)?;
        for c in 0..captures {
            let res = match size {
                SynthSize::Small => Resolution::Small,
                SynthSize::Large => Resolution::Large,
                SynthSize::Mixed if c % 2 == 0 => Resolution::Small,
                SynthSize::Mixed => Resolution::Large,
            };
            let (img, _) = render(&ident, seed, u64::from(id), u64::from(c), res);
            img.save(folder.join(format!("{c}.png")))?;
            bar.inc(1);
        }
        Ok(())
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..identities).into_par_iter().try_for_each(work)?;
    }
    #[cfg(not(feature = "parallel"))]
    (0..identities).try_for_each(work)?;
    bar.finish_and_clear();
    println!(
        "wrote {} images of {identities} identities to {}",
        identities * captures,
        dir.display()
    );
    Ok(())
}

fn progress(n: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}

fn evaluate(dir: &Path, label_regex: Option<&str>, plot: Option<&Path>, json: bool) -> Result<()> {
    let re = label_regex
        .map(regex::Regex::new)
        .transpose()
        .context("--label-regex")?;
    let extra = |name: &str| {
        re.as_ref()
            .and_then(|r| r.captures(name))
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    };
    let samples =
        list_samples(dir, &extra).with_context(|| format!("reading {}", dir.display()))?;
    if samples.is_empty() {
        bail!("no images found under {}/<identity>/", dir.display());
    }
    let cfg = Config::default();
    let bar = progress(samples.len() as u64, "templates");
    let enrolled = enrol_all(&samples, &cfg, &|| bar.inc(1));
    bar.finish_and_clear();
    let scores = pair_scores(&enrolled, &cfg.matcher, MAX_IMPOSTORS, 1);
    let report = summarise(&enrolled, &scores);
    if let Some(p) = plot {
        draw_plot(p, &scores, &report).with_context(|| format!("drawing {}", p.display()))?;
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report, cfg.matcher.threshold);
    }
    Ok(())
}

fn print_report(r: &Report, threshold: f32) {
    println!("images:            {}", r.images);
    println!("identities:        {}", r.identities);
    println!(
        "failure to enrol:  {} ({:.2} %)",
        r.failed_to_enrol,
        100.0 * r.fte
    );
    for (why, n) in &r.fte_reasons {
        println!("    {n:>5} × {why}");
    }
    println!("genuine pairs:     {}", r.genuine_pairs);
    let sampled = if r.impostor_pairs_sampled {
        " (random sample)"
    } else {
        ""
    };
    println!("impostor pairs:    {}{sampled}", r.impostor_pairs);
    println!(
        "mean distance:     genuine {:.3}, impostor {:.3}",
        r.genuine_mean, r.impostor_mean
    );
    println!(
        "EER:               {:.4} % at distance {:.3}",
        100.0 * r.eer,
        r.eer_threshold
    );
    for f in &r.fnmr_at_fmr {
        println!(
            "FNMR @ FMR {:.0e}:  {:.4} % (threshold {:.3})",
            f.fmr,
            100.0 * f.fnmr,
            f.threshold
        );
    }
    println!("configured threshold: {threshold:.3}");
    println!(
        "template time:     mean {:.1} ms, p95 {:.1} ms",
        r.template_ms_mean, r.template_ms_p95
    );
}

/// DET curve, error-versus-discard curve and distance histograms, side by side.
fn draw_plot(path: &Path, s: &crate::eval::Scores, r: &Report) -> Result<()> {
    use plotters::prelude::*;
    let mut genu = s.genuine.clone();
    let mut imp = s.impostor.clone();
    genu.sort_by(f32::total_cmp);
    imp.sort_by(f32::total_cmp);
    let root = BitMapBackend::new(path, (1800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, rest) = root.split_horizontally(600);
    let (middle, right) = rest.split_horizontally(600);
    // DET curve on log axes; zero rates are drawn at the smallest resolvable rate.
    let floor = 1.0 / (imp.len().max(genu.len()).max(10) as f64);
    let pts: Vec<(f64, f64)> = det_curve(&genu, &imp, 2000)
        .into_iter()
        .map(|(a, b)| (a.max(floor), b.max(floor)))
        .collect();
    let mut det = ChartBuilder::on(&left)
        .caption("DET curve", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((floor..1.0).log_scale(), (floor..1.0).log_scale())?;
    det.configure_mesh()
        .x_desc("FMR")
        .y_desc("FNMR")
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()?;
    det.draw_series(LineSeries::new(pts, &BLUE))?;
    // EDC: FNMR at a fixed threshold as low-quality pairs are discarded;
    // discarding at random would keep it level (dashed).
    let top = r.edc.iter().map(|p| p.fnmr).fold(0.0f64, f64::max) * 1.2 + 1e-3;
    let mut edc = ChartBuilder::on(&middle)
        .caption(
            format!("error vs discard (threshold {:.3})", r.edc_threshold),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0f64..0.5, 0.0..top)?;
    edc.configure_mesh()
        .x_desc("fraction discarded (lowest quality first)")
        .y_desc("FNMR")
        .draw()?;
    edc.draw_series(LineSeries::new(
        r.edc.iter().map(|p| (p.discarded, p.fnmr)),
        &BLUE,
    ))?;
    if let Some(first) = r.edc.first() {
        edc.draw_series(DashedLineSeries::new(
            [(0.0, first.fnmr), (0.5, first.fnmr)],
            6,
            4,
            BLACK.into(),
        ))?;
    }
    let bins = 100usize;
    let hist = |v: &[f32]| {
        let mut h = vec![0f64; bins];
        for &x in v {
            h[((x * bins as f32) as usize).min(bins - 1)] += 1.0 / v.len().max(1) as f64;
        }
        h
    };
    let (hg, hi) = (hist(&genu), hist(&imp));
    let top = hg.iter().chain(&hi).fold(0.0f64, |a, &b| a.max(b)) * 1.1 + 1e-9;
    let mut h = ChartBuilder::on(&right)
        .caption("distance histograms", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0f64..1.0, 0.0..top)?;
    h.configure_mesh()
        .x_desc("normalised Hamming distance")
        .y_desc("fraction")
        .draw()?;
    for (data, colour, name) in [(&hg, GREEN, "genuine"), (&hi, RED, "impostor")] {
        let line = data
            .iter()
            .enumerate()
            .map(|(i, &y)| ((i as f64 + 0.5) / bins as f64, y));
        h.draw_series(LineSeries::new(line, &colour))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    h.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn bench_search(
    n: usize,
    probes: usize,
    seed: u64,
    params: &SearchParams,
    json: bool,
) -> Result<()> {
    let cfg = Config::default();
    let pool_n = 128u64;
    // Extra probe identities in reserve: a synthetic capture may fail to enrol.
    let spare = probes as u64 / 4 + 4;
    let bar = progress(pool_n + 2 * (probes as u64 + spare), "templates");
    let extract = |id: u64, c: u64, res: Resolution| -> Option<Template> {
        let (img, _) = render(&Identity::new(seed, id), seed, id, c, res);
        bar.inc(1);
        crate::analyse_image(&img, &cfg)
            .ok()
            .filter(|c| c.usable())
            .map(|c| c.template)
    };
    let jobs: Vec<(u64, u64, Resolution)> = (0..pool_n)
        .map(|i| (1_000_000 + i, 0, Resolution::Small))
        .chain(
            (0..probes as u64 + spare)
                .flat_map(|i| [(i, 0, Resolution::Small), (i, 1, Resolution::Large)]),
        )
        .collect();
    #[cfg(feature = "parallel")]
    let templates: Vec<Option<Template>> = {
        use rayon::prelude::*;
        jobs.par_iter().map(|&(i, c, r)| extract(i, c, r)).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let templates: Vec<Option<Template>> = jobs.iter().map(|&(i, c, r)| extract(i, c, r)).collect();
    bar.finish_and_clear();
    let pool: Vec<Template> = templates[..pool_n as usize]
        .iter()
        .flatten()
        .cloned()
        .collect();
    let pairs: Vec<Template> = templates[pool_n as usize..]
        .chunks(2)
        .filter_map(|p| Some([p[0].clone()?, p[1].clone()?]))
        .take(probes)
        .flatten()
        .collect();
    if pairs.len() < 2 * probes || pool.is_empty() {
        bail!("too few synthetic captures enrolled to plant {probes} probes");
    }
    let t0 = Instant::now();
    let mut rng = Rng::new(&[seed, 99]);
    let mut planted = vec![usize::MAX; probes];
    for p in planted.iter_mut() {
        *p = rng.below(n as u32) as usize;
    }
    let mut g: Gallery<u64> = Gallery::with_capacity(n);
    for i in 0..n {
        match planted.iter().position(|&p| p == i) {
            Some(k) => g.insert(i as u64, &pairs[2 * k]),
            None => g.insert(i as u64, &crate::synth::mosaic(&pool, &mut rng)),
        };
    }
    let build_s = t0.elapsed().as_secs_f64();
    let (mut times, mut found, mut agree, mut exact) = (Vec::new(), 0usize, 0usize, 0usize);
    // Candidates of the exhaustive scan other than the planted eye: false
    // matches at the decision threshold (at most k per search).
    let mut false_candidates = 0usize;
    for (k, &at) in planted.iter().enumerate() {
        let probe = &pairs[2 * k + 1];
        let t = Instant::now();
        let (hits, st) = g.search_with_stats(probe, params, true);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        exact += st.exact;
        let reference = g.search_exhaustive(probe, params);
        false_candidates += reference.iter().filter(|c| c.id != at as u64).count();
        found += usize::from(hits.iter().any(|c| c.id == at as u64));
        agree += usize::from(reference.iter().all(|r| hits.iter().any(|h| h.id == r.id)));
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let (p50, p95) = (pct(0.5), pct(0.95));
    let v = json!({
        "gallery": n, "probes": probes, "threads": rayon_threads(), "kernel": crate::simd::kernel_name(),
        "build_s": build_s, "p50_ms": p50, "p95_ms": p95,
        "comparisons_per_s": n as f64 / (p50 / 1e3),
        "prefilter_survivors_per_search": exact as f64 / probes as f64,
        "recall_planted": found as f64 / probes as f64,
        "recall_vs_exhaustive": agree as f64 / probes as f64,
        "false_candidates_per_search": false_candidates as f64 / probes as f64,
        "trimmed_sectors": params.matcher.trimmed_sectors,
        "threshold": params.matcher.threshold,
        "prefilter_threshold": params.prefilter_threshold,
    });
    if json {
        println!("{v}");
    } else {
        println!(
            "gallery {n}, probes {probes}, threads {}, kernel {}",
            rayon_threads(),
            crate::simd::kernel_name()
        );
        println!(
            "search p50 {p50:.2} ms, p95 {p95:.2} ms, {:.3e} comparisons/s",
            n as f64 / (p50 / 1e3)
        );
        println!(
            "prefilter survivors per search: {:.0}",
            exact as f64 / probes as f64
        );
        println!("recall: planted {found}/{probes}, agrees with exhaustive {agree}/{probes}");
        println!(
            "false candidates per search (exhaustive, at most k = {}): {:.2}",
            params.k,
            false_candidates as f64 / probes as f64
        );
    }
    Ok(())
}

fn rayon_threads() -> usize {
    #[cfg(feature = "parallel")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "parallel"))]
    1
}
