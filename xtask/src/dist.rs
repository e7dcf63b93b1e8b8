//! `cargo xtask dist`: the release a deployer installs — one Debian package.
//!
//! [`run`] builds the PWA and the release binary and hands them to
//! [`package`], which lays out the package's tree and has Debian's own
//! `dpkg-deb` write `target/dist/kudakyar_<version>_<arch>.deb`:
//!
//! | in the package | from |
//! |---|---|
//! | `/usr/bin/kudakyar` | the binary, its debug info stripped |
//! | `/usr/share/kudakyar/web/` | the PWA build (`mobile-web/dist`) |
//! | `/lib/systemd/system/kudakyar.service` | `assets/deb/kudakyar.service` (hardened) |
//! | `/etc/kudakyar/kudakyar.toml` | `assets/deb/kudakyar.toml`, a conffile: upgrades keep its edits |
//! | `/usr/share/doc/kudakyar/` | the README and a copyright file |
//! | maintainer scripts | `assets/deb/{postinst,prerm,postrm}`: a system user, enable and restart |
//!
//! The package's `Depends` is read off the binary: each shared library it
//! needs (`objdump -p`) maps to its Debian package, and libc's minimum
//! version is the newest `GLIBC_x.y` symbol version it uses. A library
//! without a known package stops the build rather than shipping a package
//! that installs and then fails to start.
//!
//! `cargo xtask test` packages the debug binary the same way (faster, the
//! same layout) and hands the `.deb` to `tests/tests/deb.rs`, which checks
//! its contents and starts the packaged server from an unpacked copy.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::util::{cargo, kudakyar_bin, output, run, say, target_dir};
use crate::web;

/// `cargo xtask dist [--debug]`: builds and packages; prints the `.deb`'s path.
pub fn run_command(root: &Path, args: &[String]) -> Result<()> {
    let debug = args.iter().any(|a| a == "--debug");
    if let Some(other) = args.iter().find(|a| *a != "--debug") {
        bail!("unknown argument `{other}` (usage: cargo xtask dist [--debug])");
    }
    let web = web::build(root)?;
    let profile = if debug {
        cargo(root, &["build", "-p", "kudakyar", "--locked"])?;
        "debug"
    } else {
        cargo(root, &["build", "-p", "kudakyar", "--locked", "--release"])?;
        "release"
    };
    let deb = package(
        root,
        &kudakyar_bin(root, profile),
        &web,
        &target_dir(root).join("dist"),
        Compression::Xz,
    )?;
    say(format_args!("package: {}", deb.display()));
    say("install or upgrade: sudo apt install ./<that file> (see README, Installing the package)");
    Ok(())
}

/// How `dpkg-deb` compresses the package's data.
#[derive(Debug, Clone, Copy)]
pub enum Compression {
    /// The release: smallest download.
    Xz,
    /// The test suite's package: the same layout, written in seconds.
    Fast,
}

/// Writes the `.deb` of `bin` and the PWA build `web` into `out_dir`;
/// returns its path.
pub fn package(
    root: &Path,
    bin: &Path,
    web: &Path,
    out_dir: &Path,
    compression: Compression,
) -> Result<PathBuf> {
    let assets = root.join("assets").join("deb");
    let version = workspace_version(root)?;
    let arch = output(Command::new("dpkg").arg("--print-architecture"))
        .map(|a| a.trim().to_string())
        .context("`dpkg --print-architecture` failed: packaging needs Debian's dpkg")?;
    let stage = out_dir.join("stage");
    if stage.exists() {
        fs::remove_dir_all(&stage)?;
    }

    let usr_bin = stage.join("usr/bin");
    fs::create_dir_all(&usr_bin)?;
    let packaged_bin = usr_bin.join("kudakyar");
    run(Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(&packaged_bin)
        .arg(bin))?;
    set_mode(&packaged_bin, 0o755)?;

    let share = stage.join("usr/share/kudakyar");
    fs::create_dir_all(&share)?;
    ensure!(
        web.join("index.html").is_file(),
        "{} holds no PWA build",
        web.display()
    );
    run(Command::new("cp").arg("-R").arg(web).arg(share.join("web")))?;

    install(
        &assets.join("kudakyar.service"),
        &stage.join("lib/systemd/system/kudakyar.service"),
        0o644,
    )?;
    // Readable by the service's group only (postinst sets the group): it
    // may hold the database password and object-store keys.
    install(
        &assets.join("kudakyar.toml"),
        &stage.join("etc/kudakyar/kudakyar.toml"),
        0o640,
    )?;
    let doc = stage.join("usr/share/doc/kudakyar");
    install(&root.join("README.md"), &doc.join("README.md"), 0o644)?;
    install(&assets.join("copyright"), &doc.join("copyright"), 0o644)?;

    let control = stage.join("DEBIAN");
    fs::create_dir_all(&control)?;
    for script in ["postinst", "prerm", "postrm"] {
        install(&assets.join(script), &control.join(script), 0o755)?;
    }
    fs::write(control.join("conffiles"), "/etc/kudakyar/kudakyar.toml\n")?;
    let fields = ControlFields {
        version: &version,
        arch: &arch,
        depends: &depends(&packaged_bin)?,
        installed_kib: tree_size(&stage)?.div_ceil(1024),
    };
    fs::write(control.join("control"), fields.render())?;

    fs::create_dir_all(out_dir)?;
    let deb = out_dir.join(format!("kudakyar_{version}_{arch}.deb"));
    let (format, level) = match compression {
        Compression::Xz => ("-Zxz", "-z6"),
        Compression::Fast => ("-Zgzip", "-z1"),
    };
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", format, level, "--build"])
        .arg(&stage)
        .arg(&deb))?;
    Ok(deb)
}

