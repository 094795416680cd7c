//! The process-wide PostgreSQL server and the fresh databases made on it.

use std::io::Write as _;
use std::path::Path;
use std::sync::{Once, OnceLock};
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection as _, Executor as _};
use url::Url;

use crate::cluster::{self, Cluster};
use crate::error::{Error, ServerError, UNAVAILABLE_MESSAGE};

/// The environment variable naming an existing server to use instead of a throwaway
/// cluster, e.g. `postgres://postgres@127.0.0.1:5432/postgres`. Its user must be
/// allowed to create and drop databases.
pub const DATABASE_URL_ENV: &str = "TESSERA_TEST_DATABASE_URL";

/// Prefix of the databases handed out; the rest of the name is a random UUID.
pub const DATABASE_NAME_PREFIX: &str = "tessera_test_";

/// How long dropping a database may take before it is given up.
const DROP_TIMEOUT: Duration = Duration::from_secs(30);

static SERVER: OnceLock<Result<PgServer, ServerError>> = OnceLock::new();

/// The PostgreSQL server that the tests of this process use.
///
/// There is one per process (each test binary is a process), set up on first use:
///
/// * when `TESSERA_TEST_DATABASE_URL` is set, the server it names;
/// * otherwise a throwaway cluster started from the installed binaries (`initdb` and
///   `pg_ctl` on `PATH`, or the highest version under `/usr/lib/postgresql/*/bin`), on a
///   free port of 127.0.0.1 in a temporary directory. It is stopped and deleted
///   after the process exits. When the tests run as root, the cluster runs as the
///   `postgres` OS user.
///
/// The server hands out URLs, never pools: every `#[tokio::test]` has its own runtime
/// and a pool must not outlive the runtime it was made on.
#[derive(Debug)]
pub struct PgServer {
    admin_url: Url,
    cluster: Option<Cluster>,
}

impl PgServer {
    /// The server of this process, started on first call.
    ///
    /// This blocks while a throwaway cluster starts (a few seconds, once per process);
    /// in async code prefer [`PgDatabase::create`], which does that off the runtime.
    /// A failure is remembered: later calls return the same error at once.
    pub fn global() -> Result<&'static PgServer, ServerError> {
        match SERVER.get_or_init(PgServer::from_environment) {
            Ok(server) => Ok(server),
            Err(error) => Err(error.clone()),
        }
    }

    fn from_environment() -> Result<PgServer, ServerError> {
        match std::env::var(DATABASE_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => PgServer::from_url(url.trim()),
            _ => {
                let cluster = cluster::start()?;
                let admin_url = format!(
                    "postgres://{}@127.0.0.1:{}/postgres",
                    cluster::SUPERUSER,
                    cluster.port()
                );
                let admin_url = Url::parse(&admin_url).map_err(|e| ServerError::ClusterStart {
                    step: "building the server URL",
                    detail: e.to_string(),
                })?;
                Ok(PgServer {
                    admin_url,
                    cluster: Some(cluster),
                })
            }
        }
    }

    fn from_url(url: &str) -> Result<PgServer, ServerError> {
        let admin_url = Url::parse(url).map_err(|e| ServerError::InvalidUrl {
            reason: e.to_string(),
        })?;
        if !matches!(admin_url.scheme(), "postgres" | "postgresql") {
            return Err(ServerError::InvalidUrl {
                reason: format!(
                    "the scheme is `{}`, expected `postgres` or `postgresql`",
                    admin_url.scheme()
                ),
            });
        }
        if !admin_url.has_host() {
            return Err(ServerError::InvalidUrl {
                reason: "it names no host".to_owned(),
            });
        }
        Ok(PgServer {
            admin_url,
            cluster: None,
        })
    }

    /// The URL of the server's maintenance database (the one databases are created
    /// from). Tests should use a [`PgDatabase`] instead.
    pub fn admin_url(&self) -> &str {
        self.admin_url.as_str()
    }

    /// The URL of database `name` on this server (same user, host, port and options).
    pub fn database_url(&self, name: &str) -> String {
        let mut url = self.admin_url.clone();
        url.set_path(&format!("/{name}"));
        url.into()
    }

    /// True for a throwaway cluster started by this process, false for the server
    /// named by `TESSERA_TEST_DATABASE_URL`.
    pub fn is_throwaway(&self) -> bool {
        self.cluster.is_some()
    }

    /// The data directory of a throwaway cluster; `None` for an external server.
    /// Everything of the cluster lives in this directory's parent, which is deleted
    /// after the process exits.
    pub fn data_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(Cluster::data_dir)
    }

    /// The temporary directory holding the whole throwaway cluster (data, socket,
    /// log); `None` for an external server.
    pub fn cluster_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(Cluster::root)
    }

    /// Creates a new, empty, uniquely named database on this server.
    pub async fn create_database(&self) -> Result<PgDatabase, Error> {
        PgDatabase::create_on(&self.admin_url).await
    }
}

