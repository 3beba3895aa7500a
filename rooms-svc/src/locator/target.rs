//! Where a customer's store lives: a URL template with `{customer}` (the default one, or the
//! one a mapping file assigns to the customer, so customers can be spread over several
//! PostgreSQL servers), and creating, connecting to and deleting that store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtm_plumbing::store::{Backend, backend_of};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};

use crate::error::Error;
use crate::names::CustomerId;

mod template_database;

use template_database::{TemplateDatabase, database_exists};

/// The placeholder every template must contain, so every customer gets its own store (R27).
pub const PLACEHOLDER: &str = "{customer}";

/// The default template and the per-customer assignments of a mapping file.
#[derive(Clone, Debug)]
pub struct Templates {
    default: String,
    assigned: HashMap<String, String>,
}

impl Templates {
    /// Checks the default template and reads the mapping file (lines `CUSTOMER-ID TEMPLATE`,
    /// `#` starts a comment).
    pub fn new(default: &str, map_file: Option<&Path>) -> Result<Self, String> {
        check_template(default)?;
        let mut assigned = HashMap::new();
        if let Some(path) = map_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("reading the store map {}: {e}", path.display()))?;
            for (number, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or_default().trim();
                if line.is_empty() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let (Some(customer), Some(template), None) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(format!(
                        "{}:{}: expected `CUSTOMER-ID URL-TEMPLATE`",
                        path.display(),
                        number + 1
                    ));
                };
                if CustomerId::new(customer).is_none() {
                    return Err(format!(
                        "{}:{}: `{customer}` is not a customer id",
                        path.display(),
                        number + 1
                    ));
                }
                check_template(template)
                    .map_err(|e| format!("{}:{}: {e}", path.display(), number + 1))?;
                assigned.insert(customer.to_owned(), template.to_owned());
            }
        }
        Ok(Self {
            default: default.to_owned(),
            assigned,
        })
    }

    /// Every template in use: the default one and those the mapping file assigns.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.default.as_str()).chain(self.assigned.values().map(String::as_str))
    }

    /// The store of `customer`.
    pub fn target(&self, customer: &CustomerId) -> Result<StoreTarget, Error> {
        let template = self
            .assigned
            .get(customer.as_str())
            .unwrap_or(&self.default);
        let mut target = StoreTarget::new(template.replace(PLACEHOLDER, customer.as_str()))?;
        if let Kind::Postgres { source, .. } = &mut target.kind {
            *source = TemplateDatabase::for_pattern(template);
        }
        Ok(target)
    }
}

fn check_template(template: &str) -> Result<(), String> {
    if !template.contains(PLACEHOLDER) {
        return Err(format!(
            "store url template `{template}` lacks {PLACEHOLDER}: every customer needs its own store"
        ));
    }
    backend_of(template).map_err(|e| e.to_string())?;
    Ok(())
}

/// One customer's store location.
#[derive(Clone, Debug)]
pub struct StoreTarget {
    url: String,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        database: String,
        /// The migrated database new stores are copied from.
        source: Option<TemplateDatabase>,
    },
}

impl StoreTarget {
    pub(crate) fn new(url: String) -> Result<Self, Error> {
        let bad = |why: &str| Error::precondition("store", format!("store url {url}: {why}"));
        let kind = match backend_of(&url).map_err(|_| bad("unsupported"))? {
            Backend::Sqlite => {
                let rest = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or_default();
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() || path == ":memory:" {
                    return Err(bad("a customer store must be a file"));
                }
                Kind::Sqlite(PathBuf::from(path))
            }
            Backend::Postgres => {
                let base = url.split('?').next().unwrap_or_default();
                let query = url.split_once('?').map(|(_, q)| q);
                let scheme_end = base.find("://").map_or(0, |i| i + 3);
                let slash = base[scheme_end..]
                    .find('/')
                    .map(|i| i + scheme_end)
                    .ok_or_else(|| bad("names no database"))?;
                let database = base[slash + 1..].to_owned();
                if database.is_empty() || database.len() > 63 {
                    return Err(bad("the database name must be 1 to 63 characters"));
                }
                let mut admin_url = format!("{}/postgres", &base[..slash]);
                if let Some(query) = query {
                    admin_url.push('?');
                    admin_url.push_str(query);
                }
                Kind::Postgres {
                    admin_url,
                    database,
                    source: None,
                }
            }
        };
        Ok(Self { url, kind })
    }

