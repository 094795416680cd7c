//! Errors of the test kit.

use thiserror::Error;

/// The message shown when no PostgreSQL server can be had at all.
pub(crate) const UNAVAILABLE_MESSAGE: &str =
    "PostgreSQL tests SKIPPED: no TESSERA_TEST_DATABASE_URL \
     and no initdb/pg_ctl found; install postgresql";

/// Why the process-wide PostgreSQL server could not be had.
///
/// The server is set up once per process and the outcome is remembered, so this
/// error is cheap to clone and is handed to every caller after a failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ServerError {
    /// `TESSERA_TEST_DATABASE_URL` is not set and no PostgreSQL binaries were found.
    #[error("{UNAVAILABLE_MESSAGE}")]
    Unavailable,

    /// `TESSERA_TEST_DATABASE_URL` is set but is not a usable PostgreSQL URL.
    #[error("TESSERA_TEST_DATABASE_URL is not a usable PostgreSQL URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it (the URL itself is not repeated: it may hold a password).
        reason: String,
    },

    /// A step of starting the throwaway cluster failed.
    #[error("could not start a throwaway PostgreSQL cluster: {step} failed: {detail}")]
    ClusterStart {
        /// The step that failed, such as `initdb` or `pg_ctl start`.
        step: &'static str,
        /// The command's output, the server log's tail or the I/O error.
        detail: String,
    },
}

/// An error of the test kit.
#[derive(Debug, Error)]
pub enum Error {
    /// No PostgreSQL server could be had.
    #[error(transparent)]
    Server(#[from] ServerError),

    /// A statement on the PostgreSQL server failed.
    #[error("could not {action} PostgreSQL database {database}: {source}")]
    Postgres {
        /// What was being done, such as `create` or `drop`.
        action: &'static str,
        /// The database concerned.
        database: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// The temporary directory for a SQLite database could not be created.
    #[error("could not create a temporary directory for a SQLite database: {0}")]
    SqliteTempDir(#[source] std::io::Error),
}

impl Error {
    /// True when the error only says that PostgreSQL is not installed or configured
    /// here (as opposed to a server that is configured but broken).
    pub fn is_postgres_unavailable(&self) -> bool {
        matches!(self, Error::Server(ServerError::Unavailable))
    }
}
