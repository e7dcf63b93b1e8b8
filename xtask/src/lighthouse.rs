//! `cargo xtask lighthouse`: the PWA's Lighthouse bench (issue 6's targets:
//! performance ≥ 90, accessibility ≥ 95, best practices ≥ 95, mobile).
//!
//! A bench, not a check: `cargo xtask test` does not run it, and it fails only
//! when it cannot measure. Scores shift by a few points between runs on a
//! busy machine, so they are read and reported, never asserted.
//!
//! [`run`] takes the PWA build and the server binary (main.rs builds both),
//! installs npm `lighthouse` and `puppeteer-core` into the ignored
//! `tests/lighthouse/node_modules` from the committed lock file, fills a
//! throwaway SQLite data dir with boundaries and demo data (main.rs's
//! `demo_database`, as `serve --demo` does), starts `kudakyar serve` on it
//! on a free local port, and runs `tests/lighthouse/run.mjs` with Debian's
//! Chromium. That script audits the login page, the logged-in home page,
//! the citizens' report page and a provincial user's atlas, prints the
//! scores and the audits that lost points, and writes the HTML and JSON
//! reports to `<target>/lighthouse/`.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::say;

use crate::browser;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The demo accounts the script logs in with: the national admin, and the
/// provincial staff of Tehran (`server/src/demo/mod.rs`, `DEMO_PASSWORD`
/// and `TEAM`).
const DEMO_ADMIN: &str = "demo-admin";
const DEMO_STAFF: &str = "demo-ir-23-staff";
const DEMO_PASSWORD: &str = "kudakyar-demo-1404";
const HEALTH_TIMEOUT: Duration = Duration::from_secs(30);

/// `seed` fills the (fresh) data dir it is given.
pub fn run(
    root: &Path,
    dist: &Path,
    bin: &Path,
    out: &Path,
    seed: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let dir = root.join("tests").join("lighthouse");
    browser::ensure_chromium()?;
    browser::ensure_node()?;
    browser::ensure_npm_packages(&dir)?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let data = std::env::temp_dir().join(format!("kudakyar-lighthouse-{}", std::process::id()));
    seed(&data)?;
    let server = Server::start(bin, dist, out, data)?;
    say(format_args!(
        "kudakyar serve on {} (log {})",
        server.url,
        server.log.display()
    ));
    say(
        "node tests/lighthouse/run.mjs (a few minutes: each page is loaded under simulated slow 4G)",
    );
    let status = Command::new("node")
        .arg(dir.join("run.mjs"))
        .current_dir(&dir)
        .env("LIGHTHOUSE_URL", &server.url)
        .env("LIGHTHOUSE_OUT", out)
        .env("LIGHTHOUSE_ADMIN", DEMO_ADMIN)
        .env("LIGHTHOUSE_STAFF", DEMO_STAFF)
        .env("LIGHTHOUSE_PASSWORD", DEMO_PASSWORD)
        .env("CHROME_PATH", CHROMIUM)
        .status()
        .context("could not start node")?;
    drop(server);
    if !status.success() {
        bail!("tests/lighthouse/run.mjs failed ({status})");
    }
    Ok(())
}

/// A `kudakyar serve` child, stopped and its data dir removed on drop.
struct Server {
    child: Child,
    url: String,
    data: PathBuf,
    log: PathBuf,
}

impl Server {
    /// Serves the data dir `data` (removed when the server is dropped).
    fn start(bin: &Path, dist: &Path, out: &Path, data: PathBuf) -> Result<Server> {
        let port = free_port()?;
        let log = out.join("server.log");
        let log_file = File::create(&log)?;
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--data-dir"])
            .arg(&data)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .current_dir(&data)
            .env("NO_COLOR", "1")
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        // None of the caller's configuration (a PostgreSQL URL, a config
        // file) may leak in: this server is SQLite in a throwaway dir.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KUDAKYAR_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("KUDAKYAR_WEB_DIR", dist);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            data,
            log,
        };
        server.wait_healthy(port)?;
        Ok(server)
    }

    fn wait_healthy(&mut self, port: u16) -> Result<()> {
        let deadline = Instant::now() + HEALTH_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "kudakyar exited early ({status}); see {}",
                    self.log.display()
                );
            }
            if health_ok(port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "/api/v1/health not 200 within {HEALTH_TIMEOUT:?}; see {}",
                    self.log.display()
                );
            }
            // Polling: there is no event to wait on.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM would be gentler, but std has no portable way to send it,
        // and this data dir is thrown away anyway.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.data);
    }
}

/// A port nobody listens on right now (the OS picks it; we release it).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `GET /api/v1/health` answered 200. Plain HTTP/1.1 over a socket: xtask
/// has no HTTP client, and one status line is all that is needed.
fn health_ok(port: u16) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        stream.write_all(
            b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    attempt().unwrap_or(false)
}
