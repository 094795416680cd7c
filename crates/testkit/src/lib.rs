//! Fresh, real databases for integration tests.
//!
//! Every test gets a database of its own, on a real engine:
//!
//! * [`SqliteDatabase`]: a new SQLite file in a temporary directory, removed on drop.
//! * [`PgDatabase`]: a new database `tessera_test_<uuid>` on the process-wide
//!   [`PgServer`], dropped (`WITH (FORCE)`) on drop. The server is the one named by
//!   `TESSERA_TEST_DATABASE_URL`, or else a throwaway cluster that this crate starts
//!   from the installed PostgreSQL binaries and deletes after the test process exits,
//!   so `cargo test` needs no setup on a machine with PostgreSQL installed.
//! * [`Database`]: either of them, for tests written once and run on both engines.
//!
//! Everything hands out URLs (and pools made on the caller's runtime), so it works
//! with any number of `#[tokio::test]`s, each on its own runtime, in parallel.
//!
//! # A test on both engines
//!
//! [`engine_tests!`] turns each `async fn` into a module with two tests, `sqlite` and
//! `postgres` (so `cargo test stores_rows` runs both, `cargo test postgres` all the
//! PostgreSQL ones). The function gets a fresh [`Database`] and may return `()` or a
//! `Result<(), E: Debug>`, to use `?`:
//!
//! ```no_run
//! use tessera_testkit::{engine_tests, Database};
//!
//! engine_tests! {
//!     /// Rows written can be read back.
//!     async fn stores_rows(db: Database) -> Result<(), sqlx::Error> {
//!         // Usually: hand `db.url()` to the code under test, e.g. a server started on it.
//!         // To look at the database directly, `db.pool()` runs the same SQL on both:
//!         let pool = db.pool().await?;
//!         pool.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").await?;
//!         pool.execute("INSERT INTO t VALUES (1, 'one')").await?;
//!         assert_eq!(pool.fetch_i64("SELECT count(*) FROM t").await?, 1);
//!         // … or match on `db` / `pool` for engine-specific code.
//!         if let Some(pg) = db.as_postgres() {
//!             assert!(pg.name().starts_with("tessera_test_"));
//!         }
//!         Ok(())
//!     }
//!
//!     /// Doc comments and attributes on a test are kept.
//!     async fn many_rows(db: Database) {
//!         let _url = db.url();
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! Inside one `#[tokio::test]`, [`for_each_engine`] does the same in a loop:
//!
//! ```no_run
//! # async fn example() {
//! tessera_testkit::for_each_engine(|db| async move {
//!     assert!(!db.url().is_empty());
//! })
//! .await;
//! # }
//! ```
//!
//! # One engine
//!
//! ```no_run
//! # async fn example() {
//! // PostgreSQL only: returns None (after a loud notice on stderr) when PostgreSQL is
//! // not available here, and panics instead when CI=true.
//! let Some(db) = tessera_testkit::postgres().await else { return };
//! let pool = db.pool().await.expect("connect");
//!
//! // SQLite only.
//! let db = tessera_testkit::sqlite();
//! let pool = db.pool().await.expect("connect");
//! # }
//! ```
//!
//! # Faults
//!
//! * [`PrivateCluster`] ([`private_cluster`]): a PostgreSQL cluster of one test's own,
//!   which it may stop, crash and start again without touching the shared server.
//! * [`SmallDisk`] ([`small_disk`]): a tmpfs of a few megabytes to fill up or make
//!   read-only (needs root).
//!
//! # Environment
//!
//! * `TESSERA_TEST_DATABASE_URL`: use this PostgreSQL server (its user must be able
//!   to create databases) instead of starting one.
//! * `TESSERA_TEST_PG_BINDIR`: the directory holding `initdb` and `pg_ctl`; by default
//!   they are looked up on `PATH`, then under `/usr/lib/postgresql/*/bin` (highest
//!   version first).
//! * `CI=true`: a missing PostgreSQL fails the tests instead of skipping them.

