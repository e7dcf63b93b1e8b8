//! `cargo xtask`: the project's commands.
//!
//! - `cargo xtask serve [--demo] [ARGS…]` builds the PWA ([`web`]) and the server, then
//!   runs `kudakyar serve ARGS…` with the embedded SQLite default. With
//!   `--demo`, on a fresh database in `target/demo-data` holding the
//!   boundaries and demo data (see [`demo_database`]). Everything
//!   the build needs (wasm target, wasm-bindgen CLI) is installed on first use.
//! - `cargo xtask test` runs every check CI runs: formatting, clippy with
//!   warnings denied, the PWA build, and all tests — on SQLite always and on
//!   PostgreSQL when `KUDAKYAR_TEST_POSTGRES_URL` is set (required when `CI=true`),
//!   the atlas statistics against their PyPI peers (the venv's Python is handed
//!   to the tests as `KUDAKYAR_TEST_PYTHON`, see [`venv`]), the Web Push tests
//!   against npm web-push-testing (its script in `KUDAKYAR_TEST_WEB_PUSH`, see
//!   [`push`]), the API fuzzing ([`api_fuzz`], schemathesis) and the browser tests
//!   ([`browser`]) in headless Chromium.
//! - `cargo xtask fuzz-api` runs the API fuzzing alone.
//! - `cargo xtask browser-test [FILE…]` builds the PWA and the server and runs
//!   the given browser tests (`tests/browser/…test.mjs`; all when none given).
//! - `cargo xtask bench-sync [--debug]` measures how fast the PWA's outbox
//!   sends 1,000 queued records to a local server ([`bench_sync`]).
//! - `cargo xtask chaos [--debug]` runs the full sync chaos run: 10,000
//!   offline operations through a faulty network and a server crash ([`chaos`]).
//! - `cargo xtask lighthouse` is a bench, not a check ([`lighthouse`]): it
//!   builds the PWA and the server and prints Lighthouse's mobile scores of
//!   the login, home, citizens' report and atlas pages (on demo data);
//!   reports in `target/lighthouse/`.
//! - `cargo xtask dist [--debug]` builds the release a deployer installs: a
//!   Debian package with the binary, the PWA and a hardened systemd service
//!   ([`dist`]); `cargo xtask test` checks a package of the debug build.
//! - `cargo xtask iris-dev` evaluates the iris engine on the real NIR
//!   development sets, one line per set ([`iris_dev`]).

mod api_fuzz;
mod bench_sync;
mod browser;
mod chaos;
mod dist;
mod iris_dev;
mod lighthouse;
mod push;
mod util;
mod venv;
mod web;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use util::{cargo, kudakyar_bin, say, target_dir};