    /// The store's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The file of a SQLite store.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite(path) => Some(path),
            Kind::Postgres { .. } => None,
        }
    }

    /// The server's maintenance database URL and the database name of a PostgreSQL store.
    pub fn postgres_database(&self) -> Option<(&str, &str)> {
        match &self.kind {
            Kind::Sqlite(_) => None,
            Kind::Postgres {
                admin_url,
                database,
                ..
            } => Some((admin_url, database)),
        }
    }

    /// Creates the file or database unless it exists, and connects. A PostgreSQL store is a
    /// copy of the template database of its URL template when that can be had, so it is
    /// already migrated; the caller migrates it either way.
    pub async fn create(&self, max_connections: u32) -> Result<DatabaseConnection, Error> {
        match &self.kind {
            Kind::Sqlite(_) => Ok(mtm_plumbing::store::open(&self.url, max_connections).await?),
            Kind::Postgres {
                admin_url,
                database,
                source,
            } => {
                create_postgres_database(admin_url, database, source.as_ref()).await?;
                Ok(Database::connect(self.postgres_options(max_connections)).await?)
            }
        }
    }

    fn postgres_options(&self, max_connections: u32) -> ConnectOptions {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .max_connections(max_connections)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(300))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        options
    }

    /// Connects to the store if it exists; `None` when it was never provisioned.
    pub async fn connect_existing(
        &self,
        max_connections: u32,
    ) -> Result<Option<DatabaseConnection>, Error> {
        match &self.kind {
            Kind::Sqlite(path) => {
                if !path.is_file() {
                    return Ok(None);
                }
                Ok(Some(self.create(max_connections).await?))
            }
            Kind::Postgres { .. } => {
                match Database::connect(self.postgres_options(max_connections)).await {
                    Ok(db) => Ok(Some(db)),
                    Err(error) if is_missing_database(&error) => Ok(None),
                    Err(error) => Err(Error::Unavailable(format!("customer store: {error}"))),
                }
            }
        }
    }

    /// Deletes the store; an absent one is not an error.
    pub async fn delete(&self) -> Result<(), Error> {
        match &self.kind {
            Kind::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => {
                            return Err(Error::Io {
                                context: format!("deleting {}", PathBuf::from(file).display()),
                                source,
                            });
                        }
                    }
                }
                Ok(())
            }
            Kind::Postgres {
                admin_url,
                database,
                ..
            } => {
                let mut options = ConnectOptions::new(admin_url.clone());
                options.max_connections(1).sqlx_logging(false);
                let admin = Database::connect(options).await?;
                let dropped = admin
                    .execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    ))
                    .await;
                admin.close().await?;
                dropped?;
                Ok(())
            }
        }
    }
}

/// Creates `database` on the server of `admin_url` unless it exists, as a copy of the
/// migrated `source` when that can be had and empty otherwise; losing a race to create it
/// counts as success. On PostgreSQL 15 and later the files are copied and synced by the
/// creating session (`STRATEGY FILE_COPY`) instead of being written to the WAL and left for
/// the checkpointer: with the default `WAL_LOG` strategy the next checkpoint, which every
/// `DROP DATABASE` forces, syncs every database created since, one file after the other.
async fn create_postgres_database(
    admin_url: &str,
    database: &str,
    source: Option<&TemplateDatabase>,
) -> Result<(), Error> {
    if !plain_database_name(database) {
        return Err(Error::precondition(
            "store",
            format!("database name {database}: only letters, digits, `_` and `-`"),
        ));
    }
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options).await?;
    let created = create_with(&admin, database, source).await;
    admin.close().await?;
    created
}

async fn create_with(
    admin: &DatabaseConnection,
    database: &str,
    source: Option<&TemplateDatabase>,
) -> Result<(), Error> {
    if database_exists(admin, database).await? {
        return Ok(());
    }
    let version = admin
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT current_setting('server_version_num')::int",
        ))
        .await?
        .ok_or_else(|| Error::Unavailable("creating a customer store: no server version".into()))?;
    let file_copy = version.try_get_by_index::<i32>(0)? >= 150_000;
    let strategy = if file_copy { " STRATEGY FILE_COPY" } else { "" };
    if let Some(source) = source
        && source.ensure(admin, strategy).await
    {
        let copied = admin
            .execute_unprepared(&format!(
                "CREATE DATABASE \"{database}\" TEMPLATE \"{}\"{strategy}",
                source.name()
            ))
            .await;
        match copied {
            Ok(_) => return Ok(()),
            Err(error) if error.to_string().contains("already exists") => return Ok(()),
            Err(error) => {
                tracing::warn!(%error, template = source.name(), "copying the template database failed; creating an empty store");
                source.forget().await;
            }
        }
    }
    match admin
        .execute_unprepared(&format!("CREATE DATABASE \"{database}\"{strategy}"))
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.to_string().contains("already exists") => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Whether `name` needs no quoting care: letters, digits, `_` and `-` only.
fn plain_database_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_missing_database(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("3D000") || (text.contains("database") && text.contains("does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_need_the_placeholder_and_map_customers() {
        assert!(Templates::new("sqlite://data/rooms.db", None).is_err());
        assert!(Templates::new("mysql://h/{customer}", None).is_err());
        let dir = tempfile::tempdir().expect("tempdir");
        let map = dir.path().join("stores.map");
        std::fs::write(
            &map,
            "# customers on the second server\ncontoso postgres://u@db2:5432/mtm_rooms_{customer}\n",
        )
        .expect("write");
        let templates =
            Templates::new("postgres://u@db1:5432/mtm_rooms_{customer}", Some(&map)).expect("ok");
        let contoso = CustomerId::new("contoso").expect("id");
        let fabrikam = CustomerId::new("fabrikam").expect("id");
        assert_eq!(
            templates.target(&contoso).expect("target").url(),
            "postgres://u@db2:5432/mtm_rooms_contoso"
        );
        assert_eq!(
            templates.target(&fabrikam).expect("target").url(),
            "postgres://u@db1:5432/mtm_rooms_fabrikam"
        );
        std::fs::write(&map, "../x postgres://h/{customer}\n").expect("write");
        assert!(Templates::new("sqlite://d/{customer}.db", Some(&map)).is_err());
    }

    #[test]
    fn database_names_must_fit() {
        let templates = Templates::new("postgres://h/mtm_rooms_{customer}", None).expect("ok");
        let long = CustomerId::new(&"a".repeat(60)).expect("id");
        assert!(templates.target(&long).is_err());
    }
}
