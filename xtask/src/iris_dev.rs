//! `cargo xtask iris-dev`: the iris engine on the real near-infrared
//! development sets, one line per set.
//!
//! Builds `kudakyar-iris` (release) and runs `evaluate --json` on
//! `MMU1` and `CASIA-Iris-Interval` under `KUDAKYAR_IRIS_DEV_DIR` (default
//! `../iris-dev-data` from the project root; see
//! `../shared/iris-dev/README.md` for staging them). The images are
//! licensed for research only and never enter the repository. A benchmark,
//! not a test: it prints the figures and fails only when a set is missing
//! or the evaluation does not run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{cargo, target_dir};

const SETS: [&str; 2] = ["MMU1", "CASIA-Iris-Interval"];

pub fn run(root: &Path) -> Result<()> {
    let data = std::env::var_os("KUDAKYAR_IRIS_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("iris-dev-data"));
    if !data.is_dir() {
        bail!(
            "no iris development data at {} (set KUDAKYAR_IRIS_DEV_DIR; see ../shared/iris-dev/README.md)",
            data.display()
        );
    }
    cargo(
        root,
        &["build", "--release", "-p", "iris", "--bin", "kudakyar-iris"],
    )?;
    let bin = target_dir(root).join("release").join("kudakyar-iris");
    for set in SETS {
        let dir = data.join(set);
        let out = Command::new(&bin)
            .arg("evaluate")
            .arg(&dir)
            .arg("--json")
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        if !out.status.success() {
            bail!(
                "{set}: evaluation failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let r: serde_json::Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("{set}: reading the report"))?;
        println!("{}", line(set, &r));
    }
    Ok(())
}

/// `MMU1: 450 images, FTE 2.00 %, EER 1.85 %, FNMR@FMR1e-4 6.11 %, EDC 6.1→3.2 % at 50 % discarded, 87 ms/template`
fn line(set: &str, r: &serde_json::Value) -> String {
    let pct = |v: &serde_json::Value| {
        v.as_f64()
            .map_or("n/a".into(), |x| format!("{:.2} %", 100.0 * x))
    };
    let at_1e4 = r["fnmr_at_fmr"]
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|f| (f["fmr"].as_f64().unwrap_or(0.0) - 1e-4).abs() < 1e-9)
        })
        .map_or("n/a".into(), |f| pct(&f["fnmr"]));
    let edc = r["edc"]
        .as_array()
        .filter(|v| !v.is_empty())
        .map_or("n/a".into(), |v| {
            let (first, last) = (&v[0], &v[v.len() - 1]);
            format!(
                "{} → {} at {:.0} % discarded",
                pct(&first["fnmr"]),
                pct(&last["fnmr"]),
                100.0 * last["discarded"].as_f64().unwrap_or(0.0)
            )
        });
    format!(
        "{set}: {} images, FTE {}, EER {}, FNMR@FMR1e-4 {at_1e4}, EDC {edc}, {:.0} ms/template",
        r["images"],
        pct(&r["fte"]),
        pct(&r["eer"]),
        r["template_ms_mean"].as_f64().unwrap_or(f64::NAN)
    )
}
