//! A migrated PostgreSQL database that new customer stores are copied from, one per URL
//! template and schema version, on the server of the stores. Copying it costs one
//! `CREATE DATABASE` instead of creating every table of the schema in each new store, whose
//! files the checkpointer would otherwise sync one after the other.
//!
//! The database is built under a name of its own, migrated, closed to connections (a database
//! being copied must have none) and only then renamed to its final name, so a template that
//! exists is complete. Its name puts `_` where the customer id goes, which no customer id
//! contains, so it is never taken for a store.

use std::collections::BTreeSet;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::MigratorTrait;

use super::{PLACEHOLDER, StoreTarget};
use crate::store::migration::Migrator;

/// Templates known to exist, by URL; the lock also makes one task at a time build one.
static READY: tokio::sync::Mutex<BTreeSet<String>> = tokio::sync::Mutex::const_new(BTreeSet::new());

/// The template of a URL template's stores.
#[derive(Clone, Debug)]
pub(super) struct TemplateDatabase {
    url: String,
    name: String,
    build_url: String,
    build_name: String,
}

impl TemplateDatabase {
    /// The template for the stores `pattern` places; `None` when its name would not fit.
    pub(super) fn for_pattern(pattern: &str) -> Option<Self> {
        let url = pattern.replace(PLACEHOLDER, &format!("_template_{}", schema_tag()));
        let random = uuid::Uuid::new_v4().simple().to_string();
        let build_url = pattern.replace(PLACEHOLDER, &format!("_build_{}", &random[..8]));
        let name = database_name(&url)?;
        let build_name = database_name(&build_url)?;
        Some(Self {
            url,
            name,
            build_url,
            build_name,
        })
    }

    /// The template's database name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Makes sure the template exists, building it when missing; `false` when it cannot be
    /// used, and new stores are then migrated one by one.
    pub(super) async fn ensure(&self, admin: &DatabaseConnection, strategy: &str) -> bool {
        let mut ready = READY.lock().await;
        if ready.contains(&self.url) {
            return true;
        }
        match self.find_or_build(admin, strategy).await {
            Ok(()) => {
                ready.insert(self.url.clone());
                true
            }
            Err(error) => {
                tracing::warn!(%error, template = %self.name, "no template database for new customer stores");
                false
            }
        }
    }

    /// Forgets that the template exists, after copying it failed.
    pub(super) async fn forget(&self) {
        READY.lock().await.remove(&self.url);
    }

    async fn find_or_build(&self, admin: &DatabaseConnection, strategy: &str) -> Result<(), DbErr> {
        if database_exists(admin, &self.name).await? {
            return Ok(());
        }
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE \"{}\"{strategy}",
                self.build_name
            ))
            .await?;
        let built = self.migrate_and_publish(admin).await;
        if built.is_err() {
            let _ = drop_database(admin, &self.build_name).await;
        }
        built
    }

    async fn migrate_and_publish(&self, admin: &DatabaseConnection) -> Result<(), DbErr> {
        let mut options = ConnectOptions::new(self.build_url.clone());
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await?;
        let migrated = Migrator::up(&db, None).await;
        db.close().await?;
        migrated?;
        admin
            .execute_unprepared(&format!(
                "ALTER DATABASE \"{}\" WITH ALLOW_CONNECTIONS false",
                self.build_name
            ))
            .await?;
        let renamed = admin
            .execute_unprepared(&format!(
                "ALTER DATABASE \"{}\" RENAME TO \"{}\"",
                self.build_name, self.name
            ))
            .await;
        match renamed {
            Ok(_) => Ok(()),
            Err(error) if error.to_string().contains("already exists") => {
                drop_database(admin, &self.build_name).await
            }
            Err(error) => Err(error),
        }
    }
}

/// Whether a database called `name` exists on the server of `admin`.
pub(super) async fn database_exists(admin: &DatabaseConnection, name: &str) -> Result<bool, DbErr> {
    Ok(admin
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some())
}

async fn drop_database(admin: &DatabaseConnection, name: &str) -> Result<(), DbErr> {
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .map(|_| ())
}

/// The database name a URL names, when it is a plain one.
fn database_name(url: &str) -> Option<String> {
    let target = StoreTarget::new(url.to_owned()).ok()?;
    let (_, name) = target.postgres_database()?;
    super::plain_database_name(name).then(|| name.to_owned())
}

/// Eight hex digits that change with the list of migrations.
fn schema_tag() -> String {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let digest = ring::digest::digest(&ring::digest::SHA256, names.join("\n").as_bytes());
    hex::encode(&digest.as_ref()[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::CustomerId;

    #[test]
    fn template_names_are_never_customer_stores() {
        let template = TemplateDatabase::for_pattern("postgres://u@h:5432/mtm_rooms_{customer}")
            .expect("fits");
        for name in [&template.name, &template.build_name] {
            let id = name.strip_prefix("mtm_rooms_").expect("prefix");
            assert!(CustomerId::new(id).is_none(), "{name}");
        }
        assert!(template.name.starts_with("mtm_rooms__template_"));
        assert!(
            template
                .build_url
                .starts_with("postgres://u@h:5432/mtm_rooms__build_")
        );
        let long = format!("postgres://h/{}_{{customer}}", "x".repeat(50));
        assert!(TemplateDatabase::for_pattern(&long).is_none());
    }
}
