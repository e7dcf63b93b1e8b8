//! The installable package (`cargo xtask dist`, `xtask/src/dist.rs`), as a
//! deployer's machine would see it: the control fields and maintainer
//! scripts `dpkg` reads, the files it installs with their modes, the
//! systemd unit's hardening (rated by `systemd-analyze security` where the
//! machine has it), and the packaged server — binary, config and PWA from an
//! unpacked copy of the package — starting, serving the app and stopping
//! cleanly on SIGTERM.
//!
//! `cargo xtask test` builds the package of the debug binary and names it in
//! `KUDAKYAR_TEST_DEB`. Run alone without it the test says it is skipped;
//! with `CI=true` a missing package is a failure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kudakyar_e2e::{Server, free_port};

/// The package under test, or `None` (skipped) outside `cargo xtask test`.
fn package() -> Option<PathBuf> {
    match std::env::var_os("KUDAKYAR_TEST_DEB") {
        Some(deb) => Some(PathBuf::from(deb)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("KUDAKYAR_TEST_DEB is not set: run `cargo xtask test`, which builds the package")
        }
        None => {
            eprintln!("skipped: KUDAKYAR_TEST_DEB is not set (`cargo xtask test` sets it)");
            None
        }
    }
}

fn dpkg_deb(args: &[&str], deb: &Path) -> String {
    let out = Command::new("dpkg-deb")
        .args(args)
        .arg(deb)
        .output()
        .expect("running dpkg-deb");
    assert!(
        out.status.success(),
        "dpkg-deb {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_package_declares_itself_and_installs_the_right_files() {
    let Some(deb) = package() else { return };

    let control = dpkg_deb(&["--field"], &deb);
    let fields: HashMap<&str, &str> = control.lines().filter_map(|l| l.split_once(": ")).collect();
    assert_eq!(fields["Package"], "kudakyar");
    assert_eq!(fields["Version"], env!("CARGO_PKG_VERSION"));
    let depends = fields["Depends"];
    assert!(depends.contains("adduser"), "Depends: {depends}");
    assert!(depends.contains("libc6 (>= 2."), "Depends: {depends}");

    // path → (mode, owner) as dpkg will install them.
    let contents = dpkg_deb(&["--contents"], &deb);
    let files: HashMap<String, (String, String)> = contents
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let path = cols[5].trim_start_matches('.').to_string();
            (path, (cols[0].to_string(), cols[1].to_string()))
        })
        .collect();
    for (path, mode) in [
        ("/usr/bin/kudakyar", "-rwxr-xr-x"),
        ("/lib/systemd/system/kudakyar.service", "-rw-r--r--"),
        // May hold the database password: not world-readable.
        ("/etc/kudakyar/kudakyar.toml", "-rw-r-----"),
        ("/usr/share/kudakyar/web/index.html", "-rw-r--r--"),
        ("/usr/share/kudakyar/web/sw.js", "-rw-r--r--"),
        ("/usr/share/doc/kudakyar/copyright", "-rw-r--r--"),
    ] {
        let (got, owner) = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{contents}"));
        assert_eq!(got, mode, "{path}");
        assert_eq!(owner, "root/root", "{path}");
    }
    // Nothing from the build machine: no data dir, no sources.
    assert!(
        !files
            .keys()
            .any(|p| p.contains("kudakyar-data") || p.ends_with(".rs")),
        "{contents}"
    );

    let scripts = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(scripts.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let conffiles = std::fs::read_to_string(scripts.path().join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/kudakyar/kudakyar.toml");
    for script in ["postinst", "prerm", "postrm"] {
        let path = scripts.path().join(script);
        let status = Command::new("sh").arg("-n").arg(&path).status().unwrap();
        assert!(status.success(), "{script} is not valid sh");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("set -e"),
            "{script} must stop at its first error"
        );
    }
    let postinst = std::fs::read_to_string(scripts.path().join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system"), "{postinst}");
    // Purge must never delete the registry.
    let postrm = std::fs::read_to_string(scripts.path().join("postrm")).unwrap();
    assert!(!postrm.contains("rm -"), "{postrm}");
}

#[test]
fn the_service_is_hardened() {
    let Some(deb) = package() else { return };
    let root = unpack(&deb);
    let unit_path = root.path().join("lib/systemd/system/kudakyar.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let settings: Vec<(&str, &str)> = unit
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    let get = |key: &str| {
        settings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("the unit has no {key}="))
    };
    assert_eq!(
        get("ExecStart"),
        "/usr/bin/kudakyar --config /etc/kudakyar/kudakyar.toml serve"
    );
    assert_eq!(get("User"), "kudakyar");
    assert_eq!(get("NoNewPrivileges"), "yes");
    assert_eq!(get("ProtectSystem"), "strict");
    assert_eq!(get("ProtectHome"), "yes");
    assert_eq!(get("PrivateTmp"), "yes");
    assert_eq!(get("StateDirectory"), "kudakyar");
    assert_eq!(get("CapabilityBoundingSet"), "");
    assert_eq!(get("KillSignal"), "SIGTERM");

    // systemd's own rating, where the machine has systemd-analyze: 0 is
    // locked down, 10 is fully exposed; a unit at or under 2 is "OK".
    if Path::new("/usr/bin/systemd-analyze").exists() {
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--threshold=20"])
            .arg(&unit_path)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "exposure above 2.0:\n{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(report.contains("Overall exposure level"), "{report}");
    } else {
        eprintln!("systemd-analyze is not installed: the unit's rating is not checked");
    }
}

/// The package unpacked into a fresh folder, as `dpkg` would install it
/// under `/`.
fn unpack(deb: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(root.path())
        .output()
        .expect("running dpkg-deb -x");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    root
}

#[tokio::test]
async fn the_packaged_server_starts_from_its_own_files_and_serves_the_app() {
    let Some(deb) = package() else { return };
    let root = unpack(&deb);

    // The packaged config, with the absolute paths the package installs to
    // moved under the unpacked root, the state dir to a fresh one and the
    // port to a free one — every other setting as shipped (and checked by
    // the server: unknown keys are an error).
    let shipped = std::fs::read_to_string(root.path().join("etc/kudakyar/kudakyar.toml")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let web = root.path().join("usr/share/kudakyar/web");
    let mut config = shipped.clone();
    for (from, to) in [
        (
            "\"/var/lib/kudakyar\"".to_string(),
            format!("{:?}", state.path().join("data")),
        ),
        (
            "\"/usr/share/kudakyar/web\"".to_string(),
            format!("{web:?}"),
        ),
        (
            "\"127.0.0.1:8080\"".to_string(),
            format!("\"127.0.0.1:{port}\""),
        ),
    ] {
        assert!(
            config.contains(&from),
            "the shipped config lost {from}:\n{shipped}"
        );
        config = config.replace(&from, &to);
    }
    let config_path = state.path().join("kudakyar.toml");
    std::fs::write(&config_path, config).unwrap();

    let stderr_path = state.path().join("stderr.log");
    let mut cmd = Command::new(root.path().join("usr/bin/kudakyar"));
    for (key, _) in std::env::vars() {
        if key.starts_with("KUDAKYAR_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--config")
        .arg(&config_path)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut server = Server::spawn(cmd, &format!("http://127.0.0.1:{port}"), stderr_path).await;

    let ready = reqwest::get(format!("{}/api/v1/ready", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{}", server.stderr());
    // The PWA comes from the package's web folder.
    let index = reqwest::get(format!("{}/", server.base)).await.unwrap();
    assert_eq!(index.status(), 200);
    let html = index.text().await.unwrap();
    let shipped_index = std::fs::read_to_string(web.join("index.html")).unwrap();
    assert_eq!(html, shipped_index);
    let report = reqwest::get(format!("{}/report", server.base))
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    // The shipped log format: one JSON object per line, for the journal.
    let log = server.stderr();
    assert!(
        log.lines()
            .any(|l| l.starts_with('{') && l.contains("\"listening\"")),
        "{log}"
    );
    // The database went to the configured state dir.
    let data = state.path().join("data");
    assert!(data.join("kudakyar.db").exists(), "{log}");

    let status = server.terminate();
    assert!(
        status.success(),
        "exit on SIGTERM: {status}\n{}",
        server.stderr()
    );
}