/// A fresh PostgreSQL database, dropped (best effort, `WITH (FORCE)`) when this value
/// is dropped.
///
/// Databases are named `tessera_test_<uuid>`, so tests running in parallel, in one
/// process or several, never share one.
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PgDatabase {
    /// Creates a fresh database on the process-wide [`PgServer`], starting the server
    /// first if this is the first use in the process.
    ///
    /// Fails with [`Error::Server`]`(`[`ServerError::Unavailable`]`)` when no PostgreSQL
    /// can be had here; see [`postgres`] for the helper that skips the test then.
    pub async fn create() -> Result<PgDatabase, Error> {
        let server = match tokio::task::spawn_blocking(PgServer::global).await {
            Ok(server) => server?,
            Err(join_error) => {
                return Err(ServerError::ClusterStart {
                    step: "starting the server in the background",
                    detail: join_error.to_string(),
                }
                .into())
            }
        };
        server.create_database().await
    }

    /// Creates a new, empty, uniquely named database on the server of `admin_url`.
    pub(crate) async fn create_on(admin_url: &Url) -> Result<PgDatabase, Error> {
        let name = format!("{DATABASE_NAME_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut url = admin_url.clone();
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let admin_url = admin_url.to_string();
        let create_error = |source| Error::Postgres {
            action: "create",
            database: name.clone(),
            source,
        };
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .map_err(create_error)?;
        // template0 cannot be connected to, so no other session can make the copy fail
        // with "source database is being accessed by other users", and nothing added to
        // template1 on a shared server leaks into the tests.
        let created = admin
            .execute(
                format!(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'",
                    quote_ident(&name)
                )
                .as_str(),
            )
            .await;
        let _ = admin.close().await;
        created.map_err(create_error)?;
        Ok(PgDatabase {
            name,
            url,
            admin_url,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL, e.g. `postgres://postgres@127.0.0.1:5432/tessera_test_…`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A small pool (5 connections) on the current tokio runtime.
    pub async fn pool(&self) -> Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(5)
            .connect(&self.url)
            .await
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop cannot be async and may run inside a runtime, which cannot block on
        // another future: drop the database from a thread with its own small runtime
        // and wait for it, so that it is gone when the test ends.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let outcome = std::thread::Builder::new()
            .name("tessera-testkit-drop-database".to_owned())
            .spawn(move || drop_database(&admin_url, &name))
            .map_err(|e| e.to_string())
            .and_then(|thread| {
                thread
                    .join()
                    .map_err(|_| "the thread dropping it panicked".to_owned())
            })
            .and_then(|dropped| dropped);
        if let Err(reason) = outcome {
            let _ = writeln!(
                std::io::stderr(),
                "warning: could not drop test database {}: {reason}",
                self.name
            );
        }
    }
}

fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let dropping = async {
            let mut admin = PgConnection::connect(admin_url).await?;
            let quoted = quote_ident(name);
            let forced = admin
                .execute(format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)").as_str())
                .await;
            let result = match forced {
                // Before PostgreSQL 13 there is no FORCE: end the sessions, then drop.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42601") => {
                    sqlx::query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND pid <> pg_backend_pid()",
                    )
                    .bind(name)
                    .execute(&mut admin)
                    .await?;
                    admin
                        .execute(format!("DROP DATABASE IF EXISTS {quoted}").as_str())
                        .await
                        .map(drop)
                }
                other => other.map(drop),
            };
            let _ = admin.close().await;
            result
        };
        match tokio::time::timeout(DROP_TIMEOUT, dropping).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(format!("timed out after {DROP_TIMEOUT:?}")),
        }
    })
}

