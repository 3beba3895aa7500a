//! Starting a suite from the real binaries in a temporary directory.

use std::path::PathBuf;
use std::sync::OnceLock;

use mtm_e2e::{Suite, SuiteOptions, ensure_built};

/// Builds the service binaries once per test run.
fn bin_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| ensure_built().expect("service binaries"))
        .clone()
}

/// A suite in its own temporary directory, with extra environment for every service.
pub async fn start_suite(env: Vec<(String, String)>) -> (Suite, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut options = options_in(&dir);
    options.env = env;
    let suite = Suite::start(&options).await.expect("suite starts");
    (suite, dir)
}

/// Options for a suite in `dir` with SQLite stores and the gateway on a free port.
pub fn options_in(dir: &tempfile::TempDir) -> SuiteOptions {
    SuiteOptions::new(
        dir.path().to_owned(),
        "127.0.0.1:0".parse().expect("addr"),
        bin_dir(),
    )
}
