//! The `kudakyar-iris` binary as a user meets it.

use std::process::Command;

/// A user error (here a missing file) is one line on stderr naming the
/// problem, with no stack trace even when `RUST_BACKTRACE=1` is set (it is
/// in many shells and CI jobs), and a non-zero exit.
#[test]
fn a_user_error_is_one_line_without_a_stack_trace() {
    let out = Command::new(env!("CARGO_BIN_EXE_kudakyar-iris"))
        .args(["template", "/nonexistent/eye.png"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: reading /nonexistent/eye.png"),
        "{err}"
    );
    assert!(err.contains("No such file"), "{err}");
}
