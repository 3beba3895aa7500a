//! One load run from start to end: a fresh fixture, its targets (all, or those named), the
//! rounds, and the fixture stopped again whatever happened.

use std::collections::HashMap;

use super::fixture::{Fixture, FixtureOptions};
use super::rounds::{self, Plan, Results};
use super::targets::{self, Server};

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The suite, its connections and Cerbos.
    pub fixture: FixtureOptions,
    /// Rounds, lengths and load.
    pub plan: Plan,
    /// Only these targets (all when empty).
    pub only: Vec<String>,
}

/// Runs the targets against a fresh suite and stops it.
pub async fn run(options: &LoadOptions, progress: impl FnMut(String)) -> Result<Results, String> {
    let fixture = Fixture::start(&options.fixture)
        .await
        .map_err(|e| e.to_string())?;
    let measured = measure(&fixture, options, progress).await;
    let unclean = fixture.stop().await;
    let results = measured?;
    if unclean.is_empty() {
        Ok(results)
    } else {
        Err(format!(
            "the suite did not stop cleanly: {}",
            unclean.join("; ")
        ))
    }
}

async fn measure(
    fixture: &Fixture,
    options: &LoadOptions,
    progress: impl FnMut(String),
) -> Result<Results, String> {
    let every = targets::all(&fixture.world, options.fixture.cerbos.is_some());
    if let Some(unknown) = options
        .only
        .iter()
        .find(|name| !every.iter().any(|t| t.name == name.as_str()))
    {
        let known: Vec<&str> = every.iter().map(|t| t.name).collect();
        return Err(format!(
            "unknown target {unknown}; the targets are {}",
            known.join(", ")
        ));
    }
    let chosen = every
        .into_iter()
        .filter(|t| options.only.is_empty() || options.only.iter().any(|n| n == t.name))
        .collect();
    let channels = HashMap::from([
        (Server::Gateway, fixture.gateway.clone()),
        (Server::Rbac, fixture.rbac.clone()),
        (Server::Cerbos, fixture.cerbos_channels.clone()),
    ]);
    rounds::run(
        chosen,
        &channels,
        fixture.processes(),
        options.plan.clone(),
        progress,
    )
    .await
}
