//! Test peers from PyPI, pinned, in the git-ignored `<root>/.venv`:
//!
//! - [`MOTO`]: a real S3-compatible server for the object-store tests; the
//!   caller exports its `moto_server` as `KUDAKYAR_TEST_MOTO`, and the test
//!   harness (`server/tests/common/s3.rs`) starts it on a free port per test;
//! - [`SCHEMATHESIS`]: fuzzes the API from its OpenAPI document (`api_fuzz`).
//!
//! [`ensure`] creates the virtual environment when it is missing and installs
//! a pinned package unless that version is already there.

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

/// Makes sure `<root>/.venv/bin/<executable>` of `tool` exists; returns its path.
pub fn ensure(root: &Path, tool: &Tool) -> Result<PathBuf> {
    let venv = root.join(".venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        say(format_args!(
            "creating {} for the Python test peers",
            venv.display()
        ));
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .context("the S3 tests need python3 with the venv module (Debian: python3-venv)")?;
    }
    let executable = venv.join("bin").join(tool.executable);
    if !executable.exists() || !installed(&python, tool) {
        say(format_args!("installing {} into .venv", tool.spec));
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            tool.spec,
        ]))?;
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
fn installed(python: &Path, tool: &Tool) -> bool {
    let version = tool.spec.rsplit("==").next().unwrap_or_default();
    Command::new(python)
        .args([
            "-c",
            &format!(
                "import importlib.metadata as m; print(m.version('{}'))",
                tool.dist
            ),
        ])
        .output()
        .is_ok_and(|out| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == version
        })
}
