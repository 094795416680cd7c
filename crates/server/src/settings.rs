//! Server settings stored with the database, in the system table `_tessera_settings`
//! (`name` text primary key, `value` text; declared in [`tessera_sql::system`] and created
//! by migrations). Storing them in the database (not beside the process) keeps every node
//! of a deployment on the same values.

use sea_query::{Alias, Expr, OnConflict, Query};
use tessera_schema::ir::{FieldType, ScalarType};
use tessera_sql::{Database, DbError};

use crate::keys::ServiceKey;

/// The settings table.
pub use tessera_sql::system::SETTINGS_TABLE;

const SERVICE_KEY_NAME: &str = "service_key";
const TOKEN_SECRET_NAME: &str = "token_secret";

/// Errors reading or writing settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The database has no settings table: it was never migrated.
    #[error("the database is not migrated (it has no {SETTINGS_TABLE} table): run `tessera migrate` on it first")]
    NotMigrated,
    #[error("cannot read or write the settings: {0}")]
    Database(DbError),
    #[error("cannot generate a key: {0}")]
    Random(String),
}

impl From<DbError> for SettingsError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::MissingTable { .. } => SettingsError::NotMigrated,
            other => SettingsError::Database(other),
        }
    }
}

/// The service key of the database: the stored one, or a fresh one that is stored now.
/// The flag is `true` when the key was created by this call (the only time it should be
/// shown).
pub async fn load_or_create_service_key(
    db: &Database,
) -> Result<(ServiceKey, bool), SettingsError> {
    let (key, created) = load_or_create_secret(db, SERVICE_KEY_NAME).await?;
    Ok((ServiceKey::new(key), created))
}

/// The secret that signs access tokens: the stored one, or a fresh one stored now.
pub async fn load_or_create_token_secret(db: &Database) -> Result<String, SettingsError> {
    Ok(load_or_create_secret(db, TOKEN_SECRET_NAME).await?.0)
}

/// The setting `name` holding a random secret, created when missing. Concurrent first
/// starts agree on one value: the insert does nothing when one exists, and the stored
/// value is read back. The flag is `true` when this call created it.
async fn load_or_create_secret(db: &Database, name: &str) -> Result<(String, bool), SettingsError> {
    let fresh = ServiceKey::generate().map_err(|e| SettingsError::Random(e.to_string()))?;
    let (table, name_col, value_col) = (
        Alias::new(SETTINGS_TABLE),
        Alias::new("name"),
        Alias::new("value"),
    );
    let mut insert = Query::insert();
    insert
        .into_table(table.clone())
        .columns([name_col.clone(), value_col.clone()])
        .values_panic([name.into(), fresh.expose().into()])
        .on_conflict(OnConflict::column(name_col.clone()).do_nothing().to_owned());
    let mut select = Query::select();
    select
        .column(value_col)
        .from(table)
        .and_where(Expr::col(name_col).eq(name));
    let text = FieldType {
        scalar: ScalarType::Text,
        array: false,
    };
    let mut tx = db.write().await?;
    let inserted = tx.execute(&insert).await?;
    let rows = tx.fetch(&select, &[text]).await?;
    tx.commit().await?;
    let stored = rows
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next())
        .and_then(|value| value.as_str().map(str::to_owned))
        .ok_or_else(|| {
            SettingsError::Database(DbError::Decode(format!(
                "the setting {name} reads back empty"
            )))
        })?;
    Ok((stored, inserted == 1))
}
