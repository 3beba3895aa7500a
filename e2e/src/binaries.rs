//! Finding the five service binaries next to the running executable, building them first so
//! they are never stale. They are built as `cargo build --workspace --bins`: the whole
//! workspace's feature set, the same as `cargo run --bin mtm-local` and `cargo test --workspace`
//! resolve, so a tree one of those built is reused as it is.

use std::path::PathBuf;
use std::process::Command;

/// Why the binaries are not available.
#[derive(Debug, thiserror::Error)]
pub enum BinariesError {
    /// The running executable's location is unknown.
    #[error("cannot locate the target directory: {0}")]
    Locate(std::io::Error),
    /// cargo could not be run or the build failed.
    #[error("building the service binaries failed: {0}")]
    Build(String),
}

/// Builds the workspace's binaries with the profile of the running executable (a no-op when
/// they are up to date) and returns the directory holding them.
pub fn ensure_built() -> Result<PathBuf, BinariesError> {
    let exe = std::env::current_exe().map_err(BinariesError::Locate)?;
    let mut dir = exe
        .parent()
        .map(PathBuf::from)
        .ok_or_else(|| BinariesError::Locate(std::io::Error::other("executable has no parent")))?;
    if dir.ends_with("deps") {
        dir.pop();
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "--workspace", "--bins"]);
    if dir.ends_with("release") {
        command.arg("--release");
    }
    let status = command
        .status()
        .map_err(|e| BinariesError::Build(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(BinariesError::Build(format!("cargo exited with {status}")));
    }
    Ok(dir)
}
