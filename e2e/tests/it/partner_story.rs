//! The whole partner story through the public API of the five real binaries: enrolment,
//! invitation, acceptance, delegation, the aggregated view with a customer down, scope
//! narrowing, the customer's audit log and the partner's removal. ERROR is for what an
//! operator must act on: the story, refusals and a customer down included, logs none.

use crate::story;
use crate::support::options_in;

#[tokio::test]
async fn partner_story_through_the_public_api() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = options_in(&dir);
    let mut suite = mtm_e2e::Suite::start(&options).await.expect("suite starts");
    story::play(&mut suite).await;
    assert_eq!(suite.stop().await, Vec::<String>::new());
    assert_eq!(error_lines(&dir.path().join("logs")), Vec::<String>::new());
}

/// The lines logged at ERROR by any service whose log is in `logs`.
fn error_lines(logs: &std::path::Path) -> Vec<String> {
    let mut errors = Vec::new();
    for entry in std::fs::read_dir(logs).expect("the suite's logs") {
        let path = entry.expect("a log").path();
        let text = std::fs::read_to_string(&path).expect("a readable log");
        errors.extend(
            text.lines()
                .filter(|line| line.contains(" ERROR ") || line.contains("\"level\":\"ERROR\""))
                .map(|line| format!("{}: {line}", path.display())),
        );
    }
    errors
}

#[cfg(feature = "postgres-tests")]
#[tokio::test]
async fn partner_story_through_the_public_api_postgres() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut options = options_in(&dir);
    options.stores =
        mtm_e2e::Stores::unique_postgres(mtm_plumbing::testing::postgres_server_url(), "mtm_e2e");
    let stores = options.stores.clone();
    let mut suite = mtm_e2e::Suite::start(&options).await.expect("suite starts");
    let played = tokio::spawn(async move {
        story::play(&mut suite).await;
        suite.stop().await
    })
    .await;
    stores.drop_all().await.expect("drop the story's databases");
    match played {
        Ok(unclean) => assert_eq!(unclean, Vec::<String>::new()),
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}