const POSTGRES_URL_VAR: &str = "KUDAKYAR_TEST_POSTGRES_URL";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let root = workspace_root();
    match args.next().as_deref() {
        Some("serve") => serve(&root, args.collect()),
        Some("test") => test(&root),
        Some("bench-sync") => bench_sync::run(&root, &args.collect::<Vec<_>>()),
        Some("chaos") => chaos::run(&root, &args.collect::<Vec<_>>()),
        Some("browser-test") => {
            let dist = web::build(&root)?;
            cargo(&root, &["build", "-p", "kudakyar"])?;
            browser::run(
                &root,
                &dist,
                &kudakyar_bin(&root, "debug"),
                &args.collect::<Vec<_>>(),
            )
        }
        Some("fuzz-api") => {
            cargo(&root, &["build", "-p", "kudakyar"])?;
            api_fuzz::run(&root, &kudakyar_bin(&root, "debug"))
        }
        Some("iris-dev") => iris_dev::run(&root),
        Some("dist") => dist::run_command(&root, &args.collect::<Vec<_>>()),
        Some("lighthouse") => {
            let dist = web::build(&root)?;
            cargo(&root, &["build", "-p", "kudakyar"])?;
            let out = target_dir(&root).join("lighthouse");
            let bin = kudakyar_bin(&root, "debug");
            lighthouse::run(&root, &dist, &bin, &out, |data| {
                demo_database(&root, &bin, data)
            })
        }
        _ => {
            eprintln!(
                "usage: cargo xtask serve [--demo] [kudakyar serve options…] | cargo xtask test | cargo xtask browser-test [FILE…] | cargo xtask fuzz-api | cargo xtask bench-sync [--debug] | cargo xtask chaos [--debug] | cargo xtask lighthouse | cargo xtask dist [--debug] | cargo xtask iris-dev"
            );
            std::process::exit(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn serve(root: &Path, args: Vec<String>) -> Result<()> {
    let demo = args.iter().any(|a| a == "--demo");
    let mut args: Vec<String> = args.into_iter().filter(|a| a != "--demo").collect();
    let dist = web::build(root)?;
    cargo(root, &["build", "-p", "kudakyar"])?;
    let bin = kudakyar_bin(root, "debug");
    if demo {
        let data_dir = target_dir(root).join("demo-data");
        demo_database(root, &bin, &data_dir)?;
        args.extend(["--data-dir".to_string(), data_dir.display().to_string()]);
    }
    say(format_args!(
        "starting {} serve (SQLite in ./kudakyar-data unless configured otherwise)",
        bin.display()
    ));
    let mut command = Command::new(&bin);
    command
        .arg("serve")
        .args(&args)
        .env("KUDAKYAR_WEB_DIR", &dist)
        .current_dir(root);
    if demo {
        // The demo database is the fresh SQLite file, whatever the shell says.
        command.env_remove("KUDAKYAR_DATABASE_URL");
    }
    let status = command
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    if !status.success() {
        bail!("kudakyar serve exited with {status}");
    }
    Ok(())
}

/// Demo size for `serve --demo`: enough for every atlas view and the
/// hot-spot test's minimums (10 weeks, 60 events), written in under a
/// minute on a small machine.
const DEMO_SIZE: [(&str, &str); 3] = [
    ("--children", "600"),
    ("--encounters", "5000"),
    ("--reports", "1000"),
];

/// A fresh SQLite database in `data_dir` (for `serve --demo`, and the
/// Lighthouse bench's atlas) with the boundaries (`../shared/geo/iran` when
/// present, else the built-in provinces) and demo data (whose logins `demo
/// seed` prints).
fn demo_database(root: &Path, bin: &Path, data_dir: &Path) -> Result<()> {
    if data_dir.exists() {
        std::fs::remove_dir_all(data_dir)
            .with_context(|| format!("clearing {}", data_dir.display()))?;
    }
    let kudakyar = |args: &[&str]| {
        let mut command = Command::new(bin);
        command
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("KUDAKYAR_DATABASE_URL")
            .current_dir(root);
        util::run(&mut command)
    };
    let shared = root.join("../shared/geo/iran");
    if shared.join("provinces.geojson").is_file() {
        let provinces = shared.join("provinces.geojson").display().to_string();
        let counties = shared.join("counties").display().to_string();
        kudakyar(&[
            "geo",
            "import",
            "--provinces",
            &provinces,
            "--counties",
            &counties,
        ])?;
    } else {
        say("no ../shared/geo/iran: the built-in province outlines (no counties)");
        kudakyar(&["geo", "import", "--builtin"])?;
    }
    let mut seed = vec!["demo", "seed"];
    for (flag, value) in DEMO_SIZE {
        seed.extend([flag, value]);
    }
    kudakyar(&seed)?;
    say(format_args!(
        "demo database ready in {}; log in with a demo account listed above",
        data_dir.display()
    ));
    Ok(())
}

fn test(root: &Path) -> Result<()> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(_) => say("PostgreSQL tests enabled"),
        Err(_) if in_ci => {
            bail!("{POSTGRES_URL_VAR} must be set in CI: both backends are always tested there")
        }
        Err(_) => {
            eprintln!();
            eprintln!("xtask: ************************************************************");
            eprintln!("xtask: PostgreSQL tests are SKIPPED: {POSTGRES_URL_VAR} is not set.");
            eprintln!("xtask: e.g. {POSTGRES_URL_VAR}=postgres://root@127.0.0.1:5432/test");
            eprintln!("xtask: ************************************************************");
            eprintln!();
        }
    }
    cargo(root, &["fmt", "--all", "--check"])?;
    cargo(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // Documentation builds with its lints denied ([workspace.lints.rustdoc]):
    // a link to an item that moved fails here, not in a reader's browser.
    cargo(
        root,
        &[
            "doc",
            "--workspace",
            "--no-deps",
            "--document-private-items",
            "--locked",
        ],
    )?;
    let pwa = web::build(root)?;
    cargo(root, &["build", "-p", "kudakyar", "--locked"])?;
    // The installable package, of the debug build (same layout, built
    // faster), for tests/tests/deb.rs.
    let deb = dist::package(
        root,
        &kudakyar_bin(root, "debug"),
        &pwa,
        &target_dir(root).join("dist-test"),
        dist::Compression::Fast,
    )?;
    // A real S3-compatible server (moto, from PyPI) for the object-store tests.
    let moto = venv::ensure(root, &venv::MOTO)?;
    // PyPI's esda, pymannkendall and jenkspy, the atlas statistics' peers.
    let python = venv::ensure_libraries(root, venv::ATLAS_PEERS)?;
    // npm web-push-testing, the local push service the Web Push tests send to.
    let web_push = push::ensure(root)?;
    // The end-to-end tests run the real binary and serve the real PWA build.
    // SAFETY: xtask is single-threaded here; children inherit these variables.
    unsafe {
        std::env::set_var("KUDAKYAR_BIN", kudakyar_bin(root, "debug"));
        std::env::set_var("KUDAKYAR_WEB_DIST", &pwa);
        std::env::set_var("KUDAKYAR_TEST_MOTO", &moto);
        std::env::set_var("KUDAKYAR_TEST_PYTHON", &python);
        std::env::set_var("KUDAKYAR_TEST_WEB_PUSH", &web_push);
        std::env::set_var("KUDAKYAR_TEST_DEB", &deb);
    }
    cargo(root, &["test", "--workspace", "--locked"])?;
    api_fuzz::run(root, &kudakyar_bin(root, "debug"))?;
    browser::run(root, &pwa, &kudakyar_bin(root, "debug"), &[])?;
    say("all checks passed");
    Ok(())
}
