//! Opening a service's database with the settings every MTM store needs: SQLite files created
//! on demand in WAL mode with full fsync (no acknowledged write is lost on a crash), PostgreSQL
//! databases created on first use, small pools that close idle connections.

use std::path::PathBuf;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres://`, or names no database.
    #[error("unsupported database url `{0}`: use sqlite://PATH or postgres://HOST/DATABASE")]
    Url(String),
    /// The SQLite file's directory could not be created.
    #[error("creating {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database refused.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// Which database engine a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The engine of `url`, or an error for anything else.
pub fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::Url(url.to_owned()))
    }
}

/// Opens the database at `url` with at most `max_connections` pooled connections, creating
/// the SQLite file (and its directory) or the PostgreSQL database when missing.
pub async fn open(url: &str, max_connections: u32) -> Result<DatabaseConnection, StoreError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(Duration::from_secs(300))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    match backend_of(url)? {
        Backend::Sqlite => {
            let dir = sqlite_path(url).and_then(|p| p.parent().map(PathBuf::from));
            if let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(&dir)
                    .map_err(|source| StoreError::Directory { path: dir, source })?;
            }
            options.map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
        }
        Backend::Postgres => ensure_postgres_database(url).await?,
    }
    Ok(Database::connect(options).await?)
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), so a transaction that reads before it writes waits its turn (up to the busy
/// timeout) instead of failing with "database is locked" when its read lock cannot be
/// upgraded; PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// The file a `sqlite:` URL points at (`None` for in-memory databases).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Splits `postgres://.../name?query` into the server URL for the `postgres` maintenance
/// database and the database name.
fn postgres_parts(url: &str) -> Result<(String, String), StoreError> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let slash = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .ok_or_else(|| StoreError::Url(url.to_owned()))?;
    let name = &base[slash + 1..];
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(StoreError::Url(url.to_owned()));
    }
    let mut admin = format!("{}/postgres", &base[..slash]);
    if let Some(query) = query {
        admin.push('?');
        admin.push_str(query);
    }
    Ok((admin, name.to_owned()))
}

/// Whether the server `admin` is connected to has a database `name`.
async fn database_exists(admin: &DatabaseConnection, name: &str) -> Result<bool, DbErr> {
    Ok(admin
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some())
}

/// Creates the database named by `url` on its server unless it exists. Concurrent callers
/// are fine: losing the race to create it counts as success.
pub async fn ensure_postgres_database(url: &str) -> Result<(), StoreError> {
    let (admin_url, name) = postgres_parts(url)?;
    let mut options = ConnectOptions::new(admin_url);
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options).await?;
    if !database_exists(&admin, &name).await? {
        let created = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await;
        // A concurrent creator wins with "already exists" or, while both insert, a duplicate
        // key in pg_database: either way the database is there now.
        if let Err(error) = created
            && !database_exists(&admin, &name).await?
        {
            return Err(error.into());
        }
    }
    admin.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_classified_and_split() {
        assert_eq!(
            backend_of("sqlite://a/b.db?mode=rwc").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(backend_of("postgres://h/db").ok(), Some(Backend::Postgres));
        assert!(backend_of("mysql://h/db").is_err());
        assert_eq!(
            sqlite_path("sqlite://data/x.db?mode=rwc"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        let (admin, name) =
            postgres_parts("postgres://u@h:5432/mtm_rooms_c1?sslmode=disable").expect("parts");
        assert_eq!(admin, "postgres://u@h:5432/postgres?sslmode=disable");
        assert_eq!(name, "mtm_rooms_c1");
        assert!(postgres_parts("postgres://h/bad\"name").is_err());
        assert!(postgres_parts("postgres://h").is_err());
    }

    #[tokio::test]
    async fn sqlite_store_is_created_in_wal_mode_with_full_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("nested/identity.db");
        let db = open(&format!("sqlite://{}", file.display()), 2)
            .await
            .expect("open");
        assert!(file.is_file());
        let mode = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .expect("pragma")
            .expect("row");
        assert_eq!(mode.try_get_by_index::<String>(0).expect("mode"), "wal");
        let sync = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA synchronous",
            ))
            .await
            .expect("pragma")
            .expect("row");
        assert_eq!(sync.try_get_by_index::<i32>(0).expect("sync"), 2, "FULL");
    }

    #[cfg(feature = "postgres-tests")]
    #[tokio::test]
    async fn postgres_database_is_created_on_first_open_postgres() {
        let url = crate::testing::unique_postgres_url("plumbing");
        let db = open(&url, 2).await.expect("open creates the database");
        db.execute_unprepared("CREATE TABLE probe (id INT PRIMARY KEY)")
            .await
            .expect("ddl");
        db.close().await.expect("close");
        // A second open finds the database and its table.
        let again = open(&url, 2).await.expect("reopen");
        again
            .execute_unprepared("INSERT INTO probe VALUES (1)")
            .await
            .expect("insert");
        again.close().await.expect("close");
        crate::testing::drop_postgres_database(&url).await;
    }
}
