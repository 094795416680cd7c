//! A pool of connections to one database, and the units of work that run on it: the one
//! place that knows which driver talks to which engine.
//!
//! Statements are sea-query statements rendered by the database's [`Dialect`]; rows come
//! back as the canonical JSON of the column types asked for (see [`crate::value`]).
//! Failures are [`DbError`]s whose kinds are the same on both engines.

use std::str::FromStr;
use std::time::Duration;

use sea_query::QueryStatementWriter;
use sea_query_binder::SqlxBinder;
use serde_json::Value as Json;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tessera_schema::ir::FieldType;

use crate::dialect::{Dialect, DialectKind};

mod decode;
mod error;

pub use error::{DbError, Violation};

/// The `tracing` target of the statements units of work run: each is logged at `debug`
/// after it ran, with its SQL, its bound values and the number of rows it read or changed
/// (`RUST_LOG=tessera_sql::statement=debug`).
pub const STATEMENT_LOG: &str = "tessera_sql::statement";

/// A statement that sea-query renders and sqlx runs.
pub trait Statement: QueryStatementWriter + SqlxBinder + Sync {}
impl<T: QueryStatementWriter + SqlxBinder + Sync> Statement for T {}

/// How many connections a pool keeps, and how long a request waits for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    pub max_connections: u32,
    /// How long a unit of work waits for a free connection before failing as unavailable.
    pub acquire_timeout: Duration,
}

impl PoolOptions {
    /// The defaults of an engine: SQLite has one writer at a time, so a few connections
    /// serve it best; PostgreSQL serves more in parallel.
    pub fn for_engine(kind: DialectKind) -> PoolOptions {
        PoolOptions {
            max_connections: match kind {
                DialectKind::Sqlite => 8,
                DialectKind::Postgres => 16,
            },
            // A database that is down or saturated fails requests in bounded time instead
            // of holding them until the request timeout.
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Connection pool figures, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A connection pool to one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool,
}

impl Database {
    /// Connects to `sqlite://PATH` (created when missing; WAL, foreign keys on, a busy
    /// timeout) or `postgres://…`, with the engine's default pool.
    pub async fn connect(url: &str) -> Result<Database, DbError> {
        let kind = DialectKind::from_url(url)?;
        Database::connect_with(url, PoolOptions::for_engine(kind)).await
    }

    pub async fn connect_with(url: &str, options: PoolOptions) -> Result<Database, DbError> {
        let invalid = |error: sqlx::Error| DbError::InvalidUrl(error.to_string());
        let pool = match DialectKind::from_url(url)? {
            DialectKind::Sqlite => {
                let connect = SqliteConnectOptions::from_str(url)
                    .map_err(invalid)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .after_release(|conn, _| {
                        Box::pin(async move {
                            // A transaction dropped without its end queues a rollback on
                            // the connection's worker; the ping waits for it to run.
                            sqlx::Connection::ping(conn).await?;
                            Ok(released_cleanly(conn))
                        })
                    })
                    .connect_with(connect)
                    .await
                    .map_err(DbError::from_connect)?;
                Pool::Sqlite(pool)
            }
            DialectKind::Postgres => {
                let connect = PgConnectOptions::from_str(url).map_err(invalid)?;
                let session = session_limits(connect.get_options());
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(move |conn, _| {
                        let session = session.clone();
                        Box::pin(async move {
                            if !session.is_empty() {
                                sqlx::Executor::execute(conn, session.as_str()).await?;
                            }
                            Ok(())
                        })
                    })
                    .after_release(|conn, _| Box::pin(async move { Ok(released_cleanly(conn)) }))
                    .connect_with(connect)
                    .await
                    .map_err(DbError::from_connect)?;
                Pool::Postgres(pool)
            }
        };
        Ok(Database { pool })
    }

    pub fn kind(&self) -> DialectKind {
        match self.pool {
            Pool::Sqlite(_) => DialectKind::Sqlite,
            Pool::Postgres(_) => DialectKind::Postgres,
        }
    }

    /// How this database spells types, values and expressions.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.kind().dialect()
    }

    /// Runs `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
        .map_err(DbError::from_connect)
    }

