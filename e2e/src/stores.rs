//! Where the suite's services keep their data: SQLite files under the data directory, or
//! databases on a PostgreSQL server named with a per-suite prefix (one per control-plane
//! service, one per customer for rooms-svc), and the operations the end-to-end tests need on
//! them: making one customer's store unavailable and dropping every database afterwards.

use std::path::Path;

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

use crate::SuiteError;

/// The stores of a suite.
#[derive(Clone, Debug, Default)]
pub enum Stores {
    /// SQLite files under `data/` (one per control-plane service, `data/rooms/{customer}.db`).
    #[default]
    Sqlite,
    /// Databases `{prefix}_{service}` and `{prefix}_rooms_{customer}` on a PostgreSQL server,
    /// created by the services on first use.
    Postgres {
        /// The server, as a URL naming any database (`postgres://user@host:5432/postgres`).
        server_url: String,
        /// Prefix of every database name: lowercase letters, digits and `_`, unique per run.
        prefix: String,
    },
}

impl Stores {
    /// PostgreSQL databases on `server_url` with a fresh random prefix starting with `label`.
    pub fn unique_postgres(server_url: impl Into<String>, label: &str) -> Self {
        Self::Postgres {
            server_url: server_url.into(),
            prefix: format!(
                "{label}_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
        }
    }

    /// The environment naming `service`'s store.
    pub(crate) fn env(&self, data: &Path, service: &str) -> Vec<(String, String)> {
        let data = data.display();
        let pair = |k: &str, v: String| (k.to_owned(), v);
        match (self, service) {
            (Self::Sqlite, "rooms-svc") => vec![pair(
                "MTM_STORE_URL_TEMPLATE",
                format!("sqlite://{data}/rooms/{{customer}}.db"),
            )],
            (Self::Sqlite, _) => vec![pair(
                "MTM_DATABASE_URL",
                format!("sqlite://{data}/{service}.db"),
            )],
            (Self::Postgres { .. }, "rooms-svc") => vec![pair(
                "MTM_STORE_URL_TEMPLATE",
                self.postgres_url("rooms_{customer}"),
            )],
            (Self::Postgres { .. }, _) => vec![pair(
                "MTM_DATABASE_URL",
                self.postgres_url(&service.replace('-', "_")),
            )],
        }
    }

    fn postgres_url(&self, suffix: &str) -> String {
        match self {
            Self::Sqlite => String::new(),
            Self::Postgres { server_url, prefix } => {
                format!("{}/{prefix}_{suffix}", server_base(server_url))
            }
        }
    }

    /// Makes `customer`'s rooms store refuse every use from now on. SQLite: the file is
    /// overwritten with bytes that are no database (connections opened before keep working,
    /// so the caller restarts rooms-svc around this). PostgreSQL: the database stops
    /// accepting connections and its sessions are ended.
    pub(crate) async fn break_customer_store(
        &self,
        data: &Path,
        customer: &str,
    ) -> Result<(), SuiteError> {
        match self {
            Self::Sqlite => {
                let file = data.join("rooms").join(format!("{customer}.db"));
                for suffix in ["-wal", "-shm"] {
                    let mut side = file.clone().into_os_string();
                    side.push(suffix);
                    let _ = std::fs::remove_file(side);
                }
                std::fs::write(&file, b"this customer store is unavailable".repeat(64)).map_err(
                    |source| SuiteError::Io {
                        context: format!("overwriting {}", file.display()),
                        source,
                    },
                )?;
                Ok(())
            }
            Self::Postgres { .. } => {
                let database = format!("{}_rooms_{customer}", self.prefix());
                self.admin_execute(&[
                    format!("ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false"),
                    format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{database}'"
                    ),
                ])
                .await
            }
        }
    }

    /// Drops every database of this suite (PostgreSQL); SQLite files go with the directory.
    pub async fn drop_all(&self) -> Result<(), SuiteError> {
        let Self::Postgres { server_url, .. } = self else {
            return Ok(());
        };
        let admin = connect_admin(server_url).await?;
        let rows = admin
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
                [format!("{}_", self.prefix()).into()],
            ))
            .await
            .map_err(store_error("listing the suite's databases"))?;
        for row in rows {
            let name: String = row
                .try_get("", "datname")
                .map_err(store_error("reading a database name"))?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .map_err(store_error("dropping a database"))?;
        }
        Ok(())
    }

    fn prefix(&self) -> &str {
        match self {
            Self::Sqlite => "",
            Self::Postgres { prefix, .. } => prefix,
        }
    }

    async fn admin_execute(&self, statements: &[String]) -> Result<(), SuiteError> {
        let Self::Postgres { server_url, .. } = self else {
            return Ok(());
        };
        let admin = connect_admin(server_url).await?;
        for statement in statements {
            admin
                .execute_unprepared(statement)
                .await
                .map_err(store_error("changing a customer database"))?;
        }
        Ok(())
    }
}

/// `postgres://user@host:port` without the database.
fn server_base(server_url: &str) -> &str {
    let without_query = server_url.split('?').next().unwrap_or_default();
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    }
}

async fn connect_admin(server_url: &str) -> Result<sea_orm::DatabaseConnection, SuiteError> {
    Database::connect(format!("{}/postgres", server_base(server_url)))
        .await
        .map_err(store_error("connecting to the PostgreSQL server"))
}

fn store_error(context: &'static str) -> impl Fn(sea_orm::DbErr) -> SuiteError {
    move |error| SuiteError::Io {
        context: context.to_owned(),
        source: std::io::Error::other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_stores_name_one_database_per_service_and_customer() {
        let stores = Stores::Postgres {
            server_url: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into(),
            prefix: "mtm_e2e_ab12".into(),
        };
        let data = Path::new("/unused");
        assert_eq!(
            stores.env(data, "rbac-svc"),
            vec![(
                "MTM_DATABASE_URL".to_owned(),
                "postgres://postgres@127.0.0.1:5432/mtm_e2e_ab12_rbac_svc".to_owned()
            )]
        );
        assert_eq!(
            stores.env(data, "rooms-svc"),
            vec![(
                "MTM_STORE_URL_TEMPLATE".to_owned(),
                "postgres://postgres@127.0.0.1:5432/mtm_e2e_ab12_rooms_{customer}".to_owned()
            )]
        );
    }

    #[test]
    fn sqlite_stores_live_under_the_data_directory() {
        let env = Stores::Sqlite.env(Path::new("/d"), "rooms-svc");
        assert_eq!(
            env,
            vec![(
                "MTM_STORE_URL_TEMPLATE".to_owned(),
                "sqlite:///d/rooms/{customer}.db".to_owned()
            )]
        );
    }
}
