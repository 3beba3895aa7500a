//! Store schema upgrades: the real `rooms-svc migrate` binary brings 2,000 stores from the
//! previous schema to this one, is SIGKILLed halfway, and a second run finishes the rest; a
//! store it cannot migrate is reported without stopping the others. The service refuses a
//! store newer than it serves (UNAVAILABLE, naming the versions) and serves a newer one that
//! says this version may. (PostgreSQL: `stores::opening_2000_customer_stores_keeps_the_pool_cap_postgres`
//! migrates its 2,000 databases the same way.)

use std::collections::HashMap;
use std::process::Stdio;

use mtm_proto::mtm::rooms::v1::GetStoreInfoRequest;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness::{Backend, Suite};

/// The newest store migration, which the previous schema lacks.
const NEWEST: &str = "m20261207_000001_create_store_schema";

/// This binary's schema version: the number of store migrations.
const VERSION: i64 = 3;

async fn connect(url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    sea_orm::Database::connect(options).await.expect("connect")
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.expect(sql);
}

/// Takes a store back to the previous schema, as the newest migration's `down` does.
pub async fn to_previous_schema(url: &str) -> Result<(), sea_orm::DbErr> {
    let db = connect(url).await;
    db.execute_unprepared("DROP TABLE store_schema").await?;
    db.execute_unprepared(&format!(
        "DELETE FROM seaql_migrations WHERE version = '{NEWEST}'"
    ))
    .await?;
    db.close().await
}

/// The store's migrations applied, and its record (version, oldest serving version).
async fn schema_of(url: &str) -> (i64, Option<(i32, i32)>) {
    let db = connect(url).await;
    let backend = db.get_database_backend();
    let count: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get_by_index(0)
        .expect("count");
    let record = match db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT version, oldest_reader FROM store_schema",
        ))
        .await
    {
        Ok(Some(row)) => Some((
            row.try_get_by_index(0).expect("version"),
            row.try_get_by_index(1).expect("oldest"),
        )),
        _ => None,
    };
    db.close().await.expect("close");
    (count, record)
}

fn migrate_command(template: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rooms-svc"));
    command
        .args([
            "migrate",
            "--store-url-template",
            template,
            "--concurrency",
            "4",
            "--progress-interval-secs",
            "1",
        ])
        .env("RUST_LOG", "info")
        .env_remove("MTM_STORE_MAP_FILE")
        .env_remove("MTM_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The `key=value` fields of a log line.
fn fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.trim_matches('"').to_owned()))
        .collect()
}

fn count(fields: &HashMap<String, String>, key: &str) -> usize {
    fields
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
}

/// Runs `rooms-svc migrate` to the end: its exit code and the fields of its summary line.
async fn migrate_to_the_end(template: &str) -> (Option<i32>, HashMap<String, String>) {
    let output = migrate_command(template)
        .output()
        .await
        .expect("run rooms-svc migrate");
    let log = String::from_utf8_lossy(&output.stderr);
    let summary = log
        .lines()
        .find(|line| line.contains("migration finished"))
        .unwrap_or_else(|| panic!("no summary in:\n{log}"));
    (output.status.code(), fields(summary))
}

/// Starts `rooms-svc migrate` and SIGKILLs it once it reports progress; the stores it
/// reported done by then.
async fn migrate_until_killed(template: &str) -> usize {
    let mut child = migrate_command(template)
        .spawn()
        .expect("start rooms-svc migrate");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut done = None;
    while let Some(line) = lines.next_line().await.expect("read log") {
        if line.contains("migration progress") {
            let progress = fields(&line);
            let (now, total) = (count(&progress, "done"), count(&progress, "total"));
            assert!(
                now < total,
                "the run ended before it could be killed: {line}"
            );
            if now > 0 {
                done = Some(now);
                break;
            }
        }
    }
    let done = done.expect("rooms-svc migrate ended without progress");
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "killed by a signal");
    done
}

