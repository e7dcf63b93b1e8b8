//! The S3-compatible server the photo tests store into: `moto` from PyPI,
//! installed into the git-ignored `<root>/.venv`.
//!
//! [`ensure_moto`] creates the virtual environment when it is missing and
//! installs the pinned `moto[server]` into it (pip does nothing when that
//! version is already there), and returns the `moto_server` executable. The
//! caller exports it as `KUDAKYAR_TEST_MOTO`; the server's test harness
//! (`server/tests/common/s3.rs`) starts it on a free port for each test.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Pinned so every machine tests against the same server.
const MOTO: &str = "moto[server]==5.2.5";

/// Makes sure `<root>/.venv/bin/moto_server` exists; returns its path.
pub fn ensure_moto(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        say(format_args!(
            "creating {} for the S3 test server",
            venv.display()
        ));
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv .venv",
        )
        .context("the S3 tests need python3 with the venv module (Debian: python3-venv)")?;
    }
    let moto_server = venv.join("bin").join("moto_server");
    if !moto_server.exists() || !installed(&python) {
        say(format_args!("installing {MOTO} into .venv"));
        run(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                MOTO,
            ]),
            &format!(".venv/bin/python -m pip install '{MOTO}'"),
        )?;
    }
    if !moto_server.exists() {
        bail!(
            "{MOTO} was installed but {} is missing",
            moto_server.display()
        );
    }
    Ok(moto_server)
}

/// True when the pinned moto version is what the venv has (a quick check that
/// spares a pip run, which needs the network, on every `cargo xtask test`).
fn installed(python: &Path) -> bool {
    let version = MOTO.rsplit("==").next().unwrap_or_default();
    Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('moto'))",
        ])
        .output()
        .is_ok_and(|out| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == version
        })
}

fn say(msg: impl std::fmt::Display) {
    eprintln!("xtask: {msg}");
}

fn run(cmd: &mut Command, shown: &str) -> Result<()> {
    say(shown);
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}
