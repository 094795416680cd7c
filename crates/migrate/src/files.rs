//! The migrations folder: `migrations/NNNN_name/{postgres.sql, sqlite.sql, schema.json}`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tessera_sql::DialectKind;

use crate::{MigrateError, Snapshot};

/// One migration as written in the folder.
#[derive(Debug, Clone)]
pub struct MigrationFiles {
    pub id: u32,
    /// The folder name, `0003_add_users_nickname`.
    pub name: String,
    pub dir: PathBuf,
    pub postgres_sql: String,
    pub sqlite_sql: String,
    /// What the database holds after this migration (`schema.json`).
    pub snapshot: Snapshot,
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

/// Every migration in `dir`, by number. A missing folder holds none; hidden folders (such
/// as the partial folder of a write that was interrupted, see [`write_migration`]) are
/// not migrations.
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
        if name.starts_with('.') {
            continue;
        }
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
        let snapshot =
            Snapshot::from_json(&schema_text).map_err(|e| MigrateError::BadMigrationFolder {
                path: path.clone(),
                reason: format!("schema.json: {e}"),
            })?;
        out.push(MigrationFiles {
            id,
            name,
            postgres_sql: read(sql_file_name(DialectKind::Postgres))?,
            sqlite_sql: read(sql_file_name(DialectKind::Sqlite))?,
            dir: path,
            snapshot,
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
///
/// The files are written into a hidden folder beside it (`.NNNN_name.partial`), flushed
/// to disk, and that folder is then renamed into place: a process killed while writing
/// leaves no half-written migration (which would stop every later run), only a hidden
/// folder that [`read_migrations`] skips and the next write of the same migration
/// replaces.
pub fn write_migration(
    dir: &Path,
    name: &str,
    postgres_sql: &str,
    sqlite_sql: &str,
    snapshot: &Snapshot,
) -> Result<PathBuf, MigrateError> {
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    match std::fs::remove_dir_all(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&partial, e)),
        _ => {}
    }
    std::fs::create_dir_all(&partial).map_err(|e| io(&partial, e))?;
    let schema_json = snapshot.to_json_pretty().map_err(MigrateError::Snapshot)?;
    for (file, text) in [
        (sql_file_name(DialectKind::Postgres), postgres_sql),
        (sql_file_name(DialectKind::Sqlite), sqlite_sql),
        ("schema.json", schema_json.as_str()),
    ] {
        let p = partial.join(file);
        write_durably(&p, text).map_err(|e| io(&p, e))?;
    }
    std::fs::rename(&partial, &path).map_err(|e| io(&path, e))?;
    sync_dir(dir);
    Ok(path)
}

/// Writes `text` to a new file and flushes it to the disk.
fn write_durably(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Flushes a folder's entries (the rename) to the disk, where the platform allows it.
fn sync_dir(dir: &Path) {
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Snapshot {
        match tessera_schema::check_source("schema.tsr", "model notes {\n  title text\n}\n") {
            Ok(checked) => Snapshot::current(checked.schema),
            Err(diagnostics) => panic!("{}", diagnostics.render(false)),
        }
    }

    #[test]
    fn a_written_migration_reads_back_and_leaves_no_partial_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write_migration(dir.path(), "0001_init", "-- pg", "-- lite", &schema())
            .expect("written");
        assert_eq!(path, dir.path().join("0001_init"));
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("listed")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["0001_init"]);
        let read = read_migrations(dir.path()).expect("read");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].postgres_sql, "-- pg");
        assert_eq!(read[0].sqlite_sql, "-- lite");
        assert_eq!(read[0].snapshot, schema());
    }

    #[test]
    fn the_partial_folder_of_an_interrupted_write_is_skipped_then_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        // What a process killed after the first file leaves behind.
        let partial = dir.path().join(".0001_init.partial");
        std::fs::create_dir_all(&partial).expect("partial folder");
        std::fs::write(partial.join("postgres.sql"), "-- half").expect("half a file");
        assert!(read_migrations(dir.path()).expect("read").is_empty());

        write_migration(dir.path(), "0001_init", "-- pg", "-- lite", &schema()).expect("written");
        assert!(!partial.exists());
        assert_eq!(
            read_migrations(dir.path()).expect("read")[0].postgres_sql,
            "-- pg"
        );
    }
}
