//! The whole partner story through the public API of the five real binaries: enrolment,
//! invitation, acceptance, delegation, the aggregated view with a customer down, scope
//! narrowing, the customer's audit log and the partner's removal.

use crate::story;
use crate::support::options_in;

#[tokio::test]
async fn partner_story_through_the_public_api() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = options_in(&dir);
    let mut suite = mtm_e2e::Suite::start(&options).await.expect("suite starts");
    story::play(&mut suite).await;
    assert_eq!(suite.stop().await, Vec::<String>::new());
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