/// The `control` file's fields.
struct ControlFields<'a> {
    version: &'a str,
    arch: &'a str,
    depends: &'a str,
    installed_kib: u64,
}

impl ControlFields<'_> {
    fn render(&self) -> String {
        format!(
            "Package: kudakyar\n\
             Version: {version}\n\
             Architecture: {arch}\n\
             Maintainer: Kudakyar developers <kudakyar@localhost>\n\
             Section: misc\n\
             Priority: optional\n\
             Installed-Size: {size}\n\
             Depends: {depends}\n\
             Description: registry of street-working children (server and app)\n \
             Kudakyar keeps one record per child for a provincial welfare\n \
             organisation's outreach workers: registration with photo and iris,\n \
             follow-up, citizens' and the 123 line's reports, the presence atlas\n \
             and programme indicators. This package holds the server, the\n \
             installable web app it serves, and a hardened systemd service.\n",
            version = self.version,
            arch = self.arch,
            size = self.installed_kib,
            depends = self.depends,
        )
    }
}

/// The package's `Depends`, read off the binary's dynamic section.
fn depends(bin: &Path) -> Result<String> {
    let dynamic = output(Command::new("objdump").arg("-p").arg(bin))
        .context("`objdump -p` failed: packaging needs binutils")?;
    let symbols = output(Command::new("objdump").arg("-T").arg(bin))
        .context("`objdump -T` failed: packaging needs binutils")?;
    let mut packages = vec!["adduser".to_string()];
    for line in dynamic.lines() {
        let Some(library) = line.trim().strip_prefix("NEEDED") else {
            continue;
        };
        let package = match library.trim() {
            "libc.so.6"
            | "libm.so.6"
            | "libdl.so.2"
            | "libpthread.so.0"
            | "librt.so.1"
            | "ld-linux-x86-64.so.2"
            | "ld-linux-aarch64.so.1" => {
                format!("libc6 (>= {})", newest_glibc(&symbols)?)
            }
            "libgcc_s.so.1" => "libgcc-s1".to_string(),
            // `kudakyar iris evaluate` draws its charts with system fonts
            // (plotters' `ttf`, through font-kit).
            "libfontconfig.so.1" => "libfontconfig1".to_string(),
            "libfreetype.so.6" => "libfreetype6".to_string(),
            other => bail!(
                "the binary needs {other}: name its Debian package in xtask/src/dist.rs (fn depends)"
            ),
        };
        if !packages.contains(&package) {
            packages.push(package);
        }
    }
    Ok(packages.join(", "))
}

/// The newest `GLIBC_x.y[.z]` symbol version in `objdump -T`'s output: the
/// oldest libc the binary runs on.
fn newest_glibc(symbols: &str) -> Result<String> {
    symbols
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let parts: Option<Vec<u32>> = v.split('.').map(|p| p.parse().ok()).collect();
            parts.map(|p| (p, v.to_string()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
        .context("the binary names no GLIBC_ symbol version")
}

/// The workspace's `version = "…"` (`[workspace.package]`).
fn workspace_version(root: &Path) -> Result<String> {
    let manifest = fs::read_to_string(root.join("Cargo.toml"))?;
    let section = manifest
        .split("[workspace.package]")
        .nth(1)
        .context("Cargo.toml has no [workspace.package]")?;
    section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.trim().strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_string())
        .context("[workspace.package] has no version")
}

/// Copies `from` to `to` (creating its folder) with `mode`.
fn install(from: &Path, to: &Path, mode: u32) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    set_mode(to, mode)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {mode:o} {}", path.display()))
}

/// Bytes of the files under `dir`, but its `DEBIAN` folder.
fn tree_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            if entry.file_name() != "DEBIAN" {
                total += tree_size(&entry.path())?;
            }
        } else {
            total += meta.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_glibc_version_is_compared_as_numbers() {
        let symbols = "0000 DF *UND* 0000 (GLIBC_2.9) a\n\
                       0000 DF *UND* 0000 (GLIBC_2.34) b\n\
                       0000 DF *UND* 0000 GLIBC_2.2.5 c\n";
        assert_eq!(newest_glibc(symbols).unwrap(), "2.34");
        assert!(newest_glibc("no versions here").is_err());
    }
}