/// Migrates the `stores` stores of `template` (plus `broken` ones that cannot be) from the
/// previous schema: a first run killed halfway, a second finishing the rest (exit code 1 when
/// some are broken, each reported), a third finding everything current.
pub async fn migrate_killed_then_finished(template: &str, stores: usize, broken: usize) {
    let killed_at = migrate_until_killed(template).await;
    let (code, second) = migrate_to_the_end(template).await;
    let migrated = count(&second, "migrated");
    let current = count(&second, "current");
    assert_eq!(count(&second, "total"), stores + broken);
    assert_eq!(migrated + current, stores, "{second:?}");
    assert!(
        current + broken >= killed_at && migrated > 0,
        "the second run finishes what the killed one left: {second:?}, killed at {killed_at}"
    );
    assert_eq!(count(&second, "failed"), broken, "{second:?}");
    assert_eq!(code, Some(if broken > 0 { 1 } else { 0 }));
    let (code, third) = migrate_to_the_end(template).await;
    assert_eq!(
        (count(&third, "migrated"), count(&third, "current")),
        (0, stores),
        "idempotent: {third:?}"
    );
    assert_eq!(code, Some(if broken > 0 { 1 } else { 0 }));
}

#[tokio::test]
async fn migrate_2000_sqlite_stores_from_the_previous_schema_across_a_kill() {
    const STORES: usize = 2000;
    let suite = Suite::start(Backend::Sqlite).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    suite.room("contoso", "hq", "r1").await;
    // A compact copy of a seeded store with a room, taken back to the previous schema, is
    // every customer's store.
    let fleet = tempfile::tempdir().expect("tempdir");
    let seed = fleet.path().join("seed");
    let db = connect(&suite.template().replace("{customer}", "contoso")).await;
    execute(&db, &format!("VACUUM INTO '{}'", seed.display())).await;
    db.close().await.expect("close");
    suite.finish(&["contoso"]).await;
    to_previous_schema(&format!("sqlite://{}", seed.display()))
        .await
        .expect("previous schema");
    let stores = fleet.path().join("stores");
    std::fs::create_dir(&stores).expect("mkdir");
    for i in 0..STORES {
        std::fs::copy(&seed, stores.join(format!("cust-{i:05}.db"))).expect("copy");
    }
    std::fs::write(stores.join("broken.db"), b"not a database").expect("write");
    let template = format!("sqlite://{}/{{customer}}.db", stores.display());
    let first = template.replace("{customer}", "cust-00000");
    assert_eq!(schema_of(&first).await, (VERSION - 1, None));

    migrate_killed_then_finished(&template, STORES, 1).await;

    let last = template.replace("{customer}", &format!("cust-{:05}", STORES - 1));
    for url in [first, last] {
        assert_eq!(schema_of(&url).await, (VERSION, Some((3, 3))));
    }
    std::fs::remove_file(stores.join("broken.db")).expect("rm");
    let (code, clean) = migrate_to_the_end(&template).await;
    assert_eq!(code, Some(0), "no store failed: {clean:?}");
}

/// Marks the customer's store as migrated by a future binary whose schema version 4 is served
/// from version `oldest_reader` on.
async fn from_the_future(suite: &Suite, customer: &str, oldest_reader: i32) {
    let db = connect(&suite.template().replace("{customer}", customer)).await;
    execute(
        &db,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_future', 0)",
    )
    .await;
    execute(
        &db,
        &format!("UPDATE store_schema SET version = 4, oldest_reader = {oldest_reader}"),
    )
    .await;
    db.close().await.expect("close");
}

#[tokio::test]
async fn stores_newer_than_the_binary_serves_are_unavailable_and_compatible_ones_are_served() {
    // One open store at a time: provisioning northwind last closes the other two, so the next
    // call opens them anew.
    let suite = Suite::start_with(Backend::Sqlite, 1).await;
    for customer in ["contoso", "fabrikam", "northwind"] {
        suite.provision(customer).await;
    }
    from_the_future(&suite, "contoso", 4).await;
    from_the_future(&suite, "fabrikam", 3).await;
    let info = |customer: &str| {
        let mut client = suite.internal();
        let customer = format!("customers/{customer}");
        async move {
            client
                .get_store_info(GetStoreInfoRequest { customer })
                .await
        }
    };
    let refused = info("contoso").await.expect_err("newer than served");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("schema version 4") && refused.message().contains("version 3"),
        "names both versions: {}",
        refused.message()
    );
    info("fabrikam")
        .await
        .expect("a newer store that version 3 serves");
    for (customer, record) in [("contoso", (4, 4)), ("fabrikam", (4, 3))] {
        assert_eq!(
            schema_of(&suite.template().replace("{customer}", customer)).await,
            (4, Some(record)),
            "{customer}: never migrated backwards"
        );
    }
    suite.finish(&[]).await;
}
