//! Every provisioned customer store, open or not: the files a SQLite template names in its
//! directory and the databases a PostgreSQL template names on its server, for each template
//! in use. A customer counts only under the template that places its store.

use std::collections::BTreeSet;
use std::path::{Component, PathBuf};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement};

use super::target::{PLACEHOLDER, StoreTarget, Templates};
use crate::error::Error;
use crate::names::CustomerId;

/// The customers with a store, in id order.
pub async fn provisioned(templates: &Templates) -> Result<Vec<CustomerId>, Error> {
    let mut found = BTreeSet::new();
    for template in templates.all().collect::<BTreeSet<_>>() {
        for customer in candidates(template).await? {
            let target = templates.target(&customer)?;
            if target.url() != template.replace(PLACEHOLDER, customer.as_str()) {
                continue;
            }
            if target.sqlite_path().is_some_and(|path| !path.is_file()) {
                continue;
            }
            found.insert(customer);
        }
    }
    Ok(found.into_iter().collect())
}

/// The ids `template` could have placed a store for, from what exists where it points.
async fn candidates(template: &str) -> Result<Vec<CustomerId>, Error> {
    let pattern = StoreTarget::new(template.to_owned())?;
    if let Some(path) = pattern.sqlite_path() {
        return sqlite_candidates(path);
    }
    let Some((admin_url, database)) = pattern.postgres_database() else {
        return Ok(Vec::new());
    };
    let Some((prefix, suffix)) = database.split_once(PLACEHOLDER) else {
        return Err(Error::precondition(
            "store",
            format!("store url template {template}: its stores cannot be listed"),
        ));
    };
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .map_err(|e| Error::Unavailable(format!("listing customer stores: {e}")))?;
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE NOT datistemplate",
        ))
        .await;
    admin.close().await?;
    let mut out = Vec::new();
    for row in rows? {
        let name: String = row.try_get_by_index(0)?;
        if let Some(customer) = matching(&name, prefix, suffix) {
            out.push(customer);
        }
    }
    Ok(out)
}

/// The ids of the entries in the directory of the first path component naming the customer.
fn sqlite_candidates(path: &std::path::Path) -> Result<Vec<CustomerId>, Error> {
    let mut dir = PathBuf::new();
    let mut pattern = None;
    for component in path.components() {
        let text = component.as_os_str().to_string_lossy();
        if let Some((prefix, suffix)) = text.split_once(PLACEHOLDER) {
            pattern = Some((prefix.to_owned(), suffix.to_owned()));
            break;
        }
        dir.push(component);
    }
    let Some((prefix, suffix)) = pattern else {
        return Ok(Vec::new());
    };
    if dir.components().all(|c| matches!(c, Component::CurDir)) {
        dir = PathBuf::from(".");
    }
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                context: format!("listing {}", dir.display()),
                source,
            });
        }
    };
    Ok(entries
        .flatten()
        .filter_map(|entry| matching(&entry.file_name().to_string_lossy(), &prefix, &suffix))
        .collect())
}

/// The customer whose id fills the placeholder between `prefix` and `suffix` in `name`.
fn matching(name: &str, prefix: &str, suffix: &str) -> Option<CustomerId> {
    let id = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    CustomerId::new(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_stores_are_listed_by_their_template() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stores = dir.path().join("stores");
        std::fs::create_dir_all(&stores).expect("mkdir");
        for file in [
            "contoso.db",
            "fabrikam.db",
            "contoso.db-wal",
            "Bad Name.db",
            "notes.txt",
        ] {
            std::fs::write(stores.join(file), b"").expect("write");
        }
        std::fs::create_dir(stores.join("folder.db")).expect("mkdir");
        let map = dir.path().join("stores.map");
        std::fs::write(
            &map,
            format!(
                "fabrikam sqlite://{}/other/{{customer}}.db\n",
                dir.path().display()
            ),
        )
        .expect("write");
        let templates = Templates::new(
            &format!("sqlite://{}/{{customer}}.db", stores.display()),
            Some(&map),
        )
        .expect("templates");
        let names = |found: Vec<CustomerId>| -> Vec<String> {
            found.iter().map(|c| c.as_str().to_owned()).collect()
        };
        assert_eq!(
            names(provisioned(&templates).await.expect("list")),
            ["contoso"],
            "fabrikam's store is placed elsewhere by the map"
        );
        std::fs::create_dir_all(dir.path().join("other")).expect("mkdir");
        std::fs::write(dir.path().join("other/fabrikam.db"), b"").expect("write");
        assert_eq!(
            names(provisioned(&templates).await.expect("list")),
            ["contoso", "fabrikam"]
        );
    }
}
