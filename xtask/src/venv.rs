//! Test peers from PyPI, pinned, in the git-ignored `<root>/.venv`:
//!
//! - [`MOTO`]: a real S3-compatible server for the object-store tests; the
//!   caller exports its `moto_server` as `KUDAKYAR_TEST_MOTO`, and the test
//!   harness (`server/tests/common/s3.rs`) starts it on a free port per test;
//! - [`SCHEMATHESIS`]: fuzzes the API from its OpenAPI document (`api_fuzz`);
//! - [`ATLAS_PEERS`]: the libraries the atlas statistics are checked against
//!   (`atlas-stats/tests/peer.rs`); the caller exports the venv's Python as
//!   `KUDAKYAR_TEST_PYTHON`, which runs the scripts in `atlas-stats/tests/peer/`.
//!
//! [`ensure`] creates the virtual environment when it is missing and installs
//! a pinned package unless that version is already there; [`ensure_libraries`]
//! does the same for packages imported by Python rather than run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{run, say};

/// A pinned PyPI package and the executable it provides.
pub struct Tool {
    /// The pip requirement, `name[extras]==version`.
    pub spec: &'static str,
    /// The distribution name, to read its installed version.
    pub dist: &'static str,
    pub executable: &'static str,
}

pub const MOTO: Tool = Tool {
    spec: "moto[server]==5.2.5",
    dist: "moto",
    executable: "moto_server",
};

pub const SCHEMATHESIS: Tool = Tool {
    spec: "schemathesis==4.32.5",
    dist: "schemathesis",
    executable: "schemathesis",
};

/// A pinned PyPI library, imported by a peer script rather than run.
pub struct Library {
    /// The pip requirement, `name==version`.
    pub spec: &'static str,
    /// The distribution name, to read its installed version.
    pub dist: &'static str,
}

/// The atlas statistics' peers: Gi* (`esda`, on `libpysal` weights, pinned
/// too so esda's resolver cannot drift), Mann-Kendall and Jenks breaks.
/// Installed in one pip run so their shared numpy/scipy resolve together.
pub const ATLAS_PEERS: &[Library] = &[
    Library {
        spec: "esda==2.9.0",
        dist: "esda",
    },
    Library {
        spec: "libpysal==4.14.1",
        dist: "libpysal",
    },
    Library {
        spec: "pymannkendall==1.4.3",
        dist: "pymannkendall",
    },
    Library {
        spec: "jenkspy==0.4.1",
        dist: "jenkspy",
    },
];

/// `<root>/.venv/bin/python`, after creating the venv if it is missing.
fn python(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        say(format_args!(
            "creating {} for the Python test peers",
            venv.display()
        ));
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).context(
            "the Python test peers need python3 with the venv module (Debian: python3-venv)",
        )?;
    }
    Ok(python)
}

/// `pip install` the given requirements into the venv of `python`.
fn pip_install(python: &Path, specs: &[&str]) -> Result<()> {
    say(format_args!("installing {} into .venv", specs.join(" ")));
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(specs))
}

/// Makes sure every library of `libraries` is installed at its pinned
/// version; returns the venv's Python, which can import them.
pub fn ensure_libraries(root: &Path, libraries: &[Library]) -> Result<PathBuf> {
    let python = python(root)?;
    let missing: Vec<&str> = libraries
        .iter()
        .filter(|lib| !installed(&python, lib.spec, lib.dist))
        .map(|lib| lib.spec)
        .collect();
    if !missing.is_empty() {
        pip_install(&python, &missing)?;
    }
    Ok(python)
}

/// Makes sure `<root>/.venv/bin/<executable>` of `tool` exists; returns its path.
pub fn ensure(root: &Path, tool: &Tool) -> Result<PathBuf> {
    let python = python(root)?;
    let executable = root.join(".venv").join("bin").join(tool.executable);
    if !executable.exists() || !installed(&python, tool.spec, tool.dist) {
        pip_install(&python, &[tool.spec])?;
    }
    if !executable.exists() {
        bail!(
            "{} was installed but {} is missing",
            tool.spec,
            executable.display()
        );
    }
    Ok(executable)
}

/// True when the pinned version is what the venv has (a quick check that
/// spares a pip run, which needs the network, on every `cargo xtask test`).
fn installed(python: &Path, spec: &str, dist: &str) -> bool {
    let version = spec.rsplit("==").next().unwrap_or_default();
    Command::new(python)
        .args([
            "-c",
            &format!("import importlib.metadata as m; print(m.version('{dist}'))"),
        ])
        .output()
        .is_ok_and(|out| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == version
        })
}
