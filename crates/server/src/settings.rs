//! Server settings stored with the database, in the table `_tessera_settings`
//! (`name` text primary key, `value` text). Storing them in the database (not beside the
//! process) keeps every node of a deployment on the same values.

use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::keys::ServiceKey;

/// The settings table.
pub const SETTINGS_TABLE: &str = "_tessera_settings";

const SERVICE_KEY_NAME: &str = "service_key";
const TOKEN_SECRET_NAME: &str = "token_secret";

/// Errors reading or writing settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot open the database for settings: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot generate a key: {0}")]
    Random(String),
    #[error("unsupported database URL (expected sqlite: or postgres:)")]
    UnsupportedUrl,
}

/// The service key of the database at `database_url`: the stored one, or a fresh one that
/// is stored now. The flag is `true` when the key was created by this call (the only time
/// it should be shown).
pub async fn load_or_create_service_key(
    database_url: &str,
) -> Result<(ServiceKey, bool), SettingsError> {
    let (key, created) = load_or_create_secret(database_url, SERVICE_KEY_NAME).await?;
    Ok((ServiceKey::new(key), created))
}

/// The secret that signs access tokens: the stored one, or a fresh one stored now.
pub async fn load_or_create_token_secret(database_url: &str) -> Result<String, SettingsError> {
    Ok(load_or_create_secret(database_url, TOKEN_SECRET_NAME)
        .await?
        .0)
}

/// The setting `name` holding a random secret, created when missing. Concurrent first
/// starts agree on one value: the insert does nothing when one exists, and the stored
/// value is read back. The flag is `true` when this call created it.
async fn load_or_create_secret(
    database_url: &str,
    name: &str,
) -> Result<(String, bool), SettingsError> {
    let fresh = ServiceKey::generate().map_err(|e| SettingsError::Random(e.to_string()))?;
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {SETTINGS_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    );
    let insert = format!(
        "INSERT INTO {SETTINGS_TABLE} (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
    );
    let select = format!("SELECT value FROM {SETTINGS_TABLE} WHERE name = $1");
    // The same statements on either driver's connection type.
    macro_rules! create_insert_select {
        ($connection:ty) => {{
            let mut conn = <$connection>::connect(database_url).await?;
            sqlx::query(&create).execute(&mut conn).await?;
            let done = sqlx::query(&insert)
                .bind(name)
                .bind(fresh.expose())
                .execute(&mut conn)
                .await?;
            let value = sqlx::query_scalar(&select)
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            (value, done.rows_affected())
        }};
    }
    let (stored, inserted): (String, u64) = if database_url.starts_with("sqlite:") {
        create_insert_select!(SqliteConnection)
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        create_insert_select!(PgConnection)
    } else {
        return Err(SettingsError::UnsupportedUrl);
    };
    Ok((stored, inserted == 1))
}