    pub fn stats(&self) -> PoolStats {
        let (size, idle) = match &self.pool {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        };
        PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// A read transaction: one snapshot for several statements.
    pub async fn read(&self) -> Result<Tx, DbError> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => Conn::Sqlite(p.begin().await.map_err(DbError::from_connect)?),
            Pool::Postgres(p) => Conn::Postgres(p.begin().await.map_err(DbError::from_connect)?),
        };
        Ok(Tx::new(conn, false))
    }

    /// A connection for a read of one statement, which is atomic on its own: no BEGIN
    /// and COMMIT round trips.
    pub async fn read_one(&self) -> Result<Tx, DbError> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => {
                Conn::SqliteSingle(p.acquire().await.map_err(DbError::from_connect)?)
            }
            Pool::Postgres(p) => {
                Conn::PostgresSingle(p.acquire().await.map_err(DbError::from_connect)?)
            }
        };
        Ok(Tx::new(conn, false))
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so concurrent writers wait for it instead of failing on upgrade, and its foreign
    /// keys are checked, and named, at commit.
    pub async fn write(&self) -> Result<Tx, DbError> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => {
                let mut tx = p
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(DbError::from_connect)?;
                // SQLite's immediate foreign-key error names neither the constraint nor
                // the columns; deferred to commit, the violation can be found and named.
                sqlx::query("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut *tx)
                    .await
                    .map_err(DbError::from)?;
                Conn::Sqlite(tx)
            }
            Pool::Postgres(p) => Conn::Postgres(p.begin().await.map_err(DbError::from_connect)?),
        };
        Ok(Tx::new(conn, true))
    }
}

/// PostgreSQL session limits set on each new connection, unless the URL's `options` set
/// them: a statement running past 25 s is cancelled (below the server's default request
/// timeout of 30 s, so that a request cut off by the timeout does not leave its statement
/// running long after), and a session idle inside a transaction for 60 s is ended with
/// its locks (a safety net: the engine always ends its transactions). Sent after
/// connecting rather than as startup options, which connection poolers refuse.
fn session_limits(url_options: Option<&str>) -> String {
    let url_options = url_options.unwrap_or_default();
    [
        ("statement_timeout", "25s"),
        ("idle_in_transaction_session_timeout", "60s"),
    ]
    .iter()
    .filter(|(name, _)| !url_options.contains(name))
    .map(|(name, value)| format!("SET {name} = '{value}';"))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Whether a connection coming back to the pool may serve the next unit of work: one
/// still inside a transaction is closed instead (what it holds, such as SQLite's write
/// lock, is released with it).
fn released_cleanly(conn: &impl sqlx::Connection) -> bool {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::error!("a connection came back inside a transaction; it is closed");
    }
    clean
}

enum Conn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    SqliteSingle(PoolConnection<sqlx::Sqlite>),
    PostgresSingle(PoolConnection<sqlx::Postgres>),
}

/// One unit of work: a transaction, or one pooled connection for a single statement.
/// Dropped without [`Tx::commit`], a transaction rolls back.
pub struct Tx {
    conn: Conn,
    write: bool,
}

impl Tx {
    fn new(conn: Conn, write: bool) -> Tx {
        Tx { conn, write }
    }

    pub fn kind(&self) -> DialectKind {
        match self.conn {
            Conn::Sqlite(_) | Conn::SqliteSingle(_) => DialectKind::Sqlite,
            Conn::Postgres(_) | Conn::PostgresSingle(_) => DialectKind::Postgres,
        }
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        self.kind().dialect()
    }

    /// The SQL text and bound values of a statement, as this database receives them.
    pub fn render<S: Statement>(&self, stmt: &S) -> (String, sea_query_binder::SqlxValues) {
        stmt.build_any_sqlx(self.dialect().query_builder())
    }