mod cluster;
mod disk;
mod error;
mod postgres;
mod private;
mod sqlite;

use std::fmt;
use std::future::Future;

pub use cluster::PG_BINDIR_ENV;
pub use disk::{small_disk, DiskError, SmallDisk};
pub use error::{Error, ServerError};
pub use postgres::{postgres, PgDatabase, PgServer, DATABASE_NAME_PREFIX, DATABASE_URL_ENV};
pub use private::{private_cluster, under_ci, PrivateCluster};
pub use sqlite::{sqlite, SqliteDatabase};

/// Whether the PostgreSQL server at `admin_url` has a database called `name`.
pub async fn database_exists(admin_url: &str, name: &str) -> bool {
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the server");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("look up the database");
    count == 1
}

/// A database engine that tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// SQLite, in a temporary file.
    Sqlite,
    /// PostgreSQL, on the process-wide [`PgServer`].
    Postgres,
}

impl Engine {
    /// Every engine, in the order [`for_each_engine`] runs them.
    pub const ALL: [Engine; 2] = [Engine::Sqlite, Engine::Postgres];

    /// The engine's name: `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    /// How this engine's URLs start: `sqlite:` or `postgres:`.
    pub fn url_scheme(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite:",
            Engine::Postgres => "postgres:",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fresh database on one of the engines.
#[derive(Debug)]
pub enum Database {
    /// A SQLite database file.
    Sqlite(SqliteDatabase),
    /// A PostgreSQL database.
    Postgres(PgDatabase),
}

impl Database {
    /// Creates a fresh database on `engine`.
    pub async fn create(engine: Engine) -> Result<Database, Error> {
        match engine {
            Engine::Sqlite => SqliteDatabase::new().map(Database::Sqlite),
            Engine::Postgres => PgDatabase::create().await.map(Database::Postgres),
        }
    }

    /// Creates a fresh database on `engine`, or returns `None` when the engine is
    /// PostgreSQL and it is not available here (see [`postgres`] for the notice and the
    /// CI rule). Panics on any other failure.
    pub async fn create_or_skip(engine: Engine) -> Option<Database> {
        match engine {
            Engine::Sqlite => Some(Database::Sqlite(sqlite())),
            Engine::Postgres => postgres().await.map(Database::Postgres),
        }
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        match self {
            Database::Sqlite(_) => Engine::Sqlite,
            Database::Postgres(_) => Engine::Postgres,
        }
    }

    /// The URL to connect to: `sqlite://PATH?mode=rwc` or
    /// `postgres://USER@HOST:PORT/tessera_test_…`.
    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite(db) => db.url(),
            Database::Postgres(db) => db.url(),
        }
    }

    /// A small pool on the current runtime, for tests that want to look at the
    /// database directly.
    pub async fn pool(&self) -> Result<Pool, sqlx::Error> {
        match self {
            Database::Sqlite(db) => db.pool().await.map(Pool::Sqlite),
            Database::Postgres(db) => db.pool().await.map(Pool::Postgres),
        }
    }

    /// The SQLite database, if this is one.
    pub fn as_sqlite(&self) -> Option<&SqliteDatabase> {
        match self {
            Database::Sqlite(db) => Some(db),
            Database::Postgres(_) => None,
        }
    }

    /// The PostgreSQL database, if this is one.
    pub fn as_postgres(&self) -> Option<&PgDatabase> {
        match self {
            Database::Postgres(db) => Some(db),
            Database::Sqlite(_) => None,
        }
    }
}

