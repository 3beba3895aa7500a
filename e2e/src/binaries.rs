//! Finding the five service binaries next to the running executable, building them first so
//! they are never stale. They are built as `cargo build --workspace --bins`: the whole
//! workspace's feature set, the same as `cargo run --bin mtm-local` and `cargo test --workspace`
//! resolve, so a tree one of those built is reused as it is, and without the variables cargo set
//! for the running program, which would make build scripts rerun.

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
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(set_by_cargo_for_the_running_target)
        {
            command.env_remove(&name);
        }
    }
    command
        .args(["build", "--workspace", "--bins"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
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

/// Whether `name` is one of the variables cargo sets for the program `cargo run` or
/// `cargo test` starts (this one). Build scripts (ring's among them) rerun when such a variable
/// differs from the last build, so a nested build that inherited them would rebuild the crates
/// above them in every command, turn about.
fn set_by_cargo_for_the_running_target(name: &str) -> bool {
    const PREFIXES: [&str; 3] = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_EXE_"];
    const NAMES: [&str; 6] = [
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix)) || NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nested_build_drops_what_cargo_set_for_this_program_and_keeps_user_settings() {
        for set in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_BIN_EXE_gateway",
            "OUT_DIR",
        ] {
            assert!(set_by_cargo_for_the_running_target(set), "{set}");
        }
        for kept in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_INCREMENTAL",
            "CARGO",
        ] {
            assert!(!set_by_cargo_for_the_running_target(kept), "{kept}");
        }
    }
}