    /// Runs a query; decodes each row's columns as the given types.
    pub async fn fetch<S: Statement>(
        &mut self,
        stmt: &S,
        types: &[FieldType],
    ) -> Result<Vec<Vec<Json>>, DbError> {
        let (sql, values) = self.render(stmt);
        let logged = self.loggable(&values);
        // One arm per driver: the query's database type follows its connection.
        macro_rules! rows {
            ($conn:expr, $decode:path) => {
                $decode(
                    &sqlx::query_with(&sql, values)
                        .fetch_all(&mut **$conn)
                        .await?,
                    types,
                )
            };
        }
        let rows = match &mut self.conn {
            Conn::Sqlite(tx) => rows!(tx, decode::sqlite_rows),
            Conn::SqliteSingle(conn) => rows!(conn, decode::sqlite_rows),
            Conn::Postgres(tx) => rows!(tx, decode::postgres_rows),
            Conn::PostgresSingle(conn) => rows!(conn, decode::postgres_rows),
        }?;
        if let Some(values) = logged {
            tracing::debug!(target: STATEMENT_LOG, %sql, %values, rows = rows.len(), "query");
        }
        Ok(rows)
    }

    /// Runs a statement; answers the number of rows it affected.
    pub async fn execute<S: Statement>(&mut self, stmt: &S) -> Result<u64, DbError> {
        let (sql, values) = self.render(stmt);
        let logged = self.loggable(&values);
        macro_rules! affected {
            ($conn:expr) => {
                sqlx::query_with(&sql, values)
                    .execute(&mut **$conn)
                    .await?
                    .rows_affected()
            };
        }
        let affected = match &mut self.conn {
            Conn::Sqlite(tx) => affected!(tx),
            Conn::SqliteSingle(conn) => affected!(conn),
            Conn::Postgres(tx) => affected!(tx),
            Conn::PostgresSingle(conn) => affected!(conn),
        };
        if let Some(values) = logged {
            tracing::debug!(target: STATEMENT_LOG, %sql, %values, rows = affected, "execute");
        }
        Ok(affected)
    }

    /// The bound values as SQL literals of this dialect, when statements are being logged
    /// (formatting them costs; it is done only then).
    fn loggable(&self, values: &sea_query_binder::SqlxValues) -> Option<String> {
        if !tracing::enabled!(target: STATEMENT_LOG, tracing::Level::DEBUG) {
            return None;
        }
        let builder = self.dialect().query_builder();
        let literals: Vec<String> = values
            .0
             .0
            .iter()
            .map(|v| builder.value_to_string(v))
            .collect();
        Some(format!("[{}]", literals.join(", ")))
    }

    /// Commits. A SQLite write transaction first checks its deferred foreign keys: a
    /// violation rolls it back and is answered naming the table, columns and parent.
    pub async fn commit(self) -> Result<(), DbError> {
        match self.conn {
            Conn::Sqlite(mut tx) if self.write => {
                if let Some(violation) = decode::sqlite_foreign_key_violation(&mut tx).await? {
                    tx.rollback().await?;
                    return Err(DbError::ForeignKeyViolation(violation));
                }
                tx.commit().await?;
            }
            Conn::Sqlite(tx) => tx.commit().await?,
            Conn::Postgres(tx) => tx.commit().await?,
            Conn::SqliteSingle(_) | Conn::PostgresSingle(_) => {}
        }
        Ok(())
    }

    /// Rolls back now (rather than when the connection is next used), so that its locks
    /// are released before the caller's next statement.
    pub async fn rollback(self) -> Result<(), DbError> {
        match self.conn {
            Conn::Sqlite(tx) => tx.rollback().await?,
            Conn::Postgres(tx) => tx.rollback().await?,
            Conn::SqliteSingle(_) | Conn::PostgresSingle(_) => {}
        }
        Ok(())
    }
}
