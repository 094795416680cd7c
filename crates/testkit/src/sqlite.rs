//! Fresh SQLite databases in temporary directories.

use std::path::{Path, PathBuf};

use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;

use crate::error::Error;

/// A fresh SQLite database file in its own temporary directory, which is removed
/// (with the database and its `-wal`/`-shm` files) when this value is dropped.
///
/// The file does not exist until the first connection creates it (the URL carries
/// `mode=rwc`).
#[derive(Debug)]
pub struct SqliteDatabase {
    path: PathBuf,
    url: String,
    // Declared last so that it is removed after everything else is dropped.
    _dir: TempDir,
}

impl SqliteDatabase {
    /// Makes a new temporary directory and names a database file in it.
    pub fn new() -> Result<SqliteDatabase, Error> {
        let dir = tempfile::Builder::new()
            .prefix("tessera-sqlite-")
            .tempdir()
            .map_err(Error::SqliteTempDir)?;
        let path = dir.path().join("test.db");
        let url = format!("sqlite://{}?mode=rwc", encode_path(&path));
        Ok(SqliteDatabase {
            path,
            url,
            _dir: dir,
        })
    }

    /// The database's URL: `sqlite://PATH?mode=rwc`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A small pool (5 connections) on the current tokio runtime.
    pub async fn pool(&self) -> Result<SqlitePool, sqlx::Error> {
        SqlitePoolOptions::new()
            .max_connections(5)
            .connect(&self.url)
            .await
    }
}

/// sqlx percent-decodes the path of a `sqlite://` URL and ends it at `?`, so those
/// characters (and `#`) must be encoded.
fn encode_path(path: &Path) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    encoded
}

/// A fresh SQLite database; panics when no temporary directory can be made.
pub fn sqlite() -> SqliteDatabase {
    SqliteDatabase::new().expect("tessera-testkit: a fresh SQLite database")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_in_paths_are_encoded() {
        assert_eq!(encode_path(Path::new("/tmp/a?b#c%d")), "/tmp/a%3Fb%23c%25d");
    }

    #[test]
    fn urls_name_the_file_and_create_it() {
        let db = sqlite();
        assert_eq!(
            db.url(),
            format!("sqlite://{}?mode=rwc", db.path().display())
        );
    }
}