/// Quotes an SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A fresh PostgreSQL database, or `None` when PostgreSQL is not available here.
///
/// Use it at the top of a PostgreSQL-only test:
///
/// ```no_run
/// # async fn example() {
/// let Some(db) = tessera_testkit::postgres().await else { return };
/// let pool = db.pool().await.expect("connect");
/// # }
/// ```
///
/// When there is neither `TESSERA_TEST_DATABASE_URL` nor `initdb`/`pg_ctl`, this writes a
/// loud notice to stderr (past the test harness's output capture) and returns `None`,
/// so the test passes without running. When `CI` is set (`CI=true`), it panics instead:
/// on CI the tests must fail rather than skip. Any other failure (a configured server
/// that is down, a cluster that does not start) panics with the error.
pub async fn postgres() -> Option<PgDatabase> {
    match PgDatabase::create().await {
        Ok(db) => Some(db),
        Err(error) if error.is_postgres_unavailable() => {
            skip_postgres();
            None
        }
        Err(error) => panic!("could not create a PostgreSQL test database: {error}"),
    }
}

/// Reports a PostgreSQL test as skipped, or panics under CI.
pub(crate) fn skip_postgres() {
    if running_under_ci() {
        panic!("{UNAVAILABLE_MESSAGE} (CI is set: on CI this is a failure, not a skip)");
    }
    static BANNER: Once = Once::new();
    let mut stderr = std::io::stderr().lock();
    BANNER.call_once(|| {
        let rule = "=".repeat(UNAVAILABLE_MESSAGE.len());
        let _ = writeln!(stderr, "\n{rule}\n{UNAVAILABLE_MESSAGE}\n{rule}\n");
    });
    let test = std::thread::current()
        .name()
        .unwrap_or("a PostgreSQL test")
        .to_owned();
    let _ = writeln!(stderr, "SKIPPED (no PostgreSQL): {test}");
}

/// True when the `CI` environment variable says this is a CI run.
pub(crate) fn running_under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_keep_credentials_host_and_options() {
        let server =
            PgServer::from_url("postgres://user:p%40ss@db.example:6543/postgres?sslmode=disable")
                .expect("valid URL");
        assert_eq!(
            server.database_url("tessera_test_1"),
            "postgres://user:p%40ss@db.example:6543/tessera_test_1?sslmode=disable"
        );
        assert!(!server.is_throwaway());
        assert_eq!(server.data_dir(), None);
    }

    #[test]
    fn a_url_without_a_database_gets_one() {
        let server = PgServer::from_url("postgresql://postgres@127.0.0.1").expect("valid URL");
        assert_eq!(
            server.database_url("x"),
            "postgresql://postgres@127.0.0.1/x"
        );
    }

    #[test]
    fn other_schemes_are_rejected() {
        let error = PgServer::from_url("mysql://root@localhost/db").expect_err("not postgres");
        assert!(matches!(error, ServerError::InvalidUrl { .. }), "{error}");
        let error = PgServer::from_url("not a url").expect_err("not a URL");
        assert!(matches!(error, ServerError::InvalidUrl { .. }), "{error}");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("tessera_test_ab"), "\"tessera_test_ab\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
