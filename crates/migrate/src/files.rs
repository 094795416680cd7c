//! The migrations folder: `migrations/NNNN_name/{postgres.sql, sqlite.sql, schema.json}`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tessera_schema::Schema;
use tessera_sql::DialectKind;

use crate::MigrateError;

/// One migration as written in the folder.
#[derive(Debug, Clone)]
pub struct MigrationFiles {
    pub id: u32,
    /// The folder name, `0003_add_users_nickname`.
    pub name: String,
    pub dir: PathBuf,
    pub postgres_sql: String,
    pub sqlite_sql: String,
    /// The schema after this migration.
    pub schema: Schema,
}

impl MigrationFiles {
    pub fn sql(&self, dialect: DialectKind) -> &str {
        match dialect {
            DialectKind::Postgres => &self.postgres_sql,
            DialectKind::Sqlite => &self.sqlite_sql,
        }
    }
}

/// The file holding a dialect's SQL.
pub fn sql_file_name(dialect: DialectKind) -> &'static str {
    match dialect {
        DialectKind::Postgres => "postgres.sql",
        DialectKind::Sqlite => "sqlite.sql",
    }
}

/// Hex SHA-256 of a migration's SQL, as recorded in the history table.
pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

fn io(path: &Path, source: std::io::Error) -> MigrateError {
    MigrateError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Every migration in `dir`, by number. A missing folder holds none.
pub fn read_migrations(dir: &Path) -> Result<Vec<MigrationFiles>, MigrateError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.split('_').next().and_then(|n| n.parse::<u32>().ok()) else {
            return Err(MigrateError::BadMigrationFolder {
                path,
                reason: "its name does not start with a number".to_owned(),
            });
        };
        let read = |file: &str| {
            let p = path.join(file);
            std::fs::read_to_string(&p).map_err(|e| io(&p, e))
        };
        let schema_text = read("schema.json")?;
        let schema: Schema =
            serde_json::from_str(&schema_text).map_err(|e| MigrateError::BadMigrationFolder {
                path: path.clone(),
                reason: format!("schema.json: {e}"),
            })?;
        out.push(MigrationFiles {
            id,
            name,
            postgres_sql: read(sql_file_name(DialectKind::Postgres))?,
            sqlite_sql: read(sql_file_name(DialectKind::Sqlite))?,
            dir: path,
            schema,
        });
    }
    out.sort_by_key(|m| m.id);
    for pair in out.windows(2) {
        if pair[0].id == pair[1].id {
            return Err(MigrateError::BadMigrationFolder {
                path: pair[1].dir.clone(),
                reason: format!("two migrations are numbered {}", pair[1].id),
            });
        }
    }
    Ok(out)
}

/// Writes a new migration folder; returns its path.
pub fn write_migration(
    dir: &Path,
    name: &str,
    postgres_sql: &str,
    sqlite_sql: &str,
    schema: &Schema,
) -> Result<PathBuf, MigrateError> {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).map_err(|e| io(&path, e))?;
    let schema_json = serde_json::to_string_pretty(schema).map_err(MigrateError::Snapshot)?;
    for (file, text) in [
        (sql_file_name(DialectKind::Postgres), postgres_sql),
        (sql_file_name(DialectKind::Sqlite), sqlite_sql),
        ("schema.json", schema_json.as_str()),
    ] {
        let p = path.join(file);
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
    }
    Ok(path)
}
