//! What every xtask command shares: how it speaks, how it runs a program,
//! and where cargo's output is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

/// One line on stderr, prefixed so it stands apart from the tools' output.
pub fn say(msg: impl std::fmt::Display) {
    eprintln!("xtask: {msg}");
}

/// Announces `cmd` and runs it to completion with inherited stdio, failing
/// with its command line if it cannot start or fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = shown(cmd);
    say(&shown);
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    ensure!(status.success(), "`{shown}` failed ({status})");
    Ok(())
}

/// Runs `cmd` quietly and returns its stdout, or `None` if it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `program arg…` (the program by its file name), with ` (in DIR)` when it
/// runs elsewhere than here.
fn shown(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let program = program.file_name().unwrap_or(program.as_os_str());
    let mut words = vec![program.to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    let mut line = words.join(" ");
    if let Some(dir) = cmd.get_current_dir() {
        line.push_str(&format!(" (in {})", dir.display()));
    }
    line
}

/// The cargo that runs us (so toolchain overrides carry over), else `cargo`.
pub fn cargo_command() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cargo ARGS…` in the workspace.
pub fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    run(cargo_command().args(args).current_dir(root))
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` (or the equivalent
/// `CARGO_BUILD_TARGET_DIR`) if set, relative to the workspace, else `target`.
pub fn target_dir(root: &Path) -> PathBuf {
    ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(std::env::var_os)
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// The `kudakyar` binary cargo built with `profile` (`debug` or `release`).
pub fn kudakyar_bin(root: &Path, profile: &str) -> PathBuf {
    target_dir(root).join(profile).join("kudakyar")
}

/// `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| OsString::from("/")))
            .join(".cargo"),
    }
}