/// A pool on either engine, from [`Database::pool`].
///
/// Statements that read the same on both engines can be run with [`Pool::execute`];
/// otherwise match on the variants.
#[derive(Debug, Clone)]
pub enum Pool {
    /// A SQLite pool.
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL pool.
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// Runs one statement without parameters (DDL, fixtures) and returns the number of
    /// rows it affected.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            Pool::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
            Pool::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
        }
    }

    /// Runs a query and returns the first column of its first row, an integer of any
    /// width (such as `SELECT count(*) …`).
    pub async fn fetch_i64(&self, sql: &str) -> Result<i64, sqlx::Error> {
        use sqlx::Row as _;
        match self {
            Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Pool::Postgres(pool) => {
                let row = sqlx::query(sql).fetch_one(pool).await?;
                row.try_get::<i64, _>(0)
                    .or_else(|_| row.try_get::<i32, _>(0).map(i64::from))
                    .or_else(|_| row.try_get::<i16, _>(0).map(i64::from))
            }
        }
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// What a test function may return: `()`, or `Result<(), E>` with a debuggable error
/// (as for `#[test]` functions).
pub trait TestOutcome {
    /// `Err` with a description when the test failed.
    fn into_result(self) -> Result<(), String>;
}

impl TestOutcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Debug> TestOutcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|error| format!("{error:?}"))
    }
}

/// Runs `test` on a fresh database of `engine`, on a new current-thread tokio runtime
/// (as `#[tokio::test]` does); panics when the test returns an error. A PostgreSQL test
/// is skipped (or fails under CI) as [`postgres`] describes.
///
/// This is what each test generated by [`engine_tests!`] calls; use it directly for a
/// plain `#[test]` on one engine.
pub fn run_on<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future,
    Fut::Output: TestOutcome,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tessera-testkit: a tokio runtime for the test");
    runtime.block_on(async move {
        let Some(db) = Database::create_or_skip(engine).await else {
            return;
        };
        if let Err(error) = test(db).await.into_result() {
            panic!("test failed on {engine}: {error}");
        }
    });
}

/// Runs `test` once per engine, each time on a fresh database, inside the caller's
/// runtime. PostgreSQL is skipped (or fails under CI) as [`postgres`] describes.
///
/// The engine is written to the test's captured output before each run, so a failure
/// shows which engine it happened on.
pub async fn for_each_engine<F, Fut>(mut test: F)
where
    F: FnMut(Database) -> Fut,
    Fut: Future,
    Fut::Output: TestOutcome,
{
    for engine in Engine::ALL {
        let Some(db) = Database::create_or_skip(engine).await else {
            continue;
        };
        // Captured by the test harness and shown only when the test fails.
        println!("tessera-testkit: running on {engine} ({})", db.url());
        if let Err(error) = test(db).await.into_result() {
            panic!("test failed on {engine}: {error}");
        }
    }
}

/// Turns each `async fn NAME(db: Database)` into a module `NAME` with two tests,
/// `sqlite` and `postgres`, each running the function on a fresh database of that
/// engine (see [`run_on`]). Attributes and doc comments on a function (`#[should_panic]`,
/// `#[cfg(...)]`, …) apply to both tests. The function may return `()` or
/// `Result<(), E: Debug>`. Items of the enclosing module are in scope.
///
/// Where PostgreSQL is not available (and `CI` is not set) the `postgres` test passes
/// without running, after a loud notice on stderr; a `#[should_panic]` test then fails
/// there, since nothing panicked.
///
/// ```no_run
/// tessera_testkit::engine_tests! {
///     async fn connects(db: tessera_testkit::Database) -> Result<(), sqlx::Error> {
///         let pool = db.pool().await?;
///         assert_eq!(pool.fetch_i64("SELECT 1").await?, 1);
///         Ok(())
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! engine_tests {
    ($(
        $(#[$attr:meta])*
        async fn $name:ident ($db:ident : $db_type:ty) $(-> $ret:ty)? $body:block
    )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn test_body($db: $db_type) $(-> $ret)? $body

            #[test]
            $(#[$attr])*
            fn sqlite() {
                $crate::run_on($crate::Engine::Sqlite, test_body);
            }

            #[test]
            $(#[$attr])*
            fn postgres() {
                $crate::run_on($crate::Engine::Postgres, test_body);
            }
        }
    )*};
}
