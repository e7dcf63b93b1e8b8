//! The data directory and what is in it are the owner's alone: the registry's
//! database, photos and keys are personal data of children, so nothing here is
//! left to the process umask (typically 022: readable by every local user).
//!
//! Directories are made 0700 and files 0600 on Unix; elsewhere these do
//! nothing beyond creating the directory.

use std::path::Path;

use anyhow::Context;

/// Creates `dir` (and missing parents) and makes it 0700, also when it existed
/// from before, so a data dir made by an older version is closed on start.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    set_mode(dir, 0o700)
}

/// Makes an existing file 0600; a missing file is no error.
pub fn restrict(file: &Path) -> anyhow::Result<()> {
    if file.exists() {
        set_mode(file, 0o600)?;
    }
    Ok(())
}

/// Creates an empty file 0600 unless it exists (then makes it 0600): for files
/// another library creates and writes, such as SQLite's database, whose WAL
/// and shared-memory files take the database file's mode.
pub fn create_file(file: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    restrict(file)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("making {} private", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> anyhow::Result<()> {
    Ok(())
}
