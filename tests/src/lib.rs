//! End-to-end helpers: find the `kudakyar` binary, run its commands, and start
//! it as a server on a free local port.
//!
//! `cargo xtask test` builds the binary first and names it in `KUDAKYAR_BIN`;
//! run alone, the tests look in `target/debug`.

use std::io::{Cursor, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn kudakyar_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("KUDAKYAR_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/kudakyar");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo xtask test`, or `cargo build -p kudakyar` first",
        bin.display()
    );
    bin
}

/// A `kudakyar` command with a clean `KUDAKYAR_*` environment and the given data dir.
pub fn kudakyar(data_dir: &Path) -> Command {
    let mut cmd = Command::new(kudakyar_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("KUDAKYAR_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--data-dir").arg(data_dir);
    cmd
}

/// Runs a command feeding `stdin`, returning its output.
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning kudakyar");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `kudakyar serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub stderr_path: PathBuf,
}

impl Server {
    /// Starts `kudakyar serve` in `data_dir` and waits until it answers.
    pub async fn start(data_dir: &Path, envs: &[(&str, &str)]) -> Server {
        let port = free_port();
        let stderr_path = data_dir.with_extension("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut cmd = kudakyar(data_dir);
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr);
        Server::spawn(cmd, &format!("http://127.0.0.1:{port}"), stderr_path).await
    }

    /// Spawns `cmd` (a `serve` listening at `base`, its stderr already
    /// sent to `stderr_path`) and waits until it answers.
    pub async fn spawn(mut cmd: Command, base: &str, stderr_path: PathBuf) -> Server {
        let child = cmd.spawn().expect("spawning kudakyar serve");
        let server = Server {
            child,
            base: base.to_string(),
            stderr_path,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let started = Instant::now();
        let url = format!("{}/api/v1/health", self.base);
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = reqwest::get(&url).await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not become healthy:\n{}", self.stderr());
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGKILL — a crash: no shutdown, nothing flushed or recorded —
    /// and waits for the exit status.
    pub fn kill(&mut self) -> std::process::ExitStatus {
        // On Unix `Child::kill` is SIGKILL.
        self.child.kill().expect("killing kudakyar serve");
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A synthetic eye image (PNG) of identity `id` that the engine can enrol:
/// the first usable of captures `from`, `from + 1`, …
pub fn eye(id: u64, from: u64) -> Vec<u8> {
    let cfg = iris::Config::default();
    (from..from + 20)
        .map(|capture| {
            let img = iris::synth::eye(11, id, capture, iris::synth::Resolution::Small);
            let mut png = Cursor::new(Vec::new());
            img.write_to(&mut png, image::ImageFormat::Png).unwrap();
            png.into_inner()
        })
        .find(|png| iris::enrol(png, &cfg).is_ok())
        .expect("a usable synthetic capture")
}

/// Posts a multipart form as the holder of `token`: fields named `child…`
/// or `id` as text, the others as files. Returns the status and JSON body.
pub async fn post_form(
    base: &str,
    token: &str,
    path: &str,
    parts: &[(&str, &[u8])],
) -> (u16, serde_json::Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in parts {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec());
        let part = if name.starts_with("child") || *name == "id" {
            part
        } else {
            part.file_name("image.png")
        };
        form = form.part(name.to_string(), part);
    }
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (
        r.status().as_u16(),
        r.json().await.unwrap_or(serde_json::Value::Null),
    )
}
