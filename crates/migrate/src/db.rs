//! One connection to the database being migrated, on either engine.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, PgConnection, Row, SqliteConnection};
use tessera_sql::quote::ident;
use tessera_sql::system::{self, HISTORY_TABLE};
use tessera_sql::{ddl, DialectKind};

use crate::MigrateError;

/// The key of the PostgreSQL advisory lock held while migrating (`tessera_m` in ASCII).
const PG_LOCK_KEY: i64 = 0x7465_7373_6572_615f;

/// A migration recorded in the history table.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub id: i64,
    pub name: String,
    pub checksum: String,
    pub schema: String,
}

pub(crate) enum Db {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, MigrateError> {
        match DialectKind::from_url(url)? {
            DialectKind::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(120))
                    // The table rebuild procedure needs foreign keys off; the runner checks
                    // them with `PRAGMA foreign_key_check` before committing.
                    .foreign_keys(false);
                Ok(Db::Sqlite(options.connect().await?))
            }
            DialectKind::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                Ok(Db::Postgres(options.connect().await?))
            }
        }
    }

    pub fn dialect(&self) -> DialectKind {
        match self {
            Db::Sqlite(_) => DialectKind::Sqlite,
            Db::Postgres(_) => DialectKind::Postgres,
        }
    }

    /// Runs SQL text (one or more statements, no parameters).
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite(c) => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop),
            Db::Postgres(c) => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop),
        }
    }

    async fn fetch_i64(&mut self, sql: &str, binds: &[&str]) -> Result<i64, sqlx::Error> {
        match self {
            Db::Sqlite(c) => {
                let mut q = sqlx::query_scalar::<_, i64>(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.fetch_one(&mut *c).await
            }
            Db::Postgres(c) => {
                let mut q = sqlx::query_scalar::<_, i64>(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.fetch_one(&mut *c).await
            }
        }
    }

    /// Starts the migration transaction and takes the migration lock: a second `migrate`
    /// waits here until the first one has committed or rolled back.
    pub async fn begin_locked(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite(_) => self.execute("BEGIN EXCLUSIVE").await,
            Db::Postgres(_) => {
                self.execute("BEGIN").await?;
                self.execute(&format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"))
                    .await
            }
        }
    }

    /// Starts a read-only look (for planning).
    pub async fn begin_read(&mut self) -> Result<(), sqlx::Error> {
        self.execute("BEGIN").await
    }

    pub async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.execute("COMMIT").await
    }

    pub async fn rollback(&mut self) -> Result<(), sqlx::Error> {
        self.execute("ROLLBACK").await
    }

    pub async fn close(self) {
        match self {
            Db::Sqlite(c) => c.close().await.ok(),
            Db::Postgres(c) => c.close().await.ok(),
        };
    }

    pub async fn table_exists(&mut self, table: &str) -> Result<bool, sqlx::Error> {
        let sql = match self {
            Db::Sqlite(_) => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
            Db::Postgres(_) => "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        };
        Ok(self.fetch_i64(sql, &[table]).await? > 0)
    }

    pub async fn column_exists(&mut self, table: &str, column: &str) -> Result<bool, sqlx::Error> {
        let sql = match self {
            Db::Sqlite(_) => "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?",
            Db::Postgres(_) => "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
        };
        Ok(self.fetch_i64(sql, &[table, column]).await? > 0)
    }

    pub async fn has_rows(&mut self, table: &str) -> Result<bool, sqlx::Error> {
        if !self.table_exists(table).await? {
            return Ok(false);
        }
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1) AS probe",
            ident(table)
        );
        Ok(self.fetch_i64(&sql, &[]).await? > 0)
    }

    pub async fn has_nulls(&mut self, table: &str, column: &str) -> Result<bool, sqlx::Error> {
        if !self.table_exists(table).await? || !self.column_exists(table, column).await? {
            return Ok(false);
        }
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} IS NULL LIMIT 1) AS probe",
            ident(table),
            ident(column)
        );
        Ok(self.fetch_i64(&sql, &[]).await? > 0)
    }

    /// Creates the history table when it is missing (it is declared with the other system
    /// tables, but no migration creates it: it says which migrations ran).
    pub async fn ensure_history(&mut self) -> Result<(), sqlx::Error> {
        let table = system::history_table(self.dialect());
        self.execute(&ddl::create_table(&table, true)).await
    }

    pub async fn history(&mut self) -> Result<Vec<HistoryEntry>, sqlx::Error> {
        if !self.table_exists(HISTORY_TABLE).await? {
            return Ok(Vec::new());
        }
        let t = ident(HISTORY_TABLE);
        // The same reading of the four columns on either driver's rows.
        macro_rules! entries {
            ($conn:expr, $sql:expr) => {
                sqlx::query(&$sql)
                    .fetch_all(&mut *$conn)
                    .await?
                    .into_iter()
                    .map(|r| {
                        Ok(HistoryEntry {
                            id: r.try_get(0)?,
                            name: r.try_get(1)?,
                            checksum: r.try_get(2)?,
                            schema: r.try_get(3)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            };
        }
        let rows = match self {
            Db::Sqlite(c) => entries!(
                c,
                format!("SELECT id, name, checksum, schema FROM {t} ORDER BY id")
            ),
            Db::Postgres(c) => entries!(
                c,
                format!("SELECT id::bigint, name, checksum, schema::text FROM {t} ORDER BY id")
            ),
        };
        Ok(rows)
    }

    pub async fn record(
        &mut self,
        id: i64,
        name: &str,
        checksum: &str,
        schema: &str,
    ) -> Result<(), sqlx::Error> {
        let t = ident(HISTORY_TABLE);
        match self {
            Db::Sqlite(c) => {
                sqlx::query(&format!(
                    "INSERT INTO {t} (id, name, checksum, schema) VALUES (?, ?, ?, ?)"
                ))
                .bind(id)
                .bind(name)
                .bind(checksum)
                .bind(schema)
                .execute(&mut *c)
                .await?;
            }
            Db::Postgres(c) => {
                sqlx::query(&format!(
                    "INSERT INTO {t} (id, name, checksum, schema) VALUES ($1, $2, $3, $4::jsonb)"
                ))
                .bind(id as i32)
                .bind(name)
                .bind(checksum)
                .bind(schema)
                .execute(&mut *c)
                .await?;
            }
        }
        Ok(())
    }

    /// Rows violating a foreign key, as `table (rowid) -> parent` (SQLite; PostgreSQL
    /// checks every constraint as it is added).
    pub async fn foreign_key_violations(&mut self) -> Result<Vec<String>, sqlx::Error> {
        match self {
            Db::Sqlite(c) => {
                let rows = sqlx::query("PRAGMA foreign_key_check")
                    .fetch_all(&mut *c)
                    .await?;
                rows.into_iter()
                    .map(|r| {
                        let table: String = r.try_get(0)?;
                        let rowid: Option<i64> = r.try_get(1)?;
                        let parent: String = r.try_get(2)?;
                        Ok(format!(
                            "{table} (rowid {}) -> {parent}",
                            rowid.unwrap_or_default()
                        ))
                    })
                    .collect()
            }
            Db::Postgres(_) => Ok(Vec::new()),
        }
    }
}
